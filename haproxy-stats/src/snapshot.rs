//! The counters model: one [`Snapshot`] holds every proxy with its frontend, listeners, backend
//! and servers, each carrying the values behind every `show stat` column (reference §4.1).

use crate::field::MODULE_FIELD_COUNT;

/// A point-in-time copy of all statistics, filled by the proxy and read by every renderer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// Proxies in declaration order (HAProxy prints them in this order).
    pub proxies: Vec<ProxyStats>,
    /// Print the module columns (`ssl_sess` … `h1_spliced_bytes_out`) after `-`, as the
    /// Debian 2.6.12 build does.
    pub module_columns: bool,
}

/// Proxy mode, printed in the `mode` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// `mode tcp`.
    #[default]
    Tcp,
    /// `mode http`.
    Http,
    /// `mode health` (obsolete, still printed).
    Health,
    /// Anything else.
    Unknown,
}

impl Mode {
    /// The text HAProxy prints.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Tcp => "tcp",
            Mode::Http => "http",
            Mode::Health => "health",
            Mode::Unknown => "unknown",
        }
    }
}

/// One proxy (`frontend`, `backend` or `listen` section).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProxyStats {
    /// Proxy name (`pxname`).
    pub name: String,
    /// Proxy id (`iid`), numbered as HAProxy does (see the crate docs).
    pub iid: u32,
    /// Proxy mode.
    pub mode: Mode,
    /// Frontend part, when the proxy has one.
    pub frontend: Option<FrontendStats>,
    /// Listeners, printed only when `option socket-stats` is set.
    pub listeners: Vec<ListenerStats>,
    /// Backend part, when the proxy has one.
    pub backend: Option<BackendStats>,
    /// Servers, in declaration order.
    pub servers: Vec<ServerStats>,
}

/// HTTP response classes (`hrsp_1xx` … `hrsp_other`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Responses {
    /// 1xx responses.
    pub r1xx: u64,
    /// 2xx responses.
    pub r2xx: u64,
    /// 3xx responses.
    pub r3xx: u64,
    /// 4xx responses.
    pub r4xx: u64,
    /// 5xx responses.
    pub r5xx: u64,
    /// Other codes.
    pub other: u64,
}

/// Queue, connect, response and total time figures (ms): averages over the last
/// [`TIME_SAMPLES`] requests, and maxima.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Timings {
    /// `qtime`.
    pub qtime: u32,
    /// `ctime`.
    pub ctime: u32,
    /// `rtime`.
    pub rtime: u32,
    /// `ttime`.
    pub ttime: u32,
    /// `qtime_max`.
    pub qtime_max: u32,
    /// `ctime_max`.
    pub ctime_max: u32,
    /// `rtime_max`.
    pub rtime_max: u32,
    /// `ttime_max`.
    pub ttime_max: u32,
}

/// HAProxy averages timings over this many requests (`TIME_STATS_SAMPLES`).
pub const TIME_SAMPLES: u32 = 1024;

/// Module counters after the `-` column, in [`crate::field::MODULE_FIELDS`] order.
pub type ModuleCounters = [u64; MODULE_FIELD_COUNT];

/// Frontend status column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FrontendStatus {
    /// Accepting connections.
    #[default]
    Open,
    /// After `disable frontend`.
    Paused,
    /// After `shutdown frontend`.
    Stop,
}

impl FrontendStatus {
    /// The text HAProxy prints.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            FrontendStatus::Open => "OPEN",
            FrontendStatus::Paused => "PAUSED",
            FrontendStatus::Stop => "STOP",
        }
    }
}

