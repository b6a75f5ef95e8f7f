//! The Prometheus exporter text (`http-request use-service prometheus-exporter`), with
//! HAProxy 2.6.12's metric names, HELP and TYPE lines (reference §4.5).

use std::fmt::Write as _;

use crate::field::Value;
use crate::info::Info;
use crate::row::{ObjType, Row, RowOptions, backend_row, frontend_row, listener_row, server_row};
use crate::snapshot::{FrontendStatus, Mode, ProxyStats, ServerStats, ServerStatus, Snapshot};

/// The `content-type` of the exporter's responses.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4";

/// Prometheus metric type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricType {
    /// `gauge`.
    Gauge,
    /// `counter`.
    Counter,
}

impl MetricType {
    fn as_str(self) -> &'static str {
        match self {
            MetricType::Gauge => "gauge",
            MetricType::Counter => "counter",
        }
    }
}

/// Which families to print (`?scope=` query values; all by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scopes {
    /// `global`: `haproxy_process_*`.
    pub global: bool,
    /// `frontend`: `haproxy_frontend_*` and `haproxy_listener_*`.
    pub frontend: bool,
    /// `backend`: `haproxy_backend_*`.
    pub backend: bool,
    /// `server`: `haproxy_server_*`.
    pub server: bool,
    /// `no-maint`: skip servers in maintenance.
    pub no_maint: bool,
}

impl Default for Scopes {
    fn default() -> Self {
        Self {
            global: true,
            frontend: true,
            backend: true,
            server: true,
            no_maint: false,
        }
    }
}

impl Scopes {
    /// Reads a query string such as `scope=backend&scope=server&no-maint`. An empty `scope=`
    /// or `scope=*` selects everything; any `scope` restricts the output to the listed ones.
    #[must_use]
    pub fn from_query(query: &str) -> Self {
        let mut any = false;
        let mut s = Self {
            global: false,
            frontend: false,
            backend: false,
            server: false,
            no_maint: false,
        };
        for part in query.split('&') {
            match part.split_once('=') {
                Some(("scope", v)) => {
                    any = true;
                    match v {
                        "global" => s.global = true,
                        "frontend" => s.frontend = true,
                        "backend" => s.backend = true,
                        "server" => s.server = true,
                        "*" | "" => {
                            (s.global, s.frontend, s.backend, s.server) = (true, true, true, true)
                        }
                        _ => {}
                    }
                }
                _ if part == "no-maint" => s.no_maint = true,
                _ => {}
            }
        }
        if !any {
            (s.global, s.frontend, s.backend, s.server) = (true, true, true, true);
        }
        s
    }
}

