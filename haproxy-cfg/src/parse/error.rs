//! [`ParseError`]: why a configuration could not be read at all.

use std::path::PathBuf;

/// Why a configuration file could not be read. Syntax problems are not errors here: they are
/// kept per line in the [`crate::ast::Document`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// The file could not be read.
    #[error("cannot open configuration file {}", path.display())]
    Read {
        /// The path that was read.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The input is larger than [`crate::parse::MAX_FILE_LEN`].
    #[error("configuration file is larger than {limit} bytes")]
    TooLarge {
        /// The bound that was exceeded.
        limit: usize,
    },
}
