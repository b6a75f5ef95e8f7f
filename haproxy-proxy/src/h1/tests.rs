use proptest::prelude::*;

use super::*;

fn req(s: &[u8]) -> Result<Parsed<RequestHead>, H1Error> {
    parse_request(s, &H1Limits::default())
}

fn complete(s: &[u8]) -> RequestHead {
    match req(s) {
        Ok(Parsed::Complete { head, len }) => {
            assert_eq!(len, s.len());
            head
        }
        other => panic!("expected a complete head, got {other:?}"),
    }
}

#[test]
fn accepts_what_haproxy_accepts() {
    complete(b"GET / HTTP/1.1\r\n\r\n");
    complete(b"GET / HTTP/1.1\nHost: a\n\n");
    complete(b"GET http://example.com/x?y HTTP/1.1\r\nHost: example.com\r\n\r\n");
    assert_eq!(
        complete(b"GET / HTTP/1.2\r\n\r\n").version,
        Version { major: 1, minor: 2 }
    );
    assert_eq!(
        complete(b"GET / HTTP/2.0\r\n\r\n").version,
        Version { major: 2, minor: 0 }
    );
    assert_eq!(complete(b"get / HTTP/1.1\r\n\r\n").method, "get");
    let ctl = complete(b"GET / HTTP/1.1\r\nX: a\x01b\x7f\r\n\r\n");
    assert_eq!(
        ctl.headers.get("x"),
        Some(&b"a\x01b\x7f"[..]),
        "control bytes are kept as sent"
    );
    // Observed on 2.6.12: a NUL inside a value is forwarded too.
    let nul = complete(b"GET / HTTP/1.1\r\nX: a\x00b\r\n\r\n");
    assert_eq!(nul.headers.get("x"), Some(&b"a\x00b"[..]));
    // Repeated spaces in the request line are skipped; the whole head is still consumed.
    let sp = complete(b"GET  /a   HTTP/1.1\r\n\r\n");
    assert_eq!((sp.method.as_str(), sp.uri.as_str()), ("GET", "/a"));
    // URI bytes outside visible ASCII are refused.
    assert!(req(b"GET /\xc3\xbc HTTP/1.1\r\n\r\n").is_err());
    let te10 = complete(b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n");
    assert_eq!(te10.framing(), Ok(BodyFraming::Chunked));
    let h = complete(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n");
    assert_eq!(h.framing(), Ok(BodyFraming::Chunked));
}

#[test]
fn rejects_what_haproxy_rejects_with_400() {
    let bad: &[(&[u8], H1Error)] = &[
        (b"GET /a b HTTP/1.1\r\n\r\n", H1Error::Syntax("version")),
        (
            b"GET / HTTP/1.1\r\nNoColon\r\n\r\n",
            H1Error::Syntax("header name"),
        ),
        (
            b"POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n",
            H1Error::ContentLength,
        ),
        (
            b"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            H1Error::ContentLength,
        ),
        (
            b"POST / HTTP/1.1\r\nContent-Length: 1, 2\r\n\r\n",
            H1Error::ContentLength,
        ),
        (
            b"POST / HTTP/1.1\r\nContent-Length: \r\n\r\n",
            H1Error::ContentLength,
        ),
        (
            b"POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n",
            H1Error::ContentLength,
        ),
        (
            b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
            H1Error::DuplicateHost,
        ),
        (b"GET /#frag HTTP/1.1\r\n\r\n", H1Error::Fragment),
        (b"G@T / HTTP/1.1\r\n\r\n", H1Error::Syntax("token")),
        (
            b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
            H1Error::TransferEncoding,
        ),
        (
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
            H1Error::TransferEncoding,
        ),
        (b"GET / RTSP/1.1\r\n\r\n", H1Error::Syntax("version")),
    ];
    for (input, want) in bad {
        assert_eq!(
            req(input).as_ref().err(),
            Some(want),
            "{}",
            String::from_utf8_lossy(input)
        );
        assert_eq!(want.request_status(), 400);
    }
}

#[test]
fn repeated_identical_content_length_is_one_length() {
    let h = complete(b"POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5, 5\r\n\r\n");
    assert_eq!(h.framing(), Ok(BodyFraming::Length(5)));
}

#[test]
fn partial_until_the_blank_line() {
    assert_eq!(req(b"GET / HTTP/1.1\r\nHost: a\r\n"), Ok(Parsed::Partial));
    assert_eq!(req(b""), Ok(Parsed::Partial));
}

fn head_of_len(total: usize) -> Vec<u8> {
    let base = b"GET / HTTP/1.1\r\nX-Pad: \r\n\r\n".len();
    let mut v = b"GET / HTTP/1.1\r\nX-Pad: ".to_vec();
    v.extend(std::iter::repeat_n(b'a', total - base));
    v.extend_from_slice(b"\r\n\r\n");
    v
}

fn padded(extra_fields: usize, pad: usize) -> Vec<u8> {
    let mut v = b"GET / HTTP/1.1\r\n".to_vec();
    for i in 0..extra_fields {
        v.extend_from_slice(format!("X-H{i}: v\r\n").as_bytes());
    }
    v.extend_from_slice(b"X-Pad: ");
    v.extend(std::iter::repeat_n(b'a', pad));
    v.extend_from_slice(b"\r\n\r\n");
    v
}

#[test]
fn head_size_bound_matches_haproxy_measurements() {
    // Largest values HAProxy 2.6.12 accepted, measured on loopback with default tune settings.
    for (fields, pad) in [(0, 15250), (1, 15237), (10, 15120), (50, 14560)] {
        assert!(
            matches!(req(&padded(fields, pad)), Ok(Parsed::Complete { .. })),
            "{fields} fields, pad {pad}"
        );
        assert_eq!(
            req(&padded(fields, pad + 1)),
            Err(H1Error::HeadTooLarge { limit: 15360 }),
            "{fields} fields, pad {}",
            pad + 1
        );
    }
    assert_eq!(H1Limits::default().max_head(), 15360);
    // An unterminated head is refused as soon as the raw window is full.
    let over = head_of_len(15361);
    assert_eq!(
        req(&over[..15360]),
        Err(H1Error::HeadTooLarge { limit: 15360 })
    );
}

#[test]
fn maxrewrite_is_capped_at_half_the_buffer() {
    let l = H1Limits {
        bufsize: 1000,
        maxrewrite: 900,
        maxhdr: DEFAULT_MAXHDR,
    };
    assert_eq!(l.max_head(), 500);
}

fn with_fields(n: usize) -> Vec<u8> {
    let mut v = b"GET / HTTP/1.1\r\n".to_vec();
    for i in 0..n {
        v.extend_from_slice(format!("X-H{i}: v\r\n").as_bytes());
    }
    v.extend_from_slice(b"\r\n");
    v
}

#[test]
fn maxhdr_counts_the_start_line() {
    assert!(matches!(
        req(&with_fields(100)),
        Ok(Parsed::Complete { .. })
    ));
    assert_eq!(
        req(&with_fields(101)),
        Err(H1Error::TooManyHeaders { limit: 101 })
    );
    let big = H1Limits {
        maxhdr: 300,
        ..H1Limits::default()
    };
    assert!(matches!(
        parse_request(&with_fields(299), &big),
        Ok(Parsed::Complete { .. })
    ));
    assert!(parse_request(&with_fields(300), &big).is_err());
}

#[test]
fn header_names_are_lowercased_on_output() {
    let h = complete(b"GET /p HTTP/1.1\r\nHost: A\r\nX-Thing: V\r\n\r\n");
    let mut out = Vec::new();
    h.write_to(&mut out);
    assert_eq!(out, b"GET /p HTTP/1.1\r\nhost: A\r\nx-thing: V\r\n\r\n");
}

#[test]
fn keep_alive_wishes_follow_the_version() {
    assert!(complete(b"GET / HTTP/1.1\r\n\r\n").wants_keep_alive());
    assert!(!complete(b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n").wants_keep_alive());
    assert!(!complete(b"GET / HTTP/1.0\r\n\r\n").wants_keep_alive());
    assert!(complete(b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").wants_keep_alive());
    assert_eq!(
        connection_header_for(Version::HTTP_11, false),
        Some("close")
    );
    assert_eq!(
        connection_header_for(Version::HTTP_10, true),
        Some("keep-alive")
    );
    assert_eq!(connection_header_for(Version::HTTP_11, true), None);
    assert_eq!(connection_header_for(Version::HTTP_10, false), None);
}

fn resp(s: &[u8]) -> Result<Parsed<ResponseHead>, H1Error> {
    parse_response(s, &H1Limits::default())
}

#[test]
fn response_framing() {
    let f = |s: &[u8], head: bool| match resp(s) {
        Ok(Parsed::Complete { head: h, .. }) => h.framing(head),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        f(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n", false),
        Ok(BodyFraming::Length(3))
    );
    assert_eq!(
        f(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n", true),
        Ok(BodyFraming::None)
    );
    assert_eq!(f(b"HTTP/1.1 204 No\r\n\r\n", false), Ok(BodyFraming::None));
    assert_eq!(f(b"HTTP/1.1 304 NM\r\n\r\n", false), Ok(BodyFraming::None));
    assert_eq!(
        f(b"HTTP/1.1 200 OK\r\n\r\n", false),
        Ok(BodyFraming::UntilClose)
    );
    assert_eq!(
        f(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
            false
        ),
        Ok(BodyFraming::Chunked)
    );
    assert!(resp(b"garbage\r\n\r\n").is_err());
    assert!(resp(b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n").is_err());
    let mut big = b"HTTP/1.1 200 OK\r\nX: ".to_vec();
    big.extend(std::iter::repeat_n(b'a', 20000));
    assert!(matches!(resp(&big), Err(H1Error::HeadTooLarge { .. })));
}

/// Decodes a whole body fed in pieces of `step` bytes; returns the payload and the bytes used.
fn decode(input: &[u8], step: usize) -> Result<(Vec<u8>, usize), H1Error> {
    let mut d = ChunkedDecoder::new();
    let (mut out, mut pos) = (Vec::new(), 0usize);
    let mut fed = 0usize;
    while !d.is_done() {
        fed = (fed + step).min(input.len());
        let s = d.advance(&input[pos..fed])?;
        if let Some(r) = s.data {
            out.extend_from_slice(&input[pos + r.start..pos + r.end]);
        }
        pos += s.consumed;
        if s.consumed == 0 && fed == input.len() {
            break;
        }
    }
    Ok((out, pos))
}

#[test]
fn chunked_decodes_with_extensions_and_trailers() {
    let body = b"5;ext=1\r\nhello\r\n6 \r\n world\r\n0\r\nX-T: 1\r\n\r\nNEXT";
    let (out, used) = decode(body, 1).unwrap();
    assert_eq!(out, b"hello world");
    assert_eq!(used, body.len() - 4);
}

#[test]
fn chunked_rejects_bad_sizes() {
    for bad in [
        &b"x\r\n"[..],
        b"\r\n",
        b"-1\r\n",
        b"+5\r\n",
        b"0x5\r\n",
        b"5\r\nhelloX",
        b"11111111111111111\r\n",
    ] {
        assert!(decode(bad, 64).is_err(), "{}", String::from_utf8_lossy(bad));
    }
    // 16 hex digits is the limit and still parses.
    let mut d = ChunkedDecoder::new();
    assert!(d.advance(b"ffffffffffffffff\r\n").is_ok());
}

fn reference_encode(chunks: &[Vec<u8>]) -> Vec<u8> {
    let mut v = Vec::new();
    for c in chunks.iter().filter(|c| !c.is_empty()) {
        v.extend_from_slice(format!("{:x}\r\n", c.len()).as_bytes());
        v.extend_from_slice(c);
        v.extend_from_slice(b"\r\n");
    }
    v.extend_from_slice(b"0\r\n\r\n");
    v
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn request_parser_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = req(&bytes);
        let _ = resp(&bytes);
    }

    #[test]
    fn chunked_decoder_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256), step in 1usize..17) {
        let _ = decode(&bytes, step);
    }

    #[test]
    fn chunked_decoder_matches_reference(chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 0..8), step in 1usize..33) {
        let wire = reference_encode(&chunks);
        let (out, used) = decode(&wire, step).unwrap();
        prop_assert_eq!(out, chunks.concat());
        prop_assert_eq!(used, wire.len());
    }
}

#[test]
fn codings_and_bodies_haproxy_refuses_after_parsing() {
    for (input, want, status) in [
        (
            &b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"[..],
            H1Error::UnknownCoding,
            422,
        ),
        (
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
            H1Error::TransferEncoding,
            400,
        ),
        (
            b"GET / HTTP/1.0\r\nContent-Length: 2\r\n\r\n",
            H1Error::PayloadForbidden,
            413,
        ),
        (
            b"DELETE / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
            H1Error::PayloadForbidden,
            413,
        ),
        (
            b"GET / HTTP/1.1\r\nConnection: upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: short\r\n\r\n",
            H1Error::WebsocketKey,
            400,
        ),
    ] {
        assert_eq!(req(input).err(), Some(want.clone()));
        assert_eq!(want.request_status(), status);
    }
    // Still accepted: a body on HTTP/1.0 POST, an empty body on HTTP/1.0 GET, a proper key.
    complete(b"POST / HTTP/1.0\r\nContent-Length: 2\r\n\r\n");
    complete(b"GET / HTTP/1.0\r\nContent-Length: 0\r\n\r\n");
    complete(b"GET / HTTP/1.1\r\nConnection: upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n");
}

#[test]
fn te_with_cl_or_on_http10_forces_close() {
    let h = complete(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n");
    assert!(h.forces_close());
    let h = complete(b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n");
    assert!(h.forces_close());
    let h = complete(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
    assert!(!h.forces_close());
}

#[test]
fn repeated_identical_host_is_dropped() {
    let h = complete(b"GET / HTTP/1.1\r\nHost: a\r\nHost: A\r\n\r\n");
    assert_eq!(h.headers.get_all("host").count(), 1);
}

#[test]
fn authority_is_checked_and_default_ports_dropped() {
    let h = complete(b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
    assert_eq!(h.headers.get("host"), Some(&b"example.com"[..]));
    assert_eq!(h.uri, "example.com:443");
    assert_eq!(h.framing(), Ok(BodyFraming::None));
    let h = complete(b"CONNECT example.com:8443 HTTP/1.1\r\nHost: example.com:8443\r\n\r\n");
    assert_eq!(h.headers.get("host"), Some(&b"example.com:8443"[..]));
    complete(b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com\r\n\r\n");
    let h = complete(b"GET http://h:80/x?q HTTP/1.1\r\nHost: h:80\r\n\r\n");
    assert_eq!(
        (h.uri.as_str(), h.headers.get("host")),
        ("http://h/x?q", Some(&b"h"[..]))
    );
    let h = complete(b"GET https://h:8443/x HTTP/1.1\r\nHost: h:8443\r\n\r\n");
    assert_eq!(h.uri, "https://h:8443/x");
    for bad in [
        &b"CONNECT example.com HTTP/1.1\r\n\r\n"[..],
        b"CONNECT example.com:8443 HTTP/1.1\r\nHost: example.com\r\n\r\n",
        b"CONNECT example.com:443 HTTP/1.1\r\nHost: other.com:443\r\n\r\n",
        b"GET http://a/x HTTP/1.1\r\nHost: b\r\n\r\n",
    ] {
        assert_eq!(req(bad).err(), Some(H1Error::Authority));
    }
}

#[test]
fn versions_and_connection_values_on_output() {
    let v = |major, minor| Version { major, minor };
    assert_eq!(v(1, 2).on_wire(), Version::HTTP_11);
    assert_eq!(v(2, 0).on_wire(), Version::HTTP_11);
    assert_eq!(v(1, 0).on_wire(), Version::HTTP_10);
    let (v10, v11) = (Version::HTTP_10, Version::HTTP_11);
    // (request, response, keep-alive) -> value, as HAProxy's h1_update_res_conn_value.
    for (rq, rs, ka, want) in [
        (v11, v11, true, None),
        (v10, v11, true, Some("keep-alive")),
        (v11, v10, true, Some("keep-alive")),
        (v11, v11, false, Some("close")),
        (v10, v11, false, Some("close")),
        (v11, v10, false, None),
    ] {
        assert_eq!(
            forwarded_response_connection_header(rq, rs, ka),
            want,
            "{rq} {rs} {ka}"
        );
    }
}

#[test]
fn responses_with_other_codings_are_refused() {
    assert_eq!(
        resp(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n").err(),
        Some(H1Error::UnknownCoding)
    );
    assert_eq!(
        resp(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n").err(),
        Some(H1Error::UnknownCoding)
    );
    assert_eq!(
        resp(b"HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n").err(),
        Some(H1Error::WebsocketKey)
    );
}

#[test]
fn folded_header_lines_are_unfolded_with_spaces() {
    let h = complete(b"GET / HTTP/1.1\r\nX-Fold: a\r\n b\r\nX-Tab: c\n\td\r\n\r\n");
    assert_eq!(h.headers.get("x-fold"), Some(&b"a   b"[..]));
    // The line end becomes spaces; the folding space or tab itself stays.
    assert_eq!(h.headers.get("x-tab"), Some(&b"c \td"[..]));
    // The body after the head is never touched.
    let raw = b"POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\n\n x";
    assert!(matches!(req(raw), Ok(Parsed::Complete { len, .. }) if len == raw.len() - 3));
}

#[test]
fn trailer_lines_need_a_colon() {
    let mut d = ChunkedDecoder::new();
    assert_eq!(
        d.advance(b"0\r\nNoColon\r\n\r\n").err(),
        Some(H1Error::Trailer)
    );
    let mut d = ChunkedDecoder::new();
    let step = d.advance(b"0\r\nX-A: 1\r\n\r\n").unwrap();
    assert!(step.done);
    assert_eq!(d.trailers(), b"X-A: 1\r\n\r");
}
