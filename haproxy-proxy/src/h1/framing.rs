//! Body framing and the Connection header rule.

use super::{H1Error, Headers, Version};

/// How a message body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFraming {
    /// No body.
    None,
    /// Exactly this many bytes.
    Length(u64),
    /// Chunked transfer coding.
    Chunked,
    /// Everything until the server closes (responses only).
    UntilClose,
}

/// The single Content-Length of `headers`, if any.
///
/// Several fields or a comma list are accepted only when every value is the same number.
///
/// # Errors
/// [`H1Error::ContentLength`] for an empty, non-numeric, overflowing or conflicting value.
pub(crate) fn content_length(headers: &Headers) -> Result<Option<u64>, H1Error> {
    let mut found: Option<u64> = None;
    for value in headers.get_all("content-length") {
        for part in value.split(|&b| b == b',') {
            let part = part.trim_ascii();
            if part.is_empty() || !part.iter().all(u8::is_ascii_digit) {
                return Err(H1Error::ContentLength);
            }
            let n = part.iter().try_fold(0u64, |acc, &d| {
                acc.checked_mul(10)
                    .and_then(|a| a.checked_add(u64::from(d - b'0')))
            });
            let n = n.ok_or(H1Error::ContentLength)?;
            match found {
                Some(prev) if prev != n => return Err(H1Error::ContentLength),
                _ => found = Some(n),
            }
        }
    }
    Ok(found)
}

/// The `connection` header value HAProxy's H1 mux adds on output, if any.
///
/// HTTP/1.1 messages on a connection that will close get `close`; HTTP/1.0 messages on a
/// connection kept alive get `keep-alive`; the other cases are the protocol default.
pub fn connection_header_for(version: Version, keep_alive: bool) -> Option<&'static str> {
    match (version.is_11_or_later(), keep_alive) {
        (true, false) => Some("close"),
        (false, true) => Some("keep-alive"),
        _ => None,
    }
}

/// The `connection` header value added to a response HAProxy generates (always HTTP/1.1) for a
/// client speaking `client_version`: `close` whenever the connection closes afterwards,
/// `keep-alive` for an HTTP/1.0 client kept alive (reference §0 item 11).
pub fn response_connection_header(
    client_version: Version,
    keep_alive: bool,
) -> Option<&'static str> {
    forwarded_response_connection_header(client_version, Version::HTTP_11, keep_alive)
}

/// The `connection` header value HAProxy's H1 mux adds to a response of version
/// `response_version` answering a request of version `request_version`: when the client
/// connection stays open, `keep-alive` if either message is HTTP/1.0; when it closes, `close`
/// only on an HTTP/1.1 response (an HTTP/1.0 response closes by default).
pub fn forwarded_response_connection_header(
    request_version: Version,
    response_version: Version,
    keep_alive: bool,
) -> Option<&'static str> {
    let both_11 = request_version.is_11_or_later() && response_version.is_11_or_later();
    match (keep_alive, both_11, response_version.is_11_or_later()) {
        (true, false, _) => Some("keep-alive"),
        (false, _, true) => Some("close"),
        _ => None,
    }
}

/// The Content-Length value HAProxy forwards: the last number of the first field, as written
/// (`2, 2` becomes `2`); `None` without the header.
pub(crate) fn first_length_word(headers: &Headers) -> Option<Vec<u8>> {
    let first = headers.get("content-length")?;
    first
        .split(|&b| b == b',')
        .map(<[u8]>::trim_ascii)
        .rfind(|w| !w.is_empty())
        .map(<[u8]>::to_vec)
}

/// Rewrites the Content-Length fields as HAProxy forwards them: one field holding
/// [`first_length_word`]. A message that already has a single field with a single word (nearly
/// every message) is left as it is, with no copy.
pub(crate) fn normalize_content_length(headers: &mut Headers) {
    let untouched = {
        let mut fields = headers.get_all("content-length");
        let single_word = fields.next().is_some_and(|v| {
            let word = v.trim_ascii();
            !word.is_empty() && word.len() == v.len() && !word.contains(&b',')
        });
        single_word && fields.next().is_none()
    };
    if untouched {
        return;
    }
    if let Some(w) = first_length_word(headers) {
        headers.set_first_only("content-length", &w);
    }
}

/// What a `Transfer-Encoding` field list says, read as HAProxy's H1 parser reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Codings {
    /// `chunked` is the last coding.
    pub(crate) chunked_last: bool,
    /// A coding other than `chunked` appears.
    pub(crate) other: bool,
}

/// Reads every `transfer-encoding` field. For a request, `chunked` twice or a coding after
/// `chunked` is an error; for a response only `chunked` twice is.
///
/// # Errors
/// [`H1Error::TransferEncoding`] for the cases above.
pub(crate) fn codings(headers: &Headers, request: bool) -> Result<Codings, H1Error> {
    let mut c = Codings {
        chunked_last: false,
        other: false,
    };
    let mut seen_chunked = false;
    for t in headers.tokens("transfer-encoding") {
        if t == "chunked" {
            if seen_chunked {
                return Err(H1Error::TransferEncoding);
            }
            seen_chunked = true;
            c.chunked_last = true;
        } else {
            if request && seen_chunked {
                return Err(H1Error::TransferEncoding);
            }
            c.chunked_last = false;
            c.other = true;
        }
    }
    Ok(c)
}

/// True when `headers` ask for a websocket upgrade (`Connection: upgrade` + `Upgrade: websocket`)
/// without the key HAProxy's H1 mux requires: a 24-character `sec-websocket-key` on a request,
/// a `sec-websocket-accept` on a response.
pub(crate) fn websocket_key_missing(headers: &Headers, request: bool) -> bool {
    let upgrade = headers.contains("upgrade")
        && headers.has_token("connection", "upgrade")
        && headers.has_token("upgrade", "websocket");
    if !upgrade {
        return false;
    }
    if request {
        !headers.get_all("sec-websocket-key").any(|v| v.len() == 24)
    } else {
        !headers.contains("sec-websocket-accept")
    }
}
