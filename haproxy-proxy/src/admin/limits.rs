//! Limits the runtime API changes on live traffic: the global and per-frontend `maxconn`
//! (`set maxconn global|frontend`) and `disable|enable frontend`, applied to the accept gates,
//! plus the values copied from the configuration at start (global and server `maxconn`), and
//! the rate limits (`maxconnrate`, `maxsessrate`, `rate-limit sessions`, `set rate-limit`).

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use crate::build::Runtime;
use crate::listener::{ConnGate, ConnPermit};
use crate::registry::{RateLimit, Registry};

/// Copies what the registry shows but the build step does not put there: the global `maxconn`
/// and each server's `maxconn` (each backend's `fullconn` is set by the build, from the same
/// derivation its balancers use: `build/fullconn.rs`). Called by [`Runtime::start`].
pub(crate) fn prepare(runtime: &Runtime) {
    let reg = &runtime.registry;
    reg.limits.maxconn.store(runtime.global_maxconn, Relaxed);
    reg.limits
        .hard_maxconn
        .store(runtime.global_maxconn, Relaxed);
    let Some(first) = runtime.frontends.first() else {
        return;
    };
    for (be, settings) in reg.backends.iter().zip(&first.service.backends) {
        for (sv, cfg) in be.servers.iter().zip(&settings.servers) {
            sv.maxconn.store(cfg.maxconn, Relaxed);
        }
    }
}

/// What a gate should admit now, read from the registry.
#[derive(Debug, Clone)]
enum Allowed {
    /// The global `maxconn` (0 = back to the gate's capacity).
    Global,
    /// Frontend `i`: 0 while disabled, else its `maxconn` (0 = the gate's capacity).
    Frontend(usize),
}

/// Holds back slots of an accept gate so it admits what the registry says: `set maxconn` lowers
/// or raises the limit for the next accept, `disable frontend` holds every slot (accepting
/// pauses; in-flight connections finish). A gate never admits more than it was built with.
#[derive(Debug)]
pub struct LimitKeeper {
    gate: ConnGate,
    capacity: u32,
    allowed: Allowed,
    registry: Arc<Registry>,
}

impl LimitKeeper {
    /// The keeper of the global gate (`None` inside when unlimited).
    pub(crate) fn global(gate: &ConnGate, registry: &Arc<Registry>) -> LimitKeeper {
        LimitKeeper {
            gate: gate.clone(),
            capacity: registry.limits.hard_maxconn.load(Relaxed),
            allowed: Allowed::Global,
            registry: Arc::clone(registry),
        }
    }

    /// The keeper of frontend `name`'s gate, when the registry knows the frontend.
    pub(crate) fn frontend(
        gate: &ConnGate,
        capacity: u32,
        registry: &Arc<Registry>,
        name: &str,
    ) -> Option<LimitKeeper> {
        let (i, _) = registry.frontend(name)?;
        Some(LimitKeeper {
            gate: gate.clone(),
            capacity,
            allowed: Allowed::Frontend(i),
            registry: Arc::clone(registry),
        })
    }

    /// Slots to hold back now.
    fn reserve_target(&self) -> u32 {
        let allowed = match self.allowed {
            Allowed::Global => match self.registry.limits.maxconn.load(Relaxed) {
                0 => self.capacity,
                m => m,
            },
            Allowed::Frontend(i) => match self.registry.frontends.get(i) {
                Some(fe) if !fe.enabled.load(Relaxed) => 0,
                Some(fe) => match fe.maxconn.load(Relaxed) {
                    0 => self.capacity,
                    m => m,
                },
                None => self.capacity,
            },
        };
        self.capacity.saturating_sub(allowed)
    }

    /// Follows the registry until the task is dropped.
    pub async fn run(self) {
        if self.gate.available().is_none() {
            return; // unlimited: nothing to hold back
        }
        let mut changes = self.registry.limit_changes.subscribe();
        // Slots held back, in chunks taken with one place in the queue each (so accepts
        // waiting behind the keeper cannot overtake it between two slots).
        let mut held: Vec<(u32, ConnPermit)> = Vec::new();
        loop {
            let target = self.reserve_target();
            let mut count: u32 = held.iter().map(|(n, _)| *n).sum();
            while count > target {
                count -= held.pop().map_or(0, |(n, _)| n);
            }
            if count < target {
                let want = target - count;
                tokio::select! {
                    p = self.gate.acquire_many(want) => match p {
                        Some(p) => held.push((want, p)),
                        None => return,
                    },
                    r = changes.changed() => if r.is_err() { return },
                }
            } else if changes.changed().await.is_err() {
                return;
            }
        }
    }
}

