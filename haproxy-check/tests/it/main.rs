//! Integration tests for haproxy-check (one binary per crate).
