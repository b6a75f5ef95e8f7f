//! `option http-no-delay` (issue 5): with it, every piece of a message leaves as soon as it is
//! there; without it, HAProxy flags the sends of an unfinished message `MSG_MORE`, so a piece
//! streamed alone (server-sent events) waits in the kernel until its 200 ms probe timer fires.
//!
//! Measured on HAProxy 2.6.12 with the same configurations (each test also runs it when it is
//! installed): pieces 300 ms apart arrive 0 ms after they were sent with the option in the
//! frontend, the backend or `defaults`, in both directions, and about 205 ms after without it,
//! or with it only in a TCP frontend whose HTTP backend upgrades the stream (HAProxy drops it).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

use crate::differential::start_haproxy_with;
use crate::engines::start_ours_with;

/// The pause before each piece: longer than the kernel holds a flagged piece (200 ms), so a
/// held piece is released by the timer, not pushed by the next piece.
const GAP: Duration = Duration::from_millis(300);
/// How soon each piece must arrive with the option (generous: a loaded 2-core machine).
const PROMPT: Duration = Duration::from_millis(100);
/// The least a piece is held without the option (the kernel's timer is 200 ms).
const HELD: Duration = Duration::from_millis(150);
/// Every exchange ends within this.
const DEADLINE: Duration = Duration::from_secs(10);
/// The pieces of each streamed body; each carries its marker `#<i>;`.
const PIECES: usize = 3;

/// Where `option http-no-delay` is written.
#[derive(Clone, Copy)]
enum Place {
    Nowhere,
    Defaults,
    Frontend,
    Backend,
    /// In a TCP frontend whose HTTP backend upgrades the stream: HAProxy drops it at startup
    /// ("'option http-no-delay' ignored for frontend 'fe' as it requires HTTP mode").
    TcpFrontend,
}

fn config(server: SocketAddr, place: Place) -> String {
    let opt = "  option http-no-delay\n";
    let at = |p: Place| {
        if std::mem::discriminant(&p) == std::mem::discriminant(&place) {
            opt
        } else {
            ""
        }
    };
    let tcp = match place {
        Place::TcpFrontend => "  mode tcp\n  option http-no-delay\n",
        _ => "",
    };
    format!(
        "defaults\n  mode http\n  timeout client 10s\n  timeout connect 1s\n  timeout server 10s\n{}\
         frontend fe\n  bind 127.0.0.1:PORT\n{}{tcp}  default_backend be\n\
         backend be\n{}  server s1 {server}\n",
        at(Place::Defaults),
        at(Place::Frontend),
        at(Place::Backend),
    )
}

fn marker(i: usize) -> Vec<u8> {
    format!("#{i};").into_bytes()
}

/// Reads from `s` until `seen` holds every marker; the arrival time of each.
async fn arrivals(s: &mut TcpStream, seen: &mut Vec<u8>) -> Vec<Instant> {
    let mut at = Vec::new();
    let mut b = [0u8; 4096];
    while at.len() < PIECES {
        let n = s.read(&mut b).await.unwrap();
        assert!(n > 0, "closed early: {:?}", String::from_utf8_lossy(seen));
        seen.extend_from_slice(&b[..n]);
        let now = Instant::now();
        while at.len() < PIECES && seen.windows(3).any(|w| w == marker(at.len()).as_slice()) {
            at.push(now);
        }
    }
    at
}

/// Writes `head`, then each piece `GAP` after the previous; the time each was written.
async fn stream(s: &mut TcpStream, head: &[u8], piece: fn(usize) -> Vec<u8>) -> Vec<Instant> {
    s.write_all(head).await.unwrap();
    let mut sent = Vec::new();
    for i in 0..PIECES {
        tokio::time::sleep(GAP).await;
        sent.push(Instant::now());
        s.write_all(&piece(i)).await.unwrap();
    }
    sent
}

/// One SSE-like chunk carrying marker `i`.
fn chunk(i: usize) -> Vec<u8> {
    let data = marker(i);
    let mut out = format!("{:x}\r\n", data.len()).into_bytes();
    out.extend_from_slice(&data);
    out.extend_from_slice(b"\r\n");
    out
}

