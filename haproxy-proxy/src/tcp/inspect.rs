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
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    #[test]
    fn the_buffer_is_full_at_bufsize_minus_maxrewrite() {
        assert_eq!(inspect_capacity(&H1Limits::default()), 15360);
        let small = H1Limits {
            bufsize: 1000,
            maxrewrite: 900,
            ..H1Limits::default()
        };
        assert_eq!(inspect_capacity(&small), 500, "maxrewrite capped at half");
    }

    #[tokio::test]
    async fn waits_for_enough_bytes_then_decides() {
        let (mut a, mut b) = tokio::io::duplex(64);
        let writer = tokio::spawn(async move {
            a.write_all(b"ab").await.unwrap();
            tokio::time::sleep(Duration::from_millis(30)).await;
            a.write_all(b"cd").await.unwrap();
            a
        });
        let mut buf = Vec::new();
        let mut calls = 0;
        let r = inspect(
            &mut b,
            &mut buf,
            Some(Duration::from_secs(5)),
            None,
            16,
            |d, _| {
                calls += 1;
                (d.len() >= 4).then_some(false)
            },
        )
        .await;
        assert_eq!(r, Inspected::Reject);
        assert_eq!(buf, b"abcd");
        assert!(calls >= 3, "{calls}");
        drop(writer.await.unwrap());
    }

    #[tokio::test]
    async fn the_delay_the_buffer_size_and_eof_make_it_final() {
        // Delay passes.
        let (_a, mut b) = tokio::io::duplex(64);
        let mut buf = Vec::new();
        let started = Instant::now();
        let r = inspect(
            &mut b,
            &mut buf,
            Some(Duration::from_millis(50)),
            None,
            16,
            |_, f| f.then_some(false),
        )
        .await;
        assert_eq!(r, Inspected::Reject);
        assert!(started.elapsed() >= Duration::from_millis(50));
        // Buffer full at `max`.
        let (mut a, mut b) = tokio::io::duplex(64);
        a.write_all(&[b'x'; 40]).await.unwrap();
        let mut buf = Vec::new();
        let r = inspect(
            &mut b,
            &mut buf,
            Some(Duration::from_secs(5)),
            None,
            8,
            |_, f| f.then_some(true),
        )
        .await;
        assert_eq!((r, buf.len()), (Inspected::Accept, 8));
        // The client shuts its side.
        let (mut a, mut b) = tokio::io::duplex(64);
        a.write_all(b"x").await.unwrap();
        a.shutdown().await.unwrap();
        let mut buf = Vec::new();
        let r = inspect(
            &mut b,
            &mut buf,
            Some(Duration::from_secs(5)),
            None,
            8,
            |_, _| None,
        )
        .await;
        assert_eq!((r, buf.as_slice()), (Inspected::Accept, &b"x"[..]));
        // No delay: decided at once on what is there.
        let (_a, mut b) = tokio::io::duplex(64);
        let r = inspect(&mut b, &mut Vec::new(), None, None, 8, |_, f| {
            assert!(f);
            None
        })
        .await;
        assert_eq!(r, Inspected::Accept);
    }

    #[tokio::test]
    async fn a_silent_client_times_out_before_the_delay() {
        let (mut a, mut b) = tokio::io::duplex(64);
        let writer = tokio::spawn(async move {
            for _ in 0..3 {
                a.write_all(b"x").await.unwrap();
                tokio::time::sleep(Duration::from_millis(40)).await;
            }
            tokio::time::sleep(Duration::from_secs(5)).await;
            drop(a);
        });
        let started = Instant::now();
        let mut buf = Vec::new();
        let r = inspect(
            &mut b,
            &mut buf,
            Some(Duration::from_secs(3)),
            Some(Duration::from_millis(100)),
            64,
            |_, f| f.then_some(true),
        )
        .await;
        assert_eq!((r, buf.as_slice()), (Inspected::ClientTimeout, &b"xxx"[..]));
        let took = started.elapsed();
        assert!(
            took >= Duration::from_millis(180) && took < Duration::from_secs(2),
            "silence is measured from the last byte: {took:?}"
        );
        writer.abort();
    }
}
