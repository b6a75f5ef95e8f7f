//! The runtime API (stats socket CLI): command splitting, levels, replies and the session.

mod api;
mod commands;
mod help;
mod session;
mod split;

pub use api::{
    AdminState, ApiError, CheckKind, ErrorDirection, HealthState, Level, MatchFound, MatchReport,
    PatternEntry, PatternKind, PatternRef, RateLimit, RuntimeApi, ServerOption,
};
pub use session::{Cli, MAX_LINE_LEN, MAX_PAYLOAD_LEN};
pub use split::{MAX_ARGS, PAYLOAD_PATTERN, join_words, split_words};
