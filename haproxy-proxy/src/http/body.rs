//! Streaming a message body from one side to the other without buffering it whole.

use std::time::Duration;

use bytes::BufMut as _;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;

use tokio::io::{AsyncRead, AsyncReadExt, ReadBuf};

use crate::forward::{WriteMore, with_scratch};
use crate::h1::{BodyFraming, CaseMap, ChunkedDecoder, DEFAULT_BUFSIZE};

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
    BodyCursor::new(framing)
        .run(r, buf, w, read_timeout, write_timeout)
        .await
}

/// Where a body relay stands, kept outside the relay's future so that the relay can be stopped
/// at any await (its future dropped) and resumed later, toward the same writer or another one,
/// with no byte lost or sent twice: a server's final answer may arrive before the whole request
/// body, and the rest of that body still has to go to the server, or be read and dropped.
///
/// Bytes taken off the input but not all written yet are "staged": for a `Content-Length` or
/// close-delimited body, the first `staged` bytes of the input buffer (removed once written);
/// for a chunked body, their re-encoding in `encoded` (the input is consumed as it is decoded).
/// `written` counts the staged bytes already written, updated after each partial write.
#[derive(Debug)]
pub(crate) struct BodyCursor {
    framing: BodyFraming,
    /// Bytes of a `Content-Length` body not yet staged.
    remaining: u64,
    decoder: ChunkedDecoder,
    encoded: Vec<u8>,
    staged: usize,
    written: usize,
    /// The framing has reached the end of the message (all of it staged).
    ended: bool,
    /// Bytes written so far.
    total: u64,
    /// The case map for a chunked body's trailer names (`h1-case-adjust`), when enabled.
    case: Option<Arc<CaseMap>>,
}

impl BodyCursor {
    /// A relay of a body framed by `framing`, nothing of it relayed yet.
    pub(crate) fn new(framing: BodyFraming) -> Self {
        let (remaining, ended) = match framing {
            BodyFraming::Length(n) => (n, n == 0),
            BodyFraming::None => (0, true),
            BodyFraming::Chunked | BodyFraming::UntilClose => (0, false),
        };
        BodyCursor {
            framing,
            remaining,
            decoder: ChunkedDecoder::new(),
            encoded: Vec::new(),
            staged: 0,
            written: 0,
            ended,
            total: 0,
            case: None,
        }
    }

    /// The same cursor, respelling the trailer names of a chunked body with `case` (`None`:
    /// names go out lowercased).
    pub(crate) fn with_case(mut self, case: Option<Arc<CaseMap>>) -> Self {
        self.case = case;
        self
    }

    /// How many staged bytes wait to be written (all of them, written ones included).
    fn staged_len(&self) -> usize {
        if self.framing == BodyFraming::Chunked {
            self.encoded.len()
        } else {
            self.staged
        }
    }

    /// Relays the rest of the body from `r` (its already-read bytes in `buf`) to `w`, as
    /// [`relay`] does; returns the bytes relayed by this cursor so far, all runs counted.
    /// Dropping the future at any await leaves the cursor where it stood.
    pub(crate) async fn run<R, W>(
        &mut self,
        r: &mut R,
        buf: &mut Vec<u8>,
        w: &mut W,
        read_timeout: Option<Duration>,
        write_timeout: Option<Duration>,
    ) -> Result<u64, BodyError>
    where
        R: AsyncRead + Unpin,
        W: WriteMore,
    {
        loop {
            if self.staged_len() > 0 {
                match timed(write_timeout, self.write_staged(buf, w)).await {
                    Some(Ok(())) => {}
                    _ => return Err(BodyError::Sink),
                }
            }
            if self.ended {
                return Ok(self.total);
            }
            self.stage(buf)?;
            if self.staged_len() > 0 || self.ended {
                continue;
            }
            if fill(r, buf, read_timeout).await? == 0 {
                return if self.framing == BodyFraming::UntilClose {
                    self.ended = true;
                    Ok(self.total)
                } else {
                    Err(BodyError::Source)
                };
            }
        }
    }

    /// Takes what `buf` holds of the body as the next staged bytes.
    fn stage(&mut self, buf: &mut Vec<u8>) -> Result<(), BodyError> {
        match self.framing {
            BodyFraming::Length(_) => {
                let take = usize::try_from(self.remaining)
                    .unwrap_or(usize::MAX)
                    .min(buf.len());
                self.remaining -= take as u64;
                self.staged = take;
                self.ended = self.remaining == 0;
            }
            BodyFraming::Chunked => {
                let case = self.case.as_deref();
                let used = reencode(&mut self.decoder, buf, &mut self.encoded, case)?;
                buf.drain(..used);
                self.ended = self.decoder.is_done();
            }
            BodyFraming::UntilClose => self.staged = buf.len(),
            BodyFraming::None => self.ended = true,
        }
        Ok(())
    }

    /// Writes the staged bytes not yet written, counting each partial write as it completes.
    async fn write_staged<W: WriteMore>(
        &mut self,
        buf: &mut Vec<u8>,
        w: &mut W,
    ) -> std::io::Result<()> {
        // More of this message follows: not its last piece, and its end is known.
        let more = !self.ended && self.framing != BodyFraming::UntilClose;
        std::future::poll_fn(|cx| {
            loop {
                let data = if self.framing == BodyFraming::Chunked {
                    self.encoded.as_slice()
                } else {
                    buf.get(..self.staged).unwrap_or_default()
                };
                let Some(rest) = data.get(self.written..).filter(|r| !r.is_empty()) else {
                    break;
                };
                match w.poll_write_more(cx, rest, more) {
                    Poll::Ready(Ok(0)) => {
                        return Poll::Ready(Err(std::io::ErrorKind::WriteZero.into()));
                    }
                    Poll::Ready(Ok(n)) => self.written += n,
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                    Poll::Pending => return Poll::Pending,
                }
            }
            Poll::Ready(Ok(()))
        })
        .await?;
        self.total += self.written as u64;
        if self.framing == BodyFraming::Chunked {
            self.encoded.clear();
        } else {
            buf.drain(..self.staged);
            self.staged = 0;
        }
        self.written = 0;
        Ok(())
    }
}