/// Returns once the frontend at registry `index` is enabled (at once unless `disable frontend`
/// paused it).
pub async fn wait_frontend_enabled(registry: &Registry, index: usize) {
    let Some(fe) = registry.frontends.get(index) else {
        return;
    };
    if fe.enabled.load(Relaxed) {
        return;
    }
    let mut changes = registry.limit_changes.subscribe();
    while !fe.enabled.load(Relaxed) {
        if changes.changed().await.is_err() {
            return;
        }
    }
}

/// Most waits of one accept for the rate limits. Each wait lasts until the computed instant
/// the rates allow one more connection (or until a limit changes), so one wait is the rule and
/// more happen only when another listener took the room first; past this many the connection
/// is let in rather than held without end.
pub const MAX_RATE_WAITS: u32 = 1000;

/// The longest a limited frontend or the global limits keep an accept waiting, whichever is
/// longest; `None` when every applicable rate allows one more connection now.
fn rate_delay(registry: &Registry, frontend: usize) -> Option<Duration> {
    let limits = &registry.limits;
    let fe = registry.frontends.get(frontend).map(|f| &f.sess_rate);
    [Some(&limits.sess_rate), Some(&limits.conn_rate), fe]
        .into_iter()
        .flatten()
        .filter_map(RateLimit::delay)
        .max()
}

/// `maxconnrate`, `maxsessrate` and frontend `index`'s `rate-limit sessions` (and their
/// `set rate-limit … global` changes): an accepted connection waits, unread, until every rate
/// allows one more, as HAProxy 2.6 pauses its listeners and wakes them at the instant
/// `next_event_delay()` gives; then the connection is counted. Free while no limit is set.
pub async fn admit_connection(registry: &Registry, frontend: usize) {
    admit_within(registry, frontend, MAX_RATE_WAITS).await;
}

async fn admit_within(registry: &Registry, frontend: usize, max_waits: u32) {
    if let Some(first) = rate_delay(registry, frontend) {
        let mut changes = registry.limit_changes.subscribe();
        let mut wait = Some(first);
        for _ in 0..max_waits {
            let Some(w) = wait else { break };
            tokio::select! {
                () = tokio::time::sleep(w) => {}
                r = changes.changed() => if r.is_err() { break },
            }
            wait = rate_delay(registry, frontend);
        }
    }
    registry.limits.conn_rate.count();
}

/// Counts a new session (a connection the `tcp-request connection` rules kept) against the
/// global `maxsessrate` and the frontend's `rate-limit sessions`, as HAProxy counts
/// `sess_per_sec` and `fe_sess_per_sec` once the session exists.
pub fn count_session(registry: &Registry, frontend: usize) {
    registry.limits.sess_rate.count();
    if let Some(fe) = registry.frontends.get(frontend) {
        fe.sess_rate.count();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[tokio::test]
    async fn an_accept_waits_for_the_rate_then_counts() {
        let reg = Registry::empty();
        reg.limits.conn_rate.set_limit(2);
        admit_connection(&reg, 0).await;
        admit_connection(&reg, 0).await;
        assert!(rate_delay(&reg, 0).is_some());
        let t = Instant::now();
        // The counter spans two seconds: the third waits, and not longer than that.
        admit_connection(&reg, 0).await;
        let waited = t.elapsed();
        assert!(
            waited >= Duration::from_millis(1) && waited < Duration::from_millis(2_100),
            "{waited:?}"
        );
        assert!(reg.limits.conn_rate.rate() >= 2);
    }

    #[tokio::test]
    async fn a_raised_limit_lets_a_waiting_accept_in() {
        let reg = Registry::empty();
        reg.limits.sess_rate.set_limit(1);
        count_session(&reg, 0);
        let t = Instant::now();
        let admit = admit_connection(&reg, 0);
        let raise = async {
            tokio::time::sleep(Duration::from_millis(20)).await;
            reg.limits.sess_rate.set_limit(100);
            reg.limits_changed();
        };
        tokio::join!(admit, raise);
        // Woken by the change, not by the end of the computed wait (about a second).
        assert!(
            t.elapsed() < Duration::from_millis(500),
            "{:?}",
            t.elapsed()
        );
    }

    #[tokio::test]
    async fn past_the_most_waits_the_connection_goes_in() {
        let reg = Registry::empty();
        reg.limits.conn_rate.set_limit(1);
        admit_connection(&reg, 0).await;
        assert!(rate_delay(&reg, 0).is_some());
        // With no wait left, the accept proceeds although the rate is full.
        let t = Instant::now();
        admit_within(&reg, 0, 0).await;
        assert!(t.elapsed() < Duration::from_millis(500));
        assert_eq!(reg.limits.conn_rate.rate(), 2);
    }

    #[test]
    fn no_limit_no_wait_no_count() {
        let reg = Registry::empty();
        count_session(&reg, 0);
        assert_eq!(rate_delay(&reg, 0), None);
        assert_eq!(reg.limits.sess_rate.rate(), 0);
    }
}
