//! The haproxy-rs proxy core: listeners, TCP and HTTP/1 streams, routing and server pools.
//!
//! This crate is part of [haproxy-rs](https://github.com/haproxy-rs/haproxy-rs); see the
//! repository README for the crate map.
//!
//! ```
//! use haproxy_proxy::h1::{parse_request, H1Limits, Parsed};
//! let parsed = parse_request(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", &H1Limits::default())?;
//! assert!(matches!(parsed, Parsed::Complete { len: 27, .. }));
//! # Ok::<(), haproxy_proxy::h1::H1Error>(())
//! ```
#![forbid(unsafe_code)]

mod error;
mod side;

pub mod errors;
pub mod h1;
pub mod proxy_proto;

pub use error::ProxyError;
pub use side::{Side, StreamState, Termination};