/// How long each piece of a streamed response took to cross the proxy at `proxy`, the origin
/// being `origin` (already bound): chunked when `chunked`, else by Content-Length.
async fn response_delays(origin: TcpListener, proxy: SocketAddr, chunked: bool) -> Vec<Duration> {
    let (tx, rx) = oneshot::channel();
    let server = tokio::spawn(async move {
        let (mut s, _) = origin.accept().await.unwrap();
        let mut head = Vec::new();
        let mut b = [0u8; 1024];
        while !head.ends_with(b"\r\n\r\n") {
            let n = s.read(&mut b).await.unwrap();
            assert!(n > 0);
            head.extend_from_slice(&b[..n]);
        }
        let sent = if chunked {
            let head = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n";
            stream(&mut s, head, chunk).await
        } else {
            let len = (0..PIECES).map(|i| marker(i).len()).sum::<usize>();
            let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {len}\r\n\r\n");
            stream(&mut s, head.as_bytes(), marker).await
        };
        let _ = tx.send(sent);
        // Held open: nothing may depend on a close.
        let _ = s.read(&mut b).await;
    });
    let run = async {
        let mut c = TcpStream::connect(proxy).await.unwrap();
        c.write_all(b"GET /events HTTP/1.1\r\nHost: h\r\n\r\n")
            .await
            .unwrap();
        let mut seen = Vec::new();
        let got = arrivals(&mut c, &mut seen).await;
        assert!(seen.starts_with(b"HTTP/1.1 200 OK\r\n"), "{seen:?}");
        let sent = rx.await.unwrap();
        got.iter()
            .zip(sent)
            .map(|(g, s)| g.saturating_duration_since(s))
            .collect()
    };
    let out = tokio::time::timeout(DEADLINE, run).await.unwrap();
    server.abort();
    out
}

/// How long each piece of a chunked request body took to reach the origin.
async fn request_delays(origin: TcpListener, proxy: SocketAddr) -> Vec<Duration> {
    let server = tokio::spawn(async move {
        let (mut s, _) = origin.accept().await.unwrap();
        let mut seen = Vec::new();
        let got = arrivals(&mut s, &mut seen).await;
        (s, got)
    });
    let run = async {
        let mut c = TcpStream::connect(proxy).await.unwrap();
        let head = b"POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";
        let sent = stream(&mut c, head, chunk).await;
        let (_origin_side, got) = server.await.unwrap();
        got.iter()
            .zip(sent)
            .map(|(g, s)| g.saturating_duration_since(s))
            .collect::<Vec<_>>()
    };
    tokio::time::timeout(DEADLINE, run).await.unwrap()
}

async fn origin() -> (TcpListener, SocketAddr) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let a = l.local_addr().unwrap();
    (l, a)
}

/// The delays of a streamed response through our proxy and, when installed, the real HAProxy.
async fn response_both(place: Place, chunked: bool) -> Vec<(&'static str, Vec<Duration>)> {
    let mut out = Vec::new();
    let (l, a) = origin().await;
    let ours = start_ours_with(&config(a, place));
    out.push(("ours", response_delays(l, ours.addr, chunked).await));
    let (l, a) = origin().await;
    if let Some(h) = start_haproxy_with(&config(a, place)).await {
        out.push(("haproxy", response_delays(l, h.addr, chunked).await));
    }
    out
}

fn assert_prompt(runs: &[(&str, Vec<Duration>)]) {
    for (who, delays) in runs {
        assert_eq!(delays.len(), PIECES);
        assert!(
            delays.iter().all(|d| *d < PROMPT),
            "{who}: pieces held: {delays:?}"
        );
    }
}

#[tokio::test]
async fn with_the_option_in_defaults_each_event_of_a_chunked_response_leaves_at_once() {
    assert_prompt(&response_both(Place::Defaults, true).await);
}

#[tokio::test]
async fn with_the_option_in_the_frontend_a_content_length_body_is_not_held() {
    assert_prompt(&response_both(Place::Frontend, false).await);
}

#[tokio::test]
async fn with_the_option_in_the_backend_a_streamed_request_body_is_not_held() {
    let mut runs = Vec::new();
    let (l, a) = origin().await;
    let ours = start_ours_with(&config(a, Place::Backend));
    runs.push(("ours", request_delays(l, ours.addr).await));
    let (l, a) = origin().await;
    if let Some(h) = start_haproxy_with(&config(a, Place::Backend)).await {
        runs.push(("haproxy", request_delays(l, h.addr).await));
    }
    assert_prompt(&runs);
}

#[tokio::test]
async fn without_the_option_each_event_waits_for_the_kernel_as_in_haproxy() {
    // Every piece but the last of the message is flagged "more follows", in both engines.
    for (who, delays) in response_both(Place::Nowhere, true).await {
        assert!(
            delays.iter().all(|d| *d >= HELD),
            "{who}: pieces not held: {delays:?}"
        );
    }
}

#[tokio::test]
async fn a_tcp_frontends_option_does_not_apply_when_its_http_backend_upgrades_the_stream() {
    // Before, the frontend's flag reached the upgraded stream and nothing was held.
    for (who, delays) in response_both(Place::TcpFrontend, true).await {
        assert!(
            delays.iter().all(|d| *d >= HELD),
            "{who}: pieces not held: {delays:?}"
        );
    }
}
