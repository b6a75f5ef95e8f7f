//! `balance hash <expr>` (HAProxy 2.6): the sample's bytes hashed with the backend's
//! `hash-type`, map-based or consistent, round robin when the sample is missing; the same
//! requests through real HAProxy 2.6 and ours must reach the same servers (recordings in
//! tests/data/haproxy-2.6/balance-hash, written by its record.sh).

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::queue::body;
use crate::requeue_diff::{HEAD, both_in};

/// One `GET <path>` with `x-key: <key>` (none for `None`); the answering server's name.
async fn ask(addr: SocketAddr, path: &str, key: Option<&str>) -> String {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let key = key.map_or(String::new(), |k| format!("x-key: {k}\r\n"));
    let req = format!("GET {path} HTTP/1.1\r\nHost: t\r\n{key}Connection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut out))
        .await
        .unwrap()
        .unwrap();
    body(&String::from_utf8_lossy(&out)).to_owned()
}

/// Sixteen keyed requests, three with an empty key (hashed: the same server each time), then
/// four without the key (round robin).
async fn spread(addr: SocketAddr) -> Vec<String> {
    let mut out = Vec::new();
    for k in 0..16 {
        out.push(ask(addr, &format!("/p{k}"), Some(&format!("key-{k}"))).await);
    }
    for _ in 0..3 {
        out.push(ask(addr, "/", Some("")).await);
    }
    for _ in 0..4 {
        out.push(ask(addr, "/", None).await);
    }
    vec![out.join(" ")]
}

const SERVERS: &str = " server a @a@\n server b @b@\n server c @c@ weight 3\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn balance_hash_picks_the_servers_haproxy_picks() {
    for (name, opts) in [
        ("hdr map-based", " balance hash req.hdr(x-key)\n"),
        (
            "hdr consistent",
            " balance hash req.hdr(x-key)\n hash-type consistent\n",
        ),
        (
            "path consistent avalanche",
            " balance hash path\n hash-type consistent sdbm avalanche\n",
        ),
    ] {
        both_in(
            "balance-hash",
            name,
            &format!("{HEAD}listen l\n bind @listen@\n{opts}{SERVERS}"),
            &["a", "b", "c"],
            |addr, _, _| spread(addr),
        )
        .await;
    }
}
