//! The `show stat` field table: names, tags and value types of HAProxy 2.6's columns 0-102,
//! and of the module columns that follow the `-` marker.

/// Where a value comes from (first letter of a typed tag, HAProxy's `FO_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// `M`: a measured metric.
    Metric,
    /// `S`: a status.
    Status,
    /// `K`: a key identifying the object.
    Key,
    /// `C`: a configured value.
    Config,
    /// `P`: a product property.
    Product,
}

/// What a value measures (second letter, HAProxy's `FN_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nature {
    /// `A`: an age.
    Age,
    /// `a`: an average.
    Avg,
    /// `C`: a cumulative counter.
    Counter,
    /// `D`: a duration.
    Duration,
    /// `G`: a gauge.
    Gauge,
    /// `L`: a limit.
    Limit,
    /// `M`: a maximum.
    Max,
    /// `m`: a minimum.
    Min,
    /// `N`: a name.
    Name,
    /// `O`: free-form output.
    Output,
    /// `R`: an event rate.
    Rate,
}

/// How far a value applies (third letter, HAProxy's `FS_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// `P`: this process.
    Process,
    /// `S`: the service (all processes).
    Service,
    /// `s`: the system.
    System,
    /// `C`: the cluster.
    Cluster,
}

/// The three tags of a typed field, such as `MGP`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tags {
    /// Origin letter.
    pub origin: Origin,
    /// Nature letter.
    pub nature: Nature,
    /// Scope letter.
    pub scope: Scope,
}

impl Tags {
    /// Builds tags from their three-letter code; unknown letters fall back to `M`, `G`, `P`.
    #[must_use]
    pub const fn from_code(code: [u8; 3]) -> Self {
        let [o, n, s] = code;
        let origin = match o {
            b'S' => Origin::Status,
            b'K' => Origin::Key,
            b'C' => Origin::Config,
            b'P' => Origin::Product,
            _ => Origin::Metric,
        };
        let nature = match n {
            b'A' => Nature::Age,
            b'a' => Nature::Avg,
            b'C' => Nature::Counter,
            b'D' => Nature::Duration,
            b'L' => Nature::Limit,
            b'M' => Nature::Max,
            b'm' => Nature::Min,
            b'N' => Nature::Name,
            b'O' => Nature::Output,
            b'R' => Nature::Rate,
            _ => Nature::Gauge,
        };
        let scope = match s {
            b'S' => Scope::Service,
            b's' => Scope::System,
            b'C' => Scope::Cluster,
            _ => Scope::Process,
        };
        Self {
            origin,
            nature,
            scope,
        }
    }

    /// The three-letter code used by the `typed` output.
    #[must_use]
    pub fn code(self) -> [char; 3] {
        let o = match self.origin {
            Origin::Metric => 'M',
            Origin::Status => 'S',
            Origin::Key => 'K',
            Origin::Config => 'C',
            Origin::Product => 'P',
        };
        let n = match self.nature {
            Nature::Age => 'A',
            Nature::Avg => 'a',
            Nature::Counter => 'C',
            Nature::Duration => 'D',
            Nature::Gauge => 'G',
            Nature::Limit => 'L',
            Nature::Max => 'M',
            Nature::Min => 'm',
            Nature::Name => 'N',
            Nature::Output => 'O',
            Nature::Rate => 'R',
        };
        let s = match self.scope {
            Scope::Process => 'P',
            Scope::Service => 'S',
            Scope::System => 's',
            Scope::Cluster => 'C',
        };
        [o, n, s]
    }

    /// The long names used by the JSON output: `("Metric", "Gauge", "Process")`.
    #[must_use]
    pub fn names(self) -> (&'static str, &'static str, &'static str) {
        let o = match self.origin {
            Origin::Metric => "Metric",
            Origin::Status => "Status",
            Origin::Key => "Key",
            Origin::Config => "Config",
            Origin::Product => "Product",
        };
        let n = match self.nature {
            Nature::Age => "Age",
            Nature::Avg => "Avg",
            Nature::Counter => "Counter",
            Nature::Duration => "Duration",
            Nature::Gauge => "Gauge",
            Nature::Limit => "Limit",
            Nature::Max => "Max",
            Nature::Min => "Min",
            Nature::Name => "Name",
            Nature::Output => "Output",
            Nature::Rate => "Rate",
        };
        let s = match self.scope {
            Scope::Process => "Process",
            Scope::Service => "Service",
            Scope::System => "System",
            Scope::Cluster => "Cluster",
        };
        (o, n, s)
    }
}

/// The value type of a field (`u32`, `s32`, `u64`, `str` in the typed output).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Unsigned 32-bit.
    U32,
    /// Signed 32-bit.
    S32,
    /// Unsigned 64-bit.
    U64,
    /// Text.
    Str,
}

impl Kind {
    /// The type name as printed by `typed` and `json`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Kind::U32 => "u32",
            Kind::S32 => "s32",
            Kind::U64 => "u64",
            Kind::Str => "str",
        }
    }
}

