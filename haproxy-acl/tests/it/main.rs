//! Integration tests for haproxy-acl (one binary per crate).
