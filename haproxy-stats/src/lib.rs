//! HAProxy-compatible statistics: counters, CSV/typed/JSON/HTML/Prometheus renderers,
//! `show info`, `show servers state` and the runtime-API (stats socket) grammar and session.
//!
//! The crate owns no sockets: the proxy fills a [`Snapshot`] and implements
//! [`cli::RuntimeApi`]; a [`cli::Cli`] turns the bytes a client sent into HAProxy 2.6's exact
//! reply bytes.
//!
//! ```
//! use haproxy_stats::{Snapshot, ProxyStats, FrontendStats, Mode, StatFilter, RowOptions, csv, rows};
//! let snap = Snapshot {
//!     proxies: vec![ProxyStats {
//!         name: "fe".into(),
//!         iid: 2,
//!         mode: Mode::Http,
//!         frontend: Some(FrontendStats { slim: 100, ..FrontendStats::default() }),
//!         ..ProxyStats::default()
//!     }],
//!     module_columns: false,
//! };
//! let text = csv::render(&rows(&snap, &StatFilter::default(), RowOptions::default()), false);
//! assert!(text.starts_with("# pxname,svname,"));
//! assert!(text.lines().nth(1).unwrap().starts_with("fe,FRONTEND,,,0,0,100,"));
//! ```
#![forbid(unsafe_code)]

#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

mod error;
mod row;
mod snapshot;

pub mod cli;
pub mod csv;
pub mod field;
pub mod html;
pub mod info;
pub mod prometheus;
pub mod servers_state;
pub mod typed;

pub use error::StatsError;
pub use info::Info;
pub use row::{
    ObjType, ProxySelector, Row, RowOptions, StatFilter, backend_row, frontend_row, listener_row,
    rows, server_row,
};
pub use snapshot::{
    BackendStats, CheckStats, FrontendStats, FrontendStatus, ListenerStats, ListenerStatus, Mode,
    ModuleCounters, ProxyStats, Responses, ServerStateFields, ServerStats, ServerStatus, Snapshot,
    TIME_SAMPLES, Timings,
};
