//! HAProxy's ACL language and maps: parse, compile and evaluate conditions on your own requests.
//!
//! This crate is part of [haproxy-rs](https://github.com/haproxy-rs/haproxy-rs); see the
//! repository README for the crate map.
#![forbid(unsafe_code)]