/// One field's value; `Empty` is "not applicable" and prints as an empty CSV cell.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Value {
    /// Not applicable to this row.
    #[default]
    Empty,
    /// Unsigned 32-bit value.
    U32(u32),
    /// Signed 32-bit value.
    S32(i32),
    /// Unsigned 64-bit value.
    U64(u64),
    /// Text value.
    Str(String),
}

impl Value {
    /// The type of a non-empty value.
    #[must_use]
    pub fn kind(&self) -> Option<Kind> {
        match self {
            Value::Empty => None,
            Value::U32(_) => Some(Kind::U32),
            Value::S32(_) => Some(Kind::S32),
            Value::U64(_) => Some(Kind::U64),
            Value::Str(_) => Some(Kind::Str),
        }
    }

    /// Whether the field is not applicable.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        matches!(self, Value::Empty)
    }
}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Empty => Ok(()),
            Value::U32(v) => write!(f, "{v}"),
            Value::S32(v) => write!(f, "{v}"),
            Value::U64(v) => write!(f, "{v}"),
            Value::Str(v) => f.write_str(v),
        }
    }
}

/// Static description of one column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldDesc {
    /// Column name in the CSV header.
    pub name: &'static str,
    /// Default tags (backends override a few, see [`crate::Row`]).
    pub tags: Tags,
    /// Value type.
    pub kind: Kind,
}

const fn d(name: &'static str, tags: [u8; 3], kind: Kind) -> FieldDesc {
    FieldDesc {
        name,
        tags: Tags::from_code(tags),
        kind,
    }
}

/// Number of static `show stat` fields in 2.6 (columns 0 to 102).
pub const STAT_FIELD_COUNT: usize = 103;

/// The static fields in 2.6.12 order.
#[rustfmt::skip]
pub const STAT_FIELDS: [FieldDesc; STAT_FIELD_COUNT] = [
    d("pxname", *b"KNS", Kind::Str),
    d("svname", *b"KNS", Kind::Str),
    d("qcur", *b"MGP", Kind::U32),
    d("qmax", *b"MMP", Kind::U32),
    d("scur", *b"MGP", Kind::U32),
    d("smax", *b"MMP", Kind::U32),
    d("slim", *b"CLP", Kind::U32),
    d("stot", *b"MCP", Kind::U64),
    d("bin", *b"MCP", Kind::U64),
    d("bout", *b"MCP", Kind::U64),
    d("dreq", *b"MCP", Kind::U64),
    d("dresp", *b"MCP", Kind::U64),
    d("ereq", *b"MCP", Kind::U64),
    d("econ", *b"MCP", Kind::U64),
    d("eresp", *b"MCP", Kind::U64),
    d("wretr", *b"MCP", Kind::U64),
    d("wredis", *b"MCP", Kind::U64),
    d("status", *b"SGP", Kind::Str),
    d("weight", *b"MaP", Kind::U32),
    d("act", *b"SGP", Kind::U32),
    d("bck", *b"SGP", Kind::U32),
    d("chkfail", *b"MCP", Kind::U64),
    d("chkdown", *b"MCP", Kind::U64),
    d("lastchg", *b"MAP", Kind::U32),
    d("downtime", *b"MCP", Kind::U32),
    d("qlimit", *b"CGS", Kind::U32),
    d("pid", *b"KGP", Kind::U32),
    d("iid", *b"KGS", Kind::U32),
    d("sid", *b"KGS", Kind::U32),
    d("throttle", *b"MaP", Kind::U32),
    d("lbtot", *b"MCP", Kind::U64),
    d("tracked", *b"CNS", Kind::Str),
    d("type", *b"CGS", Kind::U32),
    d("rate", *b"MRP", Kind::U32),
    d("rate_lim", *b"CLP", Kind::U32),
    d("rate_max", *b"MMP", Kind::U32),
    d("check_status", *b"MOP", Kind::Str),
    d("check_code", *b"MOP", Kind::U32),
    d("check_duration", *b"MDP", Kind::U64),
    d("hrsp_1xx", *b"MCP", Kind::U64),
    d("hrsp_2xx", *b"MCP", Kind::U64),
    d("hrsp_3xx", *b"MCP", Kind::U64),
    d("hrsp_4xx", *b"MCP", Kind::U64),
    d("hrsp_5xx", *b"MCP", Kind::U64),
    d("hrsp_other", *b"MCP", Kind::U64),
    d("hanafail", *b"MCP", Kind::U64),
    d("req_rate", *b"MRP", Kind::U32),
    d("req_rate_max", *b"MMP", Kind::U32),
    d("req_tot", *b"MCP", Kind::U64),
    d("cli_abrt", *b"MCP", Kind::U64),
    d("srv_abrt", *b"MCP", Kind::U64),
    d("comp_in", *b"MCP", Kind::U64),
    d("comp_out", *b"MCP", Kind::U64),
    d("comp_byp", *b"MCP", Kind::U64),
    d("comp_rsp", *b"MCP", Kind::U64),
    d("lastsess", *b"MAP", Kind::S32),
    d("last_chk", *b"MOP", Kind::Str),
    d("last_agt", *b"MOP", Kind::Str),
    d("qtime", *b"MaP", Kind::U32),
    d("ctime", *b"MaP", Kind::U32),
    d("rtime", *b"MaP", Kind::U32),
    d("ttime", *b"MaP", Kind::U32),
    d("agent_status", *b"MOP", Kind::Str),
    d("agent_code", *b"MOP", Kind::U32),
    d("agent_duration", *b"MDP", Kind::U64),
    d("check_desc", *b"MOP", Kind::Str),
    d("agent_desc", *b"MOP", Kind::Str),
    d("check_rise", *b"CGS", Kind::U32),
    d("check_fall", *b"CGS", Kind::U32),
    d("check_health", *b"CGS", Kind::U32),
    d("agent_rise", *b"CGS", Kind::U32),
    d("agent_fall", *b"CGS", Kind::U32),
    d("agent_health", *b"CGS", Kind::U32),
    d("addr", *b"CGS", Kind::Str),
    d("cookie", *b"CNS", Kind::Str),
    d("mode", *b"CGS", Kind::Str),
    d("algo", *b"CGS", Kind::Str),
    d("conn_rate", *b"MRP", Kind::U32),
    d("conn_rate_max", *b"MMP", Kind::U32),
    d("conn_tot", *b"MCP", Kind::U64),
    d("intercepted", *b"MCP", Kind::U64),
    d("dcon", *b"MCP", Kind::U64),
    d("dses", *b"MCP", Kind::U64),
    d("wrew", *b"MCP", Kind::U64),
    d("connect", *b"MCP", Kind::U64),
    d("reuse", *b"MCP", Kind::U64),
    d("cache_lookups", *b"MCP", Kind::U64),
    d("cache_hits", *b"MCP", Kind::U64),
    d("srv_icur", *b"MGP", Kind::U32),
    d("src_ilim", *b"CLP", Kind::U32),
    d("qtime_max", *b"MMP", Kind::U32),
    d("ctime_max", *b"MMP", Kind::U32),
    d("rtime_max", *b"MMP", Kind::U32),
    d("ttime_max", *b"MMP", Kind::U32),
    d("eint", *b"MCP", Kind::U64),
    d("idle_conn_cur", *b"MGP", Kind::U32),
    d("safe_conn_cur", *b"MGP", Kind::U32),
    d("used_conn_cur", *b"MGP", Kind::U32),
    d("need_conn_est", *b"MGP", Kind::U32),
    d("uweight", *b"MaP", Kind::U32),
    d("agg_server_status", *b"MGP", Kind::U32),
    d("agg_server_check_status", *b"MGP", Kind::U32),
    d("agg_check_status", *b"MGP", Kind::U32),
];

