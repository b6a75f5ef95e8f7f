//! Parser, lossless syntax tree, typed model, linter and formatter for HAProxy configuration files.
//!
//! This crate is part of [haproxy-rs](https://github.com/haproxy-rs/haproxy-rs); see the
//! repository README for the crate map.
#![forbid(unsafe_code)]
pub mod ast;
pub mod diag;
pub mod fmt;
pub mod keywords;
pub mod lex;
pub mod parse;
pub mod span;
pub mod values;
pub use parse::{ParseError, parse_bytes, parse_bytes_with, parse_file, parse_str, parse_str_with};
pub use span::Span;
pub mod checks;
pub mod load;
pub mod model;
