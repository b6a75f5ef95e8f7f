//! The runtime API in the daemon: [`Admin`] implements haproxy-stats' `RuntimeApi` over the
//! live [`crate::registry::Registry`], [`snapshot`] and [`info`] turn the registry into what
//! `show stat`, `show info`, the stats page and Prometheus render, and [`StatsSettings`] /
//! [`StatsServer`] open the `stats socket`s and run their CLI sessions.

mod api;
mod info;
mod limits;
mod snapshot;
mod socket;

pub use api::Admin;
pub use info::{ProcessInfo, info};
pub(crate) use limits::prepare;
pub use limits::{
    LimitKeeper, MAX_RATE_WAITS, admit_connection, count_session, wait_frontend_enabled,
};
pub use snapshot::snapshot;
pub use socket::{
    DEFAULT_STATS_MAXCONN, DEFAULT_STATS_TIMEOUT, StatsServer, StatsSettings, StatsSocketError,
    StatsSocketSpec, session,
};
