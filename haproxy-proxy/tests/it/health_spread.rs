//! When the first health checks of a process run (HAProxy 2.6's `start_checks()`), side by side
//! with the real HAProxy: the shortest interval of at least a second spreads every check, each
//! check in configuration order (across backends), and the global `max-spread-checks` caps it.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::build::runtime;
use crate::support::{Served, haproxy_bin, spawn_haproxy_on_free_port};

/// How long a test waits for the first check of every server.
const FIRST_CHECKS: Duration = Duration::from_secs(20);

/// Reads a check's request and answers 200 (an HTTP check: a bare TCP check closes its
/// connection with a reset, which the kernel may drop from the accept queue unseen).
async fn answer(mut conn: tokio::net::TcpStream) {
    let mut buf = [0u8; 512];
    let _ = tokio::time::timeout(Duration::from_secs(2), conn.read(&mut buf)).await;
    let _ = conn
        .write_all(b"HTTP/1.0 200 OK\r\ncontent-length: 0\r\n\r\n")
        .await;
}

/// A check peer that reports when its first check connected, and answers every check.
async fn check_peer() -> (u16, oneshot::Receiver<Instant>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = oneshot::channel();
    tokio::spawn(async move {
        let mut first = Some(tx);
        // Bounded: the test ends long before this many checks.
        for _ in 0..1_000 {
            let Ok((conn, _)) = listener.accept().await else {
                return;
            };
            if let Some(tx) = first.take() {
                let _ = tx.send(Instant::now());
            }
            tokio::spawn(answer(conn));
        }
    });
    (port, rx)
}

/// The instants of each peer's first check, as offsets from the earliest one.
async fn first_checks(peers: Vec<oneshot::Receiver<Instant>>) -> Vec<Duration> {
    let mut at = Vec::new();
    for rx in peers {
        let t = tokio::time::timeout(FIRST_CHECKS, rx)
            .await
            .expect("a server was not checked")
            .unwrap();
        at.push(t);
    }
    let start = at.iter().min().copied().unwrap();
    at.iter().map(|t| *t - start).collect()
}

/// The configuration: `frontend` on `port`, servers checked on `checks` with `inters` (ms),
/// two in backend `a` and the rest in `b`.
fn config(global: &str, port: u16, checks: &[u16], inters: &[u32]) -> String {
    let mut text = format!(
        "global\n{global}defaults\n mode http\n option httpchk GET /\n timeout connect 1s\n timeout client 5s\n timeout server 5s\n\
         frontend fe\n bind 127.0.0.1:{port}\n default_backend a\n"
    );
    for (i, (c, inter)) in checks.iter().zip(inters).enumerate() {
        if i == 0 {
            text.push_str("backend a\n");
        }
        if i == 2 {
            text.push_str("backend b\n");
        }
        text.push_str(&format!(
            " server s{} 127.0.0.1:{c} check inter {inter}\n",
            i + 1
        ));
    }
    text
}

/// The first-check offsets of ours and of HAProxy for `global` and `inters`.
async fn both(global: &str, inters: &[u32]) -> Option<(Vec<Duration>, Vec<Duration>)> {
    let bin = haproxy_bin("health_spread")?;
    let mut run = Vec::new();
    for ours in [true, false] {
        let mut ports = Vec::new();
        let mut peers = Vec::new();
        for _ in inters {
            let (p, rx) = check_peer().await;
            ports.push(p);
            peers.push(rx);
        }
        if ours {
            let rt = runtime(&config(global, 0, &ports, inters)).unwrap();
            let px = Served::start(rt);
            run.push(first_checks(peers).await);
            px.stop().await;
        } else {
            let h = spawn_haproxy_on_free_port(bin, "health-spread", |port| {
                config(global, port, &ports, inters)
            })
            .await;
            run.push(first_checks(peers).await);
            drop(h);
        }
    }
    let theirs = run.pop().unwrap();
    let ours = run.pop().unwrap();
    Some((ours, theirs))
}

/// The servers in the order of their first checks.
fn order(offsets: &[Duration]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..offsets.len()).collect();
    idx.sort_by_key(|&i| offsets[i]);
    idx
}

/// Intervals 1500, 1500 and 600 ms: 1.5 s spreads all three (600 ms is under the one-second
/// threshold), so s3, third, starts at 1 s, after s2 at 0.5 s.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_checks_are_spread_over_the_shortest_long_interval_as_haproxy() {
    let Some((ours, theirs)) = both("", &[1500, 1500, 600]).await else {
        return;
    };
    assert_eq!(order(&ours), [0, 1, 2], "ours: {ours:?}");
    assert_eq!(order(&theirs), [0, 1, 2], "HAProxy: {theirs:?}");
    for (who, at) in [("ours", &ours), ("HAProxy", &theirs)] {
        // s3 at 1 s: not before 0.8 s after s1 (timers are late, never early).
        assert!(at[2] >= Duration::from_millis(800), "{who}: {at:?}");
    }
}

/// `max-spread-checks 900`: servers checked every 10 s all have their first check within
/// 0.9 s (0, 0.3 and 0.6 s) instead of 0, 3.3 and 6.7 s.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_spread_checks_caps_the_spreading_as_haproxy() {
    let Some((ours, theirs)) = both(" max-spread-checks 900\n", &[10_000, 10_000, 10_000]).await
    else {
        return;
    };
    for (who, at) in [("ours", &ours), ("HAProxy", &theirs)] {
        assert_eq!(order(at), [0, 1, 2], "{who}: {at:?}");
        // Well under the uncapped 3.3 s of s2, even on a loaded machine.
        assert!(at[2] < Duration::from_millis(2_500), "{who}: {at:?}");
    }
}

#[test]
fn the_configuration_puts_two_servers_in_a_and_the_rest_in_b() {
    let text = config("", 1, &[2, 3, 4], &[1, 2, 3]);
    assert!(text.contains("backend a\n server s1 127.0.0.1:2 check inter 1\n server s2"));
    assert!(text.contains("backend b\n server s3 127.0.0.1:4 check inter 3\n"));
}
