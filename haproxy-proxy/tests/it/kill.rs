//! Streams killed by `shutdown session <id>` and by `hard-stop-after`, by phase, as HAProxy 2.6.12
//! ends them (recorded in `tests/data/haproxy-2.6/soft-stop/kill.txt`): one waiting for its
//! response head gets the 502 page (`KH`; kept alive after `shutdown session`, closed during a
//! soft stop), one whose request body is in flight is closed (`K-`), one whose response began is
//! closed (`KD`, the status stays the server's).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use haproxy_cfg::load::{Outcome, SystemEnv, load};
use haproxy_cfg::parse_str;
use haproxy_proxy::StreamFacts;
use haproxy_proxy::build::{Service, build};
use haproxy_proxy::http::serve_http;
use haproxy_proxy::registry::Registry;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

use crate::support::{WAIT, read_head_into, serve_each};

/// HAProxy 2.6.12's 502 page after a kill, as recorded (the `connection: close` line comes only
/// during a soft stop).
pub(crate) fn page_502(close: bool) -> String {
    format!(
        "HTTP/1.1 502 Bad Gateway\r\ncontent-length: 107\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n{}\r\n<html><body><h1>502 Bad Gateway</h1>\nThe server returned an invalid or incomplete response.\n</body></html>\n",
        if close { "connection: close\r\n" } else { "" }
    )
}

/// A server that never answers `/wait` and `/body` (it reads what comes) and answers `/started`
/// with a head and 3 of 100 body bytes, then waits.
async fn origin() -> SocketAddr {
    serve_each(|mut s| async move {
        let mut buf = Vec::new();
        if !read_head_into(&mut s, &mut buf).await {
            return;
        }
        if buf.starts_with(b"GET /started") {
            let head = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc";
            let _ = s.write_all(head).await;
        }
        let mut chunk = [0u8; 4096];
        for _ in 0..1000 {
            match tokio::time::timeout(WAIT, s.read(&mut chunk)).await {
                Ok(Ok(n)) if n > 0 => {}
                _ => return,
            }
        }
    })
    .await
}

/// The stream facts the log would print: termination state and status.
type Logged = (String, Option<u16>);

/// Builds `frontend fe` (+ `backend be` on `server`) and serves it on a loopback port of its own
/// (the `bind` line is not opened), sending each stream's facts to the returned channel.
async fn serve(
    global: &str,
    server: SocketAddr,
) -> (
    SocketAddr,
    Arc<Registry>,
    mpsc::UnboundedReceiver<StreamFacts>,
) {
    let text = format!(
        "global\n{global}\ndefaults\n mode http\n timeout connect 5s\n timeout client 30s\n timeout server 30s\nfrontend fe\n bind 127.0.0.1:1\n default_backend be\nbackend be\n server s1 {server}\n"
    );
    let loaded = load(&[parse_str("t.cfg", &text)], &SystemEnv);
    assert_ne!(loaded.outcome, Outcome::Invalid, "{:?}", loaded.diagnostics);
    let rt = build(&loaded.config).unwrap();
    let svc: Arc<Service> = Arc::clone(&rt.frontends[0].service);
    let registry = Arc::clone(&rt.registry);
    let (addr, rx) = serve_facts(&svc).await;
    (addr, registry, rx)
}

/// Serves `svc` over HTTP on a loopback port of its own, sending each stream's facts.
pub(crate) async fn serve_facts(
    svc: &Arc<Service>,
) -> (SocketAddr, mpsc::UnboundedReceiver<StreamFacts>) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let (tx, rx) = mpsc::unbounded_channel();
    let svc = Arc::clone(svc);
    tokio::spawn(async move {
        while let Ok((s, peer)) = l.accept().await {
            let svc = Arc::clone(&svc);
            let tx = tx.clone();
            tokio::spawn(async move {
                let local = s.local_addr().unwrap();
                serve_http(&svc, s, peer, local, |f| {
                    let _ = tx.send(f.clone());
                })
                .await;
            });
        }
    });
    (addr, rx)
}

