//! Limits the runtime API changes on live traffic: the global and per-frontend `maxconn`
//! (`set maxconn global|frontend`) and `disable|enable frontend`, applied to the accept gates,
//! plus the values copied from the configuration at start (global and server `maxconn`).

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;

use crate::build::Runtime;
use crate::listener::{ConnGate, ConnPermit};
use crate::registry::Registry;

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

/// How long an accept waits before reading the session rate again.
pub const RATE_LIMIT_POLL: std::time::Duration = std::time::Duration::from_millis(10);

/// Most [`RATE_LIMIT_POLL`] waits of one accept: the rate of a second without new sessions
/// has fallen to 0 well before (HAProxy's counter spans two seconds at most).
pub const MAX_RATE_LIMIT_POLLS: u32 = 300;

/// `set rate-limit sessions global`: waits until one more session fits under the limit, then
/// counts it. Free while no limit is set.
pub async fn admit_session(registry: &Registry) {
    let limits = &registry.limits;
    for _ in 0..MAX_RATE_LIMIT_POLLS {
        let limit = limits.session_rate_limit.load(Relaxed);
        if limit == 0 {
            return;
        }
        if limits.session_rate.rate() < limit {
            break;
        }
        tokio::time::sleep(RATE_LIMIT_POLL).await;
    }
    limits.session_rate.add();
}
