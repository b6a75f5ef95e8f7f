//! `tcp-request inspect-delay`: hold the client's first bytes until the `tcp-request content`
//! rules can decide, the delay passes, the buffer is full or the client closes its side.

use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt};

use crate::h1::H1Limits;

/// Bytes read from the client per read while inspecting.
const INSPECT_CHUNK: usize = 2048;

/// How many bytes the inspection buffers before it stops waiting: HAProxy's request channel is
/// "full" for the rules when `tune.bufsize - tune.maxrewrite` bytes are in (15,360 by default),
/// `maxrewrite` being capped at half the buffer.
pub fn inspect_capacity(limits: &H1Limits) -> usize {
    let reserve = limits.maxrewrite.min(limits.bufsize / 2);
    limits.bufsize.saturating_sub(reserve).max(1)
}

/// What the inspection ended with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inspected {
    /// The rules accepted the stream (or none applied): forward it, buffered bytes first.
    Accept,
    /// A `reject` rule applied: close silently.
    Reject,
    /// The client failed (reset) before a decision.
    ClientError,
    /// `timeout client` passed without a byte from the client before a decision (HAProxy
    /// closes, `cR`).
    ClientTimeout,
}

/// Reads from `client` into `buf` until `decide(buf, final)` answers.
///
/// `decide` returns `Some(true)` to accept, `Some(false)` to reject and `None` when it needs more
/// data; `final` is true once no more data will be waited for (the delay passed, `buf` holds
/// `max` bytes or more, or the client shut its side), and then `None` counts as accept. Without a
/// delay the first call is already final, as in HAProxy. While waiting, `client_timeout`
/// (`timeout client`) applies to the client's silence, as it does in HAProxy.
pub async fn inspect<C, F>(
    client: &mut C,
    buf: &mut Vec<u8>,
    delay: Option<Duration>,
    client_timeout: Option<Duration>,
    max: usize,
    mut decide: F,
) -> Inspected
where
    C: AsyncRead + Unpin,
    F: FnMut(&[u8], bool) -> Option<bool>,
{
    let deadline = delay.map(|d| Instant::now() + d);
    let mut last_read = Instant::now();
    let mut eof = false;
    loop {
        let is_final = eof || buf.len() >= max || deadline.is_none_or(|d| Instant::now() >= d);
        match decide(buf, is_final) {
            Some(true) => return Inspected::Accept,
            Some(false) => return Inspected::Reject,
            None if is_final => return Inspected::Accept,
            None => {}
        }
        let Some(deadline) = deadline else {
            return Inspected::Accept;
        };
        let mut chunk = [0u8; INSPECT_CHUNK];
        let room = max.saturating_sub(buf.len()).min(INSPECT_CHUNK);
        let silent_until = client_timeout.map(|t| last_read + t);
        let wake = silent_until.map_or(deadline, |s| s.min(deadline));
        let read = client.read(chunk.get_mut(..room).unwrap_or_default());
        match tokio::time::timeout_at(wake.into(), read).await {
            Err(_) if silent_until.is_some_and(|s| s < deadline) => {
                return Inspected::ClientTimeout;
            }
            Err(_) => {}
            Ok(Ok(0)) => eof = true,
            Ok(Ok(n)) => {
                last_read = Instant::now();
                buf.extend_from_slice(chunk.get(..n).unwrap_or_default());
            }
            Ok(Err(_)) => return Inspected::ClientError,
        }
    }
}

#[cfg(test)]
mod tests;
