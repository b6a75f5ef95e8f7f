//! The registry: every frontend, backend and server of the running configuration with its live
//! counters and state, shared by the streams (which record into it), the health checks (which set
//! server health) and the runtime API and stats page (which read and change it).
//!
//! Reading and recording use atomics only; a state or weight change goes through the backend's
//! haproxy-lb balancer, which recomputes only what changed.

mod check;
mod server;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering::Relaxed};
use std::time::{Instant, SystemTime};

pub use check::CheckSlot;
pub use server::{Admin, Health, ServerEntry};

use crate::build::LbPicker;
use crate::counters::Counters;
use crate::facts::StreamFacts;
use crate::settings::Mode;

/// A frontend (or the frontend side of a listen section).
#[derive(Debug)]
pub struct FrontendEntry {
    /// The name.
    pub name: String,
    /// The proxy id (`iid` in `show stat`), as HAProxy numbers proxies.
    pub id: u32,
    /// `mode`.
    pub mode: Mode,
    /// The counters the frontend's streams record into.
    pub counters: Arc<Counters>,
    /// The configured `maxconn` (0 = unlimited).
    pub maxconn: AtomicU32,
    /// False after `disable frontend` (listeners paused).
    pub enabled: AtomicBool,
}

/// A backend (or the backend side of a listen section) and its servers.
#[derive(Debug)]
pub struct BackendEntry {
    /// The name.
    pub name: String,
    /// The proxy id (`iid` in `show stat`).
    pub id: u32,
    /// `mode`.
    pub mode: Mode,
    /// The backend's counters.
    pub counters: Arc<Counters>,
    /// The servers, in configuration order (the balancer's indexes).
    pub servers: Vec<ServerEntry>,
}

/// Every proxy of the running configuration.
#[derive(Debug)]
pub struct Registry {
    /// Frontends, in configuration order.
    pub frontends: Vec<FrontendEntry>,
    /// Backends, in configuration order; the index is the one routing uses.
    pub backends: Vec<BackendEntry>,
    /// The balancers, by backend index.
    pub picker: LbPicker,
    /// When the process started serving (for uptimes and `lastchg`).
    pub started: Instant,
    /// The wall-clock time at `started`.
    pub started_wall: SystemTime,
}

impl Registry {
    /// A registry over the given proxies and balancers.
    pub fn new(
        frontends: Vec<FrontendEntry>,
        backends: Vec<BackendEntry>,
        picker: LbPicker,
    ) -> Registry {
        Registry {
            frontends,
            backends,
            picker,
            started: Instant::now(),
            started_wall: SystemTime::now(),
        }
    }

    /// A registry with no proxy, for services built by hand (tests, embedding).
    pub fn empty() -> Arc<Registry> {
        Arc::new(Registry::new(
            Vec::new(),
            Vec::new(),
            LbPicker(Arc::new(Vec::new())),
        ))
    }

    /// Seconds since the registry was created (the clock of slow starts and `lastchg`).
    pub fn now_secs(&self) -> u64 {
        self.started.elapsed().as_secs()
    }

    /// The backend named `name`, with its index.
    pub fn backend(&self, name: &str) -> Option<(usize, &BackendEntry)> {
        self.backends
            .iter()
            .enumerate()
            .find(|(_, b)| b.name == name)
    }

    /// The frontend named `name`, with its index.
    pub fn frontend(&self, name: &str) -> Option<(usize, &FrontendEntry)> {
        self.frontends
            .iter()
            .enumerate()
            .find(|(_, f)| f.name == name)
    }

    /// The server `backend/server` by names, with both indexes.
    pub fn server(&self, backend: &str, server: &str) -> Option<(usize, usize, &ServerEntry)> {
        let (b, be) = self.backend(backend)?;
        let (s, sv) = be
            .servers
            .iter()
            .enumerate()
            .find(|(_, s)| s.name == server)?;
        Some((b, s, sv))
    }

    /// The balancer of backend `b` (`None` for a backend without servers).
    pub fn balancer(&self, b: usize) -> Option<&haproxy_lb::Balancer> {
        self.picker.0.get(b)?.balancer.as_ref()
    }

    /// Pushes server `(b, s)`'s effective state (admin + health) to the balancer; call after
    /// changing [`ServerEntry::set_admin`] or [`ServerEntry::set_health`]. Returns whether the
    /// state the balancer sees changed.
    pub fn apply_server_state(&self, b: usize, s: usize) -> bool {
        let (Some(sv), Some(lb)) = (
            self.backends.get(b).and_then(|be| be.servers.get(s)),
            self.balancer(b),
        ) else {
            return false;
        };
        let state = sv.lb_state();
        let now = self.now_secs();
        lb.set_state(s, state, now).is_ok() && sv.applied(state, now)
    }

    /// Sets server `(b, s)`'s user weight through its balancer.
    ///
    /// # Errors
    /// The balancer's error: a static algorithm refusing the weight, out of range, no server.
    pub fn set_weight(&self, b: usize, s: usize, weight: u32) -> Result<(), haproxy_lb::LbError> {
        match self.balancer(b) {
            Some(lb) => lb.set_weight(s, weight, self.now_secs()),
            None => Err(haproxy_lb::LbError::NoSuchServer { index: s }),
        }
    }

    /// Records a finished stream (or HTTP request) into its backend's and server's counters
    /// (the frontend's are recorded by the frontend itself).
    pub fn record(&self, facts: &StreamFacts) {
        let Some(be) = facts.backend.and_then(|b| self.backends.get(b)) else {
            return;
        };
        be.counters.sessions_total.fetch_add(1, Relaxed);
        be.counters.record(facts);
        if let Some(sv) = facts.server.and_then(|s| be.servers.get(s)) {
            sv.counters.sessions_total.fetch_add(1, Relaxed);
            sv.counters.record(facts);
        }
    }
}

#[cfg(test)]
mod tests;