/// Process families: `show info` position, name suffix, type, help (as 2.6.12 prints them).
#[rustfmt::skip]
pub(crate) const PROCESS: &[(usize, &str, MetricType, &str)] = &[
    (3, "nbthread", MetricType::Gauge, "Number of started threads (global.nbthread)"),
    (4, "nbproc", MetricType::Gauge, "Number of started worker processes (historical, always 1)"),
    (5, "relative_process_id", MetricType::Gauge, "Relative worker process number (1)"),
    (8, "uptime_seconds", MetricType::Gauge, "How long ago this worker process was started (seconds)"),
    (12, "pool_failures_total", MetricType::Counter, "Number of failed pool allocations since this worker was started"),
    (13, "max_fds", MetricType::Gauge, "Hard limit on the number of per-process file descriptors"),
    (14, "max_sockets", MetricType::Gauge, "Hard limit on the number of per-process sockets"),
    (15, "max_connections", MetricType::Gauge, "Hard limit on the number of per-process connections (configured or imposed by Ulimit-n)"),
    (16, "hard_max_connections", MetricType::Gauge, "Hard limit on the number of per-process connections (imposed by Memmax_MB or Ulimit-n)"),
    (17, "current_connections", MetricType::Gauge, "Current number of connections on this worker process"),
    (18, "connections_total", MetricType::Counter, "Total number of connections on this worker process since started"),
    (19, "requests_total", MetricType::Counter, "Total number of requests on this worker process since started"),
    (20, "max_ssl_connections", MetricType::Gauge, "Hard limit on the number of per-process SSL endpoints (front+back), 0=unlimited"),
    (21, "current_ssl_connections", MetricType::Gauge, "Current number of SSL endpoints on this worker process (front+back)"),
    (22, "ssl_connections_total", MetricType::Counter, "Total number of SSL endpoints on this worker process since started (front+back)"),
    (23, "max_pipes", MetricType::Gauge, "Hard limit on the number of pipes for splicing, 0=unlimited"),
    (24, "pipes_used_total", MetricType::Counter, "Current number of pipes in use in this worker process"),
    (25, "pipes_free_total", MetricType::Counter, "Current number of allocated and available pipes in this worker process"),
    (26, "current_connection_rate", MetricType::Gauge, "Number of front connections created on this worker process over the last second"),
    (27, "limit_connection_rate", MetricType::Gauge, "Hard limit for ConnRate (global.maxconnrate)"),
    (28, "max_connection_rate", MetricType::Gauge, "Highest ConnRate reached on this worker process since started (in connections per second)"),
    (29, "current_session_rate", MetricType::Gauge, "Number of sessions created on this worker process over the last second"),
    (30, "limit_session_rate", MetricType::Gauge, "Hard limit for SessRate (global.maxsessrate)"),
    (31, "max_session_rate", MetricType::Gauge, "Highest SessRate reached on this worker process since started (in sessions per second)"),
    (32, "current_ssl_rate", MetricType::Gauge, "Number of SSL connections created on this worker process over the last second"),
    (33, "limit_ssl_rate", MetricType::Gauge, "Hard limit for SslRate (global.maxsslrate)"),
    (34, "max_ssl_rate", MetricType::Gauge, "Highest SslRate reached on this worker process since started (in connections per second)"),
    (35, "current_frontend_ssl_key_rate", MetricType::Gauge, "Number of SSL keys created on frontends in this worker process over the last second"),
    (36, "max_frontend_ssl_key_rate", MetricType::Gauge, "Highest SslFrontendKeyRate reached on this worker process since started (in SSL keys per second)"),
    (37, "frontend_ssl_reuse", MetricType::Gauge, "Percent of frontend SSL connections which did not require a new key"),
    (38, "current_backend_ssl_key_rate", MetricType::Gauge, "Number of SSL keys created on backends in this worker process over the last second"),
    (39, "max_backend_ssl_key_rate", MetricType::Gauge, "Highest SslBackendKeyRate reached on this worker process since started (in SSL keys per second)"),
    (40, "ssl_cache_lookups_total", MetricType::Counter, "Total number of SSL session ID lookups in the SSL session cache on this worker since started"),
    (41, "ssl_cache_misses_total", MetricType::Counter, "Total number of SSL session ID lookups that didn't find a session in the SSL session cache on this worker since started"),
    (42, "http_comp_bytes_in_total", MetricType::Counter, "Number of bytes submitted to the HTTP compressor in this worker process over the last second"),
    (43, "http_comp_bytes_out_total", MetricType::Counter, "Number of bytes emitted by the HTTP compressor in this worker process over the last second"),
    (44, "limit_http_comp", MetricType::Gauge, "Limit of CompressBpsOut beyond which HTTP compression is automatically disabled"),
    (45, "current_zlib_memory", MetricType::Gauge, "Amount of memory currently used by HTTP compression on the current worker process (in bytes)"),
    (46, "max_zlib_memory", MetricType::Gauge, "Limit on the amount of memory used by HTTP compression above which it is automatically disabled (in bytes, see global.maxzlibmem)"),
    (47, "current_tasks", MetricType::Gauge, "Total number of tasks in the current worker process (active + sleeping)"),
    (48, "current_run_queue", MetricType::Gauge, "Total number of active tasks+tasklets in the current worker process"),
    (49, "idle_time_percent", MetricType::Gauge, "Percentage of last second spent waiting in the current worker thread"),
    (52, "stopping", MetricType::Gauge, "1 if the worker process is currently stopping, otherwise zero"),
    (53, "jobs", MetricType::Gauge, "Current number of active jobs on the current worker process (frontend connections, master connections, listeners)"),
    (54, "unstoppable_jobs", MetricType::Gauge, "Current number of unstoppable jobs on the current worker process (master connections)"),
    (55, "listeners", MetricType::Gauge, "Current number of active listeners on the current worker process"),
    (56, "active_peers", MetricType::Gauge, "Current number of verified active peers connections on the current worker process"),
    (57, "connected_peers", MetricType::Gauge, "Current number of peers having passed the connection step on the current worker process"),
    (58, "dropped_logs_total", MetricType::Counter, "Total number of dropped logs for current worker process since started"),
    (59, "busy_polling_enabled", MetricType::Gauge, "1 if busy-polling is currently in use on the worker process, otherwise zero (config.busy-polling)"),
    (60, "failed_resolutions", MetricType::Counter, "Total number of failed DNS resolutions in current worker process since started"),
    (61, "bytes_out_total", MetricType::Counter, "Total number of bytes emitted by current worker process since started"),
    (62, "spliced_bytes_out_total", MetricType::Counter, "Total number of bytes emitted by current worker process through a kernel pipe since started"),
    (63, "bytes_out_rate", MetricType::Gauge, "Number of bytes emitted by current worker process over the last second"),
    (65, "recv_logs_total", MetricType::Counter, "Total number of log messages received by log-forwarding listeners on this worker process since started"),
    (66, "build_info", MetricType::Gauge, "Build info"),
    (67, "max_memory_bytes", MetricType::Gauge, "Worker process's hard limit on memory usage in byes (-m on command line)"),
    (68, "pool_allocated_bytes", MetricType::Gauge, "Amount of memory allocated in pools (in bytes)"),
    (69, "pool_used_bytes", MetricType::Gauge, "Amount of pool memory currently used (in bytes)"),
    (70, "start_time_seconds", MetricType::Gauge, "Start time in seconds"),
];

