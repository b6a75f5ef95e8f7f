//! The PROXY protocol, v1 and v2 (reference §11): parsing for `accept-proxy`, encoding for
//! `send-proxy` and `send-proxy-v2`.

mod error;
mod io;
#[cfg(test)]
mod tests;
mod v1;
mod v2;

use std::net::SocketAddr;

pub use error::ProxyProtoError;
pub use io::read_header;
pub use v1::{V1_MAX_LEN, encode_v1};
pub use v2::{V2_MAX_LEN, V2_SIGNATURE, encode_v2};

/// What a PROXY header says about the original connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProxyHeader {
    /// The sender gives no address (v1 `UNKNOWN`, v2 `LOCAL` or `UNSPEC`): use the real peer.
    Unknown,
    /// A proxied TCP connection.
    Tcp {
        /// The original client address.
        src: SocketAddr,
        /// The original destination address.
        dst: SocketAddr,
    },
}

/// Parses a PROXY header (v1 or v2, told apart as HAProxy does) from the start of `buf`.
///
/// Returns `Ok(None)` while more bytes are needed, or the header and its length.
///
/// # Errors
/// [`ProxyProtoError`] when the bytes are neither a valid v1 nor v2 header.
pub fn parse(buf: &[u8]) -> Result<Option<(ProxyHeader, usize)>, ProxyProtoError> {
    let sig_part = buf.len().min(V2_SIGNATURE.len());
    if buf.get(..sig_part) == V2_SIGNATURE.get(..sig_part) && !buf.is_empty() {
        return v2::parse(buf);
    }
    let pre_part = buf.len().min(6);
    if buf.get(..pre_part) == b"PROXY ".get(..pre_part) {
        return v1::parse(buf);
    }
    Err(ProxyProtoError::NotProxy)
}
