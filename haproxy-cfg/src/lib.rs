//! Parser, lossless syntax tree, typed model, linter and formatter for HAProxy configuration files.
//!
//! This crate is part of [haproxy-rs](https://github.com/haproxy-rs/haproxy-rs); see the
//! repository README for the crate map.
#![forbid(unsafe_code)]
pub mod values;
pub mod keywords;
pub mod diag;
