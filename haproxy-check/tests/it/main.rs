//! Integration tests for haproxy-check (one binary per crate).

mod http_probe;
mod peer;
mod proto_probe;
mod schedule;
mod tcp_probe;
