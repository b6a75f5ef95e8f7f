//! A request body sent while its request waits in a server's queue (issue 5, point 3 of the gaps
//! brief): when `timeout queue` answers 503, HAProxy 2.6.12 keeps the client connection if the
//! whole body arrived meanwhile (its H1 mux read it) and closes it otherwise. The same steps run
//! through real HAProxy and ours; HAProxy's answers are recorded in
//! tests/data/haproxy-2.6/queue-body (see its README).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::queue::{Origin, held_at};
use crate::requeue_diff::{Ctl, HEAD, both_in};

/// How long the client waits for the proxy to close.
const READ_FOR: Duration = Duration::from_secs(4);

/// One server with `maxconn 1` and a short queue timeout.
fn config() -> String {
    format!("{HEAD}listen l\n bind @listen@\n timeout queue 400ms\n server a @a@ maxconn 1\n")
}

/// Holds the only slot with `/hold`, then sends `parts` on one connection (150 ms apart, the
/// first being a request head that queues) and reads until the proxy closes; what the client
/// received, then the held request's answer.
async fn queued(addr: SocketAddr, o: Vec<Arc<Origin>>, parts: &[&[u8]]) -> Vec<String> {
    let first = held_at(addr, &o[0]).await;
    let mut s = TcpStream::connect(addr).await.unwrap();
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
        if s.write_all(p).await.is_err() {
            break;
        }
    }
    let mut out = Vec::new();
    let read = tokio::time::timeout(READ_FOR, s.read_to_end(&mut out)).await;
    let client = format!(
        "{}{}",
        String::from_utf8_lossy(&out),
        if read.is_err() { "<still open>" } else { "" }
    );
    o[0].let_go(1);
    let held = tokio::time::timeout(READ_FOR, first)
        .await
        .unwrap()
        .unwrap();
    vec![client, held]
}

const POST: &[u8] = b"POST /q HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\n";
const NEXT: &[u8] = b"GET /n HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_arrives_while_queued_keeps_the_client_after_the_503() {
    both_in(
        "queue-body",
        "body while queued",
        &config(),
        &["a"],
        |addr, o, _: Arc<Ctl>| queued(addr, o, &[POST, b"body", NEXT]),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_still_missing_at_the_503_closes_the_client() {
    both_in(
        "queue-body",
        "body after the queue timeout",
        &config(),
        &["a"],
        |addr, o, _: Arc<Ctl>| {
            let late = [POST, b"bo"];
            async move { queued(addr, o, &late).await }
        },
    )
    .await;
}