/// Proxy families: `show stat` column, name suffix, type, help, scopes (F, L, B, S letters).
#[rustfmt::skip]
pub(crate) const PROXY: &[(usize, &str, MetricType, &str, &str)] = &[
    (2, "current_queue", MetricType::Gauge, "Number of current queued connections", "BS"),
    (3, "max_queue", MetricType::Gauge, "Highest value of queued connections encountered since process started", "BS"),
    (4, "current_sessions", MetricType::Gauge, "Number of current sessions on the frontend, backend or server", "FLBS"),
    (5, "max_sessions", MetricType::Gauge, "Highest value of current sessions encountered since process started", "FLBS"),
    (6, "limit_sessions", MetricType::Gauge, "Frontend/listener/server's maxconn, backend's fullconn", "FLBS"),
    (7, "sessions_total", MetricType::Counter, "Total number of sessions since process started", "FLBS"),
    (8, "bytes_in_total", MetricType::Counter, "Total number of request bytes since process started", "FLBS"),
    (9, "bytes_out_total", MetricType::Counter, "Total number of response bytes since process started", "FLBS"),
    (10, "requests_denied_total", MetricType::Counter, "Total number of denied requests since process started", "FLB"),
    (11, "responses_denied_total", MetricType::Counter, "Total number of denied responses since process started", "FLBS"),
    (12, "request_errors_total", MetricType::Counter, "Total number of invalid requests since process started", "FL"),
    (13, "connection_errors_total", MetricType::Counter, "Total number of failed connections to server since the worker process started", "BS"),
    (14, "response_errors_total", MetricType::Counter, "Total number of invalid responses since the worker process started", "BS"),
    (15, "retry_warnings_total", MetricType::Counter, "Total number of server connection retries since the worker process started", "BS"),
    (16, "redispatch_warnings_total", MetricType::Counter, "Total number of server redispatches due to connection failures since the worker process started", "BS"),
    (17, "status", MetricType::Gauge, "Current status of the service, per state label value.", "FLBS"),
    (18, "weight", MetricType::Gauge, "Server's effective weight, or sum of active servers' effective weights for a backend", "BS"),
    (19, "active_servers", MetricType::Gauge, "Total number of active UP servers with a non-zero weight", "B"),
    (20, "backup_servers", MetricType::Gauge, "Total number of backup UP servers with a non-zero weight", "B"),
    (21, "check_failures_total", MetricType::Counter, "Total number of failed individual health checks per server/backend, since the worker process started", "S"),
    (22, "check_up_down_total", MetricType::Counter, "Total number of failed checks causing UP to DOWN server transitions, per server/backend, since the worker process started", "BS"),
    (23, "check_last_change_seconds", MetricType::Gauge, "How long ago the last server state changed, in seconds", "BS"),
    (24, "downtime_seconds_total", MetricType::Counter, "Total time spent in DOWN state, for server or backend", "BS"),
    (25, "queue_limit", MetricType::Gauge, "Limit on the number of connections in queue, for servers only (maxqueue argument)", "S"),
    (29, "current_throttle", MetricType::Gauge, "Throttling ratio applied to a server's maxconn and weight during the slowstart period (0 to 100%)", "S"),
    (30, "loadbalanced_total", MetricType::Counter, "Total number of requests routed by load balancing since the worker process started (ignores queue pop and stickiness)", "BS"),
    (34, "limit_session_rate", MetricType::Gauge, "Limit on the number of sessions accepted in a second (frontend only, 'rate-limit sessions' setting)", "F"),
    (35, "max_session_rate", MetricType::Gauge, "Highest value of sessions per second observed since the worker process started", "FBS"),
    (36, "check_status", MetricType::Gauge, "Status of last health check, per state label value.", "S"),
    (37, "check_code", MetricType::Gauge, "layer5-7 code, if available of the last health check.", "S"),
    (38, "check_duration_seconds", MetricType::Gauge, "Total duration of the latest server health check, in seconds.", "S"),
    (39, "http_responses_total", MetricType::Counter, "Total number of HTTP responses with status 100-199 returned by this object since the worker process started", "FBS"),
    (47, "http_requests_rate_max", MetricType::Gauge, "Highest value of http requests observed since the worker process started", "F"),
    (48, "http_requests_total", MetricType::Counter, "Total number of HTTP requests processed by this object since the worker process started", "FB"),
    (49, "client_aborts_total", MetricType::Counter, "Total number of requests or connections aborted by the client since the worker process started", "BS"),
    (50, "server_aborts_total", MetricType::Counter, "Total number of requests or connections aborted by the server since the worker process started", "BS"),
    (51, "http_comp_bytes_in_total", MetricType::Counter, "Total number of bytes submitted to the HTTP compressor for this object since the worker process started", "FB"),
    (52, "http_comp_bytes_out_total", MetricType::Counter, "Total number of bytes emitted by the HTTP compressor for this object since the worker process started", "FB"),
    (53, "http_comp_bytes_bypassed_total", MetricType::Counter, "Total number of bytes that bypassed HTTP compression for this object since the worker process started (CPU/memory/bandwidth limitation)", "FB"),
    (54, "http_comp_responses_total", MetricType::Counter, "Total number of HTTP responses that were compressed for this object since the worker process started", "FB"),
    (55, "last_session_seconds", MetricType::Gauge, "How long ago some traffic was seen on this object on this worker process, in seconds", "BS"),
    (58, "queue_time_average_seconds", MetricType::Gauge, "Avg. queue time for last 1024 successful connections.", "BS"),
    (59, "connect_time_average_seconds", MetricType::Gauge, "Avg. connect time for last 1024 successful connections.", "BS"),
    (60, "response_time_average_seconds", MetricType::Gauge, "Avg. response time for last 1024 successful connections.", "BS"),
    (61, "total_time_average_seconds", MetricType::Gauge, "Avg. total time for last 1024 successful connections.", "BS"),
    (78, "connections_rate_max", MetricType::Gauge, "Highest value of connections per second observed since the worker process started", "F"),
    (79, "connections_total", MetricType::Counter, "Total number of new connections accepted on this frontend since the worker process started", "F"),
    (80, "intercepted_requests_total", MetricType::Counter, "Total number of HTTP requests intercepted on the frontend (redirects/stats/services) since the worker process started", "F"),
    (81, "denied_connections_total", MetricType::Counter, "Total number of incoming connections blocked on a listener/frontend by a tcp-request connection rule since the worker process started", "FL"),
    (82, "denied_sessions_total", MetricType::Counter, "Total number of incoming sessions blocked on a listener/frontend by a tcp-request connection rule since the worker process started", "FL"),
    (83, "failed_header_rewriting_total", MetricType::Counter, "Total number of failed HTTP header rewrites since the worker process started", "FLBS"),
    (84, "connection_attempts_total", MetricType::Counter, "Total number of outgoing connection attempts on this backend/server since the worker process started", "BS"),
    (85, "connection_reuses_total", MetricType::Counter, "Total number of reused connection on this backend/server since the worker process started", "BS"),
    (86, "http_cache_lookups_total", MetricType::Counter, "Total number of HTTP requests looked up in the cache on this frontend/backend since the worker process started", "FB"),
    (87, "http_cache_hits_total", MetricType::Counter, "Total number of HTTP requests not found in the cache on this frontend/backend since the worker process started", "FB"),
    (88, "idle_connections_current", MetricType::Gauge, "Current number of idle connections available for reuse on this server", "S"),
    (89, "idle_connections_limit", MetricType::Gauge, "Limit on the number of available idle connections on this server (server 'pool_max_conn' directive)", "S"),
    (90, "max_queue_time_seconds", MetricType::Gauge, "Maximum observed time spent in the queue", "BS"),
    (91, "max_connect_time_seconds", MetricType::Gauge, "Maximum observed time spent waiting for a connection to complete", "BS"),
    (92, "max_response_time_seconds", MetricType::Gauge, "Maximum observed time spent waiting for a server response", "BS"),
    (93, "max_total_time_seconds", MetricType::Gauge, "Maximum observed total request+response time (request+queue+connect+response+processing)", "BS"),
    (94, "internal_errors_total", MetricType::Counter, "Total number of internal errors since process started", "FLBS"),
    (95, "unsafe_idle_connections_current", MetricType::Gauge, "Current number of unsafe idle connections", "S"),
    (96, "safe_idle_connections_current", MetricType::Gauge, "Current number of safe idle connections", "S"),
    (97, "used_connections_current", MetricType::Gauge, "Current number of connections in use", "S"),
    (98, "need_connections_current", MetricType::Gauge, "Estimated needed number of connections", "S"),
    (99, "uweight", MetricType::Gauge, "Server's user weight, or sum of active servers' user weights for a backend", "BS"),
    (100, "agg_server_status", MetricType::Gauge, "Backend's aggregated gauge of servers' status", "B"),
    (101, "agg_server_check_status", MetricType::Gauge, "Backend's aggregated gauge of servers' state check status", "B"),
    (102, "agg_check_status", MetricType::Gauge, "Backend's aggregated gauge of servers' state check status", "B"),
];

