//! `show info`: the process information block, in 2.6.12 field order (reference §4.2), with its
//! plain, `typed` and `json` forms.

use std::fmt::Write as _;

use crate::field::{Tags, Value};

/// Process information for `show info`; the proxy fills it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Info {
    /// The product name, `HAProxy`. (`Name`)
    pub name: String,
    /// The version string. (`Version`)
    pub version: String,
    /// The release date, `YYYY/MM/DD`. (`Release_date`)
    pub release_date: String,
    /// Number of threads. (`Nbthread`)
    pub nbthread: u32,
    /// Number of processes (always 1). (`Nbproc`)
    pub nbproc: u32,
    /// Relative process number (1). (`Process_num`)
    pub process_num: u32,
    /// Process id. (`Pid`)
    pub pid: u32,
    /// Uptime as `0d 0h00m04s`. (`Uptime`)
    pub uptime: String,
    /// Uptime in seconds. (`Uptime_sec`)
    pub uptime_sec: u32,
    /// Memory limit in MB (0 = none). (`Memmax_MB`)
    pub memmax_mb: u32,
    /// Memory allocated by pools, MB. (`PoolAlloc_MB`)
    pub pool_alloc_mb: u32,
    /// Memory used from pools, MB. (`PoolUsed_MB`)
    pub pool_used_mb: u32,
    /// Failed pool allocations. (`PoolFailed`)
    pub pool_failed: u32,
    /// File descriptor limit. (`Ulimit-n`)
    pub ulimit_n: u32,
    /// Maximum sockets. (`Maxsock`)
    pub maxsock: u32,
    /// Global maxconn. (`Maxconn`)
    pub maxconn: u32,
    /// Initial global maxconn. (`Hard_maxconn`)
    pub hard_maxconn: u32,
    /// Current connections. (`CurrConns`)
    pub curr_conns: u32,
    /// Cumulated connections. (`CumConns`)
    pub cum_conns: u32,
    /// Cumulated requests. (`CumReq`)
    pub cum_req: u32,
    /// SSL connection limit. (`MaxSslConns`)
    pub max_ssl_conns: u32,
    /// Current SSL connections. (`CurrSslConns`)
    pub curr_ssl_conns: u32,
    /// Cumulated SSL connections. (`CumSslConns`)
    pub cum_ssl_conns: u32,
    /// Pipe limit. (`Maxpipes`)
    pub maxpipes: u32,
    /// Pipes in use. (`PipesUsed`)
    pub pipes_used: u32,
    /// Free pipes. (`PipesFree`)
    pub pipes_free: u32,
    /// Connections over the last second. (`ConnRate`)
    pub conn_rate: u32,
    /// Connection rate limit. (`ConnRateLimit`)
    pub conn_rate_limit: u32,
    /// Highest connection rate. (`MaxConnRate`)
    pub max_conn_rate: u32,
    /// Sessions over the last second. (`SessRate`)
    pub sess_rate: u32,
    /// Session rate limit. (`SessRateLimit`)
    pub sess_rate_limit: u32,
    /// Highest session rate. (`MaxSessRate`)
    pub max_sess_rate: u32,
    /// SSL sessions over the last second. (`SslRate`)
    pub ssl_rate: u32,
    /// SSL session rate limit. (`SslRateLimit`)
    pub ssl_rate_limit: u32,
    /// Highest SSL session rate. (`MaxSslRate`)
    pub max_ssl_rate: u32,
    /// Frontend SSL key computations per second. (`SslFrontendKeyRate`)
    pub ssl_frontend_key_rate: u32,
    /// Highest frontend SSL key rate. (`SslFrontendMaxKeyRate`)
    pub ssl_frontend_max_key_rate: u32,
    /// Frontend SSL session reuse percentage. (`SslFrontendSessionReuse_pct`)
    pub ssl_frontend_session_reuse_pct: u32,
    /// Backend SSL key computations per second. (`SslBackendKeyRate`)
    pub ssl_backend_key_rate: u32,
    /// Highest backend SSL key rate. (`SslBackendMaxKeyRate`)
    pub ssl_backend_max_key_rate: u32,
    /// SSL session cache lookups. (`SslCacheLookups`)
    pub ssl_cache_lookups: u32,
    /// SSL session cache misses. (`SslCacheMisses`)
    pub ssl_cache_misses: u32,
    /// Compression input bytes per second. (`CompressBpsIn`)
    pub compress_bps_in: u32,
    /// Compression output bytes per second. (`CompressBpsOut`)
    pub compress_bps_out: u32,
    /// Compression rate limit. (`CompressBpsRateLim`)
    pub compress_bps_rate_lim: u32,
    /// `ZlibMemUsage` and `MaxZlibMemUsage` (positions 45, 46), only in zlib builds.
    pub zlib_mem: Option<(u32, u32)>,
    /// Tasks. (`Tasks`)
    pub tasks: u32,
    /// Tasks in the run queue. (`Run_queue`)
    pub run_queue: u32,
    /// Idle percentage. (`Idle_pct`)
    pub idle_pct: u32,
    /// Node name. (`node`)
    pub node: String,
    /// The global `description`, printed at position 51 only when set.
    pub description: Option<String>,
    /// 1 while stopping. (`Stopping`)
    pub stopping: u32,
    /// Active jobs. (`Jobs`)
    pub jobs: u32,
    /// Unstoppable jobs. (`Unstoppable Jobs`)
    pub unstoppable_jobs: u32,
    /// Listeners. (`Listeners`)
    pub listeners: u32,
    /// Active peers. (`ActivePeers`)
    pub active_peers: u32,
    /// Connected peers. (`ConnectedPeers`)
    pub connected_peers: u32,
    /// Dropped log messages. (`DroppedLogs`)
    pub dropped_logs: u32,
    /// 1 when busy polling is on. (`BusyPolling`)
    pub busy_polling: u32,
    /// Failed DNS resolutions. (`FailedResolutions`)
    pub failed_resolutions: u32,
    /// Bytes sent. (`TotalBytesOut`)
    pub total_bytes_out: u64,
    /// Bytes sent by splicing (the name's typo is HAProxy's). (`TotalSplicdedBytesOut`)
    pub total_spliced_bytes_out: u64,
    /// Bytes sent over the last second. (`BytesOutRate`)
    pub bytes_out_rate: u64,
    /// `debug` commands issued. (`DebugCommandsIssued`)
    pub debug_commands_issued: u32,
    /// Log messages received. (`CumRecvLogs`)
    pub cum_recv_logs: u32,
    /// Build information. (`Build info`)
    pub build_info: String,
    /// Memory limit in bytes. (`Memmax_bytes`)
    pub memmax_bytes: u32,
    /// Pool memory allocated, bytes. (`PoolAlloc_bytes`)
    pub pool_alloc_bytes: u64,
    /// Pool memory used, bytes. (`PoolUsed_bytes`)
    pub pool_used_bytes: u64,
    /// Start time, seconds since the epoch. (`Start_time_sec`)
    pub start_time_sec: u32,
    /// Taint flags, as printed (`0`). (`Tainted`)
    pub tainted: String,
}

