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

/// Number of static `show stat` fields in 2.6 (columns 0 to 102).
pub const STAT_FIELD_COUNT: usize = 103;

/// The static fields in 2.6.12 order.
pub const STAT_FIELDS: [FieldDesc; STAT_FIELD_COUNT] = [
    FieldDesc {
        name: "pxname",
        tags: Tags::from_code(*b"KNS"),
        kind: Kind::Str,
    },
    FieldDesc {
        name: "svname",
        tags: Tags::from_code(*b"KNS"),
        kind: Kind::Str,
    },
    FieldDesc {
        name: "qcur",
        tags: Tags::from_code(*b"MGP"),
        kind: Kind::U32,
    },
    FieldDesc {
        name: "qmax",
        tags: Tags::from_code(*b"MMP"),
        kind: Kind::U32,
    },
    FieldDesc {
        name: "scur",
        tags: Tags::from_code(*b"MGP"),
        kind: Kind::U32,
    },
    FieldDesc {
        name: "smax",
        tags: Tags::from_code(*b"MMP"),
        kind: Kind::U32,
    },
    FieldDesc {
        name: "slim",
        tags: Tags::from_code(*b"CLP"),
        kind: Kind::U32,
    },
    FieldDesc {
        name: "stot",
        tags: Tags::from_code(*b"MCP"),
        kind: Kind::U64,
    },
    FieldDesc {
        name: "bin",
        tags: Tags::from_code(*b"MCP"),
        kind: Kind::U64,
    },
    FieldDesc {
        name: "bout",
        tags: Tags::from_code(*b"MCP"),
        kind: Kind::U64,
    },
    FieldDesc {
        name: "dreq",
        tags: Tags::from_code(*b"MCP"),
        kind: Kind::U64,
    },
    FieldDesc {
        name: "dresp",
        tags: Tags::from_code(*b"MCP"),
        kind: Kind::U64,
    },
    FieldDesc {
        name: "ereq",
        tags: Tags::from_code(*b"MCP"),
        kind: Kind::U64,
    },
    FieldDesc {
        name: "econ",
        tags: Tags::from_code(*b"MCP"),
        kind: Kind::U64,
    },
    FieldDesc {
        name: "eresp",
        tags: Tags::from_code(*b"MCP"),
        kind: Kind::U64,
    },
    FieldDesc {
        name: "wretr",
        tags: Tags::from_code(*b"MCP"),
        kind: Kind::U64,
    },
    FieldDesc {
        name: "wredis",
        tags: Tags::from_code(*b"MCP"),
        kind: Kind::U64,
    },
    FieldDesc {
        name: "status",
        tags: Tags::from_code(*b"SGP"),
        kind: Kind::Str,
    },
    FieldDesc {
        name: "weight",
        tags: Tags::from_code(*b"MaP"),
        kind: Kind::U32,
    },
    FieldDesc {
        name: "act",
        tags: Tags::from_code(*b"SGP"),
        kind: Kind::U32,
    },
    FieldDesc {
        name: "bck",
        tags: Tags::from_code(*b"SGP"),
        kind: Kind::U32,
    },
    FieldDesc {
        name: "chkfail",
        tags: Tags::from_code(*b"MCP"),
        kind: Kind::U64,
    },
    FieldDesc {
        name: "chkdown",
        tags: Tags::from_code(*b"MCP"),
        kind: Kind::U64,
    },
    FieldDesc {
        name: "lastchg",
        tags: Tags::from_code(*b"MAP"),
        kind: Kind::U32,
    },
    FieldDesc {
        name: "downtime",
        tags: Tags::from_code(*b"MCP"),
        kind: Kind::U32,
    },
    FieldDesc {
        name: "qlimit",
        tags: Tags::from_code(*b"CGS"),
        kind: Kind::U32,
    },
    FieldDesc {
        name: "pid",
        tags: Tags::from_code(*b"KGP"),
        kind: Kind::U32,
    },
    FieldDesc {
        name: "iid",
        tags: Tags::from_code(*b"KGS"),
        kind: Kind::U32,
    },
    FieldDesc {
        name: "sid",
        tags: Tags::from_code(*b"KGS"),
        kind: Kind::U32,
    },
    FieldDesc {
        name: "throttle",
        tags: Tags::from_code(*b"MaP"),
        kind: Kind::U32,
    },
    FieldDesc {
        name: "lbtot",
        tags: Tags::from_code(*b"MCP"),
        kind: Kind::U64,
    },
    FieldDesc {
        name: "tracked",
        tags: Tags::from_code(*b"CNS"),
        kind: Kind::Str,
    },
    FieldDesc {
        name: "type",
        tags: Tags::from_code(*b"CGS"),
        kind: Kind::U32,
    },
    FieldDesc {
        name: "rate",
        tags: Tags::from_code(*b"MRP"),
        kind: Kind::U32,
    },
    FieldDesc {
        name: "rate_lim",
        tags: Tags::from_code(*b"CLP"),
        kind: Kind::U32,
    },
    FieldDesc {
        name: "rate_max",
        tags: Tags::from_code(*b"MMP"),
        kind: Kind::U32,
    },
    FieldDesc {
        name: "check_status",
        tags: Tags::from_code(*b"MOP"),
        kind: Kind::Str,
    },
    FieldDesc {
        name: "check_code",
        tags: Tags::from_code(*b"MOP"),
        kind: Kind::U32,
    },
    FieldDesc {
        name: "check_duration",
        tags: Tags::from_code(*b"MDP"),
        kind: Kind::U64,
    },
    FieldDesc {
        name: "hrsp_1xx",
        tags: Tags::from_code(*b"MCP"),
        kind: Kind::U64,
    },
    FieldDesc {
        name: "hrsp_2xx",
        tags: Tags::from_code(*b"MCP"),
        kind: Kind::U64,
    },
    FieldDesc {
        name: "hrsp_3xx",
        tags: Tags::from_code(*b"MCP"),
        kind: Kind::U64,
    },
    FieldDesc {
        name: "hrsp_4xx",
        tags: Tags::from_code(*b"MCP"),
        kind: Kind::U64,
    },
    FieldDesc {
        name: "hrsp_5xx",
        tags: Tags::from_code(*b"MCP"),
        kind: Kind::U64,
    },
    FieldDesc {
        name: "hrsp_other",
        tags: Tags::from_code(*b"MCP"),
        kind: Kind::U64,
    },
    FieldDesc {
        name: "hanafail",
        tags: Tags::from_code(*b"MCP"),
        kind: Kind::U64,
    },
    FieldDesc {
        name: "req_rate",
        tags: Tags::from_code(*b"MRP"),
        kind: Kind::U32,
    },
    FieldDesc {
        name: "req_rate_max",
        tags: Tags::from_code(*b"MMP"),
        kind: Kind::U32,
    },
    FieldDesc {
        name: "req_tot",
        tags: Tags::from_code(*b"MCP"),
        kind: Kind::U64,
    },
    FieldDesc {
        name: "cli_abrt",
        tags: Tags::from_code(*b"MCP"),
        kind: Kind::U64,
    },
    FieldDesc {
        name: "srv_abrt",
        tags: Tags::from_code(*b"MCP"),
        kind: Kind::U64,
    },
    FieldDesc {
        name: "comp_in",
        tags: Tags::from_code(*b"MCP"),
        kind: Kind::U64,
    },
    FieldDesc {
        name: "comp_out",
        tags: Tags::from_code(*b"MCP"),
        kind: Kind::U64,
    },
    FieldDesc {
        name: "comp_byp",
        tags: Tags::from_code(*b"MCP"),
        kind: Kind::U64,
    },
    FieldDesc {
        name: "comp_rsp",
        tags: Tags::from_code(*b"MCP"),
        kind: Kind::U64,
    },
    FieldDesc {
        name: "lastsess",
        tags: Tags::from_code(*b"MAP"),
        kind: Kind::S32,
    },
    FieldDesc {
        name: "last_chk",
        tags: Tags::from_code(*b"MOP"),
        kind: Kind::Str,
    },
    FieldDesc {
        name: "last_agt",
        tags: Tags::from_code(*b"MOP"),
        kind: Kind::Str,
    },
    FieldDesc {
        name: "qtime",
        tags: Tags::from_code(*b"MaP"),
        kind: Kind::U32,
    },
    FieldDesc {
        name: "ctime",
        tags: Tags::from_code(*b"MaP"),
        kind: Kind::U32,
    },
    FieldDesc {
        name: "rtime",
        tags: Tags::from_code(*b"MaP"),
        kind: Kind::U32,
    },
    FieldDesc {
        name: "ttime",
        tags: Tags::from_code(*b"MaP"),
        kind: Kind::U32,
    },
    FieldDesc {
        name: "agent_status",
        tags: Tags::from_code(*b"MOP"),
        kind: Kind::Str,
    },
    FieldDesc {
        name: "agent_code",
        tags: Tags::from_code(*b"MOP"),
        kind: Kind::U32,
    },
    FieldDesc {
        name: "agent_duration",
        tags: Tags::from_code(*b"MDP"),
        kind: Kind::U64,
    },
    FieldDesc {
        name: "check_desc",
        tags: Tags::from_code(*b"MOP"),
        kind: Kind::Str,
    },
    FieldDesc {
        name: "agent_desc",
        tags: Tags::from_code(*b"MOP"),
        kind: Kind::Str,
    },
    FieldDesc {
        name: "check_rise",
        tags: Tags::from_code(*b"CGS"),
        kind: Kind::U32,
    },
    FieldDesc {
        name: "check_fall",
        tags: Tags::from_code(*b"CGS"),
        kind: Kind::U32,
    },
    FieldDesc {
        name: "check_health",
        tags: Tags::from_code(*b"CGS"),
        kind: Kind::U32,
    },
    FieldDesc {
        name: "agent_rise",
        tags: Tags::from_code(*b"CGS"),
        kind: Kind::U32,
    },
    FieldDesc {
        name: "agent_fall",
        tags: Tags::from_code(*b"CGS"),
        kind: Kind::U32,
    },
    FieldDesc {
        name: "agent_health",
        tags: Tags::from_code(*b"CGS"),
        kind: Kind::U32,
    },
    FieldDesc {
        name: "addr",
        tags: Tags::from_code(*b"CGS"),
        kind: Kind::Str,
    },
    FieldDesc {
        name: "cookie",
        tags: Tags::from_code(*b"CNS"),
        kind: Kind::Str,
    },
    FieldDesc {
        name: "mode",
        tags: Tags::from_code(*b"CGS"),
        kind: Kind::Str,
    },
    FieldDesc {
        name: "algo",
        tags: Tags::from_code(*b"CGS"),
        kind: Kind::Str,
    },
    FieldDesc {
        name: "conn_rate",
        tags: Tags::from_code(*b"MRP"),
        kind: Kind::U32,
    },
    FieldDesc {
        name: "conn_rate_max",
        tags: Tags::from_code(*b"MMP"),
        kind: Kind::U32,
    },
    FieldDesc {
        name: "conn_tot",
        tags: Tags::from_code(*b"MCP"),
        kind: Kind::U64,
    },
    FieldDesc {
        name: "intercepted",
        tags: Tags::from_code(*b"MCP"),
        kind: Kind::U64,
    },
    FieldDesc {
        name: "dcon",
        tags: Tags::from_code(*b"MCP"),
        kind: Kind::U64,
    },
    FieldDesc {
        name: "dses",
        tags: Tags::from_code(*b"MCP"),
        kind: Kind::U64,
    },
    FieldDesc {
        name: "wrew",
        tags: Tags::from_code(*b"MCP"),
        kind: Kind::U64,
    },
    FieldDesc {
        name: "connect",
        tags: Tags::from_code(*b"MCP"),
        kind: Kind::U64,
    },
    FieldDesc {
        name: "reuse",
        tags: Tags::from_code(*b"MCP"),
        kind: Kind::U64,
    },
    FieldDesc {
        name: "cache_lookups",
        tags: Tags::from_code(*b"MCP"),
        kind: Kind::U64,
    },
    FieldDesc {
        name: "cache_hits",
        tags: Tags::from_code(*b"MCP"),
        kind: Kind::U64,
    },
    FieldDesc {
        name: "srv_icur",
        tags: Tags::from_code(*b"MGP"),
        kind: Kind::U32,
    },
    FieldDesc {
        name: "src_ilim",
        tags: Tags::from_code(*b"CLP"),
        kind: Kind::U32,
    },
    FieldDesc {
        name: "qtime_max",
        tags: Tags::from_code(*b"MMP"),
        kind: Kind::U32,
    },
    FieldDesc {
        name: "ctime_max",
        tags: Tags::from_code(*b"MMP"),
        kind: Kind::U32,
    },
    FieldDesc {
        name: "rtime_max",
        tags: Tags::from_code(*b"MMP"),
        kind: Kind::U32,
    },
    FieldDesc {
        name: "ttime_max",
        tags: Tags::from_code(*b"MMP"),
        kind: Kind::U32,
    },
    FieldDesc {
        name: "eint",
        tags: Tags::from_code(*b"MCP"),
        kind: Kind::U64,
    },
    FieldDesc {
        name: "idle_conn_cur",
        tags: Tags::from_code(*b"MGP"),
        kind: Kind::U32,
    },
    FieldDesc {
        name: "safe_conn_cur",
        tags: Tags::from_code(*b"MGP"),
        kind: Kind::U32,
    },
    FieldDesc {
        name: "used_conn_cur",
        tags: Tags::from_code(*b"MGP"),
        kind: Kind::U32,
    },
    FieldDesc {
        name: "need_conn_est",
        tags: Tags::from_code(*b"MGP"),
        kind: Kind::U32,
    },
    FieldDesc {
        name: "uweight",
        tags: Tags::from_code(*b"MaP"),
        kind: Kind::U32,
    },
    FieldDesc {
        name: "agg_server_status",
        tags: Tags::from_code(*b"MGP"),
        kind: Kind::U32,
    },
    FieldDesc {
        name: "agg_server_check_status",
        tags: Tags::from_code(*b"MGP"),
        kind: Kind::U32,
    },
    FieldDesc {
        name: "agg_check_status",
        tags: Tags::from_code(*b"MGP"),
        kind: Kind::U32,
    },
];