/// Check statuses that appear as `state` labels (those whose result is at least "failed").
const CHECK_STATES: [&str; 16] = [
    "HANA", "SOCKERR", "L4OK", "L4TOUT", "L4CON", "L6OK", "L6TOUT", "L6RSP", "L7TOUT", "L7RSP",
    "L7OK", "L7OKC", "L7STS", "PROCERR", "PROCTOUT", "PROCOK",
];

/// Server states of the exporter.
const SERVER_STATES: [&str; 5] = ["DOWN", "UP", "MAINT", "DRAIN", "NOLB"];

fn server_state(sv: &ServerStats) -> usize {
    match sv.status {
        ServerStatus::Maint | ServerStatus::MaintVia(..) | ServerStatus::MaintResolution => 2,
        ServerStatus::Drain | ServerStatus::DrainGoingDown(..) | ServerStatus::DrainAgent => 3,
        ServerStatus::Nolb | ServerStatus::NolbGoingDown(..) => 4,
        ServerStatus::Down | ServerStatus::DownGoingUp(..) | ServerStatus::DownAgent => 0,
        ServerStatus::Up | ServerStatus::UpGoingDown(..) | ServerStatus::NoCheck => 1,
    }
}

/// Accumulates samples of one family, writing HELP and TYPE before the first one.
struct Family<'a> {
    out: &'a mut String,
    name: String,
    help: &'a str,
    ty: MetricType,
    started: bool,
}