/// The `FRONTEND` row.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FrontendStats {
    /// Status.
    pub status: FrontendStatus,
    /// Current sessions.
    pub scur: u32,
    /// Maximum sessions.
    pub smax: u32,
    /// `maxconn`.
    pub slim: u32,
    /// Cumulated sessions.
    pub stot: u64,
    /// Bytes in.
    pub bin: u64,
    /// Bytes out.
    pub bout: u64,
    /// Denied requests.
    pub dreq: u64,
    /// Denied responses.
    pub dresp: u64,
    /// Request errors.
    pub ereq: u64,
    /// Connections denied by `tcp-request connection`.
    pub dcon: u64,
    /// Sessions denied by `tcp-request session`.
    pub dses: u64,
    /// Failed rewrites.
    pub wrew: u64,
    /// Internal errors.
    pub eint: u64,
    /// Sessions over the last second.
    pub rate: u32,
    /// `rate-limit sessions`.
    pub rate_lim: u32,
    /// Highest session rate.
    pub rate_max: u32,
    /// Response classes (printed in HTTP mode only).
    pub responses: Responses,
    /// Requests intercepted (stats, redirects…; HTTP only).
    pub intercepted: u64,
    /// Cache lookups (HTTP only).
    pub cache_lookups: u64,
    /// Cache hits (HTTP only).
    pub cache_hits: u64,
    /// HTTP requests over the last second.
    pub req_rate: u32,
    /// Highest HTTP request rate.
    pub req_rate_max: u32,
    /// Total HTTP requests.
    pub req_tot: u64,
    /// Compression: bytes in.
    pub comp_in: u64,
    /// Compression: bytes out.
    pub comp_out: u64,
    /// Compression: bytes bypassed.
    pub comp_byp: u64,
    /// Compressed responses.
    pub comp_rsp: u64,
    /// Connections over the last second.
    pub conn_rate: u32,
    /// Highest connection rate.
    pub conn_rate_max: u32,
    /// Total connections.
    pub conn_tot: u64,
    /// Module counters.
    pub modules: ModuleCounters,
}

/// Listener status column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ListenerStatus {
    /// Accepting.
    #[default]
    Open,
    /// At its `maxconn`.
    Full,
    /// Waiting for resources or paused.
    Waiting,
    /// Stopped.
    Stop,
}

impl ListenerStatus {
    /// The text HAProxy prints.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            ListenerStatus::Open => "OPEN",
            ListenerStatus::Full => "FULL",
            ListenerStatus::Waiting => "WAITING",
            ListenerStatus::Stop => "STOP",
        }
    }
}

/// A listener row (`option socket-stats`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListenerStats {
    /// Listener name (`sock-<n>` unless `name` is set).
    pub name: String,
    /// Listener id (`sid`).
    pub sid: u32,
    /// Status.
    pub status: ListenerStatus,
    /// Address, `ip:port` (IPv6 in brackets) or `unix`.
    pub addr: String,
    /// Current connections.
    pub scur: u32,
    /// Maximum connections.
    pub smax: u32,
    /// `maxconn` (0 = none).
    pub slim: u32,
    /// Cumulated connections.
    pub stot: u64,
    /// Bytes in.
    pub bin: u64,
    /// Bytes out.
    pub bout: u64,
    /// Denied requests.
    pub dreq: u64,
    /// Denied responses.
    pub dresp: u64,
    /// Request errors.
    pub ereq: u64,
    /// Denied connections.
    pub dcon: u64,
    /// Denied sessions.
    pub dses: u64,
    /// Failed rewrites.
    pub wrew: u64,
    /// Internal errors.
    pub eint: u64,
    /// SSL module counters (`ssl_sess`, `ssl_reused_sess`, `ssl_failed_handshake`).
    pub ssl: [u64; 3],
}

/// The `BACKEND` row.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BackendStats {
    /// True when the backend declares at least one server (`downtime` is printed only then).
    pub has_servers: bool,
    /// `UP` when true, `DOWN` otherwise (reference: UP when it has weight or no server).
    pub up: bool,
    /// Queued requests.
    pub qcur: u32,
    /// Maximum queue.
    pub qmax: u32,
    /// Current sessions.
    pub scur: u32,
    /// Maximum sessions.
    pub smax: u32,
    /// `fullconn`.
    pub slim: u32,
    /// Cumulated sessions.
    pub stot: u64,
    /// Bytes in.
    pub bin: u64,
    /// Bytes out.
    pub bout: u64,
    /// Denied requests.
    pub dreq: u64,
    /// Denied responses.
    pub dresp: u64,
    /// Connection errors.
    pub econ: u64,
    /// Response errors.
    pub eresp: u64,
    /// Retries.
    pub wretr: u64,
    /// Redispatches.
    pub wredis: u64,
    /// Effective total weight.
    pub weight: u32,
    /// Total user weight.
    pub uweight: u32,
    /// Usable active servers.
    pub act: u32,
    /// Usable backup servers.
    pub bck: u32,
    /// UP to DOWN transitions.
    pub chkdown: u64,
    /// Seconds since the last status change.
    pub lastchg: u32,
    /// Seconds spent down.
    pub downtime: u32,
    /// Load-balanced connections.
    pub lbtot: u64,
    /// Sessions over the last second.
    pub rate: u32,
    /// Highest session rate.
    pub rate_max: u32,
    /// Response classes (HTTP only).
    pub responses: Responses,
    /// HTTP requests (HTTP only).
    pub req_tot: u64,
    /// Cache lookups (HTTP only).
    pub cache_lookups: u64,
    /// Cache hits (HTTP only).
    pub cache_hits: u64,
    /// Client aborts.
    pub cli_abrt: u64,
    /// Server aborts.
    pub srv_abrt: u64,
    /// Compression: bytes in.
    pub comp_in: u64,
    /// Compression: bytes out.
    pub comp_out: u64,
    /// Compression: bytes bypassed.
    pub comp_byp: u64,
    /// Compressed responses.
    pub comp_rsp: u64,
    /// Seconds since the last session, -1 if never.
    pub lastsess: i32,
    /// Timings.
    pub timings: Timings,
    /// Cookie name (`cookie` keyword).
    pub cookie: Option<String>,
    /// Algorithm name (`roundrobin`, `static-rr`, …).
    pub algo: String,
    /// Failed rewrites.
    pub wrew: u64,
    /// Internal errors.
    pub eint: u64,
    /// Connection attempts.
    pub connect: u64,
    /// Reused connections.
    pub reuse: u64,
    /// Module counters.
    pub modules: ModuleCounters,
}

