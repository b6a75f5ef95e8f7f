//! Request head parsing (reference §6.8).

use std::mem::MaybeUninit;

use super::{BodyFraming, H1Error, H1Limits, Headers, Parsed, Version};

/// A parsed request head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestHead {
    /// The method, as sent (a lowercase method is accepted and forwarded).
    pub method: String,
    /// The request target, as sent (origin, absolute, authority or asterisk form).
    pub uri: String,
    /// The version on the request line (HTTP/1.2 and HTTP/2.0 are accepted, as HAProxy does).
    pub version: Version,
    /// The header fields, names lowercased.
    pub headers: Headers,
}

/// Fields the proxy may add to a request head (connection, forwardfor, originalto): room kept.
const ADDED_FIELDS: usize = 3;
/// Bytes of name and value kept for those added fields.
const ADDED_BYTES: usize = 96;

/// How many header slots live on the stack before the parser falls back to the heap.
pub(super) const STACK_FIELDS: usize = 128;

/// Parses a request head from the start of `buf`.
///
/// Accepts what HAProxy 2.6 accepts (no Host on HTTP/1.1, LF-only line ends, absolute URIs,
/// HTTP/1.2) and rejects what it rejects with a 400 (space in the URI, header without a colon,
/// invalid or conflicting Content-Length, duplicate Host, `#fragment`, bad method characters,
/// a head larger than [`H1Limits::max_head`] or with more fields than `tune.http.maxhdr`).
///
/// # Errors
/// Returns the [`H1Error`] that makes HAProxy answer 400.
pub fn parse_request(buf: &[u8], limits: &H1Limits) -> Result<Parsed<RequestHead>, H1Error> {
    let max_head = limits.max_head();
    let window = buf.get(..buf.len().min(max_head)).unwrap_or(buf);
    let unfolded = unfold(window);
    let window = unfolded.as_deref().unwrap_or(window);
    // HAProxy skips repeated spaces between the parts of the request line; httparse refuses them.
    match collapse_request_line(window) {
        Some((collapsed, removed)) => match parse_window(&collapsed, limits)? {
            Parsed::Complete { head, len } => Ok(Parsed::Complete {
                head,
                len: len + removed,
            }),
            Parsed::Partial => Ok(Parsed::Partial),
        },
        None => parse_window(window, limits),
    }
}

/// The head with every run of spaces in the request line reduced to one, and how many bytes
/// went; `None` when the request line has no such run (or is not complete yet).
fn collapse_request_line(window: &[u8]) -> Option<(Vec<u8>, usize)> {
    let eol = window.iter().position(|&b| b == b'\n')?;
    let line = window.get(..eol)?;
    if !line.windows(2).any(|w| w == b"  ") {
        return None;
    }
    let mut out = Vec::with_capacity(window.len());
    for (i, &b) in line.iter().enumerate() {
        if b == b' ' && i > 0 && line.get(i - 1) == Some(&b' ') {
            continue;
        }
        out.push(b);
    }
    let removed = line.len() - out.len();
    out.extend_from_slice(window.get(eol..)?);
    Some((out, removed))
}

/// Replaces obsolete line folding in the header section (a line end followed by a space or a
/// tab) with spaces, as HAProxy's H1 parser does (`X: a\r\n b` becomes `a   b`); positions
/// are kept. `None` when the head has no folded line.
fn unfold(window: &[u8]) -> Option<Vec<u8>> {
    // One pass in the common case: no line end followed by a space or a tab.
    let is_fold =
        |i: usize| window.get(i) == Some(&b'\n') && matches!(window.get(i + 1), Some(b' ' | b'\t'));
    let first_fold = window
        .windows(2)
        .position(|w| matches!(w, [b'\n', b' ' | b'\t']))?;
    let first_lf = window.iter().position(|&b| b == b'\n')?;
    let end = window
        .windows(3)
        .position(|w| w == b"\n\r\n")
        .into_iter()
        .chain(window.windows(2).position(|w| w == b"\n\n"))
        .min()
        .unwrap_or(window.len());
    let folds: Vec<usize> = (first_fold.max(first_lf + 1)..end)
        .filter(|&i| is_fold(i))
        .collect();
    if folds.is_empty() {
        return None;
    }
    let mut out = window.to_vec();
    for i in folds {
        if let Some(b) = out.get_mut(i) {
            *b = b' ';
        }
        if let Some(b) = i.checked_sub(1).and_then(|j| out.get_mut(j))
            && *b == b'\r'
        {
            *b = b' ';
        }
    }
    Some(out)
}

