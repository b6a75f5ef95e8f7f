//! Integration tests for haproxy-lb (one binary per crate).