impl Family<'_> {
    fn sample(&mut self, labels: &[(&str, &str)], value: &str) {
        if !self.started {
            let _ = writeln!(self.out, "# HELP {} {}", self.name, self.help);
            let _ = writeln!(self.out, "# TYPE {} {}", self.name, self.ty.as_str());
            self.started = true;
        }
        self.out.push_str(&self.name);
        if !labels.is_empty() {
            self.out.push('{');
            for (i, (k, v)) in labels.iter().enumerate() {
                if i > 0 {
                    self.out.push(',');
                }
                let _ = write!(self.out, "{k}=\"{v}\"");
            }
            self.out.push('}');
        }
        let _ = writeln!(self.out, " {value}");
    }
}

fn number(v: &Value) -> String {
    match v {
        Value::U32(n) => n.to_string(),
        Value::S32(n) => n.to_string(),
        Value::U64(n) => n.to_string(),
        Value::Empty | Value::Str(_) => "NaN".into(),
    }
}

/// Milliseconds as seconds with six decimals (C's `%f`).
fn seconds(ms: u64) -> String {
    format!("{}.{:06}", ms / 1000, (ms % 1000) * 1000)
}

fn field(row: &Row, idx: usize) -> Value {
    row.fields
        .get(idx)
        .map(|(v, _)| v.clone())
        .unwrap_or_default()
}