/// Server status column, as computed by the proxy (reference §4.1 status values).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ServerStatus {
    /// `UP`.
    #[default]
    Up,
    /// `UP x/y`: running, going down (failed checks so far, fall).
    UpGoingDown(u32, u32),
    /// `DOWN`.
    Down,
    /// `DOWN x/y`: stopped, going up (passed checks so far, rise).
    DownGoingUp(u32, u32),
    /// `DOWN (agent)`.
    DownAgent,
    /// `NOLB`.
    Nolb,
    /// `NOLB x/y`.
    NolbGoingDown(u32, u32),
    /// `DRAIN`.
    Drain,
    /// `DRAIN x/y`.
    DrainGoingDown(u32, u32),
    /// `DRAIN (agent)`.
    DrainAgent,
    /// `no check`.
    NoCheck,
    /// `MAINT`.
    Maint,
    /// `MAINT (via px/srv)`: tracking a server in maintenance.
    MaintVia(String, String),
    /// `MAINT (resolution)`.
    MaintResolution,
}

impl ServerStatus {
    /// The text HAProxy prints.
    #[must_use]
    pub fn text(&self) -> String {
        match self {
            ServerStatus::Up => "UP".into(),
            ServerStatus::UpGoingDown(a, b) => format!("UP {a}/{b}"),
            ServerStatus::Down => "DOWN".into(),
            ServerStatus::DownGoingUp(a, b) => format!("DOWN {a}/{b}"),
            ServerStatus::DownAgent => "DOWN (agent)".into(),
            ServerStatus::Nolb => "NOLB".into(),
            ServerStatus::NolbGoingDown(a, b) => format!("NOLB {a}/{b}"),
            ServerStatus::Drain => "DRAIN".into(),
            ServerStatus::DrainGoingDown(a, b) => format!("DRAIN {a}/{b}"),
            ServerStatus::DrainAgent => "DRAIN (agent)".into(),
            ServerStatus::NoCheck => "no check".into(),
            ServerStatus::Maint => "MAINT".into(),
            ServerStatus::MaintVia(p, s) => format!("MAINT (via {p}/{s})"),
            ServerStatus::MaintResolution => "MAINT (resolution)".into(),
        }
    }

    /// Whether the server is in any maintenance state.
    #[must_use]
    pub fn is_maint(&self) -> bool {
        matches!(
            self,
            ServerStatus::Maint | ServerStatus::MaintVia(..) | ServerStatus::MaintResolution
        )
    }
}

/// Health or agent check figures of a server.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckStats {
    /// Paused (`disable health`, or maintenance): the check columns are blank.
    pub paused: bool,
    /// A check is running now (prints `* ` before the status).
    pub in_progress: bool,
    /// Short status (`L7OK`, `L4CON`, `INI`…).
    pub status: String,
    /// Status code, only for layer 5-7 results.
    pub code: Option<u32>,
    /// Duration in ms, once a check has completed.
    pub duration: Option<u64>,
    /// Long description of the status (`Layer7 check passed`).
    pub desc: String,
    /// Last check report (`last_chk`/`last_agt`, e.g. `Connection refused`).
    pub last: String,
    /// `rise`.
    pub rise: u32,
    /// `fall`.
    pub fall: u32,
    /// Current health counter.
    pub health: u32,
}

impl CheckStats {
    /// Whether check columns are printed (enabled and not paused).
    #[must_use]
    pub fn is_shown(&self) -> bool {
        !self.paused
    }
}

