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

mod counters;
mod error;
mod facts;
mod route;
mod settings;
mod side;
mod slot;

pub mod admin;
pub mod build;
pub mod errors;
pub mod forward;
pub mod h1;
pub mod health;
pub mod http;
pub mod listener;
pub mod proxy_proto;
pub mod registry;
pub mod runtime;
pub mod statspage;
pub mod tcp;

pub use counters::{Counters, SessionSlot};
pub use error::ProxyError;
pub use facts::{StreamFacts, Timers, timer_ms};
pub use route::{ChooseBackend, DefaultBackend, PickServer, RetryPolicy, StreamView, Take};
pub use settings::{
    BackendSettings, ConnMode, DEFAULT_RETRIES, ForwardFor, FrontendSettings, Mode, SendProxy,
    ServerSettings, Timeouts, mapped_port,
};
pub use side::{Side, StreamState, Termination};
pub use slot::{Dequeued, QueueTicket, ServerSlot, SlotOwner};