fn parse_window(window: &[u8], limits: &H1Limits) -> Result<Parsed<RequestHead>, H1Error> {
    let fields = limits.max_fields();
    // Left uninitialised: the parser writes the slots it fills (no 3 KiB to zero per request).
    let mut stack = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; STACK_FIELDS];
    let mut heap;
    let slots: &mut [MaybeUninit<httparse::Header<'_>>] = if fields <= STACK_FIELDS {
        stack.get_mut(..fields).unwrap_or_default()
    } else {
        heap = uninit_slots(fields);
        &mut heap
    };
    match parse_with(window, window, slots, limits) {
        Ok(Some(p)) => Ok(p),
        Err(H1Error::Syntax("header value")) => {
            // HAProxy accepts control characters (NUL included, CR and LF excepted) inside header
            // values; httparse does not. Parse a copy where they are masked, then take the values
            // from the original.
            let masked: Vec<u8> = window
                .iter()
                .map(|&b| {
                    if matches!(b, 0x00..=0x08 | 0x0b | 0x0c | 0x0e..=0x1f | 0x7f) {
                        b'!'
                    } else {
                        b
                    }
                })
                .collect();
            let mut slots2 = uninit_slots(fields);
            parse_with(&masked, window, &mut slots2, limits)?.ok_or(H1Error::Syntax("version"))
        }
        Err(e) => Err(e),
        Ok(None) => {
            // Retry with the version patched to HTTP/1.1 so that HTTP/1.2 or HTTP/2.0 passes, as in HAProxy.
            let Some((patched, version)) = patch_version(window) else {
                return Err(H1Error::Syntax("version"));
            };
            let mut slots2 = uninit_slots(fields);
            match parse_with(&patched, &patched, &mut slots2, limits)? {
                Some(Parsed::Complete { mut head, len }) => {
                    head.version = version;
                    Ok(Parsed::Complete { head, len })
                }
                Some(Parsed::Partial) => Ok(Parsed::Partial),
                None => Err(H1Error::Syntax("version")),
            }
        }
    }
}

/// `fields` header slots on the heap, uninitialised.
pub(super) fn uninit_slots<'a>(fields: usize) -> Vec<MaybeUninit<httparse::Header<'a>>> {
    let mut v = Vec::with_capacity(fields);
    v.resize_with(fields, MaybeUninit::uninit);
    v
}

/// `None` means "the version was refused", so the caller may retry with a patched line.
fn parse_with<'a>(
    window: &'a [u8],
    original: &[u8],
    slots: &mut [MaybeUninit<httparse::Header<'a>>],
    limits: &H1Limits,
) -> Result<Option<Parsed<RequestHead>>, H1Error> {
    let mut req = httparse::Request::new(&mut []);
    let status = match req.parse_with_uninit_headers(window, slots) {
        Ok(s) => s,
        Err(httparse::Error::Version) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => {
            return Err(H1Error::TooManyHeaders {
                limit: limits.maxhdr,
            });
        }
        Err(e) => return Err(H1Error::Syntax(syntax_name(e))),
    };
    let len = match status {
        httparse::Status::Complete(len) => len,
        httparse::Status::Partial if window.len() >= limits.max_head() => {
            return Err(H1Error::HeadTooLarge {
                limit: limits.max_head(),
            });
        }
        httparse::Status::Partial => return Ok(Some(Parsed::Partial)),
    };
    let (Some(method), Some(uri), Some(minor)) = (req.method, req.path, req.version) else {
        return Ok(Some(Parsed::Partial));
    };
    if uri.contains('#') {
        return Err(H1Error::Fragment);
    }
    // HAProxy refuses URI bytes outside the visible ASCII range (httparse lets UTF-8 through).
    if uri.bytes().any(|b| !(0x21..=0x7e).contains(&b)) {
        return Err(H1Error::Syntax("uri"));
    }
    // Room for the fields parsed plus the few the proxy adds (connection, forwardfor).
    let bytes: usize = req
        .headers
        .iter()
        .map(|h| h.name.len() + h.value.len())
        .sum();
    let mut headers = Headers::with_capacity(req.headers.len() + ADDED_FIELDS, bytes + ADDED_BYTES);
    let mut hosts = 0usize;
    for h in req.headers.iter() {
        // The value's offset in `window` is the same in `original` (masking keeps positions).
        let off = (h.value.as_ptr() as usize).saturating_sub(window.as_ptr() as usize);
        let value = original.get(off..off + h.value.len()).unwrap_or(h.value);
        if h.name.eq_ignore_ascii_case("host") {
            hosts += 1;
            if hosts > 1 {
                // HAProxy drops a repeated Host with the same value and refuses a different one.
                if headers
                    .get("host")
                    .is_some_and(|v| v.eq_ignore_ascii_case(value))
                {
                    continue;
                }
                return Err(H1Error::DuplicateHost);
            }
        }
        headers.push(h.name.as_bytes(), value);
    }
    // HAProxy stores the version as `HTTP/x.y` (8 bytes) and each field as name + trimmed value.
    let sl = method.len() + uri.len() + 8;
    if !limits.fits_htx(sl, headers.iter().map(|(n, v)| n.len() + v.len())) {
        return Err(H1Error::HeadTooLarge {
            limit: limits.max_head(),
        });
    }
    let mut head = RequestHead {
        method: method.to_owned(),
        uri: uri.to_owned(),
        version: Version { major: 1, minor },
        headers,
    };
    // Validate the framing now, so that a bad Content-Length is a parse error (400).
    let framing = head.framing()?;
    head.check_after_parse(framing)?;
    super::authority::check_and_normalize(&mut head)?;
    Ok(Some(Parsed::Complete { head, len }))
}

