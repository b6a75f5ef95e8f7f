//! Integration tests for haproxy-check (one binary per crate).

mod agent_differential;
mod differential;
mod health_log;
mod http_probe;
mod live;
mod peer;
mod proto_probe;
mod redis_real;
mod reset_probe;
mod schedule;
mod tcp_probe;
#[cfg(feature = "tls")]
mod tls_probe;
