//! HTTP timeouts over loopback (issue 5 point 5): `timeout http-keep-alive` closes an idle
//! kept-alive connection silently, `timeout server` gives 504, `timeout client` ends a stalled
//! request body, and the connection-mode precedence decides what each side is told.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::engines::start_ours_with;
use crate::origin::Origin;

/// Reading gives up after this; every expiry tested here is well below it.
const READ_DEADLINE: Duration = Duration::from_secs(8);

fn config(server: SocketAddr, extra: &str) -> String {
    format!(
        "defaults\n  mode http\n  timeout client 6s\n  timeout connect 1s\n  timeout server 6s\n{extra}\
         frontend fe\n  bind 127.0.0.1:PORT\n  default_backend be\nbackend be\n  server s1 {server}\n"
    )
}

/// Sends `raw` and reads until the proxy closes; returns the bytes and how long the reading
/// took.
async fn exchange(addr: SocketAddr, raw: &[u8]) -> (String, Duration) {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(raw).await.unwrap();
    let start = Instant::now();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(READ_DEADLINE, s.read_to_end(&mut out)).await;
    (String::from_utf8_lossy(&out).into_owned(), start.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_keep_alive_connection_closes_silently_after_timeout_http_keep_alive() {
    let origin = Origin::default();
    let ours = start_ours_with(&config(
        origin.start().await,
        "  timeout http-keep-alive 500ms\n",
    ));
    let (out, took) = exchange(ours.addr, b"GET /a HTTP/1.1\r\nHost: h\r\n\r\n").await;
    assert_eq!(
        out, "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nx-origin: yes\r\n\r\nok",
        "the response, then nothing more"
    );
    // `timeout client` (6s) would have closed it much later.
    assert!(took < Duration::from_secs(4), "closed after {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_timeout_gives_504() {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = l.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut s, _) = l.accept().await.unwrap();
        let mut b = [0u8; 1024];
        let _ = s.read(&mut b).await;
        tokio::time::sleep(READ_DEADLINE).await; // never answers in time
    });
    let ours =
        start_ours_with(&config(server, "").replace("timeout server 6s", "timeout server 500ms"));
    let (out, _) = exchange(
        ours.addr,
        b"GET /a HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(
        out.starts_with("HTTP/1.1 504 Gateway Time-out\r\n"),
        "{out}"
    );
    assert!(out.ends_with("The server didn't respond in time.\n</body></html>\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_request_body_ends_with_the_server_timeout() {
    let origin = Origin::default();
    // HAProxy 2.6.12 does not expire the client side while a body flows: even with a shorter
    // `timeout client`, the stalled upload ends with a 504 after `timeout server`.
    let ours = start_ours_with(
        &config(origin.start().await, "")
            .replace("timeout client 6s", "timeout client 300ms")
            .replace("timeout server 6s", "timeout server 1s"),
    );
    let (out, _) = exchange(
        ours.addr,
        b"POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc",
    )
    .await;
    assert!(
        out.starts_with("HTTP/1.1 504 Gateway Time-out\r\n"),
        "{out}"
    );
    assert!(out.contains("\r\nconnection: close\r\n"), "{out}");
    tokio::time::sleep(Duration::from_millis(200)).await; // the origin notices the close
    let seen = origin.take();
    assert_eq!(seen.len(), 1);
    assert_eq!(
        seen[0].body, "<incomplete body>",
        "the server saw the body cut short"
    );
}

/// What the server and the client are told in each connection mode (reference §6.1).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_mode_precedence_decides_both_sides() {
    for (fe, be, server_conn, client_close) in [
        ("", "", None, false),
        ("option http-server-close", "", Some("close"), false),
        ("", "option http-server-close", Some("close"), false),
        (
            "option httpclose",
            "option http-keep-alive",
            Some("close"),
            true,
        ),
        (
            "option http-keep-alive",
            "option httpclose",
            Some("close"),
            false,
        ),
    ] {
        let origin = Origin::default();
        let server = origin.start().await;
        let ours = start_ours_with(&format!(
            "defaults\n  mode http\n  timeout client 2s\n  timeout connect 1s\n  timeout server 2s\n  timeout http-keep-alive 300ms\n\
             frontend fe\n  bind 127.0.0.1:PORT\n  {fe}\n  default_backend be\nbackend be\n  {be}\n  server s1 {server}\n"
        ));
        let (out, _) = exchange(ours.addr, b"GET /a HTTP/1.1\r\nHost: h\r\n\r\n").await;
        let seen = origin.take();
        let got = seen[0]
            .head
            .lines()
            .find_map(|l| l.strip_prefix("connection: "))
            .map(str::trim);
        assert_eq!(got, server_conn, "fe '{fe}' be '{be}': {:?}", seen[0].head);
        assert_eq!(
            out.contains("connection: close"),
            client_close,
            "fe '{fe}' be '{be}': {out}"
        );
    }
}
