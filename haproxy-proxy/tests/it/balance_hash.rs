//! `balance hash <expr>` (HAProxy 2.6): the sample's bytes hashed with the backend's
//! `hash-type`, map-based or consistent, round robin when the sample is missing; the same
//! requests through real HAProxy 2.6 and ours must reach the same servers (recordings in
//! tests/data/haproxy-2.6/balance-hash, written by its record.sh).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::queue::body;
use crate::requeue_diff::{Ctl, HEAD, both_in};

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

/// The map `balance hash` reads in [`balance_hash_follows_runtime_map_edits`].
fn keys_map() -> String {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/haproxy-2.6/balance-hash/keys.map")
        .display()
        .to_string()
}

/// The keys of `keys.map`, each asked once; the servers that answered.
async fn by_key(addr: SocketAddr) -> Vec<String> {
    let mut out = Vec::new();
    for k in ["k1", "k2", "k3", "k4", "k5", "k6"] {
        out.push(ask(addr, "/", Some(k)).await);
    }
    out
}

/// Asks every key, gives `k1` the value of the first key on another server (`set map`), adds
/// `k6` with `k1`'s old value (`add map`), removes `k2` (`del map`: it hashes the default
/// `none` then) and asks again; the answers of the runtime API and the servers, in order.
async fn edit_the_map(addr: SocketAddr, ctl: Arc<Ctl>) -> Vec<String> {
    let map = keys_map();
    let before = by_key(addr).await;
    let values = ["alpha", "bravo", "charlie", "delta", "echo"];
    // k1 to a server other than its own: the first key seen elsewhere.
    let other = (1..values.len())
        .find(|&j| before[j] != before[0])
        .expect("the five values reach both servers");
    let mut out = vec![format!("before {}", before.join(" "))];
    for line in [
        format!("set map {map} k1 {}", values[other]),
        format!("add map {map} k6 alpha"),
        format!("del map {map} k2"),
    ] {
        let answer = ctl.command(&line).await;
        out.push(format!("{} -> {answer:?}", line.replace(&map, "keys.map")));
    }
    let after = by_key(addr).await;
    // The routing follows: k1 now goes where its new value went, k6 where k1 went.
    assert_eq!(after[0], before[other], "k1 did not follow `set map`");
    assert_eq!(after[5], before[0], "k6 did not follow `add map`");
    out.push(format!("after {}", after.join(" ")));
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn balance_hash_follows_runtime_map_edits() {
    let map = keys_map();
    both_in(
        "balance-hash",
        "map edited over the runtime API",
        &format!(
            "{HEAD}listen l\n bind @listen@\n balance hash req.hdr(x-key),map({map},none)\n\
             server a @a@\n server b @b@\n"
        ),
        &["a", "b"],
        |addr, _, ctl| edit_the_map(addr, ctl),
    )
    .await;
}
