//! Integration tests for haproxy-lb (one binary per crate).
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers outside #[test] functions should fail loudly on a bad fixture"
)]

mod avoid;
mod behaviour;
mod concurrency;
mod dynamic;
mod grab;
mod props;
mod recorded;
