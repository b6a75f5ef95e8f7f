//! Bodies relayed with the "more follows" hint (MSG_MORE on every send of a message but its
//! last, issue 5 speed): a message split over several reads still arrives whole and promptly,
//! in both directions, through a 100-continue exchange and through an upgrade tunnel.
//!
//! A send flagged MSG_MORE is held by the kernel until the next send, or until the TCP probe
//! timer fires (200 ms on loopback). So a relay that flagged the last piece of a message would
//! deliver it [`PROMPT`] late or later; each test measures from the peer's last write.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

use crate::engines::{Ours, start_ours_with};

/// The pause between two pieces of a message, so that each arrives as its own read.
const GAP: Duration = Duration::from_millis(10);
/// How soon the whole message must arrive after its last piece was written. A flagged last
/// piece would wait for the kernel's probe timer, armed when the first piece was held (200 ms
/// on loopback): at least 200 ms minus the pieces' spread ([`GAP`] each) after the last write.
const PROMPT: Duration = Duration::from_millis(100);
/// Every exchange ends within this.
const DEADLINE: Duration = Duration::from_secs(10);

fn proxy_to(server: SocketAddr) -> Ours {
    start_ours_with(&format!(
        "defaults\n  mode http\n  timeout client 10s\n  timeout connect 1s\n  timeout server 10s\n\
         frontend fe\n  bind 127.0.0.1:PORT\n  default_backend be\nbackend be\n  server s1 {server}\n"
    ))
}

/// Reads from `s` until `buf` ends with `end`.
async fn read_until(s: &mut TcpStream, buf: &mut Vec<u8>, end: &[u8]) {
    let mut b = [0u8; 4096];
    while !buf.ends_with(end) {
        let n = s.read(&mut b).await.unwrap();
        assert!(
            n > 0,
            "closed early; got {:?}",
            String::from_utf8_lossy(buf)
        );
        buf.extend_from_slice(&b[..n]);
    }
}

/// Writes `pieces` with a [`GAP`] between them; the time of the last write.
async fn write_pieces(s: &mut TcpStream, pieces: &[&[u8]]) -> Instant {
    for (i, p) in pieces.iter().enumerate() {
        if i > 0 {
            tokio::time::sleep(GAP).await;
        }
        s.write_all(p).await.unwrap();
    }
    Instant::now()
}

/// An origin answering one request (head read up to its blank line) with `pieces`; sends the
/// time of its last write.
async fn origin(pieces: &'static [&'static [u8]]) -> (SocketAddr, oneshot::Receiver<Instant>) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let (tx, rx) = oneshot::channel();
    tokio::spawn(async move {
        let (mut s, _) = l.accept().await.unwrap();
        let mut head = Vec::new();
        read_until(&mut s, &mut head, b"\r\n\r\n").await;
        let last = write_pieces(&mut s, pieces).await;
        let _ = tx.send(last);
        // Held open: the response must not depend on a close.
        let _ = s.read(&mut [0u8; 16]).await;
    });
    (addr, rx)
}

