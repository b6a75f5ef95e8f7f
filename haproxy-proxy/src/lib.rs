//! The haproxy-rs proxy core: listeners, TCP and HTTP/1 streams, routing and server pools.
//!
//! This crate is part of [haproxy-rs](https://github.com/haproxy-rs/haproxy-rs); see the
//! repository README for the crate map.
#![forbid(unsafe_code)]