/// Columns printed only for HTTP proxies, per object type.
fn http_only(obj: ObjType, idx: usize) -> bool {
    match obj {
        ObjType::Frontend => matches!(idx, 39..=44 | 47 | 48 | 51..=54 | 80 | 86 | 87),
        ObjType::Backend => matches!(idx, 39..=44 | 48 | 51..=54 | 86 | 87),
        ObjType::Server => matches!(idx, 39..=44 | 48),
        ObjType::Listener => false,
    }
}

const HRSP_CODES: [&str; 6] = ["1xx", "2xx", "3xx", "4xx", "5xx", "other"];

/// Renders the exporter's whole text for a snapshot and process information.
#[must_use]
pub fn render(snap: &Snapshot, info: &Info, scopes: Scopes) -> String {
    let mut out = String::new();
    if scopes.global {
        let fields = info.fields();
        for &(pos, suffix, ty, help) in PROCESS {
            let mut fam = Family {
                out: &mut out,
                name: format!("haproxy_process_{suffix}"),
                help,
                ty,
                started: false,
            };
            if suffix == "build_info" {
                fam.sample(&[("version", &info.version)], "1");
                continue;
            }
            let v = fields
                .iter()
                .find(|f| f.pos == pos)
                .map(|f| f.value.clone())
                .unwrap_or_default();
            fam.sample(&[], &number(&v));
        }
    }
    let opts = RowOptions {
        show_legends: false,
    };
    let pre: Vec<Prebuilt> = snap
        .proxies
        .iter()
        .map(|px| Prebuilt::new(px, opts))
        .collect();
    if scopes.frontend {
        proxy_scope(&mut out, snap, &pre, 'F', "frontend", scopes);
        proxy_scope(&mut out, snap, &pre, 'L', "listener", scopes);
    }
    if scopes.backend {
        proxy_scope(&mut out, snap, &pre, 'B', "backend", scopes);
    }
    if scopes.server {
        proxy_scope(&mut out, snap, &pre, 'S', "server", scopes);
    }
    out
}

