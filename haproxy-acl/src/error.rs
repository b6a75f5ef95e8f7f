//! The crate's error type.

/// Everything that can go wrong while parsing ACLs, conditions, samples, maps or runtime edits.
///
/// Messages follow HAProxy 2.6's wording where it has one (lower-case, no trailing period).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AclError {
    /// The word is not a known sample fetch or ACL keyword.
    #[error("unknown fetch method '{fetch}' in ACL expression '{word}'")]
    UnknownFetch {
        /// The fetch name as written.
        fetch: String,
        /// The whole expression word.
        word: String,
    },
    /// An ACL expression (or an anonymous `{ }` block) had no fetch at all.
    #[error("missing fetch method in ACL expression '{word}'")]
    MissingFetch {
        /// The (empty) word where the fetch was expected.
        word: String,
    },
    /// The arguments or converters attached to a fetch are invalid.
    #[error("ACL keyword '{keyword}' : {message}")]
    Expression {
        /// The fetch or ACL keyword.
        keyword: String,
        /// What is wrong, in HAProxy's words.
        message: String,
    },
    /// A flag (`-m`, `-u`, unknown `-x`) is used wrongly.
    #[error("{message}")]
    Flag {
        /// The offending word.
        word: String,
        /// What is wrong, in HAProxy's words.
        message: String,
    },
    /// A pattern cannot be parsed for the chosen match method.
    #[error("{message}")]
    Pattern {
        /// The offending pattern.
        pattern: String,
        /// What is wrong, in HAProxy's words (e.g. `'x' is not a valid IPv4 or IPv6 address`).
        message: String,
    },
    /// A regular expression does not compile.
    #[error("regex '{pattern}' is invalid: {message}")]
    Regex {
        /// The regex as written.
        pattern: String,
        /// The compiler's complaint.
        message: String,
    },
    /// A pattern or map file could not be read.
    #[error("failed to open pattern file <{path}>")]
    File {
        /// The path given after `-f` or in a map converter.
        path: String,
        /// The loader's error.
        #[source]
        source: std::io::Error,
    },
    /// The ACL name contains a character outside `[A-Za-z0-9_.:-]`.
    #[error("invalid character in ACL name : '{ch}'")]
    InvalidName {
        /// The first invalid character.
        ch: char,
    },
    /// A condition names an ACL that is neither defined nor predefined.
    #[error("no such ACL : '{name}'")]
    NoSuchAcl {
        /// The name used in the condition.
        name: String,
    },
    /// A `{` in a condition has no matching `}`.
    #[error("missing closing '}}' in condition")]
    MissingBrace,
    /// The line does not start with the expected keyword (`acl`, `if`, `unless`).
    #[error("expected {expected}, found '{word}'")]
    Keyword {
        /// What was expected.
        expected: &'static str,
        /// What was found.
        word: String,
    },
    /// An input is larger than a documented bound of this crate.
    #[error("{what} exceeds the limit of {limit}")]
    TooLarge {
        /// What was counted.
        what: &'static str,
        /// The bound (a `MAX_*` constant).
        limit: usize,
    },
    /// A runtime edit names a pattern reference that does not exist.
    #[error("Unknown ACL identifier. Please use #<id> or <file>")]
    UnknownRef {
        /// The identifier given.
        ident: String,
    },
    /// A runtime edit names an entry that does not exist.
    #[error("Key not found")]
    KeyNotFound {
        /// The key or `#ref` given.
        key: String,
    },
    /// A runtime map edit needs a value but the reference is an ACL (or the reverse).
    #[error("'{ident}' is not a map")]
    NotAMap {
        /// The identifier given.
        ident: String,
    },
}
