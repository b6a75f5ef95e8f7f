//! The crate's error type.

/// What can go wrong when building or changing a balancer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LbError {
    /// `set weight` asked a static algorithm (static-rr, map-based hashing) for a weight other
    /// than 0 or the initial one. [`LbError::haproxy_message`] gives HAProxy's exact text.
    #[error("backend is using a static lb algorithm and only accepts weights '0%' and '100%'")]
    StaticWeight,
    /// A weight above [`crate::MAX_WEIGHT`].
    #[error("weight {weight} is not within 0 and 256")]
    WeightOutOfRange {
        /// The refused weight.
        weight: u32,
    },
    /// More servers than [`crate::MAX_SERVERS`].
    #[error("too many servers ({count}, at most {max})")]
    TooManyServers {
        /// How many were given.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// Two servers share one id.
    #[error("duplicate server id {id}")]
    DuplicateId {
        /// The id used twice.
        id: u32,
    },
    /// A server index that does not exist in this set.
    #[error("no server at index {index}")]
    NoSuchServer {
        /// The index asked for.
        index: usize,
    },
    /// `random(draws)` with 0 draws or more than [`crate::MAX_DRAWS`].
    #[error("random draws must be within 1 and {max} (got {draws})")]
    Draws {
        /// The refused count.
        draws: u32,
        /// The limit.
        max: u32,
    },
    /// `hash-balance-factor` between 1 and 100 (0 = off, otherwise it must exceed 100).
    #[error("hash-balance-factor must be 0 or above 100 (got {factor})")]
    BalanceFactor {
        /// The refused factor.
        factor: u32,
    },
}

impl LbError {
    /// The message HAProxy 2.6's runtime API prints for this error, when it has one
    /// (reference §0 item 5: `set weight` on a static algorithm).
    #[must_use]
    pub fn haproxy_message(&self) -> Option<&'static str> {
        match self {
            Self::StaticWeight => Some(
                "Backend is using a static LB algorithm and only accepts weights '0%' and '100%'.",
            ),
            _ => None,
        }
    }
}
