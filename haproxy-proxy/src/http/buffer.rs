//! `option http-buffer-request`: wait for the whole request body (or a full buffer) before the
//! rules run and the backend and server are chosen, so that body-based decisions could see it.
//!
//! As HAProxy 2.6 does (`http_wait_for_request_body()`): an HTTP/1.1 request announcing a body
//! with `Expect: 100-continue` gets `100 Continue` from the proxy and loses its `Expect` header;
//! the wait ends when the body is complete or the buffer is full (`tune.bufsize` less
//! `tune.maxrewrite`); `timeout http-request` (else `timeout client`) bounds it with a 408.

use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

use super::body::{BodyError, fill, timed};
use super::session::send_reply;
use crate::errors::ErrorPages;
use crate::facts::StreamFacts;
use crate::h1::{BodyFraming, ChunkedDecoder, H1Limits, RequestHead, Version};
use crate::settings::FrontendSettings;
use crate::side::{Side, StreamState, Termination};

/// Why the wait ended without the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum WaitError {
    /// The client closed or failed: end silently.
    Closed,
    /// The wait timed out: 408.
    Timeout,
    /// Bad chunked framing: 400.
    Framing,
}

/// The most body bytes the wait holds: the buffer less the rewrite reserve, at least one byte.
pub(super) fn wait_limit(limits: &H1Limits) -> usize {
    limits.bufsize.saturating_sub(limits.maxrewrite).max(1)
}

/// True when `buf` holds the whole body framed by `framing`.
///
/// # Errors
/// [`WaitError::Framing`] for bad chunked framing.
pub(super) fn body_complete(framing: BodyFraming, buf: &[u8]) -> Result<bool, WaitError> {
    match framing {
        BodyFraming::None => Ok(true),
        BodyFraming::Length(n) => Ok(buf.len() as u64 >= n),
        BodyFraming::Chunked => {
            let mut decoder = ChunkedDecoder::new();
            let mut used = 0usize;
            while !decoder.is_done() {
                let rest = buf.get(used..).unwrap_or_default();
                let step = decoder.advance(rest).map_err(|_| WaitError::Framing)?;
                if step.consumed == 0 {
                    break;
                }
                used += step.consumed;
            }
            Ok(decoder.is_done())
        }
        // Requests never read until close.
        BodyFraming::UntilClose => Ok(true),
    }
}

/// Waits until `buf` (the bytes read past the head) holds the whole body or `limit` bytes.
pub(super) async fn wait_for_body<C: AsyncRead + AsyncWrite + Unpin>(
    client: &mut C,
    buf: &mut Vec<u8>,
    req: &mut RequestHead,
    framing: BodyFraming,
    limit: usize,
    timeout: Option<Duration>,
) -> Result<(), WaitError> {
    if framing == BodyFraming::None {
        return Ok(());
    }
    let deadline = timeout.map(|t| Instant::now() + t);
    let left = || deadline.map(|d| d.saturating_duration_since(Instant::now()));
    if req.version == Version::HTTP_11 && req.expects_continue() {
        match timed(left(), client.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")).await {
            Some(Ok(())) => {}
            Some(Err(_)) => return Err(WaitError::Closed),
            None => return Err(WaitError::Timeout),
        }
        req.headers.remove("expect");
    }
    while buf.len() < limit && !body_complete(framing, buf)? {
        match fill(client, buf, left()).await {
            Ok(0) | Err(BodyError::Source | BodyError::Sink) => return Err(WaitError::Closed),
            Err(BodyError::SourceTimeout) => return Err(WaitError::Timeout),
            Err(BodyError::Framing) => return Err(WaitError::Framing),
            Ok(_) => {}
        }
    }
    Ok(())
}

/// Waits for the body as the frontend's settings say; on failure answers (408, 400) or closes,
/// records the facts and returns false. `be_errors`: the errorfiles of the backend whose
/// `option http-buffer-request` waits (`None` for the frontend's): as in HAProxy 2.6.12
/// (`http_error_message()`, recorded in `tests/data/haproxy-2.6/buffer-errorfiles.txt`), a
/// backend's errorfile answers first, then the frontend's.
pub(super) async fn buffer_request<C: AsyncRead + AsyncWrite + Unpin>(
    client: &mut C,
    buf: &mut Vec<u8>,
    req: &mut RequestHead,
    framing: BodyFraming,
    (fe, be_errors): (&FrontendSettings, Option<&ErrorPages>),
    facts: &mut StreamFacts,
) -> bool {
    let limit = wait_limit(&fe.limits);
    let timeout = fe.timeouts.http_request.or(fe.timeouts.client);
    let (code, side) = match wait_for_body(client, buf, req, framing, limit, timeout).await {
        Ok(()) => return true,
        Err(WaitError::Closed) => (None, Side::Client),
        Err(WaitError::Timeout) => (Some(408), Side::ClientTimeout),
        Err(WaitError::Framing) => (Some(400), Side::Proxy),
    };
    facts.termination = Termination::new(side, StreamState::Request);
    if let Some(reply) = code.and_then(|c| ErrorPages::resolve(be_errors, &fe.errors, c)) {
        facts.status = Some(reply.status);
        let case = fe.case_adjust.as_deref();
        send_reply(client, &reply, req.version, false, fe.timeouts.client, case).await;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completeness_by_framing() {
        assert_eq!(body_complete(BodyFraming::Length(3), b"ab"), Ok(false));
        assert_eq!(body_complete(BodyFraming::Length(3), b"abcNEXT"), Ok(true));
        assert_eq!(
            body_complete(BodyFraming::Chunked, b"3\r\nabc\r\n"),
            Ok(false)
        );
        assert_eq!(
            body_complete(BodyFraming::Chunked, b"3\r\nabc\r\n0\r\n\r\n"),
            Ok(true)
        );
        assert_eq!(
            body_complete(BodyFraming::Chunked, b"zz\r\n"),
            Err(WaitError::Framing)
        );
    }

    #[test]
    fn limit_keeps_the_rewrite_reserve() {
        let l = H1Limits {
            bufsize: 16384,
            maxrewrite: 1024,
            maxhdr: 101,
        };
        assert_eq!(wait_limit(&l), 15360);
        let tiny = H1Limits {
            bufsize: 10,
            maxrewrite: 20,
            maxhdr: 1,
        };
        assert_eq!(wait_limit(&tiny), 1);
    }
}
