//! From text to [`Document`]: line splitting, lexing, conditional blocks and section grouping,
//! as HAProxy 2.6's `readcfgfile()` does it (src/cfgparse.c).

mod cond;
mod error;
mod reader;

use std::path::Path;

pub use cond::{
    BUILD_FEATURES, EMULATED_OPENSSL_VERSION, EMULATED_SSLLIB_NAME, EMULATED_VERSION,
    MAX_CFG_RECURSION, MAX_NESTED_CONDS,
};
pub use error::ParseError;

use crate::ast::Document;

/// Largest input [`parse_bytes`] and [`parse_file`] accept, in bytes.
pub const MAX_FILE_LEN: usize = 1 << 30;

/// Looks a variable up in the process environment (non-UTF-8 values are converted lossily).
fn std_env(name: &str) -> Option<String> {
    if name.is_empty() {
        return None;
    }
    std::env::var_os(name).map(|v| v.to_string_lossy().into_owned())
}

/// Parses configuration text, expanding variables from the process environment.
///
/// Never fails: lexer errors stay on their [`crate::ast::Line`], reader messages in
/// [`Document::messages`].
///
/// # Examples
/// ```
/// let doc = haproxy_cfg::parse_str("x.cfg", "frontend web\n    bind :80\n");
/// assert_eq!(doc.sections[0].name(), Some("web"));
/// assert_eq!(haproxy_cfg::fmt::print(&doc), "frontend web\n    bind :80\n");
/// ```
#[must_use]
pub fn parse_str(name: &str, text: &str) -> Document {
    parse_str_with(name, text, &std_env)
}

/// Parses configuration text with a caller-supplied variable lookup (for `$NAME`, `defined()`).
#[must_use]
pub fn parse_str_with(name: &str, text: &str, vars: &dyn Fn(&str) -> Option<String>) -> Document {
    reader::read(name, reader::split_str(text), vars)
}

/// Parses raw bytes with the process environment.
///
/// Lines that are not valid UTF-8 are decoded as Latin-1 (one `char` per byte) and flagged with
/// [`crate::ast::Line::latin1`], so [`crate::fmt::print_bytes`] gives the original bytes back.
///
/// # Errors
/// [`ParseError::TooLarge`] past [`MAX_FILE_LEN`].
pub fn parse_bytes(name: &str, bytes: &[u8]) -> Result<Document, ParseError> {
    parse_bytes_with(name, bytes, &std_env)
}

/// Parses raw bytes with a caller-supplied variable lookup.
///
/// # Errors
/// [`ParseError::TooLarge`] past [`MAX_FILE_LEN`].
pub fn parse_bytes_with(
    name: &str,
    bytes: &[u8],
    vars: &dyn Fn(&str) -> Option<String>,
) -> Result<Document, ParseError> {
    if bytes.len() > MAX_FILE_LEN {
        return Err(ParseError::TooLarge {
            limit: MAX_FILE_LEN,
        });
    }
    Ok(reader::read(name, reader::split_bytes(bytes), vars))
}

/// Reads and parses a file; the document's name is the path as given.
///
/// # Errors
/// [`ParseError::Read`] when the file cannot be read, [`ParseError::TooLarge`] past
/// [`MAX_FILE_LEN`].
pub fn parse_file(path: impl AsRef<Path>) -> Result<Document, ParseError> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|source| ParseError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse_bytes(&path.to_string_lossy(), &bytes)
}

/// The crate README's example, compiled and run as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeExample;