/// Reads until the peer closes or `within` passes: (bytes, closed).
pub(crate) async fn read_until_close(s: &mut TcpStream, within: Duration) -> (String, bool) {
    let mut out = Vec::new();
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let mut chunk = [0u8; 4096];
        match tokio::time::timeout_at(deadline, s.read(&mut chunk)).await {
            Err(_) => return (String::from_utf8_lossy(&out).into_owned(), false),
            Ok(Ok(0) | Err(_)) => return (String::from_utf8_lossy(&out).into_owned(), true),
            Ok(Ok(n)) => out.extend_from_slice(&chunk[..n]),
        }
    }
}

/// Sends `request`, waits until its stream is listed, kills it, and returns what the client
/// received (within 500 ms), whether it was closed, and the stream's facts.
async fn kill_one(
    addr: SocketAddr,
    reg: &Registry,
    rx: &mut mpsc::UnboundedReceiver<StreamFacts>,
    request: &[u8],
) -> (String, bool, Logged) {
    let mut c = TcpStream::connect(addr).await.unwrap();
    c.write_all(request).await.unwrap();
    // Listed with its server once connected; then give the request time to reach its phase.
    let mut id = None;
    for _ in 0..200 {
        if let Some(s) = reg.sessions.list().into_iter().find(|s| s.server.is_some()) {
            id = Some(s.id);
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // A response that has begun is waited for before the kill.
    let mut before = Vec::new();
    if request.starts_with(b"GET /started") {
        while !before.ends_with(b"abc") {
            let mut chunk = [0u8; 1024];
            let n = tokio::time::timeout(WAIT, c.read(&mut chunk))
                .await
                .unwrap()
                .unwrap();
            assert_ne!(n, 0);
            before.extend_from_slice(&chunk[..n]);
        }
    } else {
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    assert!(reg.sessions.kill(id.expect("stream listed")));
    let (got, closed) = read_until_close(&mut c, Duration::from_millis(500)).await;
    let got = String::from_utf8_lossy(&before).into_owned() + &got;
    let facts = tokio::time::timeout(WAIT, rx.recv())
        .await
        .unwrap()
        .unwrap();
    (got, closed, (facts.termination.to_string(), facts.status))
}

#[tokio::test]
async fn shutdown_session_answers_a_waiting_request_with_502_and_keeps_the_client() {
    let (addr, reg, mut rx) = serve("", origin().await).await;
    let (got, closed, logged) = kill_one(
        addr,
        &reg,
        &mut rx,
        b"GET /wait HTTP/1.1\r\nHost: x\r\n\r\n",
    )
    .await;
    assert_eq!(got, page_502(false));
    assert!(!closed, "HAProxy keeps the client after this 502");
    assert_eq!(logged, ("KH".to_owned(), Some(502)));
}

#[tokio::test]
async fn shutdown_session_closes_a_request_whose_body_is_in_flight() {
    let (addr, reg, mut rx) = serve("", origin().await).await;
    for req in [
        &b"POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789"[..],
        b"POST /body HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
    ] {
        let (got, closed, logged) = kill_one(addr, &reg, &mut rx, req).await;
        assert_eq!((got.as_str(), closed), ("", true));
        assert_eq!(logged, ("K-".to_owned(), None));
    }
}

#[tokio::test]
async fn shutdown_session_closes_a_response_already_begun() {
    let (addr, reg, mut rx) = serve("", origin().await).await;
    let (got, closed, logged) = kill_one(
        addr,
        &reg,
        &mut rx,
        b"GET /started HTTP/1.1\r\nHost: x\r\n\r\n",
    )
    .await;
    assert_eq!(got, "HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nabc");
    assert!(closed);
    assert_eq!(logged, ("KD".to_owned(), Some(200)));
}