/// One `show info` field: position, name, tags and value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InfoField {
    /// Position (stable across versions; gaps where a field is absent).
    pub pos: usize,
    /// Field name.
    pub name: &'static str,
    /// Tags.
    pub tags: Tags,
    /// Value.
    pub value: Value,
}

fn f(pos: usize, name: &'static str, tags: [u8; 3], value: Value) -> InfoField {
    InfoField {
        pos,
        name,
        tags: Tags::from_code(tags),
        value,
    }
}

impl Info {
    /// The fields in output order.
    #[must_use]
    pub fn fields(&self) -> Vec<InfoField> {
        let mut v = Vec::with_capacity(72);
        v.push(f(0, "Name", *b"POS", Value::Str(self.name.clone())));
        v.push(f(1, "Version", *b"POS", Value::Str(self.version.clone())));
        v.push(f(
            2,
            "Release_date",
            *b"POS",
            Value::Str(self.release_date.clone()),
        ));
        v.push(f(3, "Nbthread", *b"CGS", Value::U32(self.nbthread)));
        v.push(f(4, "Nbproc", *b"CGS", Value::U32(self.nbproc)));
        v.push(f(5, "Process_num", *b"KGP", Value::U32(self.process_num)));
        v.push(f(6, "Pid", *b"SGP", Value::U32(self.pid)));
        v.push(f(7, "Uptime", *b"MDP", Value::Str(self.uptime.clone())));
        v.push(f(8, "Uptime_sec", *b"MDP", Value::U32(self.uptime_sec)));
        v.push(f(9, "Memmax_MB", *b"CLP", Value::U32(self.memmax_mb)));
        v.push(f(
            10,
            "PoolAlloc_MB",
            *b"MGP",
            Value::U32(self.pool_alloc_mb),
        ));
        v.push(f(11, "PoolUsed_MB", *b"MGP", Value::U32(self.pool_used_mb)));
        v.push(f(12, "PoolFailed", *b"MCP", Value::U32(self.pool_failed)));
        v.push(f(13, "Ulimit-n", *b"CLP", Value::U32(self.ulimit_n)));
        v.push(f(14, "Maxsock", *b"CLP", Value::U32(self.maxsock)));
        v.push(f(15, "Maxconn", *b"CLP", Value::U32(self.maxconn)));
        v.push(f(
            16,
            "Hard_maxconn",
            *b"CLP",
            Value::U32(self.hard_maxconn),
        ));
        v.push(f(17, "CurrConns", *b"MGP", Value::U32(self.curr_conns)));
        v.push(f(18, "CumConns", *b"MCP", Value::U32(self.cum_conns)));
        v.push(f(19, "CumReq", *b"MCP", Value::U32(self.cum_req)));
        v.push(f(
            20,
            "MaxSslConns",
            *b"MMP",
            Value::U32(self.max_ssl_conns),
        ));
        v.push(f(
            21,
            "CurrSslConns",
            *b"MGP",
            Value::U32(self.curr_ssl_conns),
        ));
        v.push(f(
            22,
            "CumSslConns",
            *b"MCP",
            Value::U32(self.cum_ssl_conns),
        ));
        v.push(f(23, "Maxpipes", *b"CLP", Value::U32(self.maxpipes)));
        v.push(f(24, "PipesUsed", *b"MGP", Value::U32(self.pipes_used)));
        v.push(f(25, "PipesFree", *b"MGP", Value::U32(self.pipes_free)));
        v.push(f(26, "ConnRate", *b"MRP", Value::U32(self.conn_rate)));
        v.push(f(
            27,
            "ConnRateLimit",
            *b"CLP",
            Value::U32(self.conn_rate_limit),
        ));
        v.push(f(
            28,
            "MaxConnRate",
            *b"MMP",
            Value::U32(self.max_conn_rate),
        ));
        v.push(f(29, "SessRate", *b"MRP", Value::U32(self.sess_rate)));
        v.push(f(
            30,
            "SessRateLimit",
            *b"CLP",
            Value::U32(self.sess_rate_limit),
        ));
        v.push(f(
            31,
            "MaxSessRate",
            *b"MRP",
            Value::U32(self.max_sess_rate),
        ));
        v.push(f(32, "SslRate", *b"MRP", Value::U32(self.ssl_rate)));
        v.push(f(
            33,
            "SslRateLimit",
            *b"CLP",
            Value::U32(self.ssl_rate_limit),
        ));
        v.push(f(34, "MaxSslRate", *b"MMP", Value::U32(self.max_ssl_rate)));
        v.push(f(
            35,
            "SslFrontendKeyRate",
            *b"MGP",
            Value::U32(self.ssl_frontend_key_rate),
        ));
        v.push(f(
            36,
            "SslFrontendMaxKeyRate",
            *b"MMP",
            Value::U32(self.ssl_frontend_max_key_rate),
        ));
        v.push(f(
            37,
            "SslFrontendSessionReuse_pct",
            *b"MGP",
            Value::U32(self.ssl_frontend_session_reuse_pct),
        ));
        v.push(f(
            38,
            "SslBackendKeyRate",
            *b"MRP",
            Value::U32(self.ssl_backend_key_rate),
        ));
        v.push(f(
            39,
            "SslBackendMaxKeyRate",
            *b"MMP",
            Value::U32(self.ssl_backend_max_key_rate),
        ));
        v.push(f(
            40,
            "SslCacheLookups",
            *b"MCP",
            Value::U32(self.ssl_cache_lookups),
        ));
        v.push(f(
            41,
            "SslCacheMisses",
            *b"MCP",
            Value::U32(self.ssl_cache_misses),
        ));
        v.push(f(
            42,
            "CompressBpsIn",
            *b"MRP",
            Value::U32(self.compress_bps_in),
        ));
        v.push(f(
            43,
            "CompressBpsOut",
            *b"MRP",
            Value::U32(self.compress_bps_out),
        ));
        v.push(f(
            44,
            "CompressBpsRateLim",
            *b"CLP",
            Value::U32(self.compress_bps_rate_lim),
        ));
        if let Some((cur, max)) = self.zlib_mem {
            v.push(f(45, "ZlibMemUsage", *b"MGP", Value::U32(cur)));
            v.push(f(46, "MaxZlibMemUsage", *b"CLP", Value::U32(max)));
        }
        v.push(f(47, "Tasks", *b"MGP", Value::U32(self.tasks)));
        v.push(f(48, "Run_queue", *b"MGP", Value::U32(self.run_queue)));
        v.push(f(49, "Idle_pct", *b"MaP", Value::U32(self.idle_pct)));
        v.push(f(50, "node", *b"COS", Value::Str(self.node.clone())));
        if let Some(d) = &self.description {
            v.push(f(51, "description", *b"COS", Value::Str(d.clone())));
        }
        v.push(f(52, "Stopping", *b"MGP", Value::U32(self.stopping)));
        v.push(f(53, "Jobs", *b"MGP", Value::U32(self.jobs)));
        v.push(f(
            54,
            "Unstoppable Jobs",
            *b"MGP",
            Value::U32(self.unstoppable_jobs),
        ));
        v.push(f(55, "Listeners", *b"MGP", Value::U32(self.listeners)));
        v.push(f(56, "ActivePeers", *b"MGP", Value::U32(self.active_peers)));
        v.push(f(
            57,
            "ConnectedPeers",
            *b"MGP",
            Value::U32(self.connected_peers),
        ));
        v.push(f(58, "DroppedLogs", *b"MGP", Value::U32(self.dropped_logs)));
        v.push(f(59, "BusyPolling", *b"MGP", Value::U32(self.busy_polling)));
        v.push(f(
            60,
            "FailedResolutions",
            *b"MGP",
            Value::U32(self.failed_resolutions),
        ));
        v.push(f(
            61,
            "TotalBytesOut",
            *b"MGP",
            Value::U64(self.total_bytes_out),
        ));
        v.push(f(
            62,
            "TotalSplicdedBytesOut",
            *b"MGP",
            Value::U64(self.total_spliced_bytes_out),
        ));
        v.push(f(
            63,
            "BytesOutRate",
            *b"MRP",
            Value::U64(self.bytes_out_rate),
        ));
        v.push(f(
            64,
            "DebugCommandsIssued",
            *b"MGP",
            Value::U32(self.debug_commands_issued),
        ));
        v.push(f(
            65,
            "CumRecvLogs",
            *b"MCP",
            Value::U32(self.cum_recv_logs),
        ));
        v.push(f(
            66,
            "Build info",
            *b"POS",
            Value::Str(self.build_info.clone()),
        ));
        v.push(f(
            67,
            "Memmax_bytes",
            *b"CLP",
            Value::U32(self.memmax_bytes),
        ));
        v.push(f(
            68,
            "PoolAlloc_bytes",
            *b"MGP",
            Value::U64(self.pool_alloc_bytes),
        ));
        v.push(f(
            69,
            "PoolUsed_bytes",
            *b"MGP",
            Value::U64(self.pool_used_bytes),
        ));
        v.push(f(
            70,
            "Start_time_sec",
            *b"MDP",
            Value::U32(self.start_time_sec),
        ));
        v.push(f(71, "Tainted", *b"SGP", Value::Str(self.tainted.clone())));
        v
    }

