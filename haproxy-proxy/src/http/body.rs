//! Streaming a message body from one side to the other without buffering it whole.

use std::time::Duration;

use bytes::BufMut as _;
use std::pin::Pin;
use std::task::Poll;

use tokio::io::{AsyncRead, AsyncReadExt, ReadBuf};

use crate::forward::{WriteMore, with_scratch, write_all_more};
use crate::h1::{BodyFraming, ChunkedDecoder, DEFAULT_BUFSIZE};

/// Why a body could not be relayed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyError {
    /// The reading side failed or closed early.
    Source,
    /// The reading side sent bad chunked framing.
    Framing,
    /// The reading side timed out.
    SourceTimeout,
    /// The writing side failed.
    Sink,
}

pub(crate) async fn timed<T, F>(t: Option<Duration>, f: F) -> Option<std::io::Result<T>>
where
    F: std::future::Future<Output = std::io::Result<T>>,
{
    match t {
        Some(t) => tokio::time::timeout(t, f).await.ok(),
        None => Some(f.await),
    }
}

/// Reads more bytes into `buf`; `Ok(0)` at end of stream.
///
/// Up to [`DEFAULT_BUFSIZE`] bytes are read straight into the spare capacity of `buf` (no
/// zeroed scratch buffer, no copy).
pub(crate) async fn fill<R: AsyncRead + Unpin>(
    r: &mut R,
    buf: &mut Vec<u8>,
    t: Option<Duration>,
) -> Result<usize, BodyError> {
    buf.reserve(DEFAULT_BUFSIZE);
    let mut limited = (&mut *buf).limit(DEFAULT_BUFSIZE);
    match timed(t, r.read_buf(&mut limited)).await {
        None => Err(BodyError::SourceTimeout),
        Some(Err(_)) => Err(BodyError::Source),
        Some(Ok(n)) => Ok(n),
    }
}

/// Moves the start of a `Content-Length` body already read into `buf` to the end of `out`
/// (the head about to be written), so that a small message goes out in one write; returns the
/// framing of what is left to relay. Other framings are returned unchanged.
pub(crate) fn take_body_prefix(
    framing: BodyFraming,
    buf: &mut Vec<u8>,
    out: &mut Vec<u8>,
) -> BodyFraming {
    let BodyFraming::Length(n) = framing else {
        return framing;
    };
    let take = usize::try_from(n).unwrap_or(usize::MAX).min(buf.len());
    out.extend_from_slice(buf.get(..take).unwrap_or_default());
    buf.drain(..take);
    BodyFraming::Length(n - take as u64)
}

/// Relays a body framed by `framing` from `r` (whose already-read bytes are in `buf`) to `w`.
/// Bytes past the body stay in `buf` (a pipelined next message). Returns the bytes relayed.
///
/// A chunked body is re-encoded as HAProxy's H1 mux does: the payload decoded from one read
/// goes out as one chunk, chunk extensions are dropped and trailer names are lowercased.
///
/// Every write but the message's last is flagged "more follows" ([`WriteMore`], `MSG_MORE`),
/// as HAProxy flags its sends while the message has not ended: a `Content-Length` body with
/// bytes left, a chunked body before its last chunk. A close-delimited body's end is unknown,
/// so its writes are never flagged. The last piece always goes out unflagged, which pushes
/// whatever the kernel held back.
pub(crate) async fn relay<R, W>(
    r: &mut R,
    buf: &mut Vec<u8>,
    w: &mut W,
    framing: BodyFraming,
    read_timeout: Option<Duration>,
    write_timeout: Option<Duration>,
) -> Result<u64, BodyError>
where
    R: AsyncRead + Unpin,
    W: WriteMore,
{
    let mut total = 0u64;
    let mut remaining = match framing {
        BodyFraming::None => return Ok(0),
        BodyFraming::Length(n) => n,
        _ => 0,
    };
    let mut decoder = ChunkedDecoder::new();
    let mut encoded: Vec<u8> = Vec::new();
    loop {
        let (take, done) = match framing {
            BodyFraming::Length(_) => {
                let take = usize::try_from(remaining)
                    .unwrap_or(usize::MAX)
                    .min(buf.len());
                remaining -= take as u64;
                (take, remaining == 0)
            }
            BodyFraming::Chunked => {
                encoded.clear();
                let used = reencode(&mut decoder, buf, &mut encoded)?;
                (used, decoder.is_done())
            }
            BodyFraming::UntilClose => (buf.len(), false),
            BodyFraming::None => (0, true),
        };
        let data = if framing == BodyFraming::Chunked {
            encoded.as_slice()
        } else {
            buf.get(..take).unwrap_or_default()
        };
        if !data.is_empty() {
            // More of this message follows: not its last piece, and its end is known.
            let more = !done && framing != BodyFraming::UntilClose;
            match timed(write_timeout, write_all_more(w, data, more)).await {
                Some(Ok(())) => {}
                _ => return Err(BodyError::Sink),
            }
            total += data.len() as u64;
        }
        buf.drain(..take);
        if done {
            return Ok(total);
        }
        if fill(r, buf, read_timeout).await? == 0 {
            return if framing == BodyFraming::UntilClose {
                Ok(total)
            } else {
                Err(BodyError::Source)
            };
        }
    }
}