/// Number of module columns after `-` in the Debian 2.6.12 build (ssl, h2, h1 modules).
pub const MODULE_FIELD_COUNT: usize = 24;

/// The module columns after the `-` marker, in 2.6.12 order.
#[rustfmt::skip]
pub const MODULE_FIELDS: [FieldDesc; MODULE_FIELD_COUNT] = [
    d("ssl_sess", *b"MCP", Kind::U64),
    d("ssl_reused_sess", *b"MCP", Kind::U64),
    d("ssl_failed_handshake", *b"MCP", Kind::U64),
    d("h2_headers_rcvd", *b"MCP", Kind::U64),
    d("h2_data_rcvd", *b"MCP", Kind::U64),
    d("h2_settings_rcvd", *b"MCP", Kind::U64),
    d("h2_rst_stream_rcvd", *b"MCP", Kind::U64),
    d("h2_goaway_rcvd", *b"MCP", Kind::U64),
    d("h2_detected_conn_protocol_errors", *b"MCP", Kind::U64),
    d("h2_detected_strm_protocol_errors", *b"MCP", Kind::U64),
    d("h2_rst_stream_resp", *b"MCP", Kind::U64),
    d("h2_goaway_resp", *b"MCP", Kind::U64),
    d("h2_open_connections", *b"MGP", Kind::U64),
    d("h2_backend_open_streams", *b"MGP", Kind::U64),
    d("h2_total_connections", *b"MCP", Kind::U64),
    d("h2_backend_total_streams", *b"MCP", Kind::U64),
    d("h1_open_connections", *b"MGP", Kind::U64),
    d("h1_open_streams", *b"MGP", Kind::U64),
    d("h1_total_connections", *b"MCP", Kind::U64),
    d("h1_total_streams", *b"MCP", Kind::U64),
    d("h1_bytes_in", *b"MCP", Kind::U64),
    d("h1_bytes_out", *b"MCP", Kind::U64),
    d("h1_spliced_bytes_in", *b"MCP", Kind::U64),
    d("h1_spliced_bytes_out", *b"MCP", Kind::U64),
];
