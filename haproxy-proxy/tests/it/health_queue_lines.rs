//! The session and queue counts of HAProxy's DOWN / UP lines, compared with the lines HAProxy
//! 2.6.12 wrote for the same scene (tests/data/haproxy-2.6/health-queue-lines.txt): a server
//! with `maxconn 1` serving one request, two more queued on it (`balance source`), its check
//! port refused, then listening again.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use haproxy_proxy::health::MemoryLog;
use haproxy_proxy::registry::Registry;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::build::runtime;
use crate::health::{Peer, Role};
use crate::support::{Served, WAIT, hold_accepted, mask_duration, wait_for_line};

const RECORDED: &str = include_str!("../data/haproxy-2.6/health-queue-lines.txt");

/// The recorded line of `case` that starts with `prefix`, its check duration masked.
fn recorded(case: &str, prefix: &str) -> String {
    let line = RECORDED
        .lines()
        .filter_map(|l| l.strip_prefix(case)?.strip_prefix('|'))
        .find(|l| l.starts_with(prefix))
        .unwrap();
    mask_duration(line)
}

/// Sends three requests to `addr` and waits until two of them wait in s1's queue; returns the
/// client connections.
async fn two_queued_behind_one(addr: SocketAddr, registry: &Registry) -> Vec<TcpStream> {
    let mut clients = Vec::new();
    for _ in 0..3 {
        let mut c = TcpStream::connect(addr).await.unwrap();
        c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        clients.push(c);
    }
    let started = Instant::now();
    while registry.balancer(0).unwrap().queued(0) < 2 {
        assert!(started.elapsed() < WAIT, "two requests queued on s1");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    clients
}

/// Polls the log for a line starting with `prefix`.
async fn line(log: &MemoryLog, prefix: &str) -> String {
    wait_for_line(log, &format!("{prefix:?}"), |l| l.starts_with(prefix)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn down_and_up_lines_count_sessions_and_queue_as_haproxy() {
    down_and_up("plain", "").await;
}

/// With `option redispatch` the DOWN server sends its two queued requests back to load
/// balancing (`2 requeued, 0 remaining in queue`): no server is left, so they get 503.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_redispatch_the_down_line_counts_the_requeued_requests_as_haproxy() {
    down_and_up("redispatch", " option redispatch\n").await;
}

async fn down_and_up(case: &str, options: &str) {
    // The origin accepts and never answers: the first request keeps s1's only slot.
    let origin = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let oport = origin.local_addr().unwrap().port();
    let holder = hold_accepted(origin);
    let mut check = Peer::new("check", Role::Http).await;
    let rt = runtime(&format!(
        "defaults\n mode http\n timeout connect 5s\n timeout client 7s\n timeout server 9s\n timeout queue 9s\n\
         frontend fe\n bind 127.0.0.1:0\n default_backend app\n\
         backend app\n balance source\n{options}\
         server s1 127.0.0.1:{oport} maxconn 1 check port {} inter 100 rise 1 fall 1\n",
        check.port
    ))
    .unwrap();
    let registry = Arc::clone(&rt.registry);
    let px = Served::start(rt);
    let addr = px.addr;

    let clients = two_queued_behind_one(addr, &registry).await;

    check.stop();
    let down = line(&px.log, "Server app/s1 is DOWN").await;
    assert_eq!(
        mask_duration(&down),
        recorded(case, "Server app/s1 is DOWN")
    );
    check.start().await;
    let up = line(&px.log, "Server app/s1 is UP").await;
    assert_eq!(mask_duration(&up), recorded(case, "Server app/s1 is UP"));

    px.stop().await;
    drop(clients);
    holder.abort();
}

const SEND_STATE: &str = include_str!("../data/haproxy-2.6/send-state.txt");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_state_reports_sessions_and_queue_as_haproxy() {
    // As record_send_state.py: one request held by the origin, two queued on s1.
    let origin = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let oport = origin.local_addr().unwrap().port();
    let holder = hold_accepted(origin);
    // The check peer keeps the state header of every check it answers.
    let chk = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let cport = chk.local_addr().unwrap().port();
    let heads = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let answering = {
        let heads = Arc::clone(&heads);
        tokio::spawn(async move {
            for _ in 0..200 {
                let Ok(Ok((mut s, _))) = tokio::time::timeout(WAIT, chk.accept()).await else {
                    return;
                };
                let mut buf = vec![0u8; 4096];
                let n = tokio::time::timeout(WAIT, s.read(&mut buf))
                    .await
                    .ok()
                    .and_then(Result::ok)
                    .unwrap_or(0);
                let text = String::from_utf8_lossy(&buf[..n]).into_owned();
                if let Some(l) = text
                    .split("\r\n")
                    .find(|l| l.to_ascii_lowercase().starts_with("x-haproxy-server-state"))
                {
                    heads.lock().unwrap().push(l.to_owned());
                }
                let _ = s
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                    .await;
            }
        })
    };
    let rt = runtime(&format!(
        "global\n node n1\n\
         defaults\n mode http\n timeout connect 5s\n timeout client 7s\n timeout server 9s\n timeout queue 9s\n\
         frontend fe\n bind 127.0.0.1:0\n default_backend app\n\
         backend app\n balance source\n option httpchk GET /health\n http-check send-state\n\
         server s1 127.0.0.1:{oport} maxconn 1 check port {cport} inter 200\n"
    ))
    .unwrap();
    let registry = Arc::clone(&rt.registry);
    let px = Served::start(rt);
    let addr = px.addr;
    let clients = two_queued_behind_one(addr, &registry).await;
    let want = SEND_STATE
        .lines()
        .find(|l| !l.starts_with('#'))
        .unwrap()
        .replace("PORT", &oport.to_string());
    // Checks run every 200 ms: one taken after the queue filled carries the counts. The total
    // after `scur=1/` is masked: HAProxy's `beconn` counts an HTTP stream waiting in a server
    // queue at once, ours once it reaches the server (docs/compat.md).
    let masked = |h: &str| -> String {
        match (h.find("scur=1/"), h.find("; qcur=")) {
            (Some(a), Some(b)) if a < b => format!("{}N{}", &h[..a + 7], &h[b..]),
            _ => h.to_owned(),
        }
    };
    let started = Instant::now();
    loop {
        let seen: Vec<String> = heads.lock().unwrap().clone();
        if seen.iter().any(|h| masked(h) == masked(&want)) {
            break;
        }
        assert!(started.elapsed() < WAIT, "no {want:?} in {seen:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    px.stop().await;
    drop(clients);
    holder.abort();
    answering.abort();
}
