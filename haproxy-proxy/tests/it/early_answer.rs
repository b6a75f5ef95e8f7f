//! A server's final answer before the whole request body (issue 5, docs/compat.md): the answer
//! is forwarded, the client connection is kept, the rest of the body goes to the server while it
//! keeps its connection (then reused) or is read and dropped once it closed (the next request
//! goes to a new server connection), up to the proxy's bound; past it the client is closed.
//! Over loopback with the recording origin's `/early-*` paths.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::engines::start_ours_with;
use crate::origin::Origin;

const CONFIG: &str = "defaults
  mode http
  timeout client 3s
  timeout connect 1s
  timeout server 3s
frontend fe
  bind 127.0.0.1:PORT
  default_backend be
backend be
  server s1 SERVER
";

const GET_B: &[u8] = b"GET /b HTTP/1.1\r\nHost: h\r\n\r\n";
const OK_B: &str = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nx-origin: yes\r\n\r\nok";
const ANSWER_413: &str = "HTTP/1.1 413 Payload Too Large\r\ncontent-length: 4\r\n\r\nbig\n";

/// How long a client waits for what it expects before the test fails.
const WAIT: Duration = Duration::from_secs(5);

async fn proxy(origin: &Origin) -> (SocketAddr, crate::engines::Ours) {
    let server = origin.start().await;
    let ours = start_ours_with(&CONFIG.replace("SERVER", &server.to_string()));
    (ours.addr, ours)
}

/// Reads until `got` ends with `want` (or the connection ends, or [`WAIT`] passes).
async fn read_until(s: &mut TcpStream, got: &mut String, want: &str) {
    let deadline = tokio::time::Instant::now() + WAIT;
    let mut chunk = [0u8; 4096];
    while !got.ends_with(want) {
        match tokio::time::timeout_at(deadline, s.read(&mut chunk)).await {
            Ok(Ok(n)) if n > 0 => got.push_str(&String::from_utf8_lossy(&chunk[..n])),
            _ => return,
        }
    }
}

/// Sends `parts` 50 ms apart; then the client's transcript once it holds `want` and whether the
/// connection still serves a further request.
async fn converse(addr: SocketAddr, parts: &[&[u8]], want: &str) -> (String, bool) {
    let mut s = TcpStream::connect(addr).await.unwrap();
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        s.write_all(p).await.unwrap();
    }
    let mut got = String::new();
    read_until(&mut s, &mut got, want).await;
    let mut more = String::new();
    let again = s.write_all(GET_B).await.is_ok();
    read_until(&mut s, &mut more, OK_B).await;
    (got, again && more == OK_B)
}

fn conns_and_bodies(origin: &Origin) -> Vec<(usize, String, String)> {
    origin
        .take()
        .into_iter()
        .map(|s| {
            (
                s.conn,
                s.head.lines().next().unwrap_or_default().to_owned(),
                s.body,
            )
        })
        .collect()
}

#[tokio::test]
async fn a_closing_server_answered_early_and_the_length_body_is_dropped() {
    let origin = Origin::default();
    let (addr, _ours) = proxy(&origin).await;
    let parts: [&[u8]; 4] = [
        b"POST /early-close HTTP/1.1\r\nHost: h\r\nContent-Length: 30\r\n\r\n0123456789",
        b"0123456789",
        b"0123456789",
        GET_B,
    ];
    let (got, kept) = converse(addr, &parts, OK_B).await;
    assert_eq!(got, format!("{ANSWER_413}{OK_B}"));
    assert!(kept, "the client connection was not kept");
    let seen = conns_and_bodies(&origin);
    let lines: Vec<_> = seen.iter().map(|(c, l, _)| (*c, l.as_str())).collect();
    assert_eq!(
        lines,
        [
            (0, "POST /early-close HTTP/1.1"),
            (1, "GET /b HTTP/1.1"),
            (1, "GET /b HTTP/1.1")
        ]
    );
}

