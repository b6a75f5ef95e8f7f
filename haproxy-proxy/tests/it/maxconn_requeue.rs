//! `set maxconn server` lets queued requests in at once (HAProxy 2.6's
//! `server_parse_maxconn_change_request()` runs `process_srv_queue()`), through real HAProxy
//! 2.6 and through ours with the same configuration and steps: one request held on a server
//! with `maxconn 1`, two more queued behind it (in the backend's queue with `roundrobin`, in
//! the server's own with `source`), then the limit raised to 3 over the runtime API while the
//! first is still held: both queued requests are answered within a bounded wait. `set weight`,
//! which only changes the effective weight there, lets nobody in.
//!
//! HAProxy's answers are recorded under tests/data/haproxy-2.6/maxconn-requeue (see its
//! README); without `haproxy` installed (and `CI` not `true`) ours are compared with them alone.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;

use crate::queue::{Origin, get, until};
use crate::requeue_diff::{Ctl, HEAD, both_in};

/// The recordings' folder under tests/data/haproxy-2.6.
const DIR: &str = "maxconn-requeue";

/// Longest wait for a queued request once the runtime API made room for it.
const LET_IN: Duration = Duration::from_secs(3);

/// How long a request is given to reach a queue (not visible from outside).
const SETTLE: Duration = Duration::from_millis(300);

/// Holds `/hold` on origin `o[0]`, then queues two `/` requests behind it.
async fn hold_and_queue_two(
    addr: SocketAddr,
    o: &[Arc<Origin>],
) -> (JoinHandle<String>, Vec<JoinHandle<String>>) {
    let first = tokio::spawn(get(addr, "/hold"));
    until("the held request at the server", || {
        o.iter().map(|x| x.active()).sum::<usize>() == 1
    })
    .await;
    let mut queued = Vec::new();
    for _ in 0..2 {
        queued.push(tokio::spawn(get(addr, "/")));
        tokio::time::sleep(SETTLE).await;
    }
    assert!(
        queued.iter().all(|q| !q.is_finished()),
        "both requests wait in a queue"
    );
    (first, queued)
}

/// Raises the busy server's `maxconn` to 3, then reports each queued request's answer (within
/// [`LET_IN`]) while the first is still held, then the held one's.
async fn raise_and_collect(addr: SocketAddr, o: Vec<Arc<Origin>>, ctl: Arc<Ctl>) -> Vec<String> {
    let (first, queued) = hold_and_queue_two(addr, &o).await;
    let said = ctl.command("set maxconn server l/a 3").await;
    let mut out = vec![said];
    for q in queued {
        let answer = tokio::time::timeout(LET_IN, q)
            .await
            .map_or_else(|_| "<still queued>".to_owned(), Result::unwrap);
        out.push(answer);
    }
    let held = o.first().map_or(0, |x| x.active());
    out.push(format!("held while they were answered: {held}"));
    if let Some(a) = o.first() {
        a.let_go(1);
    }
    out.push(first.await.unwrap());
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raising_maxconn_lets_the_backend_queue_in_at_once_like_haproxy() {
    both_in(
        DIR,
        "set maxconn server takes the backend queue",
        &format!("{HEAD}listen l\n bind @listen@\n balance roundrobin\n server a @a@ maxconn 1\n"),
        &["a"],
        raise_and_collect,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raising_maxconn_lets_the_servers_own_queue_in_at_once_like_haproxy() {
    both_in(
        DIR,
        "set maxconn server takes its own queue",
        &format!("{HEAD}listen l\n bind @listen@\n balance source\n server a @a@ maxconn 1\n"),
        &["a"],
        raise_and_collect,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_tcp_mode_raising_maxconn_lets_the_queue_in_too_like_haproxy() {
    both_in(
        DIR,
        "TCP mode set maxconn server",
        &format!(
            "{}listen l\n bind @listen@\n balance roundrobin\n server a @a@ maxconn 1\n",
            HEAD.replace("mode http", "mode tcp")
        ),
        &["a"],
        raise_and_collect,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_weight_raised_from_zero_lets_nobody_in_like_haproxy() {
    both_in(
        DIR,
        "set weight from zero leaves the queue",
        &format!(
            "{HEAD}listen l\n bind @listen@\n balance roundrobin\n server a @a@ maxconn 1\n server b @b@ maxconn 1 weight 0\n"
        ),
        &["a", "b"],
        |addr, o, ctl| async move {
            let (first, queued) = hold_and_queue_two(addr, &o).await;
            let said = ctl.command("set weight l/b 100").await;
            tokio::time::sleep(SETTLE).await;
            let waiting = queued.iter().filter(|q| !q.is_finished()).count();
            if let Some(a) = o.first() {
                a.let_go(1);
            }
            let mut out = vec![said, format!("still queued: {waiting}")];
            for q in queued {
                out.push(q.await.unwrap());
            }
            out.push(first.await.unwrap());
            out
        },
    )
    .await;
}
