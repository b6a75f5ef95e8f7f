//! Integration tests for haproxy-stats (one binary per crate).

mod golden_cli;
mod golden_stat;
mod html;
mod model;
mod prometheus;
mod props;
mod session;