fn syntax_name(e: httparse::Error) -> &'static str {
    match e {
        httparse::Error::HeaderName => "header name",
        httparse::Error::HeaderValue => "header value",
        httparse::Error::NewLine => "new line",
        httparse::Error::Status => "status",
        httparse::Error::Token => "token",
        httparse::Error::TooManyHeaders => "too many headers",
        httparse::Error::Version => "version",
    }
}

/// Finds `HTTP/<d>.<d>` at the end of the request line and replaces it with `HTTP/1.1`.
fn patch_version(window: &[u8]) -> Option<(Vec<u8>, Version)> {
    let start = window.iter().position(|&b| b != b'\r' && b != b'\n')?;
    let rest = window.get(start..)?;
    let eol = rest.iter().position(|&b| b == b'\n')?;
    let line = rest.get(..eol)?;
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let sp = line.iter().rposition(|&b| b == b' ')?;
    let ver = line.get(sp + 1..)?;
    let [b'H', b'T', b'T', b'P', b'/', major, b'.', minor] = *ver else {
        return None;
    };
    if !major.is_ascii_digit() || !minor.is_ascii_digit() {
        return None;
    }
    let at = start + sp + 1;
    let mut patched = window.to_vec();
    patched.get_mut(at..at + 8)?.copy_from_slice(b"HTTP/1.1");
    Some((
        patched,
        Version {
            major: major - b'0',
            minor: minor - b'0',
        },
    ))
}

impl RequestHead {
    /// How the body is delimited (RFC 9112 §6.3, as HAProxy applies it to requests).
    ///
    /// # Errors
    /// [`H1Error::ContentLength`] for invalid or conflicting lengths, [`H1Error::TransferEncoding`]
    /// when Transfer-Encoding does not end with `chunked` (HTTP/1.0 with chunked is accepted, as in HAProxy).
    pub fn framing(&self) -> Result<BodyFraming, H1Error> {
        let cl = super::framing::content_length(&self.headers)?;
        let framing = if self.headers.contains("transfer-encoding") {
            if !super::framing::codings(&self.headers, true)?.chunked_last {
                return Err(H1Error::TransferEncoding);
            }
            // Transfer-Encoding wins over Content-Length (the length is dropped when forwarding).
            BodyFraming::Chunked
        } else {
            cl.map_or(BodyFraming::None, BodyFraming::Length)
        };
        // HAProxy ignores the framing headers of a CONNECT request: the tunnel follows.
        Ok(if self.is_connect() {
            BodyFraming::None
        } else {
            framing
        })
    }

    /// True when HAProxy's H1 parser forces the connection to close after this message:
    /// Transfer-Encoding together with Content-Length, or on HTTP/1.0.
    pub fn forces_close(&self) -> bool {
        self.headers.contains("transfer-encoding")
            && (self.headers.contains("content-length") || !self.version.is_11_or_later())
    }

    /// The checks HAProxy's H1 mux makes once the head is parsed, after the 400s: an HTTP/1.0
    /// GET, HEAD or DELETE with a body (413), a transfer-coding other than chunked (422), then a
    /// websocket upgrade without its key (400).
    fn check_after_parse(&self, framing: BodyFraming) -> Result<(), H1Error> {
        let with_body = matches!(framing, BodyFraming::Chunked | BodyFraming::Length(1..));
        if !self.version.is_11_or_later()
            && with_body
            && matches!(self.method.as_str(), "GET" | "HEAD" | "DELETE")
        {
            return Err(H1Error::PayloadForbidden);
        }
        if self.headers.contains("transfer-encoding")
            && super::framing::codings(&self.headers, true)?.other
        {
            return Err(H1Error::UnknownCoding);
        }
        if super::framing::websocket_key_missing(&self.headers, true) {
            return Err(H1Error::WebsocketKey);
        }
        Ok(())
    }

    /// True when the client asked for `Expect: 100-continue`.
    pub fn expects_continue(&self) -> bool {
        self.headers
            .get("expect")
            .is_some_and(|v| v.eq_ignore_ascii_case(b"100-continue"))
    }

    /// True for a `CONNECT` request.
    pub fn is_connect(&self) -> bool {
        self.method.eq_ignore_ascii_case("CONNECT")
    }

    /// The client's own keep-alive wish: HTTP/1.1 unless `Connection: close`, HTTP/1.0 only with `Connection: keep-alive`.
    pub fn wants_keep_alive(&self) -> bool {
        if self.version.is_11_or_later() {
            !self.headers.has_token("connection", "close")
        } else {
            self.headers.has_token("connection", "keep-alive")
        }
    }

    /// Writes the head as it goes to the server: names lowercased, the version as HAProxy writes
    /// it ([`Version::on_wire`]).
    pub fn write_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.method.as_bytes());
        out.push(b' ');
        out.extend_from_slice(self.uri.as_bytes());
        out.push(b' ');
        super::wire::push_version(out, self.version.on_wire());
        out.extend_from_slice(b"\r\n");
        self.headers.write_to(out);
        out.extend_from_slice(b"\r\n");
    }
}
