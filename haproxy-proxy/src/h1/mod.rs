//! HTTP/1 messages: bounded head parsing with HAProxy's accept/reject decisions, and body framing.
//!
//! The parser is sans-IO: it is handed the bytes read so far and answers "need more", "complete"
//! or an error that carries the status HAProxy would answer with (reference §6.8).
//! See `LIFECYCLE.md` beside this module for how a connection moves through the stages.

mod authority;
mod case;
mod chunked;
mod connection;
mod error;
mod framing;
mod headers;
mod limits;
mod request;
mod response;
#[cfg(test)]
mod tests;
mod wire;

pub use case::CaseMap;
pub use chunked::{ChunkStep, ChunkedDecoder, MAX_CHUNK_SIZE_DIGITS, MAX_TRAILERS_LEN};
pub(crate) use connection::clean_connection_headers;
pub use error::H1Error;
pub(crate) use framing::normalize_content_length;
pub use framing::{
    BodyFraming, connection_header_for, forwarded_response_connection_header,
    response_connection_header,
};
pub use headers::Headers;
pub use limits::{
    DEFAULT_BUFSIZE, DEFAULT_MAXHDR, DEFAULT_MAXREWRITE, H1Limits, HTX_BLOCK, HTX_HEADER,
    HTX_START_LINE, MAX_MAXHDR,
};
pub use request::{RequestHead, parse_request};
pub use response::{ResponseHead, parse_response};
pub(crate) use wire::push_status_line;

/// An HTTP version as written on the start line (`HTTP/<major>.<minor>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Version {
    /// The major digit.
    pub major: u8,
    /// The minor digit.
    pub minor: u8,
}

impl Version {
    /// `HTTP/1.0`.
    pub const HTTP_10: Version = Version { major: 1, minor: 0 };
    /// `HTTP/1.1`.
    pub const HTTP_11: Version = Version { major: 1, minor: 1 };

    /// True for HTTP/1.1 and anything later (keep-alive by default).
    pub fn is_11_or_later(self) -> bool {
        (self.major, self.minor) >= (1, 1)
    }

    /// The version as HAProxy's H1 mux writes it on output: `HTTP/1.1` for 1.1 and anything
    /// later (so `HTTP/1.2` and `HTTP/2.0` become `HTTP/1.1`), else the version as received.
    pub fn on_wire(self) -> Version {
        if self.is_11_or_later() {
            Version::HTTP_11
        } else {
            self
        }
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HTTP/{}.{}", self.major, self.minor)
    }
}

/// The outcome of feeding bytes to a head parser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed<T> {
    /// More bytes are needed.
    Partial,
    /// A complete head of `len` bytes.
    Complete {
        /// The parsed head.
        head: T,
        /// How many bytes of the input it took.
        len: usize,
    },
}
