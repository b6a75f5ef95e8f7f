//! Integration tests for haproxy-proxy (one binary per crate).
