//! The crate's error type.

/// Errors from the statistics crate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StatsError {
    /// A CLI request line is longer than [`crate::cli::MAX_LINE_LEN`].
    #[error("cli line longer than {limit} bytes")]
    LineTooLong {
        /// The limit.
        limit: usize,
    },
    /// A CLI payload is larger than [`crate::cli::MAX_PAYLOAD_LEN`].
    #[error("cli payload larger than {limit} bytes")]
    PayloadTooLarge {
        /// The limit.
        limit: usize,
    },
}
