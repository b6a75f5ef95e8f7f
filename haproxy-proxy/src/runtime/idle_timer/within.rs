//! A time limit on a request-path write that does not make a timer when the write is done at
//! once.
//!
//! With `tokio::time::timeout` every head written (two per HTTP request) made a tokio `Sleep`:
//! a clock read and a clone of the runtime handle, though a small write to a socket with room is
//! done at its first poll. Here the future is polled once first; only if it is pending does a
//! timer go on the thread's coarse wheel ([`IdleTimer`]).
//!
//! Not for waits that are pending on nearly every request (the next request head, the response
//! head): measured with callgrind, an [`IdleTimer`] registration costs more instructions than a
//! tokio one (about 1,900 against 800 per request for those two waits); they use the per-thread
//! queues of `fifo.rs` ([`super::within_queued_since`]).
//!
//! Precision: the deadline is rounded up to the millisecond (see [`IdleTimer`]) and counts from
//! the first poll; the limit never expires early.

use std::future::Future;
use std::task::Poll;
use std::time::Duration;

use super::IdleTimer;

/// Runs `f` for at most `limit` (no limit with `None`): `Some(output)`, or `None` when the time
/// ran out first.
pub(crate) async fn within<F: Future>(limit: Option<Duration>, f: F) -> Option<F::Output> {
    let mut f = std::pin::pin!(f);
    if let Poll::Ready(v) = std::future::poll_fn(|cx| Poll::Ready(f.as_mut().poll(cx))).await {
        return Some(v);
    }
    // A limit too far to be represented is no limit.
    let deadline = limit.and_then(|t| tokio::time::Instant::now().checked_add(t));
    let Some(deadline) = deadline else {
        return Some(f.await);
    };
    let mut timer = IdleTimer::new(deadline);
    std::future::poll_fn(|cx| {
        if let Poll::Ready(v) = f.as_mut().poll(cx) {
            return Poll::Ready(Some(v));
        }
        timer.poll_expired(cx).map(|()| None)
    })
    .await
}
