//! Health checks wired into the daemon: the check plan built from the configuration
//! ([`Plan`]), haproxy-check's scheduler running on the serving runtime ([`HealthChecks`]),
//! each report turned into registry state, balancer state and HAProxy's state-change messages
//! ([`StateLog`]), passive health fed by finished streams, and slow-start ticks.

mod admin;
mod log;
mod plan;
mod rules;
mod run;
mod track;

pub use log::{MEMORY_LOG_LINES, MemoryLog, StateLog, StderrLog, stderr_line};
pub(crate) use plan::plan;
pub use plan::{CheckedServer, DEFAULT_AGENT_INTER, LiveCounts, Plan, TrackSource, Tracker};
pub(crate) use rules::check_kind;
pub use run::{HealthChecks, SLOWSTART_TICK, check_stats};

#[cfg(test)]
mod tests;