/// One server row; `state` also feeds `show servers state`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerStats {
    /// Server name.
    pub name: String,
    /// Server id (`sid`).
    pub sid: u32,
    /// Status.
    pub status: ServerStatus,
    /// Queued requests.
    pub qcur: u32,
    /// Maximum queue.
    pub qmax: u32,
    /// Current sessions.
    pub scur: u32,
    /// Maximum sessions.
    pub smax: u32,
    /// `maxconn`, if set.
    pub maxconn: Option<u32>,
    /// Cumulated sessions.
    pub stot: u64,
    /// Bytes in.
    pub bin: u64,
    /// Bytes out.
    pub bout: u64,
    /// Denied responses.
    pub dresp: u64,
    /// Connection errors.
    pub econ: u64,
    /// Response errors.
    pub eresp: u64,
    /// Retries.
    pub wretr: u64,
    /// Redispatches.
    pub wredis: u64,
    /// Effective weight.
    pub weight: u32,
    /// User weight (`uweight`).
    pub uweight: u32,
    /// Backup server.
    pub backup: bool,
    /// Health check, when configured (`check`).
    pub check: Option<CheckStats>,
    /// Agent check, when configured (`agent-check`).
    pub agent: Option<CheckStats>,
    /// Failed checks.
    pub chkfail: u64,
    /// UP to DOWN transitions.
    pub chkdown: u64,
    /// Seconds since the last status change.
    pub lastchg: u32,
    /// Seconds spent down.
    pub downtime: u32,
    /// `maxqueue`, if set.
    pub maxqueue: Option<u32>,
    /// Slow-start throttle percentage, while starting.
    pub throttle: Option<u32>,
    /// Load-balanced connections.
    pub lbtot: u64,
    /// Tracked server `px/srv`, if any.
    pub tracked: Option<String>,
    /// Sessions over the last second.
    pub rate: u32,
    /// Highest session rate.
    pub rate_max: u32,
    /// Response classes (HTTP only).
    pub responses: Responses,
    /// HTTP requests (HTTP only).
    pub req_tot: u64,
    /// Failed checks caused by `observe` (printed only when `observe` is set).
    pub hanafail: Option<u64>,
    /// Client aborts.
    pub cli_abrt: u64,
    /// Server aborts.
    pub srv_abrt: u64,
    /// Seconds since the last session, -1 if never.
    pub lastsess: i32,
    /// Timings.
    pub timings: Timings,
    /// Address `ip:port`.
    pub addr: String,
    /// Cookie value.
    pub cookie: Option<String>,
    /// Failed rewrites.
    pub wrew: u64,
    /// Internal errors.
    pub eint: u64,
    /// Connection attempts.
    pub connect: u64,
    /// Reused connections.
    pub reuse: u64,
    /// Idle connections now.
    pub srv_icur: u32,
    /// `pool-max-conn`, if set.
    pub src_ilim: Option<u32>,
    /// Idle connections.
    pub idle_conn_cur: u32,
    /// Safe idle connections.
    pub safe_conn_cur: u32,
    /// Connections in use.
    pub used_conn_cur: u32,
    /// Estimated connections needed.
    pub need_conn_est: u32,
    /// SSL module counters.
    pub ssl: [u64; 3],
    /// Values for `show servers state`.
    pub state: ServerStateFields,
}

/// The `show servers state` columns that are not already in [`ServerStats`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerStateFields {
    /// Address without port.
    pub addr: String,
    /// 0 stopped, 1 starting, 2 running, 3 stopping.
    pub op_state: u32,
    /// Admin bits (0x01 FMAINT, 0x02 IMAINT, 0x04 CMAINT, 0x08 FDRAIN, …).
    pub admin_state: u32,
    /// Initial weight.
    pub iweight: u32,
    /// Numeric check status.
    pub check_status: u32,
    /// Check result: 0 unknown, 1 neutral, 2 failed, 3 passed, 4 condpass.
    pub check_result: u32,
    /// Check health counter.
    pub check_health: u32,
    /// Check state bits.
    pub check_state: u32,
    /// Agent state bits.
    pub agent_state: u32,
    /// Backend id was forced in the config.
    pub bk_forced_id: bool,
    /// Server id was forced in the config.
    pub srv_forced_id: bool,
    /// FQDN, if any.
    pub fqdn: Option<String>,
    /// Port.
    pub port: u16,
    /// SRV record, if any.
    pub srvrecord: Option<String>,
    /// Uses SSL.
    pub use_ssl: bool,
    /// Check port (0 = server port).
    pub check_port: u16,
    /// Check address, if any.
    pub check_addr: Option<String>,
    /// Agent address, if any.
    pub agent_addr: Option<String>,
    /// Agent port.
    pub agent_port: u16,
}
