//! A server becoming usable takes the backend's queue directly (HAProxy 2.6's
//! `pendconn_grab_from_px()`), and only when it may serve that queue: a backup takes nothing
//! while an active server is usable, and with the active servers down only the first usable
//! backup does unless `option allbackups`. Side by side with real HAProxy 2.6 through
//! `enable server` / `disable server` over the runtime API; the raw answers and which server
//! gave them must be equal.
//!
//! HAProxy's answers are recorded under tests/data/haproxy-2.6/grab (see its README); without
//! `haproxy` installed (and `CI` not `true`) ours are compared with the recordings alone.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::queue::{Origin, get, until};
use crate::requeue_diff::{Ctl, HEAD, both_in};

/// [`HEAD`] with a queue timeout short enough for a request nobody takes to end the scenario.
fn head() -> String {
    HEAD.replace("timeout queue 5s", "timeout queue 2s")
}

/// Holds a `/hold` request on `o[0]` (the only usable active server, `maxconn 1`), then queues
/// `n` `/` requests behind it in the backend's queue, in order.
async fn hold_and_queue(
    addr: SocketAddr,
    o: &[Arc<Origin>],
    n: usize,
) -> (
    tokio::task::JoinHandle<String>,
    Vec<tokio::task::JoinHandle<String>>,
) {
    let first = tokio::spawn(get(addr, "/hold"));
    until("the held request at a", || o[0].active() == 1).await;
    let mut queued = Vec::new();
    for _ in 0..n {
        queued.push(tokio::spawn(get(addr, "/")));
        // Being queued is not visible from outside: give each request time to get there.
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    assert!(
        queued.iter().all(|q| !q.is_finished()),
        "the requests wait in the queue"
    );
    (first, queued)
}

/// Whether `q` is still waiting after a short while.
async fn settle(q: &tokio::task::JoinHandle<String>) -> String {
    tokio::time::sleep(Duration::from_millis(400)).await;
    if q.is_finished() {
        "answered"
    } else {
        "still queued"
    }
    .to_owned()
}

/// Runs `commands`, then reports whether the one queued request was taken at once, lets the
/// held request on `a` go, and collects every answer.
async fn commands_then_release(
    addr: SocketAddr,
    o: Vec<Arc<Origin>>,
    ctl: Arc<Ctl>,
    commands: &[&str],
) -> Vec<String> {
    let (first, mut queued) = hold_and_queue(addr, &o, 1).await;
    let mut out = Vec::new();
    for c in commands {
        out.push(ctl.command(c).await);
    }
    let q = queued.pop().unwrap();
    out.push(settle(&q).await);
    o[0].let_go(1);
    out.push(first.await.unwrap());
    out.push(q.await.unwrap());
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_enabled_while_the_active_server_is_usable_takes_nothing_like_haproxy() {
    both_in(
        "grab",
        "enable a backup while the active server is usable",
        &format!(
            "{}listen l\n bind @listen@\n balance roundrobin\n server a @a@ maxconn 1\n server b @b@ maxconn 1 backup disabled\n",
            head()
        ),
        &["a", "b"],
        |addr, o, ctl| async move {
            commands_then_release(addr, o, ctl, &["enable server l/b"]).await
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_backup_takes_the_queue_only_with_allbackups_like_haproxy() {
    for allbackups in ["", " option allbackups\n"] {
        both_in(
            "grab",
            if allbackups.is_empty() {
                "enable a second backup"
            } else {
                "enable a second backup with allbackups"
            },
            &format!(
                "{}listen l\n bind @listen@\n balance roundrobin\n{allbackups} server a @a@ maxconn 1\n server b1 @b1@ maxconn 1 backup\n server b2 @b2@ maxconn 1 backup disabled\n",
                head()
            ),
            &["a", "b1", "b2"],
            |addr, o, ctl| async move {
                commands_then_release(
                    addr,
                    o,
                    ctl,
                    &["disable server l/a", "enable server l/b2"],
                )
                .await
            },
        )
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_without_maxconn_takes_the_whole_backend_queue_like_haproxy() {
    both_in(
        "grab",
        "enable a server without maxconn",
        &format!(
            "{}listen l\n bind @listen@\n balance roundrobin\n server a @a@ maxconn 1\n server b @b@ disabled\n",
            head()
        ),
        &["a", "b"],
        |addr, o, ctl| async move {
            let (first, queued) = hold_and_queue(addr, &o, 3).await;
            let mut out = vec![ctl.command("enable server l/b").await];
            for q in queued {
                out.push(
                    tokio::time::timeout(Duration::from_secs(1), q)
                        .await
                        .map_or_else(|_| "<still queued>".to_owned(), Result::unwrap),
                );
            }
            o[0].let_go(1);
            out.push(first.await.unwrap());
            out
        },
    )
    .await;
}
