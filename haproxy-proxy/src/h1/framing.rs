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

/// The `connection` header value added to a response (always sent as HTTP/1.1) for a client
/// speaking `client_version`: `close` whenever the connection closes afterwards, `keep-alive`
/// for an HTTP/1.0 client kept alive (reference §0 item 11).
pub fn response_connection_header(
    client_version: Version,
    keep_alive: bool,
) -> Option<&'static str> {
    match (keep_alive, client_version.is_11_or_later()) {
        (false, _) => Some("close"),
        (true, false) => Some("keep-alive"),
        (true, true) => None,
    }
}