/// Number of module columns after `-` in the Debian 2.6.12 build (ssl, h2, h1 modules).
pub const MODULE_FIELD_COUNT: usize = 24;

/// The module columns after the `-` marker, in 2.6.12 order.
pub const MODULE_FIELDS: [FieldDesc; MODULE_FIELD_COUNT] = [
    FieldDesc {
        name: "ssl_sess",
        tags: Tags::from_code(*b"MCP"),
        kind: Kind::U64,
    },
    FieldDesc {
        name: "ssl_reused_sess",
        tags: Tags::from_code(*b"MCP"),
        kind: Kind::U64,
    },
    FieldDesc {
        name: "ssl_failed_handshake",
        tags: Tags::from_code(*b"MCP"),
        kind: Kind::U64,
    },
    FieldDesc {
        name: "h2_headers_rcvd",
        tags: Tags::from_code(*b"MCP"),
        kind: Kind::U64,
    },
    FieldDesc {
        name: "h2_data_rcvd",
        tags: Tags::from_code(*b"MCP"),
        kind: Kind::U64,
    },
    FieldDesc {
        name: "h2_settings_rcvd",
        tags: Tags::from_code(*b"MCP"),
        kind: Kind::U64,
    },
    FieldDesc {
        name: "h2_rst_stream_rcvd",
        tags: Tags::from_code(*b"MCP"),
        kind: Kind::U64,
    },
    FieldDesc {
        name: "h2_goaway_rcvd",
        tags: Tags::from_code(*b"MCP"),
        kind: Kind::U64,
    },
    FieldDesc {
        name: "h2_detected_conn_protocol_errors",
        tags: Tags::from_code(*b"MCP"),
        kind: Kind::U64,
    },
    FieldDesc {
        name: "h2_detected_strm_protocol_errors",
        tags: Tags::from_code(*b"MCP"),
        kind: Kind::U64,
    },
    FieldDesc {
        name: "h2_rst_stream_resp",
        tags: Tags::from_code(*b"MCP"),
        kind: Kind::U64,
    },
    FieldDesc {
        name: "h2_goaway_resp",
        tags: Tags::from_code(*b"MCP"),
        kind: Kind::U64,
    },
    FieldDesc {
        name: "h2_open_connections",
        tags: Tags::from_code(*b"MGP"),
        kind: Kind::U64,
    },
    FieldDesc {
        name: "h2_backend_open_streams",
        tags: Tags::from_code(*b"MGP"),
        kind: Kind::U64,
    },
    FieldDesc {
        name: "h2_total_connections",
        tags: Tags::from_code(*b"MCP"),
        kind: Kind::U64,
    },
    FieldDesc {
        name: "h2_backend_total_streams",
        tags: Tags::from_code(*b"MCP"),
        kind: Kind::U64,
    },
    FieldDesc {
        name: "h1_open_connections",
        tags: Tags::from_code(*b"MGP"),
        kind: Kind::U64,
    },
    FieldDesc {
        name: "h1_open_streams",
        tags: Tags::from_code(*b"MGP"),
        kind: Kind::U64,
    },
    FieldDesc {
        name: "h1_total_connections",
        tags: Tags::from_code(*b"MCP"),
        kind: Kind::U64,
    },
    FieldDesc {
        name: "h1_total_streams",
        tags: Tags::from_code(*b"MCP"),
        kind: Kind::U64,
    },
    FieldDesc {
        name: "h1_bytes_in",
        tags: Tags::from_code(*b"MCP"),
        kind: Kind::U64,
    },
    FieldDesc {
        name: "h1_bytes_out",
        tags: Tags::from_code(*b"MCP"),
        kind: Kind::U64,
    },
    FieldDesc {
        name: "h1_spliced_bytes_in",
        tags: Tags::from_code(*b"MCP"),
        kind: Kind::U64,
    },
    FieldDesc {
        name: "h1_spliced_bytes_out",
        tags: Tags::from_code(*b"MCP"),
        kind: Kind::U64,
    },
];
