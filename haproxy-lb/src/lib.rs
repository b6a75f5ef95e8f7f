//! HAProxy-compatible load-balancing algorithms and consistent hashing, without I/O.
//!
//! This crate is part of [haproxy-rs](https://github.com/haproxy-rs/haproxy-rs); see the
//! repository README for the crate map.
#![forbid(unsafe_code)]
