//! Why a PROXY header was refused.

/// A malformed PROXY protocol header; the connection is dropped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProxyProtoError {
    /// The bytes start neither with the v2 signature nor with `PROXY `.
    #[error("not a proxy protocol header")]
    NotProxy,
    /// The v1 line is longer than 107 bytes.
    #[error("v1 line longer than 107 bytes")]
    V1TooLong,
    /// The v1 line is malformed.
    #[error("malformed v1 line: {0}")]
    V1Syntax(&'static str),
    /// The v2 header is malformed.
    #[error("malformed v2 header: {0}")]
    V2Syntax(&'static str),
    /// The connection closed before a full header arrived.
    #[error("connection closed inside the header")]
    Truncated,
    /// Reading the header failed.
    #[error("i/o error while reading the header: {0:?}")]
    Io(std::io::ErrorKind),
    /// The header did not arrive in time.
    #[error("timeout while reading the header")]
    Timeout,
}
