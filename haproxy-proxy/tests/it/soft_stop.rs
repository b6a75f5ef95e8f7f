//! Soft stop (SIGUSR1) over loopback, as HAProxy 2.6.12 does it (recorded in
//! `tests/data/haproxy-2.6/soft-stop/soft-stop.txt`): idle keep-alive clients are closed at once
//! (parked ones included), a client that sent nothing yet is left alone, an in-flight request is
//! answered with `connection: close`, and serving ends with the last connection;
//! `option idle-close-on-response` and `close-spread-time infinite` keep idle connections,
//! `close-spread-time <t>` closes them within the window, `hard-stop-after` cuts what is left.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use haproxy_cfg::load::{Outcome, SystemEnv, load};
use haproxy_cfg::parse_str;
use haproxy_proxy::build::build;
use haproxy_proxy::runtime::Stop;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::daemon::free_port;
use crate::support::{WAIT, serve_each};

/// How long the origin delays its answer to `/slow` (`None`: never answers it).
async fn origin(slow: Option<Duration>) -> SocketAddr {
    serve_each(move |mut s| async move {
        let mut buf = Vec::new();
        for _ in 0..1000 {
            let mut chunk = [0u8; 4096];
            let Ok(Ok(n)) = tokio::time::timeout(WAIT, s.read(&mut chunk)).await else {
                return;
            };
            if n == 0 {
                return;
            }
            buf.extend_from_slice(&chunk[..n]);
            let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
                continue;
            };
            let head = String::from_utf8_lossy(&buf[..end]).into_owned();
            buf.drain(..end + 4);
            if head.contains("/slow") {
                match slow {
                    Some(d) => tokio::time::sleep(d).await,
                    None => {
                        tokio::time::sleep(WAIT).await;
                        return;
                    }
                }
            }
            let resp = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
            if s.write_all(resp).await.is_err() {
                return;
            }
        }
    })
    .await
}

/// A started configuration: its address, the stop sender and the serving task.
struct Started {
    addr: SocketAddr,
    stop: watch::Sender<Option<Stop>>,
    task: JoinHandle<()>,
}

fn start(global: &str, fe_extra: &str, server: SocketAddr) -> Started {
    let timeouts = " timeout client 30s\n timeout http-keep-alive 30s";
    start_with_timeouts(global, timeouts, fe_extra, server)
}

/// [`start`] with these client-side timeouts in `defaults` (`timeout connect` and `timeout
/// server` are always there).
fn start_with_timeouts(
    global: &str,
    timeouts: &str,
    fe_extra: &str,
    server: SocketAddr,
) -> Started {
    let text = format!(
        "global\n{global}\ndefaults\n mode http\n timeout connect 5s\n timeout server 30s\n{timeouts}\nfrontend fe\n bind 127.0.0.1:{}\n{fe_extra}\n default_backend be\nbackend be\n server s1 {server}\n",
        free_port()
    );
    let loaded = load(&[parse_str("t.cfg", &text)], &SystemEnv);
    assert_ne!(loaded.outcome, Outcome::Invalid, "{:?}", loaded.diagnostics);
    let running = build(&loaded.config).unwrap().start().unwrap();
    let addr = running.local_addrs()[0];
    let (stop, rx) = watch::channel(None);
    let task = tokio::spawn(running.serve(rx));
    Started { addr, stop, task }
}

/// Reads until the peer closes or `within` passes: (bytes, closed).
async fn read_until_close(s: &mut TcpStream, within: Duration) -> (Vec<u8>, bool) {
    let mut out = Vec::new();
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let mut chunk = [0u8; 4096];
        match tokio::time::timeout_at(deadline, s.read(&mut chunk)).await {
            Err(_) => return (out, false),
            Ok(Ok(0) | Err(_)) => return (out, true),
            Ok(Ok(n)) => out.extend_from_slice(&chunk[..n]),
        }
    }
}