/// Gets `/` through the proxy and checks the response ends with `end` within [`PROMPT`] of
/// the origin's last write.
async fn response_is_prompt(pieces: &'static [&'static [u8]], end: &[u8]) -> Vec<u8> {
    let (server, last) = origin(pieces).await;
    let ours = proxy_to(server);
    let run = async {
        let mut c = TcpStream::connect(ours.addr).await.unwrap();
        c.write_all(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
            .await
            .unwrap();
        let mut got = Vec::new();
        read_until(&mut c, &mut got, end).await;
        let late = last.await.unwrap().elapsed();
        assert!(
            late < PROMPT,
            "the last piece came {late:?} after it was sent"
        );
        got
    };
    tokio::time::timeout(DEADLINE, run).await.unwrap()
}

#[tokio::test]
async fn a_content_length_response_split_over_reads_arrives_whole_and_promptly() {
    let got = response_is_prompt(
        &[
            b"HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\nabcd",
            b"efgh",
            b"ijkl",
        ],
        b"ijkl",
    )
    .await;
    assert!(got.starts_with(b"HTTP/1.1 200 OK\r\n"));
    assert!(got.ends_with(b"\r\n\r\nabcdefghijkl"));
}

#[tokio::test]
async fn a_chunked_response_split_over_reads_arrives_whole_and_promptly() {
    let got = response_is_prompt(
        &[
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
            b"4\r\nabcd\r\n",
            b"4\r\nefgh\r\n",
            b"0\r\n\r\n",
        ],
        b"0\r\n\r\n",
    )
    .await;
    let text = String::from_utf8(got).unwrap();
    assert!(text.contains("abcd") && text.contains("efgh"), "{text}");
}

/// An origin reading a request with a 12-byte body (after a 100 Continue when `expect`), then
/// answering 200; sends the time the body was complete.
async fn upload_origin(expect: bool) -> (SocketAddr, oneshot::Receiver<(Instant, Vec<u8>)>) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let (tx, rx) = oneshot::channel();
    tokio::spawn(async move {
        let (mut s, _) = l.accept().await.unwrap();
        let mut got = Vec::new();
        read_until(&mut s, &mut got, b"\r\n\r\n").await;
        if expect {
            s.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").await.unwrap();
        }
        let mut body = Vec::new();
        read_until(&mut s, &mut body, b"ijkl").await;
        let _ = tx.send((Instant::now(), body));
        s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            .await
            .unwrap();
        let _ = s.read(&mut [0u8; 16]).await;
    });
    (addr, rx)
}

async fn upload_is_prompt(expect: bool) {
    let (server, done) = upload_origin(expect).await;
    let ours = proxy_to(server);
    let run = async {
        let mut c = TcpStream::connect(ours.addr).await.unwrap();
        let head: &[u8] = if expect {
            b"POST /up HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 12\r\n\r\n"
        } else {
            b"POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 12\r\n\r\n"
        };
        c.write_all(head).await.unwrap();
        let mut got = Vec::new();
        if expect {
            read_until(&mut c, &mut got, b"100 Continue\r\n\r\n").await;
        }
        let last = write_pieces(&mut c, &[b"abcd", b"efgh", b"ijkl"]).await;
        let (at, body) = done.await.unwrap();
        assert_eq!(body, b"abcdefghijkl");
        let late = at.saturating_duration_since(last);
        assert!(
            late < PROMPT,
            "the body's last piece came {late:?} after it was sent"
        );
        read_until(&mut c, &mut got, b"ok").await;
        assert!(String::from_utf8_lossy(&got).contains("HTTP/1.1 200 OK"));
    };
    tokio::time::timeout(DEADLINE, run).await.unwrap();
}

#[tokio::test]
async fn a_request_body_split_over_reads_reaches_the_server_whole_and_promptly() {
    upload_is_prompt(false).await;
}

#[tokio::test]
async fn a_100_continue_exchange_flows_promptly() {
    upload_is_prompt(true).await;
}

#[tokio::test]
async fn an_upgrade_tunnel_delivers_each_write_promptly() {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = l.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut s, _) = l.accept().await.unwrap();
        let mut got = Vec::new();
        read_until(&mut s, &mut got, b"\r\n\r\n").await;
        s.write_all(
            b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n",
        )
        .await
        .unwrap();
        let mut b = [0u8; 64];
        loop {
            let n = s.read(&mut b).await.unwrap();
            if n == 0 || s.write_all(&b[..n]).await.is_err() {
                break;
            }
        }
    });
    let ours = proxy_to(server);
    let run = async {
        let mut c = TcpStream::connect(ours.addr).await.unwrap();
        c.write_all(b"GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
            .await
            .unwrap();
        let mut got = Vec::new();
        read_until(&mut c, &mut got, b"\r\n\r\n").await;
        assert!(got.starts_with(b"HTTP/1.1 101"));
        for word in [&b"ping"[..], b"pong", b"last"] {
            let sent = Instant::now();
            c.write_all(word).await.unwrap();
            let mut echo = Vec::new();
            read_until(&mut c, &mut echo, word).await;
            assert!(sent.elapsed() < PROMPT, "echo took {:?}", sent.elapsed());
            tokio::time::sleep(GAP).await;
        }
    };
    tokio::time::timeout(DEADLINE, run).await.unwrap();
}
