#![no_main]
//! HTTP/1 heads and chunked bodies: any input must give Ok or Err, never a panic or a hang.
//!
//! The input goes to both `parse_request` and `parse_response` (default limits, and small ones
//! chosen by the input length). A complete head must claim no more bytes than it was given; its
//! framing and re-serialisation must not panic. The bytes after a complete head (or the whole
//! input when no head completes) go to a `ChunkedDecoder`, once whole and once byte by byte:
//! each step must consume within its input and make progress, and both feedings must yield the
//! same payload, the same end state and the same accept/reject decision.
use haproxy_proxy::h1::{ChunkedDecoder, H1Limits, Parsed, parse_request, parse_response};

/// Feeds `pieces` to a fresh decoder; returns the payload, whether it finished, and the bytes
/// consumed, or `Err` when the decoder refused the input.
fn decode<'a>(pieces: impl Iterator<Item = &'a [u8]>) -> Result<(Vec<u8>, bool, usize), ()> {
    let mut dec = ChunkedDecoder::new();
    let mut payload = Vec::new();
    let mut total = 0;
    'pieces: for piece in pieces {
        let mut pos = 0;
        while pos < piece.len() {
            let input = &piece[pos..];
            let step = dec.advance(input).map_err(|_| ())?;
            assert!(step.consumed <= input.len());
            if let Some(r) = &step.data {
                assert!(r.start <= r.end && r.end <= step.consumed);
                payload.extend_from_slice(&input[r.clone()]);
            }
            assert_eq!(step.done, dec.is_done());
            pos += step.consumed;
            total += step.consumed;
            if step.done {
                break 'pieces;
            }
            assert!(step.consumed > 0, "no progress on {} bytes", input.len());
        }
    }
    Ok((payload, dec.is_done(), total))
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let small = H1Limits {
        bufsize: 256 + data.len() % 512,
        maxrewrite: 64,
        maxhdr: 1 + data.len() % 8,
    };
    let mut body = data;
    for limits in [H1Limits::default(), small] {
        if let Ok(Parsed::Complete { head, len }) = parse_request(data, &limits) {
            assert!(len > 0 && len <= data.len());
            let _ = head.framing();
            let _ = (
                head.expects_continue(),
                head.is_connect(),
                head.wants_keep_alive(),
            );
            head.write_to(&mut Vec::new());
            body = &data[len..];
        }
        if let Ok(Parsed::Complete { head, len }) = parse_response(data, &limits) {
            assert!(len > 0 && len <= data.len());
            let _ = head.framing(false);
            let _ = head.framing(true);
            head.write_to(&mut Vec::new());
            body = &data[len..];
        }
    }
    let whole = decode(std::iter::once(body));
    let bytewise = decode(body.chunks(1));
    assert_eq!(whole, bytewise);
});
