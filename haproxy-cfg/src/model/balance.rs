//! `balance` and `hash-type`.

/// A load-balancing algorithm and its arguments (reference §2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Balance {
    /// `roundrobin`.
    RoundRobin,
    /// `static-rr`.
    StaticRr,
    /// `leastconn`.
    LeastConn,
    /// `first`.
    First,
    /// `source`.
    Source,
    /// `uri [len N] [depth N] [whole] [path-only]`.
    Uri {
        /// `len`.
        len: Option<u32>,
        /// `depth`.
        depth: Option<u32>,
        /// `whole`.
        whole: bool,
        /// `path-only`.
        path_only: bool,
    },
    /// `url_param <name> [check_post]`.
    UrlParam {
        /// Parameter name.
        name: String,
        /// `check_post`.
        check_post: bool,
    },
    /// `hdr(<name>) [use_domain_only]`.
    Hdr {
        /// Header name.
        name: String,
        /// `use_domain_only`.
        use_domain_only: bool,
    },
    /// `rdp-cookie[(name)]`.
    RdpCookie(String),
    /// `random[(draws)]`.
    Random(u32),
    /// `hash <expr>`.
    Hash(String),
}

impl Balance {
    /// Whether the algorithm needs an HTTP request (layer 7).
    #[must_use]
    pub fn is_layer7(&self) -> bool {
        matches!(
            self,
            Self::Uri { .. } | Self::UrlParam { .. } | Self::Hdr { .. }
        )
    }
}

/// `hash-type <method> [function] [avalanche]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashType {
    /// map-based or consistent.
    pub method: HashMethod,
    /// Hash function (default sdbm).
    pub function: HashFunction,
    /// `avalanche` (implied by consistent without a function).
    pub avalanche: bool,
}

/// How keys map to servers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashMethod {
    /// `map-based` (default): static array.
    MapBased,
    /// `consistent`: tree of points per server.
    Consistent,
}

/// Hash functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashFunction {
    /// sdbm.
    Sdbm,
    /// djb2.
    Djb2,
    /// wt6.
    Wt6,
    /// crc32.
    Crc32,
}
