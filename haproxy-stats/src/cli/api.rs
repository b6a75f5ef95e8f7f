//! The operations the CLI needs from the running proxy.

use crate::info::Info;
use crate::snapshot::Snapshot;

/// A CLI session's privilege level (`stats socket … level`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// `level user`.
    User,
    /// `level operator` (the default).
    Operator,
    /// `level admin`.
    Admin,
}

impl Level {
    /// The name printed by `show cli level`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Level::User => "user",
            Level::Operator => "operator",
            Level::Admin => "admin",
        }
    }
}

/// Why an operation failed; the CLI prints HAProxy's exact message for each.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ApiError {
    /// `No such backend.`
    NoSuchBackend,
    /// `No such server.`
    NoSuchServer,
    /// `No such frontend.`
    NoSuchFrontend,
    /// `Backend is using a static LB algorithm and only accepts weights '0%' and '100%'.`
    StaticAlgorithm,
    /// `All sockets are already disabled.`
    AlreadyDisabled,
    /// `All sockets are already enabled.`
    AlreadyEnabled,
    /// `Frontend was previously shut down, cannot enable.`
    FrontendShutDown,
    /// `Frontend was previously shut down, cannot disable.`
    FrontendShutDownCannotDisable,
    /// `Frontend was already shut down.`
    FrontendAlreadyShutDown,
    /// `agent checks are not enabled on this server.`
    AgentNotEnabled,
    /// `Agent was not configured on this server, cannot enable.`
    AgentNotConfigured,
    /// `Health check was not configured on this server, cannot enable.`
    HealthNotConfigured,
    /// `Value out of range.`
    OutOfRange,
    /// `Key not found.`
    KeyNotFound,
    /// `entry not found.`
    EntryNotFound,
    /// `Unknown ACL identifier. Please use #<id> or <file>.` / the map equivalent.
    UnknownPatternRef,
    /// `'<value>' is not a valid IPv4 or IPv6 address.` and other pattern parse errors: the
    /// full message without the final newline.
    Invalid(String),
    /// `No such session (use 'show sess').`
    NoSuchSession,
    /// `No such proxy.`
    NoSuchProxy,
    /// `'set server <srv> ssl' cannot be set.  default-server should define ssl settings`
    SslNotConfigurable,
    /// `set server <b>/<s> fqdn failed because no resolution is configured.`
    NoResolution,
}

/// Server administrative state for `set server … state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminState {
    /// `ready`.
    Ready,
    /// `drain`.
    Drain,
    /// `maint`.
    Maint,
}

/// Operational state forced by `set server … health`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HealthState {
    /// `up`.
    Up,
    /// `stopping` (NOLB).
    Stopping,
    /// `down`.
    Down,
}

/// Health check or agent check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckKind {
    /// The health check (`enable|disable health`).
    Health,
    /// The agent check (`enable|disable agent`).
    Agent,
}

/// ACL or map, for the pattern commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatternKind {
    /// `acl`.
    Acl,
    /// `map`.
    Map,
}

/// One pattern reference as listed by `show acl` / `show map`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternRef {
    /// Unique id.
    pub id: u32,
    /// File name, empty for inline patterns.
    pub file: String,
    /// Description (`pattern loaded from file …`).
    pub description: String,
    /// Current version.
    pub curr_ver: u32,
    /// Next version.
    pub next_ver: u32,
    /// Number of entries.
    pub entry_cnt: u32,
}

/// One entry of an ACL or map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternEntry {
    /// Opaque entry reference, printed as `0x…`.
    pub reference: u64,
    /// The key (pattern).
    pub key: String,
    /// The value, for maps.
    pub value: Option<String>,
}

/// The result of `get acl` / `get map`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchReport {
    /// Match method (`ip`, `beg`, `str`, …).
    pub method: String,
    /// Case-sensitive matching.
    pub case_sensitive: bool,
    /// The matching entry, if any.
    pub found: Option<MatchFound>,
}

/// The entry that matched in a [`MatchReport`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchFound {
    /// Index kind (`tree` or `list`).
    pub index: String,
    /// The matching pattern.
    pub pattern: String,
    /// The map value and its type (`str`, `int`, …), for maps.
    pub value: Option<(String, String)>,
}