    /// `show info`: `Name: value` lines.
    #[must_use]
    pub fn render(&self) -> String {
        let mut out = String::new();
        for fl in self.fields() {
            let _ = writeln!(out, "{}: {}", fl.name, fl.value);
        }
        out
    }

    /// `show info typed`: `<pos>.<Name>.1:<tags>:<type>:<value>` lines.
    #[must_use]
    pub fn render_typed(&self) -> String {
        let mut out = String::new();
        for fl in self.fields() {
            let [a, b, c] = fl.tags.code();
            let kind = fl.value.kind().map_or("", |k| k.name());
            let _ = writeln!(
                out,
                "{}.{}.1:{a}{b}{c}:{kind}:{}",
                fl.pos, fl.name, fl.value
            );
        }
        out
    }

    /// `show info json`: one JSON array on one line, then a newline.
    #[must_use]
    pub fn render_json(&self) -> String {
        let mut out = String::from("[");
        for (i, fl) in self.fields().iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(
                out,
                "{{\"field\":{{\"pos\":{},\"name\":\"{}\"}},\"processNum\":1,",
                fl.pos, fl.name
            );
            crate::typed::push_json_tags_value(&mut out, fl.tags, &fl.value);
            out.push('}');
        }
        out.push_str("]\n");
        out
    }
}
