//! Server selection when servers are missing, through the real daemon path: backups and
//! `option allbackups`, weight 0, `option abortonclose` for a client that leaves the queue, and
//! the failure test of issue 5: `retries 3` + `option redispatch`, one of two servers stopped
//! during a bounded load loop, and no request lost.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::queue::{Daemon, Origin, PAGE_503, Refused, body, get, held_at, until};

const DEFAULTS: &str =
    "defaults\n mode http\n timeout connect 1s\n timeout client 10s\n timeout server 10s\n";

async fn bodies(addr: SocketAddr, n: usize) -> Vec<String> {
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(body(&get(addr, "/").await).to_owned());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backups_serve_when_no_active_server_is_usable() {
    let (b1, b2) = (Origin::start("b1").await, Origin::start("b2").await);
    let dead = Refused::new();
    let origins = [("b1", b1.addr), ("b2", b2.addr), ("dead", dead.addr)];
    // Actives in maintenance: only the first backup takes the traffic (reference §2).
    let d = Daemon::start(
        &format!(
            "{DEFAULTS}listen l\n bind @listen@\n server a @dead@ disabled\n server b1 @b1@ backup\n server b2 @b2@ backup\n"
        ),
        &origins,
    );
    assert_eq!(bodies(d.addr, 4).await, ["b1"; 4]);
    d.shutdown().await;
    // option allbackups: the backups share the load.
    let d = Daemon::start(
        &format!(
            "{DEFAULTS}listen l\n bind @listen@\n option allbackups\n server a @dead@ disabled\n server b1 @b1@ backup\n server b2 @b2@ backup\n"
        ),
        &origins,
    );
    assert_eq!(bodies(d.addr, 4).await, ["b1", "b2", "b1", "b2"]);
    d.shutdown().await;
    // An active server of weight 0 takes no load-balanced traffic: the backup does.
    let d = Daemon::start(
        &format!(
            "{DEFAULTS}listen l\n bind @listen@\n server a @dead@ weight 0\n server b1 @b1@ backup\n"
        ),
        &origins,
    );
    assert_eq!(bodies(d.addr, 2).await, ["b1"; 2]);
    d.shutdown().await;
    // Every server at weight 0: 503.
    let d = Daemon::start(
        &format!(
            "{DEFAULTS}listen l\n bind @listen@\n server b1 @b1@ weight 0\n server b2 @b2@ weight 0\n"
        ),
        &origins,
    );
    assert_eq!(get(d.addr, "/").await, PAGE_503);
    d.shutdown().await;
    // Refusing actives without health checks are still up: HAProxy retries and redispatches
    // among them and answers 503 (SC); the backup is not used.
    let d = Daemon::start(
        &format!(
            "{DEFAULTS}listen l\n bind @listen@\n retries 3\n option redispatch\n server a1 @dead@\n server a2 @dead@\n server b1 @b1@ backup\n"
        ),
        &origins,
    );
    let before = b1.total();
    assert_eq!(get(d.addr, "/").await, PAGE_503);
    assert_eq!(b1.total(), before);
    d.shutdown().await;
}

/// Sends a request for `/hold`, waits until it is queued, then closes the sending side.
async fn queue_then_half_close(d: &Daemon) -> TcpStream {
    let mut s = TcpStream::connect(d.addr).await.unwrap();
    s.write_all(b"GET /hold HTTP/1.1\r\nHost: t\r\n\r\n")
        .await
        .unwrap();
    let counters = Arc::clone(&d.service.counters);
    until("the request in the queue", || {
        counters.queue_cur.load(Ordering::SeqCst) == 1
    })
    .await;
    s.shutdown().await.unwrap();
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abortonclose_takes_a_closed_client_out_of_the_queue() {
    let a = Origin::start("a").await;
    let cfg = |opt: &str| {
        format!(
            "{DEFAULTS}listen l\n bind @listen@\n timeout queue 10s\n{opt} server a @a@ maxconn 1\n"
        )
    };
    let d = Daemon::start(&cfg(" option abortonclose\n"), &[("a", a.addr)]);
    let first = held_at(d.addr, &a).await;
    let mut left = queue_then_half_close(&d).await;
    let counters = Arc::clone(&d.service.counters);
    until("the closed client out of the queue", || {
        counters.queue_cur.load(Ordering::SeqCst) == 0
    })
    .await;
    // HAProxy answers nothing (CQ) and closes.
    let mut out = Vec::new();
    left.read_to_end(&mut out).await.unwrap();
    assert_eq!(out, b"");
    a.let_go(1);
    assert_eq!(body(&first.await.unwrap()), "a");
    assert_eq!(body(&get(d.addr, "/").await), "a");
    assert_eq!(a.total(), 2, "the aborted request never reached the server");
    d.shutdown().await;

    // Without the option, a half-closed client keeps its place and gets its answer.
    let a = Origin::start("a").await;
    let d = Daemon::start(&cfg(""), &[("a", a.addr)]);
    let first = held_at(d.addr, &a).await;
    let mut stays = queue_then_half_close(&d).await;
    a.let_go(2);
    assert_eq!(body(&first.await.unwrap()), "a");
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stays.read_to_end(&mut out))
        .await
        .unwrap()
        .unwrap();
    assert!(out.starts_with(b"HTTP/1.1 200 OK\r\n") && out.ends_with(b"\r\n\r\na"));
    assert_eq!(a.total(), 2);
    d.shutdown().await;
}

/// Runs `total` requests from `clients` concurrent clients, stops `a` once `stop_after` have
/// completed, and returns the failed responses.
pub(crate) async fn load_while_stopping(
    addr: SocketAddr,
    a: &Arc<Origin>,
    total: usize,
    clients: usize,
    stop_after: usize,
) -> Vec<String> {
    let done = Arc::new(AtomicUsize::new(0));
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (done, next) = (Arc::clone(&done), Arc::clone(&next));
        tasks.push(tokio::spawn(async move {
            let mut failed = Vec::new();
            while next.fetch_add(1, Ordering::SeqCst) < total {
                let resp = get(addr, "/").await;
                if !resp.starts_with("HTTP/1.1 200 OK\r\n") {
                    failed.push(resp);
                }
                done.fetch_add(1, Ordering::SeqCst);
            }
            failed
        }));
    }
    until("the first part of the load", || {
        done.load(Ordering::SeqCst) >= stop_after
    })
    .await;
    a.stop();
    let mut failed = Vec::new();
    for t in tasks {
        failed.extend(
            tokio::time::timeout(Duration::from_secs(60), t)
                .await
                .expect("the load loop ends in time")
                .unwrap(),
        );
    }
    assert_eq!(done.load(Ordering::SeqCst), total);
    failed
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_5_stopping_one_of_two_servers_under_load_loses_no_request() {
    let (a, b) = (Origin::start("a").await, Origin::start("b").await);
    let d = Daemon::start(
        &format!(
            "{DEFAULTS}listen l\n bind @listen@\n option http-server-close\n retries 3\n option redispatch\n server a @a@\n server b @b@\n"
        ),
        &[("a", a.addr), ("b", b.addr)],
    );
    let failed = load_while_stopping(d.addr, &a, 2000, 8, 500).await;
    assert!(
        failed.is_empty(),
        "{} failed: {:?}",
        failed.len(),
        failed.first()
    );
    let (ta, tb) = (a.total(), b.total());
    assert_eq!(ta + tb, 2000);
    assert!(
        (200..=1000).contains(&ta),
        "a served {ta} before it stopped"
    );
    d.shutdown().await;

    // The same in TCP mode: each connection is retried and redispatched.
    let (a, b) = (Origin::start("a").await, Origin::start("b").await);
    let d = Daemon::start(
        &format!(
            "{}listen l\n bind @listen@\n retries 3\n option redispatch\n server a @a@\n server b @b@\n",
            DEFAULTS.replace("mode http", "mode tcp")
        ),
        &[("a", a.addr), ("b", b.addr)],
    );
    let failed = load_while_stopping(d.addr, &a, 600, 8, 150).await;
    assert!(
        failed.is_empty(),
        "{} failed: {:?}",
        failed.len(),
        failed.first()
    );
    assert_eq!(a.total() + b.total(), 600);
    d.shutdown().await;
}
