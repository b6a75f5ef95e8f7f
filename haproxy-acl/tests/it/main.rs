//! Integration tests for haproxy-acl (one binary per crate).
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::print_stderr,
    reason = "test helpers outside #[test] functions; failing loudly is the point"
)]

mod conditions;
mod differential;
mod fetches;
mod parse_errors;
mod req;
mod robustness;
mod runtime;