/// A server setting changed by `set server <b>/<s> <option> <value>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerOption {
    /// `agent-addr <ip>`.
    AgentAddr(String),
    /// `agent-port <port>`.
    AgentPort(u16),
    /// `agent-send <string>`.
    AgentSend(String),
    /// `check-addr <ip> [port <p>]`.
    CheckAddr(String, Option<u16>),
    /// `ssl on|off`.
    Ssl(bool),
    /// `fqdn <name>`.
    Fqdn(String),
}

/// Which captured errors `show errors` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorDirection {
    /// `request`.
    Request,
    /// `response`.
    Response,
}

/// Rate limits settable with `set rate-limit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateLimit {
    /// `connections global`.
    Connections,
    /// `sessions global`.
    Sessions,
    /// `ssl-sessions global`.
    SslSessions,
    /// `http-compression global` (kB/s).
    HttpCompression,
}

/// The proxy side of the runtime API: one method per operation. The [`crate::cli::Cli`]
/// session parses commands, checks levels and formats replies; this trait does the work.
pub trait RuntimeApi {
    /// The version string (`show version`).
    fn version(&self) -> String;
    /// A fresh statistics snapshot (`show stat`, `show servers state`, `show backend`).
    fn snapshot(&self) -> Snapshot;
    /// Process information (`show info`).
    fn info(&self) -> Info;
    /// Current and initial weight of a server.
    ///
    /// # Errors
    /// [`ApiError::NoSuchBackend`] or [`ApiError::NoSuchServer`].
    fn weight(&self, backend: &str, server: &str) -> Result<(u32, u32), ApiError>;
    /// Sets a server's user weight (already resolved from a percentage and bounded to 256).
    ///
    /// # Errors
    /// Unknown names, or [`ApiError::StaticAlgorithm`] when the backend's algorithm is static
    /// and the weight is neither 0 nor the initial weight.
    fn set_weight(&mut self, backend: &str, server: &str, weight: u32) -> Result<(), ApiError>;
    /// `set server … state`, `enable server`, `disable server`.
    ///
    /// # Errors
    /// Unknown names.
    fn set_admin_state(
        &mut self,
        backend: &str,
        server: &str,
        state: AdminState,
    ) -> Result<(), ApiError>;
    /// `set server … health`.
    ///
    /// # Errors
    /// Unknown names.
    fn set_health(
        &mut self,
        backend: &str,
        server: &str,
        state: HealthState,
    ) -> Result<(), ApiError>;
    /// `set server … agent up|down`.
    ///
    /// # Errors
    /// Unknown names, [`ApiError::AgentNotEnabled`].
    fn set_agent(&mut self, backend: &str, server: &str, up: bool) -> Result<(), ApiError>;
    /// `set server … addr <ip> [port <p>]`; returns the previous address and port (the CLI
    /// reports what changed).
    ///
    /// # Errors
    /// Unknown names, [`ApiError::Invalid`].
    fn set_addr(
        &mut self,
        backend: &str,
        server: &str,
        addr: &str,
        port: Option<u16>,
    ) -> Result<(String, u16), ApiError>;
    /// `set server … agent-addr|agent-port|agent-send|check-addr|ssl|fqdn`.
    ///
    /// # Errors
    /// Unknown names, [`ApiError::SslNotConfigurable`], [`ApiError::NoResolution`],
    /// [`ApiError::Invalid`].
    fn set_server_option(
        &mut self,
        backend: &str,
        server: &str,
        option: ServerOption,
    ) -> Result<(), ApiError>;
    /// `set server … check-port <p>`.
    ///
    /// # Errors
    /// Unknown names.
    fn set_check_port(&mut self, backend: &str, server: &str, port: u16) -> Result<(), ApiError>;
    /// `enable|disable health|agent`.
    ///
    /// # Errors
    /// Unknown names, or the check is not configured.
    fn set_check_enabled(
        &mut self,
        backend: &str,
        server: &str,
        kind: CheckKind,
        on: bool,
    ) -> Result<(), ApiError>;
    /// `enable|disable frontend`.
    ///
    /// # Errors
    /// [`ApiError::NoSuchFrontend`], [`ApiError::AlreadyDisabled`], [`ApiError::AlreadyEnabled`],
    /// [`ApiError::FrontendShutDown`].
    fn set_frontend_enabled(&mut self, frontend: &str, on: bool) -> Result<(), ApiError>;
    /// `shutdown frontend`.
    ///
    /// # Errors
    /// [`ApiError::NoSuchFrontend`].
    fn shutdown_frontend(&mut self, frontend: &str) -> Result<(), ApiError>;
    /// `set maxconn frontend`.
    ///
    /// # Errors
    /// [`ApiError::NoSuchFrontend`].
    fn set_frontend_maxconn(&mut self, frontend: &str, maxconn: u32) -> Result<(), ApiError>;
    /// `set maxconn server`.
    ///
    /// # Errors
    /// Unknown names.
    fn set_server_maxconn(
        &mut self,
        backend: &str,
        server: &str,
        maxconn: u32,
    ) -> Result<(), ApiError>;
    /// `set maxconn global` (0 restores the initial value).
    ///
    /// # Errors
    /// [`ApiError::OutOfRange`] above the initial value.
    fn set_global_maxconn(&mut self, maxconn: u32) -> Result<(), ApiError>;
    /// `set rate-limit … global`.
    ///
    /// # Errors
    /// [`ApiError::OutOfRange`].
    fn set_rate_limit(&mut self, which: RateLimit, value: u32) -> Result<(), ApiError>;
    /// `set timeout cli` for this session is handled by the session; this is told the value.
    fn set_cli_timeout(&mut self, seconds: u32);
    /// `clear counters` (maxima only) or `clear counters all`.
    fn clear_counters(&mut self, all: bool);
    /// `shutdown session <id>`.
    ///
    /// # Errors
    /// [`ApiError::NoSuchSession`].
    fn shutdown_session(&mut self, id: u64) -> Result<(), ApiError>;
    /// `shutdown sessions server`.
    ///
    /// # Errors
    /// Unknown names.
    fn shutdown_server_sessions(&mut self, backend: &str, server: &str) -> Result<(), ApiError>;
    /// The `show sess` dump, one line per stream, formatted by the proxy (it owns the streams).
    fn sessions(&self) -> String;
    /// The `show errors [<proxy>] [request|response]` dump, formatted by the proxy.
    ///
    /// # Errors
    /// [`ApiError::NoSuchProxy`] when `proxy` names no proxy.
    fn errors(
        &self,
        proxy: Option<&str>,
        direction: Option<ErrorDirection>,
    ) -> Result<String, ApiError>;
    /// The `show pools` dump: the proxy's own allocator-level figures.
    fn pools(&self) -> String;
    /// The stats sockets, for `show cli sockets`: each address as HAProxy prints it
    /// (`unix@/path`, `ipv4@127.0.0.1:9999`) with its level. None by default.
    fn cli_sockets(&self) -> Vec<(String, Level)> {
        Vec::new()
    }
    /// The process environment (`show env`), in order.
    fn environment(&self) -> Vec<(String, String)>;
    /// Pattern references (`show acl`, `show map`).
    fn pattern_refs(&self, kind: PatternKind) -> Vec<PatternRef>;
    /// Entries of one ACL or map, by file name or `#id`.
    ///
    /// # Errors
    /// [`ApiError::UnknownPatternRef`].
    fn pattern_entries(&self, kind: PatternKind, name: &str)
    -> Result<Vec<PatternEntry>, ApiError>;
    /// `add acl` / `add map`.
    ///
    /// # Errors
    /// [`ApiError::UnknownPatternRef`], [`ApiError::Invalid`].
    fn add_pattern(
        &mut self,
        kind: PatternKind,
        name: &str,
        key: &str,
        value: Option<&str>,
    ) -> Result<(), ApiError>;
    /// `del acl` / `del map`.
    ///
    /// # Errors
    /// [`ApiError::UnknownPatternRef`], [`ApiError::KeyNotFound`].
    fn del_pattern(&mut self, kind: PatternKind, name: &str, key: &str) -> Result<(), ApiError>;
    /// `set map`.
    ///
    /// # Errors
    /// [`ApiError::UnknownPatternRef`], [`ApiError::EntryNotFound`].
    fn set_map(&mut self, name: &str, key: &str, value: &str) -> Result<(), ApiError>;
    /// `clear acl` / `clear map`.
    ///
    /// # Errors
    /// [`ApiError::UnknownPatternRef`].
    fn clear_patterns(&mut self, kind: PatternKind, name: &str) -> Result<(), ApiError>;
    /// `get acl` / `get map`.
    ///
    /// # Errors
    /// [`ApiError::UnknownPatternRef`].
    fn match_pattern(
        &self,
        kind: PatternKind,
        name: &str,
        sample: &str,
    ) -> Result<MatchReport, ApiError>;
}
