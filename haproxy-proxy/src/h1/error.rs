//! Why an HTTP/1 message was refused.

/// A malformed or oversized HTTP/1 message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum H1Error {
    /// The head does not fit in `tune.bufsize - tune.maxrewrite`.
    #[error("message head larger than {limit} bytes")]
    HeadTooLarge {
        /// The bound that was exceeded.
        limit: usize,
    },
    /// More header fields than `tune.http.maxhdr` allows.
    #[error("more than {limit} header fields")]
    TooManyHeaders {
        /// The bound that was exceeded (start line included).
        limit: usize,
    },
    /// The start line or a header line is not valid HTTP/1 syntax.
    #[error("invalid syntax: {0}")]
    Syntax(&'static str),
    /// The URI carries a `#fragment`.
    #[error("fragment in the uri")]
    Fragment,
    /// A Content-Length value is not a number, or values disagree.
    #[error("invalid content-length")]
    ContentLength,
    /// The Host header appears more than once.
    #[error("duplicate host header")]
    DuplicateHost,
    /// Transfer-Encoding is present but `chunked` is missing or not last, or appears on HTTP/1.0.
    #[error("invalid transfer-encoding")]
    TransferEncoding,
    /// Transfer-Encoding names a coding other than `chunked` (HAProxy answers 422 to a request).
    #[error("unsupported transfer-coding")]
    UnknownCoding,
    /// An HTTP/1.0 GET, HEAD or DELETE request carries a body (HAProxy answers 413).
    #[error("http/1.0 get, head or delete request with a body")]
    PayloadForbidden,
    /// The Host header does not match the request target's authority, or a CONNECT target has
    /// no port.
    #[error("host header does not match the authority")]
    Authority,
    /// A websocket upgrade without a `Sec-WebSocket-Key` of 24 characters (a request) or without
    /// `Sec-WebSocket-Accept` (a response).
    #[error("websocket upgrade without its key")]
    WebsocketKey,
    /// A chunk-size line is malformed.
    #[error("invalid chunk size")]
    ChunkSize,
    /// A chunk is not followed by CRLF.
    #[error("missing crlf after chunk data")]
    ChunkCrlf,
    /// A trailer line has no `:`.
    #[error("trailer line without a colon")]
    Trailer,
    /// The trailers are longer than [`MAX_TRAILERS_LEN`](crate::h1::MAX_TRAILERS_LEN).
    #[error("trailers too large")]
    TrailersTooLarge,
}

impl H1Error {
    /// The status HAProxy answers with when a request fails this way (responses always give 502).
    pub fn request_status(&self) -> u16 {
        match self {
            H1Error::UnknownCoding => 422,
            H1Error::PayloadForbidden => 413,
            _ => 400,
        }
    }
}
