//! What the health and agent checks of a server last reported, published by the check wiring and
//! read by `show stat`, `show servers state`, the stats page and Prometheus. Never touched by the
//! request path: a short lock per check result and per stats read is all it costs.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use haproxy_stats::CheckStats;

/// The check figures of one server.
#[derive(Debug, Default)]
pub struct CheckSlot {
    health: Mutex<Option<CheckStats>>,
    agent: Mutex<Option<CheckStats>>,
    /// Failed checks (`chkfail`).
    pub chkfail: AtomicU64,
    /// UP to DOWN transitions (`chkdown`).
    pub chkdown: AtomicU64,
    /// Seconds spent down before the current state (`downtime`, without the running period).
    pub downtime: AtomicU64,
}

impl CheckSlot {
    /// Publishes the health check's figures (`None`: the server has no health check).
    pub fn set_health(&self, stats: Option<CheckStats>) {
        if let Ok(mut h) = self.health.lock() {
            *h = stats;
        }
    }

    /// Publishes the agent check's figures (`None`: no agent check).
    pub fn set_agent(&self, stats: Option<CheckStats>) {
        if let Ok(mut a) = self.agent.lock() {
            *a = stats;
        }
    }

    /// The health check's figures, if the server has a health check.
    pub fn health(&self) -> Option<CheckStats> {
        self.health.lock().ok().and_then(|h| h.clone())
    }

    /// The agent check's figures, if the server has an agent check.
    pub fn agent(&self) -> Option<CheckStats> {
        self.agent.lock().ok().and_then(|a| a.clone())
    }

    /// Counts one failed check.
    pub fn count_failure(&self) {
        self.chkfail.fetch_add(1, Relaxed);
    }
}
