//! Integration tests for haproxy-proxy (one binary per crate).
#![expect(
    clippy::unwrap_used,
    clippy::print_stderr,
    clippy::indexing_slicing,
    reason = "test helpers outside #[test] functions: a failed setup should abort the test, and a skip is reported on stderr"
)]

mod admin;
mod backend_diff;
mod balance_hash;
mod buffer_errorfiles;
mod build;
mod daemon;
mod differential;
mod early_answer;
mod engines;
mod errorfile_sets;
mod grab_diff;
mod grab_slot;
mod health;
mod health_columns;
mod health_queue_lines;
mod health_reset;
mod health_spread;
mod kill;
mod listeners;
mod maxconn_requeue;
mod minconn;
mod msg_more;
mod no_delay;
mod origin;
mod paths;
mod portless;
mod ports;
mod proxy_bytes;
mod queue;
mod queue_body;
mod queue_diff;
mod queue_failover;
mod queue_kill;
mod rate_limits;
mod redispatch_diff;
mod registry;
mod requeue_diff;
mod routing;
mod scenarios;
mod scratch;
mod slow_client;
mod soft_stop;
mod streaming;
mod support;
mod tcp_accept_proxy;
mod tcp_differential;
mod tcp_kill;
mod tcp_mode;
mod tcp_rules;
mod timeouts;
