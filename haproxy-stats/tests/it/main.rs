//! Integration tests for haproxy-stats (one binary per crate).