#[tokio::test]
async fn a_closing_server_answered_early_and_the_chunked_body_is_dropped() {
    let origin = Origin::default();
    let (addr, _ours) = proxy(&origin).await;
    let parts: [&[u8]; 4] = [
        b"POST /early-close HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
        b"5\r\nworld\r\n",
        b"0\r\n\r\n",
        GET_B,
    ];
    let (got, kept) = converse(addr, &parts, OK_B).await;
    assert_eq!(got, format!("{ANSWER_413}{OK_B}"));
    assert!(kept, "the client connection was not kept");
    let seen = conns_and_bodies(&origin);
    assert_eq!(seen.len(), 3, "{seen:?}");
    assert_eq!(
        seen[1].0, 1,
        "the next request went to a new server connection"
    );
}

#[tokio::test]
async fn a_server_that_keeps_its_connection_gets_the_rest_of_the_body_and_the_next_request() {
    for (first, rest, body) in [
        (
            &b"POST /early-keep HTTP/1.1\r\nHost: h\r\nContent-Length: 20\r\n\r\n0123456789"[..],
            &b"0123456789"[..],
            "01234567890123456789",
        ),
        (
            b"POST /early-keep HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n",
            b"3\r\ndef\r\n0\r\n\r\n",
            "3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n",
        ),
    ] {
        let origin = Origin::default();
        let (addr, _ours) = proxy(&origin).await;
        let (got, kept) = converse(addr, &[first, rest, GET_B], OK_B).await;
        assert_eq!(got, format!("{ANSWER_413}{OK_B}"));
        assert!(kept);
        let seen = conns_and_bodies(&origin);
        assert_eq!(
            seen.iter().map(|(c, _, b)| (*c, b.as_str())).collect::<Vec<_>>(),
            [(0, body), (0, ""), (0, "")],
            "{seen:?}"
        );
    }
}

#[tokio::test]
async fn a_refused_expect_is_followed_by_the_body_then_the_next_request() {
    for (path, conns) in [("/early-417-keep", [0, 0]), ("/early-417-close", [0, 1])] {
        let origin = Origin::default();
        let (addr, _ours) = proxy(&origin).await;
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 10\r\n\r\n"
        );
        let parts: [&[u8]; 3] = [head.as_bytes(), b"0123456789", GET_B];
        let (got, kept) = converse(addr, &parts, OK_B).await;
        assert_eq!(
            got,
            format!("HTTP/1.1 417 Expectation Failed\r\ncontent-length: 0\r\n\r\n{OK_B}")
        );
        assert!(kept);
        let seen = conns_and_bodies(&origin);
        assert_eq!([seen[0].0, seen[1].0], conns, "{path}: {seen:?}");
    }
}

/// Sends a `Content-Length` body of `len` bytes in 16 KiB writes after an early answer from a
/// closing server; whether the connection then still serves a request.
async fn drained(len: usize) -> bool {
    let origin = Origin::default();
    let (addr, _ours) = proxy(&origin).await;
    let mut s = TcpStream::connect(addr).await.unwrap();
    let head = format!("POST /early-close HTTP/1.1\r\nHost: h\r\nContent-Length: {len}\r\n\r\n");
    s.write_all(head.as_bytes()).await.unwrap();
    let mut got = String::new();
    read_until(&mut s, &mut got, ANSWER_413).await;
    assert_eq!(got, ANSWER_413);
    let piece = vec![b'x'; 16 * 1024];
    let mut left = len;
    while left > 0 {
        let n = left.min(piece.len());
        if s.write_all(&piece[..n]).await.is_err() {
            return false;
        }
        left -= n;
    }
    if s.write_all(GET_B).await.is_err() {
        return false;
    }
    let mut more = String::new();
    read_until(&mut s, &mut more, OK_B).await;
    more == OK_B
}

#[tokio::test]
async fn a_dropped_body_is_bounded() {
    // Well within the bound (the proxy's `EARLY_ANSWER_DRAIN_LIMIT`, 1 MiB): kept.
    assert!(drained(256 * 1024).await, "a 256 KiB rest was not dropped");
    // Well past it: the client connection is closed rather than read without end.
    assert!(!drained(4 * 1024 * 1024).await, "a 4 MiB rest was read");
}