/// A client that made one request, got its keep-alive answer, and then waited long enough to be
/// parked (deep idle).
async fn idle_client(addr: SocketAddr) -> TcpStream {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut got = Vec::new();
    while !got.ends_with(b"ok") {
        let mut chunk = [0u8; 1024];
        let n = tokio::time::timeout(WAIT, s.read(&mut chunk))
            .await
            .unwrap()
            .unwrap();
        assert_ne!(n, 0, "closed after {}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&chunk[..n]);
    }
    assert!(!String::from_utf8_lossy(&got).contains("close"));
    s
}

/// The serving task ends within `within` of now.
async fn ends_within(task: JoinHandle<()>, within: Duration) {
    tokio::time::timeout(within, task)
        .await
        .expect("serving did not end")
        .unwrap();
}

#[tokio::test]
async fn soft_stop_closes_idle_clients_and_finishes_in_flight_requests_with_close() {
    let server = origin(Some(Duration::from_millis(600))).await;
    let st = start("", "", server);
    let mut idle = idle_client(st.addr).await;
    let mut quick_idle = idle_client(st.addr).await;
    // Parked (deep idle) after 50 ms; `quick_idle` is re-used at once and is not parked yet.
    tokio::time::sleep(Duration::from_millis(200)).await;
    quick_idle
        .write_all(b"GET /b HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut fresh = TcpStream::connect(st.addr).await.unwrap();
    let mut busy = TcpStream::connect(st.addr).await.unwrap();
    busy.write_all(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let t0 = Instant::now();
    st.stop.send(Some(Stop::Soft)).unwrap();
    let (got, closed) = read_until_close(&mut idle, Duration::from_secs(2)).await;
    assert!(closed && got.is_empty(), "idle: {got:?} closed {closed}");
    assert!(
        t0.elapsed() < Duration::from_millis(500),
        "{:?}",
        t0.elapsed()
    );
    // Its answer was sent before the stop: kept alive, then closed as idle.
    let (got, closed) = read_until_close(&mut quick_idle, Duration::from_secs(2)).await;
    assert!(closed, "quick idle left open after {got:?}");
    let (got, closed) = read_until_close(&mut busy, Duration::from_secs(3)).await;
    assert!(closed);
    assert_eq!(
        String::from_utf8_lossy(&got),
        "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok"
    );
    // HAProxy leaves a connection that sent nothing yet to its timeouts.
    let (got, closed) = read_until_close(&mut fresh, Duration::from_millis(300)).await;
    assert!(!closed && got.is_empty());
    assert!(!st.task.is_finished());
    drop(fresh);
    ends_within(st.task, Duration::from_secs(5)).await;
}

#[tokio::test]
async fn idle_close_on_response_keeps_idle_clients_and_answers_with_close() {
    let server = origin(Some(Duration::from_millis(10))).await;
    let st = start("", " option idle-close-on-response", server);
    let mut idle = idle_client(st.addr).await;
    tokio::time::sleep(Duration::from_millis(150)).await;
    st.stop.send(Some(Stop::Soft)).unwrap();
    let (got, closed) = read_until_close(&mut idle, Duration::from_millis(500)).await;
    assert!(!closed && got.is_empty());
    // Its next request is answered, with `connection: close`.
    idle.write_all(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let (got, closed) = read_until_close(&mut idle, Duration::from_secs(3)).await;
    assert!(closed);
    assert!(
        String::from_utf8_lossy(&got).contains("connection: close\r\n"),
        "{got:?}"
    );
    ends_within(st.task, Duration::from_secs(5)).await;
}

#[tokio::test]
async fn close_spread_time_infinite_closes_nothing_early() {
    let server = origin(Some(Duration::from_millis(10))).await;
    let st = start(" close-spread-time infinite", "", server);
    let mut idle = idle_client(st.addr).await;
    tokio::time::sleep(Duration::from_millis(150)).await;
    st.stop.send(Some(Stop::Soft)).unwrap();
    let (_, closed) = read_until_close(&mut idle, Duration::from_millis(500)).await;
    assert!(!closed);
    idle.write_all(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    // Kept alive: no `close` in the answer, the connection stays.
    let (got, closed) = read_until_close(&mut idle, Duration::from_millis(500)).await;
    assert!(!closed);
    assert_eq!(
        String::from_utf8_lossy(&got),
        "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"
    );
    drop(idle);
    ends_within(st.task, Duration::from_secs(5)).await;
}

#[tokio::test]
async fn close_spread_time_closes_idle_clients_within_the_window() {
    const CLIENTS: usize = 8;
    let server = origin(Some(Duration::from_millis(10))).await;
    let st = start(" close-spread-time 1s", "", server);
    let mut clients = Vec::new();
    for _ in 0..CLIENTS {
        clients.push(idle_client(st.addr).await);
    }
    tokio::time::sleep(Duration::from_millis(150)).await;
    let t0 = Instant::now();
    st.stop.send(Some(Stop::Soft)).unwrap();
    let mut when = Vec::new();
    for c in &mut clients {
        let (_, closed) = read_until_close(c, Duration::from_secs(3)).await;
        assert!(closed);
        when.push(t0.elapsed());
    }
    let last = when.iter().max().unwrap();
    assert!(*last <= Duration::from_millis(1300), "{when:?}");
    ends_within(st.task, Duration::from_secs(5)).await;
}

#[tokio::test]
async fn hard_stop_after_cuts_what_the_soft_stop_left() {
    let server = origin(None).await;
    let st = start(" hard-stop-after 500ms", "", server);
    let mut fresh = TcpStream::connect(st.addr).await.unwrap();
    let mut busy = TcpStream::connect(st.addr).await.unwrap();
    busy.write_all(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let t0 = Instant::now();
    st.stop.send(Some(Stop::Soft)).unwrap();
    let (got, closed) = read_until_close(&mut busy, Duration::from_secs(3)).await;
    assert!(closed);
    // Killed while waiting for its response: HAProxy's 502, with the soft stop's `close`.
    assert_eq!(String::from_utf8_lossy(&got), crate::kill::page_502(true));
    let after = t0.elapsed();
    assert!(
        after >= Duration::from_millis(450) && after < Duration::from_secs(2),
        "{after:?}"
    );
    // A connection with no stream resists the kill and is cut a second later.
    let (_, closed) = read_until_close(&mut fresh, Duration::from_secs(3)).await;
    assert!(closed);
    assert!(
        t0.elapsed() >= Duration::from_millis(1400),
        "{:?}",
        t0.elapsed()
    );
    ends_within(st.task, Duration::from_secs(2)).await;
}

/// Recorded in `idle.txt`: with neither `timeout client` nor `timeout http-keep-alive`, HAProxy
/// still closes a parked keep-alive client at the soft stop; with `close-spread-time` it leaves it
/// open (it only brings existing timers forward).
#[tokio::test]
async fn a_parked_client_without_any_idle_timeout_is_closed_by_the_soft_stop() {
    let server = origin(Some(Duration::from_millis(10))).await;
    let st = start_with_timeouts("", "", "", server);
    let mut idle = idle_client(st.addr).await;
    // Parked (deep idle): no timer of its own.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let t0 = Instant::now();
    st.stop.send(Some(Stop::Soft)).unwrap();
    let (got, closed) = read_until_close(&mut idle, Duration::from_secs(2)).await;
    assert!(closed && got.is_empty(), "{got:?} closed {closed}");
    assert!(
        t0.elapsed() < Duration::from_millis(500),
        "{:?}",
        t0.elapsed()
    );
    ends_within(st.task, Duration::from_secs(5)).await;
}

#[tokio::test]
async fn a_parked_client_without_any_idle_timeout_stays_through_a_spread_window() {
    let server = origin(Some(Duration::from_millis(10))).await;
    let st = start_with_timeouts(" close-spread-time 500ms", "", "", server);
    let mut idle = idle_client(st.addr).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    st.stop.send(Some(Stop::Soft)).unwrap();
    let (_, closed) = read_until_close(&mut idle, Duration::from_millis(900)).await;
    assert!(!closed, "closed within the window");
    drop(idle);
    ends_within(st.task, Duration::from_secs(5)).await;
}

/// HAProxy 2.6.12's raw 408 page (recorded in `idle.txt` and `soft-stop.txt`).
const RAW_408: &str = "HTTP/1.1 408 Request Time-out\r\nContent-length: 110\r\nCache-Control: no-cache\r\nConnection: close\r\nContent-Type: text/html\r\n\r\n<html><body><h1>408 Request Time-out</h1>\nYour browser didn't send a complete request in time.\n</body></html>\n";

/// Recorded in `idle.txt`: within a `close-spread-time` window, a client that sent nothing yet
/// and one that sent part of its head get the raw 408 at random instants inside the window
/// (their timers, later than the window's end, are brought into it); the idle client is closed.
#[tokio::test]
async fn close_spread_time_answers_clients_without_a_request_with_408_within_the_window() {
    let server = origin(Some(Duration::from_millis(10))).await;
    let st = start(" close-spread-time 1s", "", server);
    let mut idle = idle_client(st.addr).await;
    let mut fresh = Vec::new();
    for _ in 0..4 {
        fresh.push(TcpStream::connect(st.addr).await.unwrap());
    }
    let mut partial = TcpStream::connect(st.addr).await.unwrap();
    partial.write_all(b"GET /a HTTP/1.1\r\nHo").await.unwrap();
    tokio::time::sleep(Duration::from_millis(150)).await;
    let t0 = Instant::now();
    st.stop.send(Some(Stop::Soft)).unwrap();
    for c in fresh.iter_mut().chain(std::iter::once(&mut partial)) {
        let (got, closed) = read_until_close(c, Duration::from_secs(3)).await;
        assert!(closed);
        assert_eq!(String::from_utf8_lossy(&got), RAW_408);
    }
    let (got, closed) = read_until_close(&mut idle, Duration::from_secs(3)).await;
    assert!(closed && got.is_empty());
    assert!(
        t0.elapsed() <= Duration::from_millis(1300),
        "{:?}",
        t0.elapsed()
    );
    ends_within(st.task, Duration::from_secs(5)).await;
}

/// Recorded in `idle.txt`: without any client timeout nothing is brought into the window.
#[tokio::test]
async fn close_spread_time_leaves_clients_without_a_timer_alone() {
    let server = origin(Some(Duration::from_millis(10))).await;
    let st = start_with_timeouts(" close-spread-time 300ms", "", "", server);
    let mut fresh = TcpStream::connect(st.addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    st.stop.send(Some(Stop::Soft)).unwrap();
    let (_, closed) = read_until_close(&mut fresh, Duration::from_millis(800)).await;
    assert!(!closed);
    drop(fresh);
    ends_within(st.task, Duration::from_secs(5)).await;
}
