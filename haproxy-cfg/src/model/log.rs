//! `log` targets (global and per proxy).

use crate::values::Address;

/// One `log` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogTarget {
    /// `log global`: use the global targets.
    Global,
    /// `log <target> [len N] [format F] [sample R:S] <facility> [level [minlevel]]`.
    Syslog(Syslog),
}

/// A syslog destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Syslog {
    /// The address: IP or host (UDP by default), unix socket, `fd@`, `stdout`/`stderr`
    /// (kept as [`Address::Fd`] with `1`/`2`), or `ring@name` (kept in `ring`).
    pub address: Option<Address>,
    /// `ring@<name>` target.
    pub ring: Option<String>,
    /// `len`: maximum line length.
    pub max_len: Option<u32>,
    /// `format`: rfc3164, rfc5424, short, raw, iso, timed, local, priority.
    pub format: Option<String>,
    /// `sample <ranges>:<size>`.
    pub sample: Option<String>,
    /// Facility name (`local0`, `daemon`, ...).
    pub facility: String,
    /// Highest level sent.
    pub level: Option<String>,
    /// Lowest level (messages are raised to it).
    pub min_level: Option<String>,
}

/// The syslog facilities HAProxy knows, in code order.
pub const FACILITIES: &[&str] = &[
    "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "auth2",
    "ftp", "ntp", "audit", "alert", "cron2", "local0", "local1", "local2", "local3", "local4",
    "local5", "local6", "local7",
];

/// The syslog levels, most severe first.
pub const LEVELS: &[&str] = &[
    "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
];

/// The `format` values HAProxy accepts.
pub const FORMATS: &[&str] = &[
    "local", "rfc3164", "rfc5424", "priority", "short", "timed", "iso", "raw",
];