/// Every object's row, built once per rendering (each family reads one column of them).
struct Prebuilt {
    frontend: Option<Row>,
    listeners: Vec<Row>,
    backend: Option<Row>,
    servers: Vec<Row>,
}

impl Prebuilt {
    fn new(px: &ProxyStats, opts: RowOptions) -> Self {
        Self {
            frontend: px.frontend.as_ref().map(|fe| frontend_row(px, fe)),
            listeners: px
                .listeners
                .iter()
                .map(|li| listener_row(px, li, opts))
                .collect(),
            backend: px.backend.as_ref().map(|be| backend_row(px, be, opts)),
            servers: px
                .servers
                .iter()
                .map(|sv| server_row(px, sv, opts))
                .collect(),
        }
    }
}

fn proxy_scope(
    out: &mut String,
    snap: &Snapshot,
    pre: &[Prebuilt],
    letter: char,
    prefix: &str,
    scopes: Scopes,
) {
    for &(idx, suffix, ty, help, which) in PROXY {
        if !which.contains(letter) {
            continue;
        }
        let mut fam = Family {
            out: &mut *out,
            name: format!("haproxy_{prefix}_{suffix}"),
            help,
            ty,
            started: false,
        };
        // The response classes form one family: iterate codes outside, proxies inside.
        let columns: Vec<usize> = if idx == 39 {
            (39..=44).collect()
        } else {
            vec![idx]
        };
        for col in columns {
            for (px, rows) in snap.proxies.iter().zip(pre) {
                match letter {
                    'F' => {
                        if let (Some(fe), Some(row)) = (&px.frontend, &rows.frontend) {
                            frontend_sample(&mut fam, px, row, col, fe.status);
                        }
                    }
                    'L' => {
                        if px.frontend.is_some() {
                            for (li, row) in px.listeners.iter().zip(&rows.listeners) {
                                let labels =
                                    [("proxy", px.name.as_str()), ("listener", li.name.as_str())];
                                if col == 17 {
                                    for st in ["WAITING", "OPEN", "FULL"] {
                                        let on = li.status.as_str() == st;
                                        let l = [labels[0], labels[1], ("state", st)];
                                        fam.sample(&l, if on { "1" } else { "0" });
                                    }
                                } else {
                                    fam.sample(&labels, &number(&field(row, col)));
                                }
                            }
                        }
                    }
                    'B' => {
                        if let (Some(be), Some(row)) = (&px.backend, &rows.backend) {
                            backend_sample(&mut fam, px, row, col, be.up);
                        }
                    }
                    _ => {
                        if px.backend.is_some() {
                            for (sv, row) in px.servers.iter().zip(&rows.servers) {
                                if http_only(ObjType::Server, col) && px.mode != Mode::Http {
                                    break;
                                }
                                if scopes.no_maint && sv.status.is_maint() {
                                    continue;
                                }
                                server_sample(&mut fam, px, sv, row, col);
                            }
                        }
                    }
                }
            }
        }
    }
}

fn hrsp_label(col: usize) -> Option<&'static str> {
    col.checked_sub(39).and_then(|i| HRSP_CODES.get(i)).copied()
}

/// The `status` column of a proxy as Prometheus shows it: one sample per state, 1 on the current.
fn proxy_state(fam: &mut Family<'_>, name: &str, up: bool) {
    for (state, on) in [("DOWN", !up), ("UP", up)] {
        fam.sample(
            &[("proxy", name), ("state", state)],
            if on { "1" } else { "0" },
        );
    }
}

