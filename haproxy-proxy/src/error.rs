//! The crate's error type.

use crate::side::Side;

/// Everything that can go wrong in the proxy core.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProxyError {
    /// An HTTP/1 message could not be parsed or framed.
    #[error("invalid http/1 message: {0}")]
    H1(#[from] crate::h1::H1Error),
    /// A PROXY protocol header was invalid.
    #[error("invalid proxy protocol header")]
    ProxyProto(#[from] crate::proxy_proto::ProxyProtoError),
    /// An errorfile could not be used.
    #[error("errorfile {path}: {reason}")]
    Errorfile {
        /// The file named by `errorfile`.
        path: String,
        /// Why it was refused, as HAProxy words it.
        reason: String,
    },
    /// A listening socket could not be opened.
    #[error("cannot bind {addr}: {reason}")]
    Bind {
        /// The address as written or resolved.
        addr: String,
        /// Why.
        reason: String,
    },
    /// The configuration asks for something the proxy cannot run; the message is HAProxy's
    /// where HAProxy has one.
    #[error("{message}")]
    Config {
        /// The message, printed after `[ALERT] ... : config : `.
        message: String,
    },
    /// An I/O error, with the side that caused it.
    #[error("i/o error on the {side} side")]
    Io {
        /// Who is to blame.
        side: Side,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}
