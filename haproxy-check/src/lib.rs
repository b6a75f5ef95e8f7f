//! HAProxy-compatible health checks: a pure rise/fall state machine plus async probes.
//!
//! This crate is part of [haproxy-rs](https://github.com/haproxy-rs/haproxy-rs); see the
//! repository README for the crate map.
#![forbid(unsafe_code)]
