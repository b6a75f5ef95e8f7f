//! The `balance` algorithm and `hash-type` choices.

use crate::key::{Hasher, UriOptions};

/// The `balance` algorithm (configuration.txt, "balance").
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Algorithm {
    /// `roundrobin`: dynamic weighted round robin.
    RoundRobin,
    /// `static-rr`: static weighted round robin.
    StaticRr,
    /// `leastconn`: fewest connections (queued ones included), round robin among equals.
    LeastConn,
    /// `first`: the lowest-id server with a free slot.
    First,
    /// `random(<draws>)`: the least loaded of `draws` random ring positions.
    Random {
        /// Number of draws (1 to [`crate::MAX_DRAWS`]).
        draws: u32,
    },
    /// `source`: the client address.
    Source,
    /// `uri [len n] [depth n] [whole] [path-only]`.
    Uri(UriOptions),
    /// `url_param <name>`; round robin when the parameter is absent.
    UrlParam(String),
    /// `hdr(<name>) [use_domain_only]`; round robin when the header is absent or empty.
    Hdr {
        /// Header name (the caller looks it up, case-insensitively).
        name: String,
        /// `use_domain_only`.
        use_domain_only: bool,
    },
    /// `rdp-cookie(<name>)`; round robin when absent.
    RdpCookie(String),
}

impl Algorithm {
    /// Whether this is one of the hashing algorithms (whose lookup `hash-type` selects).
    #[must_use]
    pub fn is_hash(&self) -> bool {
        matches!(
            self,
            Self::Source | Self::Uri(_) | Self::UrlParam(_) | Self::Hdr { .. } | Self::RdpCookie(_)
        )
    }
}

/// `hash-type <method>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HashType {
    /// `map-based` (the default): a static table, `hash % total weight`.
    #[default]
    MapBased,
    /// `consistent`: a ring of points per server.
    Consistent,
}

/// Everything that shapes a backend's balancing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BalanceConfig {
    /// `balance`.
    pub algorithm: Algorithm,
    /// `hash-type` method.
    pub hash_type: HashType,
    /// `hash-type` function and `avalanche`.
    pub hasher: Hasher,
    /// `hash-balance-factor` (0 = off, otherwise above 100).
    pub hash_balance_factor: u32,
    /// `option allbackups`.
    pub allbackups: bool,
    /// `fullconn`: the backend load (streams served or queued) at which servers with a
    /// dynamic limit reach their `maxconn` (0 = always at `maxconn`). HAProxy derives it when
    /// the configuration leaves it out; the caller passes the derived value.
    pub fullconn: u32,
}

impl BalanceConfig {
    /// A config with HAProxy's defaults for everything but the algorithm.
    #[must_use]
    pub fn new(algorithm: Algorithm) -> Self {
        Self {
            algorithm,
            hash_type: HashType::MapBased,
            hasher: Hasher::default(),
            hash_balance_factor: 0,
            allbackups: false,
            fullconn: 0,
        }
    }

    /// Sets `fullconn`.
    #[must_use]
    pub fn with_fullconn(mut self, fullconn: u32) -> Self {
        self.fullconn = fullconn;
        self
    }

    /// Sets `hash-type`; like HAProxy, `consistent` without an explicit function means
    /// sdbm with avalanche, which the caller expresses through `hasher`.
    #[must_use]
    pub fn with_hash(mut self, hash_type: HashType, hasher: Hasher) -> Self {
        self.hash_type = hash_type;
        self.hasher = hasher;
        self
    }

    /// Whether weights may change at run time (HAProxy's `BE_LB_PROP_DYN`).
    #[must_use]
    pub fn is_dynamic(&self) -> bool {
        match self.algorithm {
            Algorithm::StaticRr => false,
            ref a if a.is_hash() => self.hash_type == HashType::Consistent,
            _ => true,
        }
    }

    /// Whether servers are looked up on a consistent-hash ring.
    pub(crate) fn uses_ring(&self) -> bool {
        matches!(self.algorithm, Algorithm::Random { .. })
            || (self.algorithm.is_hash() && self.hash_type == HashType::Consistent)
    }

    /// Whether servers are looked up in a static map.
    pub(crate) fn uses_map(&self) -> bool {
        matches!(self.algorithm, Algorithm::StaticRr)
            || (self.algorithm.is_hash() && self.hash_type == HashType::MapBased)
    }

    /// Whether connection counts of servers without `maxconn` may be kept per thread: all
    /// but bounded loads, which keep the backend's total beside them.
    pub(crate) fn counts_locally(&self) -> bool {
        self.hash_balance_factor == 0
    }
}
