//! Integration tests for haproxy-cfg (one binary per crate).
mod lex;
mod reader_golden;
mod roundtrip;
mod no_panic;
mod cond;
mod golden;
mod differential;
mod model;
