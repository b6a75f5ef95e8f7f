//! Integration tests for haproxy-lb (one binary per crate).

mod concurrency;
mod props;
mod recorded;