/// A writer that drops what it is given, failing once more than its allowance has come: the
/// rest of a request body read and dropped after the server is gone, at most so many bytes.
#[derive(Debug)]
pub(crate) struct DropSink {
    left: u64,
}

impl DropSink {
    /// Drops at most `limit` bytes.
    pub(crate) fn new(limit: u64) -> Self {
        DropSink { left: limit }
    }
}

impl tokio::io::AsyncWrite for DropSink {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let me = self.get_mut();
        match me.left.checked_sub(data.len() as u64) {
            Some(left) => {
                me.left = left;
                Poll::Ready(Ok(data.len()))
            }
            None => Poll::Ready(Err(std::io::ErrorKind::FileTooLarge.into())),
        }
    }

    fn poll_flush(
        self: Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(
        self: Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl WriteMore for DropSink {}

/// Decodes what `buf` holds of a chunked body and appends its re-encoding to `out`: one chunk
/// for all the payload found, then the last chunk and the trailers once the body ends.
/// Returns how many bytes of `buf` were consumed. Trailer names go out lowercased, then
/// respelled by `case` when given.
pub(crate) fn reencode(
    decoder: &mut ChunkedDecoder,
    buf: &[u8],
    out: &mut Vec<u8>,
    case: Option<&CaseMap>,
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
        let trailers = out.len();
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
        if let Some(case) = case
            && let Some(fields) = out.get_mut(trailers..)
        {
            case.adjust_fields(fields);
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
            reencode(&mut decoder, buf, &mut Vec::new(), None).is_ok() && decoder.is_done()
        }
        BodyFraming::UntilClose => false,
    }
}

/// True when `bytes`, the start of a chunked body, has no framing error so far (HAProxy's H1
/// mux parses the body bytes that arrive with the head before anything is forwarded).
pub(crate) fn chunked_prefix_valid(bytes: &[u8]) -> bool {
    reencode(&mut ChunkedDecoder::new(), bytes, &mut Vec::new(), None).is_ok()
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

    #[tokio::test]
    async fn a_drop_sink_takes_its_limit_and_not_a_byte_more() {
        use tokio::io::AsyncWriteExt as _;
        let mut sink = DropSink::new(10);
        sink.write_all(b"0123456789").await.unwrap();
        assert!(sink.write_all(b"x").await.is_err());
        // A body of exactly the limit is dropped whole; one byte more fails.
        let body = vec![b'y'; 64];
        let mut src: &[u8] = &body;
        let mut buf = Vec::new();
        let mut cursor = BodyCursor::new(BodyFraming::Length(64));
        let n = cursor
            .run(&mut src, &mut buf, &mut DropSink::new(64), None, None)
            .await;
        assert_eq!(n, Ok(64));
        let mut src: &[u8] = &body;
        let mut cursor = BodyCursor::new(BodyFraming::Length(64));
        let n = cursor
            .run(&mut src, &mut buf, &mut DropSink::new(63), None, None)
            .await;
        assert_eq!(n, Err(BodyError::Sink));
    }

    #[tokio::test]
    async fn a_stopped_relay_resumes_toward_another_writer_with_nothing_lost_or_repeated() {
        for (framing, input, expect) in [
            (
                BodyFraming::Length(12),
                &b"abcdefghijklNEXT"[..],
                &b"abcdefghijkl"[..],
            ),
            (
                BodyFraming::Chunked,
                b"3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\nNEXT",
                b"3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n",
            ),
        ] {
            let (mut tx, mut rx) = tokio::io::duplex(64);
            let mut buf = Vec::new();
            let mut first = Vec::new();
            let mut cursor = BodyCursor::new(framing);
            // A few bytes, then the relay is stopped while it waits for more.
            let (head, tail) = input.split_at(5);
            tokio::io::AsyncWriteExt::write_all(&mut tx, head)
                .await
                .unwrap();
            let stopped = tokio::time::timeout(
                Duration::from_millis(50),
                cursor.run(&mut rx, &mut buf, &mut first, None, None),
            )
            .await;
            assert!(stopped.is_err(), "the relay ended early");
            tokio::io::AsyncWriteExt::write_all(&mut tx, tail)
                .await
                .unwrap();
            let mut second = Vec::new();
            let n = cursor
                .run(&mut rx, &mut buf, &mut second, None, None)
                .await
                .unwrap();
            let mut all = first.clone();
            all.extend_from_slice(&second);
            // Chunked payload is re-encoded per read: compare the decoded bytes.
            if framing == BodyFraming::Chunked {
                let decoded = |b: &[u8]| {
                    let mut d = ChunkedDecoder::new();
                    let mut out = Vec::new();
                    let mut used = 0;
                    while !d.is_done() {
                        let rest = &b[used..];
                        let step = d.advance(rest).unwrap();
                        if let Some(r) = step.data {
                            out.extend_from_slice(&rest[r]);
                        }
                        used += step.consumed;
                    }
                    out
                };
                assert_eq!(decoded(&all), decoded(expect));
            } else {
                assert_eq!(all, expect);
            }
            assert_eq!(n, all.len() as u64);
            assert_eq!(buf, b"NEXT");
        }
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
