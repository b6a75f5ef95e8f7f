//! HAProxy-compatible statistics: counters, CSV/typed/JSON/HTML/Prometheus renderers, runtime-API grammar.
//!
//! This crate is part of [haproxy-rs](https://github.com/haproxy-rs/haproxy-rs); see the
//! repository README for the crate map.
#![forbid(unsafe_code)]
