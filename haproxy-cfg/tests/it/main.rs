//! Integration tests for haproxy-cfg (one binary per crate).
mod cond;
mod differential;
mod golden;
mod lex;
mod model;
mod no_panic;
mod paths;
mod reader_golden;
mod reader_live;
mod roundtrip;