/// Decodes what `buf` holds of a chunked body and appends its re-encoding to `out`: one chunk
/// for all the payload found, then the last chunk and the trailers once the body ends.
/// Returns how many bytes of `buf` were consumed.
pub(crate) fn reencode(
    decoder: &mut ChunkedDecoder,
    buf: &[u8],
    out: &mut Vec<u8>,
) -> Result<usize, BodyError> {
    let mut used = 0usize;
    let mut payload: Vec<&[u8]> = Vec::new();
    while !decoder.is_done() {
        let rest = buf.get(used..).unwrap_or_default();
        let step = decoder.advance(rest).map_err(|_| BodyError::Framing)?;
        if let Some(range) = step.data {
            payload.push(rest.get(range).unwrap_or_default());
        }
        if step.consumed == 0 {
            break;
        }
        used += step.consumed;
    }
    let len: usize = payload.iter().map(|p| p.len()).sum();
    if len > 0 {
        out.extend_from_slice(format!("{len:x}\r\n").as_bytes());
        for p in payload {
            out.extend_from_slice(p);
        }
        out.extend_from_slice(b"\r\n");
    }
    if decoder.is_done() {
        out.extend_from_slice(b"0\r\n");
        for line in decoder.trailers().split(|&b| b == b'\n') {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.is_empty() {
                continue;
            }
            let (name, value) = match line.iter().position(|&b| b == b':') {
                Some(colon) => (
                    line.get(..colon).unwrap_or_default(),
                    line.get(colon + 1..).unwrap_or_default(),
                ),
                None => (line, &b""[..]),
            };
            out.extend(name.trim_ascii().iter().map(u8::to_ascii_lowercase));
            out.extend_from_slice(b": ");
            out.extend_from_slice(value.trim_ascii());
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
    }
    Ok(used)
}

/// Appends to `buf` what `r` has already received, without waiting, while `buf` holds fewer
/// than `limit` bytes. HAProxy's H1 mux keeps reading into its buffer while the stream waits for
/// a server (connect attempts, retries), so an error answered then sees the body that arrived
/// meanwhile.
pub(crate) async fn take_arrived<R: AsyncRead + Unpin>(r: &mut R, buf: &mut Vec<u8>, limit: usize) {
    std::future::poll_fn(|cx| {
        while buf.len() < limit {
            let room = limit - buf.len();
            let more = with_scratch(|scratch| {
                let mut rb = ReadBuf::new(
                    scratch
                        .get_mut(..room.min(scratch.len()))
                        .unwrap_or_default(),
                );
                match Pin::new(&mut *r).poll_read(cx, &mut rb) {
                    Poll::Ready(Ok(())) if !rb.filled().is_empty() => {
                        buf.extend_from_slice(rb.filled());
                        true
                    }
                    _ => false,
                }
            });
            if !more {
                break;
            }
        }
        Poll::Ready(())
    })
    .await;
}

/// True when `buf` holds the whole body framed by `framing` (HAProxy's H1 mux has then parsed
/// the request to its end, and an error answered now may keep the connection). A
/// close-delimited request body never ends before the close.
pub(crate) fn body_arrived(framing: BodyFraming, buf: &[u8]) -> bool {
    match framing {
        BodyFraming::None => true,
        BodyFraming::Length(n) => buf.len() as u64 >= n,
        BodyFraming::Chunked => {
            let mut decoder = ChunkedDecoder::new();
            reencode(&mut decoder, buf, &mut Vec::new()).is_ok() && decoder.is_done()
        }
        BodyFraming::UntilClose => false,
    }
}

/// True when `bytes`, the start of a chunked body, has no framing error so far (HAProxy's H1
/// mux parses the body bytes that arrive with the head before anything is forwarded).
pub(crate) fn chunked_prefix_valid(bytes: &[u8]) -> bool {
    reencode(&mut ChunkedDecoder::new(), bytes, &mut Vec::new()).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_length_body_already_read_goes_with_the_head_and_the_rest_stays() {
        // Whole body read, followed by a pipelined message.
        let mut buf = b"helloNEXT".to_vec();
        let mut out = b"HEAD\r\n\r\n".to_vec();
        let rest = take_body_prefix(BodyFraming::Length(5), &mut buf, &mut out);
        assert_eq!(rest, BodyFraming::Length(0));
        assert_eq!(out, b"HEAD\r\n\r\nhello");
        assert_eq!(buf, b"NEXT");
        // Part of the body read: the rest is left to relay.
        let mut buf = b"abc".to_vec();
        let mut out = Vec::new();
        let rest = take_body_prefix(BodyFraming::Length(10), &mut buf, &mut out);
        assert_eq!(
            (rest, out.as_slice(), buf.len()),
            (BodyFraming::Length(7), &b"abc"[..], 0)
        );
    }

    #[test]
    fn other_framings_are_left_alone() {
        for framing in [
            BodyFraming::Chunked,
            BodyFraming::UntilClose,
            BodyFraming::None,
        ] {
            let mut buf = b"3\r\nabc\r\n".to_vec();
            let mut out = Vec::new();
            assert_eq!(take_body_prefix(framing, &mut buf, &mut out), framing);
            assert!(out.is_empty());
            assert_eq!(buf.len(), 8);
        }
    }

    /// Records each write and its "more follows" flag.
    #[derive(Debug, Default)]
    struct Flags(Vec<(Vec<u8>, bool)>);

    impl tokio::io::AsyncWrite for Flags {
        fn poll_write(
            self: std::pin::Pin<&mut Self>,
            cx: &mut std::task::Context<'_>,
            data: &[u8],
        ) -> std::task::Poll<std::io::Result<usize>> {
            self.get_mut().poll_write_more(cx, data, false)
        }
        fn poll_flush(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            std::task::Poll::Ready(Ok(()))
        }
        fn poll_shutdown(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            std::task::Poll::Ready(Ok(()))
        }
    }

    impl WriteMore for Flags {
        fn poll_write_more(
            &mut self,
            _: &mut std::task::Context<'_>,
            data: &[u8],
            more: bool,
        ) -> std::task::Poll<std::io::Result<usize>> {
            self.0.push((data.to_vec(), more));
            std::task::Poll::Ready(Ok(data.len()))
        }
    }

    /// Relays `pieces` (each arriving as one read) framed by `framing`; the flags of the writes.
    async fn flags_of(framing: BodyFraming, pieces: &[&[u8]]) -> Vec<bool> {
        let (mut tx, mut rx) = tokio::io::duplex(1 << 16);
        let mut buf = pieces.first().unwrap().to_vec();
        let rest: Vec<Vec<u8>> = pieces.iter().skip(1).map(|p| p.to_vec()).collect();
        let feeder = tokio::spawn(async move {
            for p in rest {
                tokio::io::AsyncWriteExt::write_all(&mut tx, &p)
                    .await
                    .unwrap();
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        });
        let mut w = Flags::default();
        relay(&mut rx, &mut buf, &mut w, framing, None, None)
            .await
            .unwrap();
        feeder.abort();
        w.0.iter().map(|(_, more)| *more).collect()
    }

    #[tokio::test]
    async fn every_write_but_the_last_of_a_known_end_is_flagged() {
        let len = flags_of(BodyFraming::Length(9), &[b"abc", b"def", b"ghi"]).await;
        assert_eq!(len, [true, true, false]);
        let chunked = flags_of(
            BodyFraming::Chunked,
            &[b"3\r\nabc\r\n", b"3\r\ndef\r\n", b"0\r\n\r\n"],
        )
        .await;
        assert_eq!(chunked, [true, true, false]);
        // All of it in one read: one unflagged write.
        assert_eq!(flags_of(BodyFraming::Length(3), &[b"abc"]).await, [false]);
    }

    #[tokio::test]
    async fn a_close_delimited_body_is_never_flagged() {
        let (mut tx, mut rx) = tokio::io::duplex(64);
        let mut buf = b"abc".to_vec();
        let feeder = tokio::spawn(async move {
            tokio::io::AsyncWriteExt::write_all(&mut tx, b"def")
                .await
                .unwrap();
        });
        let mut w = Flags::default();
        let n = relay(
            &mut rx,
            &mut buf,
            &mut w,
            BodyFraming::UntilClose,
            None,
            None,
        )
        .await;
        feeder.await.unwrap();
        assert_eq!(n, Ok(6));
        assert!(w.0.iter().all(|(_, more)| !more), "{:?}", w.0);
    }

    #[test]
    fn a_body_has_arrived_once_its_framing_ends_in_the_buffer() {
        assert!(body_arrived(BodyFraming::None, b""));
        assert!(body_arrived(BodyFraming::Length(4), b"bodyGET"));
        assert!(!body_arrived(BodyFraming::Length(4), b"bod"));
        assert!(body_arrived(
            BodyFraming::Chunked,
            b"4\r\nbody\r\n0\r\n\r\n"
        ));
        assert!(!body_arrived(BodyFraming::Chunked, b"4\r\nbody\r\n0\r\n"));
        assert!(!body_arrived(BodyFraming::Chunked, b"zz\r\n"));
        assert!(!body_arrived(BodyFraming::UntilClose, b"anything"));
    }

    #[tokio::test]
    async fn what_has_arrived_is_taken_without_waiting_up_to_the_limit() {
        let (mut tx, mut rx) = tokio::io::duplex(64);
        tokio::io::AsyncWriteExt::write_all(&mut tx, b"abcdef")
            .await
            .unwrap();
        let mut buf = b"x".to_vec();
        take_arrived(&mut rx, &mut buf, 4).await;
        assert_eq!(buf, b"xabc");
        take_arrived(&mut rx, &mut buf, 64).await;
        assert_eq!(buf, b"xabcdef");
        // Nothing more has arrived: returns at once.
        let waited =
            tokio::time::timeout(Duration::from_secs(5), take_arrived(&mut rx, &mut buf, 64)).await;
        assert!(waited.is_ok());
        assert_eq!(buf, b"xabcdef");
    }

    #[tokio::test]
    async fn fill_reads_at_most_one_bufsize_and_appends() {
        let data = vec![5u8; DEFAULT_BUFSIZE * 2 + 10];
        let mut src: &[u8] = &data;
        let mut buf = b"x".to_vec();
        let n = fill(&mut src, &mut buf, None).await.unwrap();
        assert_eq!(n, DEFAULT_BUFSIZE);
        assert_eq!(buf.len(), DEFAULT_BUFSIZE + 1);
        assert_eq!(buf.first(), Some(&b'x'));
        let mut empty: &[u8] = &[];
        assert_eq!(fill(&mut empty, &mut buf, None).await.unwrap(), 0);
    }
}
