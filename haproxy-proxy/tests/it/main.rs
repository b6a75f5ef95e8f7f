//! Integration tests for haproxy-proxy (one binary per crate).
#![expect(
    clippy::unwrap_used,
    clippy::print_stderr,
    reason = "test helpers outside #[test] functions: a failed setup should abort the test, and a skip is reported on stderr"
)]

mod differential;
