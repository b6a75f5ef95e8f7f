//! The crate's error type.

/// Everything that can go wrong in haproxy-check.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CheckError {
    /// A check parameter is out of range.
    #[error("invalid {name}: {reason}")]
    InvalidParam {
        /// The keyword (`rise`, `inter`, ...).
        name: &'static str,
        /// Why it was rejected.
        reason: String,
    },
    /// A check rule (http-check, tcp-check, agent-send, ...) could not be built.
    #[error("invalid check rule: {0}")]
    InvalidRule(String),
    /// A regular expression in an `expect` rule does not compile.
    #[error("invalid regular expression '{pattern}'")]
    Regex {
        /// The pattern as written.
        pattern: String,
        /// The compiler's complaint.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The scheduler's event receiver is gone.
    #[error("check scheduler stopped")]
    Stopped,
}
