//! `errorfile <code> <file>`: a raw HTTP response read at startup (reference §6.6).

use std::collections::HashMap;

use crate::ProxyError;
use crate::h1::{H1Limits, Headers, Parsed, parse_response};

use super::Reply;

/// The codes `errorfile` accepts.
pub const ERRORFILE_CODES: &[u16] = &[
    200, 400, 401, 403, 404, 405, 407, 408, 410, 413, 425, 429, 500, 501, 502, 503, 504,
];

/// The largest errorfile accepted: it must fit in one buffer (`tune.bufsize`).
pub const MAX_ERRORFILE_LEN: usize = crate::h1::DEFAULT_BUFSIZE;

/// Parses the contents of an errorfile for `code`.
///
/// The status line is kept as written, header names are lowercased and `Connection` is removed.
/// An empty file is allowed and yields `None`: the connection is then closed without a reply.
///
/// # Errors
/// [`ProxyError::Errorfile`] for a code HAProxy does not accept, a file larger than
/// [`MAX_ERRORFILE_LEN`], or contents that are not an HTTP response.
pub fn parse_errorfile(
    code: u16,
    path: &str,
    contents: &[u8],
) -> Result<Option<Reply>, ProxyError> {
    let fail = |reason: &str| ProxyError::Errorfile {
        path: path.to_owned(),
        reason: reason.to_owned(),
    };
    if !ERRORFILE_CODES.contains(&code) {
        return Err(fail("status code not handled"));
    }
    if contents.is_empty() {
        return Ok(None);
    }
    if contents.len() > MAX_ERRORFILE_LEN {
        return Err(fail("file too large"));
    }
    let limits = H1Limits {
        bufsize: MAX_ERRORFILE_LEN,
        maxrewrite: 0,
        ..H1Limits::default()
    };
    let (head, len) = match parse_response(contents, &limits) {
        Ok(Parsed::Complete { head, len }) => (head, len),
        _ => return Err(fail("unable to parse the http response")),
    };
    let mut headers = Headers::new();
    for (n, v) in head
        .headers
        .iter()
        .filter(|(n, _)| !n.eq_ignore_ascii_case(b"connection"))
    {
        headers.push(n, v);
    }
    let reason = if head.reason.is_empty() {
        String::new()
    } else {
        format!(" {}", head.reason)
    };
    Ok(Some(Reply {
        status_line: format!("{} {}{}", head.version, head.status, reason),
        status: head.status,
        headers,
        body: contents.get(len..).unwrap_or_default().to_vec(),
    }))
}

/// The replies a proxy answers with: the built-in pages overridden by errorfiles.
#[derive(Debug, Clone, Default)]
pub struct ErrorPages {
    overrides: HashMap<u16, Option<Reply>>,
}

impl ErrorPages {
    /// Only the built-in pages.
    pub fn new() -> Self {
        ErrorPages::default()
    }

    /// Installs an errorfile; `None` (an empty file) means "close without replying".
    pub fn set(&mut self, code: u16, reply: Option<Reply>) {
        self.overrides.insert(code, reply);
    }

    /// The reply for `code`, or `None` when an empty errorfile says to send nothing.
    pub fn get(&self, code: u16) -> Option<Reply> {
        match self.overrides.get(&code) {
            Some(r) => r.clone(),
            None => Some(Reply::error(code)),
        }
    }

    /// The reply for `code` in a stream that reached `backend`, as HAProxy 2.6 picks it
    /// (`http_error_message()`): the backend's errorfile (its own or its defaults'), else
    /// `frontend`'s, else the built-in page; `None` when the errorfile found is empty.
    pub fn resolve(
        backend: Option<&ErrorPages>,
        frontend: &ErrorPages,
        code: u16,
    ) -> Option<Reply> {
        match backend.and_then(|b| b.overrides.get(&code)) {
            Some(r) => r.clone(),
            None => frontend.get(code),
        }
    }
}