fn frontend_sample(
    fam: &mut Family<'_>,
    px: &ProxyStats,
    row: &Row,
    col: usize,
    status: FrontendStatus,
) {
    if http_only(ObjType::Frontend, col) && px.mode != Mode::Http {
        return;
    }
    let name = px.name.as_str();
    if col == 17 {
        let up = status != FrontendStatus::Stop;
        proxy_state(fam, name, up);
    } else if let Some(code) = hrsp_label(col).filter(|_| (39..=44).contains(&col)) {
        fam.sample(
            &[("proxy", name), ("code", code)],
            &number(&field(row, col)),
        );
    } else {
        fam.sample(&[("proxy", name)], &number(&field(row, col)));
    }
}

fn backend_sample(fam: &mut Family<'_>, px: &ProxyStats, row: &Row, col: usize, up: bool) {
    if http_only(ObjType::Backend, col) && px.mode != Mode::Http {
        return;
    }
    let name = px.name.as_str();
    match col {
        17 => {
            proxy_state(fam, name, up);
        }
        39..=44 => {
            let code = hrsp_label(col).unwrap_or("other");
            fam.sample(
                &[("proxy", name), ("code", code)],
                &number(&field(row, col)),
            );
        }
        58..=61 | 90..=93 => fam.sample(&[("proxy", name)], &seconds_of(&field(row, col))),
        100 | 101 => {
            if px.servers.is_empty() {
                return;
            }
            let mut counts = [0u32; 5];
            for sv in &px.servers {
                if let Some(c) = counts.get_mut(server_state(sv)) {
                    *c += 1;
                }
            }
            for (st, n) in SERVER_STATES.iter().zip(counts) {
                fam.sample(&[("proxy", name), ("state", st)], &n.to_string());
            }
        }
        102 => {
            if px.servers.is_empty() {
                return;
            }
            for st in CHECK_STATES {
                let n = px
                    .servers
                    .iter()
                    .filter_map(|s| s.check.as_ref().filter(|c| c.is_shown()))
                    .filter(|c| c.status == st)
                    .count();
                fam.sample(&[("proxy", name), ("state", st)], &n.to_string());
            }
        }
        _ => fam.sample(&[("proxy", name)], &number(&field(row, col))),
    }
}

fn seconds_of(v: &Value) -> String {
    match v {
        Value::U32(n) => seconds(u64::from(*n)),
        Value::U64(n) => seconds(*n),
        _ => "NaN".into(),
    }
}

fn server_sample(fam: &mut Family<'_>, px: &ProxyStats, sv: &ServerStats, row: &Row, col: usize) {
    let labels = [("proxy", px.name.as_str()), ("server", sv.name.as_str())];
    let check = sv.check.as_ref().filter(|c| c.is_shown());
    match col {
        17 => {
            let state = server_state(sv);
            for (i, st) in SERVER_STATES.iter().enumerate() {
                fam.sample(
                    &[labels[0], labels[1], ("state", st)],
                    if i == state { "1" } else { "0" },
                );
            }
        }
        36 => {
            if let Some(chk) = check {
                for st in CHECK_STATES {
                    fam.sample(
                        &[labels[0], labels[1], ("state", st)],
                        if chk.status == st { "1" } else { "0" },
                    );
                }
            }
        }
        37 => {
            if let Some(chk) = check {
                fam.sample(&labels, &chk.code.unwrap_or(0).to_string());
            }
        }
        38 => {
            if let Some(d) = sv.check.as_ref().and_then(|c| c.duration) {
                fam.sample(&labels, &seconds(d));
            }
        }
        39..=44 => {
            let code = hrsp_label(col).unwrap_or("other");
            fam.sample(
                &[labels[0], labels[1], ("code", code)],
                &number(&field(row, col)),
            );
        }
        58..=61 | 90..=93 => fam.sample(&labels, &seconds_of(&field(row, col))),
        _ => fam.sample(&labels, &number(&field(row, col))),
    }
}
