//! Integration tests for haproxy-proxy (one binary per crate).
#![expect(
    clippy::unwrap_used,
    clippy::print_stderr,
    clippy::indexing_slicing,
    reason = "test helpers outside #[test] functions: a failed setup should abort the test, and a skip is reported on stderr"
)]

mod backend_diff;
mod build;
mod differential;
mod engines;
mod origin;
mod scenarios;
mod slow_client;
mod streaming;
mod tcp_accept_proxy;
mod timeouts;
