//! The balancer: a server set plus one algorithm, safe to pick from many threads.
//!
//! No lock on the pick path: a pick reads an immutable snapshot swapped in after each change
//! (`arc-swap`), per-server counters (per-thread lanes, `count.rs`) and an atomic cursor
//! (roundrobin's precomputed fwrr schedule, static-rr's map position). Only a full server
//! takes the queue lock. Changes (weights, states, slowstart steps) take a writer lock,
//! update what the algorithm keeps for the changed server (its place in the fwrr model,
//! replayed to the cursor, from which the order is recomputed; its ring points; its leastconn
//! key; the static map) and publish a new snapshot.

mod count;
mod dynamic;
mod leastconn;
mod local;
mod pick;
mod queue;
mod snapshot;

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

use arc_swap::ArcSwap;

use crate::algo::consistent::Ring;
use crate::algo::kind::{Algorithm, BalanceConfig};
use crate::algo::leastconn::LcTree;
use crate::algo::map;
use crate::algo::roundrobin::{Fwrr, WEIGHT_SCALE};
use crate::error::LbError;
use crate::server::{MAX_SERVERS, MAX_WEIGHT, ServerSpec, ServerState};

use count::Counts;
pub use dynamic::dynamic_maxconn;
use queue::Queues;
use snapshot::{RrChange, RrGroup, Snapshot};

/// The most draws `balance random(<draws>)` accepts.
pub const MAX_DRAWS: u32 = 100;
/// The most requests one queue (a server's or the backend's) holds; past it a pick reports
/// [`Pick::QueueFull`].
pub const MAX_QUEUE: usize = 1 << 20;

/// What the request offers as key material; the balancer uses what its algorithm needs.
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestKey<'a> {
    /// Client address bytes (4 for IPv4, 16 for IPv6), for `source`.
    pub source: Option<&'a [u8]>,
    /// The request URI, for `uri` and `url_param`.
    pub uri: Option<&'a [u8]>,
    /// The value of the `hdr(<name>)` header, for `hdr`.
    pub header: Option<&'a [u8]>,
    /// The RDP cookie value, for `rdp-cookie`.
    pub rdp_cookie: Option<&'a [u8]>,
    /// Random 32-bit draws for `random` (one per draw; the caller owns the generator).
    pub random: &'a [u32],
}

/// The outcome of a pick.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pick {
    /// Use this server (by index); its connection count was taken, call
    /// [`Balancer::release`] when done.
    Server(usize),
    /// Every eligible server is full: the request waits in a queue (`server` = `Some` for a
    /// server's own queue, `None` for the backend queue) until a release hands it a slot.
    Queued {
        /// The waiter's ticket, returned by [`Balancer::release`] when it gets a slot.
        ticket: u64,
        /// The server whose queue holds it, or `None` for the backend queue.
        server: Option<usize>,
    },
    /// The queue is full (`maxqueue`): redispatch or answer 503.
    QueueFull {
        /// The server whose queue overflowed, or `None` for the backend queue.
        server: Option<usize>,
    },
    /// No server is usable.
    NoServer,
}

/// A queued request that just got a slot on `server`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Handoff {
    /// The ticket [`Pick::Queued`] gave.
    pub ticket: u64,
    /// The server it may now use (its connection is already counted).
    pub server: usize,
}

/// Mutable state, changed under the writer lock.
#[derive(Debug)]
struct Core {
    uweight: Vec<u32>,
    state: Vec<ServerState>,
    /// When a slow start began (seconds), while it runs.
    starting: Vec<Option<u64>>,
    eweight: Vec<u32>,
    /// roundrobin: the active and backup groups' fwrr orders.
    rr: [RrGroup; 2],
    /// roundrobin: changes not yet applied to each group's model (applied at publish).
    rr_pending: [Vec<RrChange>; 2],
    rings: [Ring; 2],
    wmult: u32,
}

/// A backend's servers and balancing algorithm. `Send + Sync`: share it in an `Arc`.
#[derive(Debug)]
pub struct Balancer {
    config: BalanceConfig,
    specs: Vec<ServerSpec>,
    /// Each server's connection count (see `count.rs`).
    served: Counts,
    /// Each server's current `maxconn` (0 = unlimited): the spec's, changed by
    /// [`Balancer::set_maxconn`].
    maxconn: Vec<AtomicU32>,
    /// Each server's current `minconn` (equal to `maxconn` for a static limit).
    minconn: Vec<AtomicU32>,
    /// Whether some server's limit is dynamic (`minconn` below `maxconn`): counts then stay
    /// in the shared lanes and the backend's total is kept, for its load.
    dynamic: bool,
    /// Each server's slow-start ramp of its limit in percent (100: none), as HAProxy's
    /// `srv_dynamic_maxconn` scales any limit while the server starts.
    ramp: Vec<AtomicU32>,
    /// Whether limits are scaled now (a dynamic limit, or a ramp below 100): takes and
    /// releases then compute the limit instead of reading `maxconn`.
    scaled: AtomicBool,
    /// Whether `total_served` is kept (bounded loads, dynamic limits).
    keep_total: bool,
    /// The sum of `served` (HAProxy's backend `served`), for bounded loads and dynamic limits.
    total_served: AtomicU64,
    queued: Vec<AtomicU32>,
    /// leastconn: `(load key << 32) | insertion sequence`, smallest wins (padded, see
    /// [`LcTree::keys`]).
    lc: Vec<AtomicU64>,
    lc_seq: AtomicU32,
    /// leastconn: which server has the smallest key.
    lc_tree: LcTree,
    /// The effective weight of each usable server (0 otherwise), for leastconn's key.
    ew: Vec<AtomicU32>,
    /// leastconn: `ceil(2^64 / ew)`, to divide by `ew` with a multiplication.
    ew_magic: Vec<AtomicU64>,
    /// Consistent hashing without a key: the ring position walked in turn.
    cursor: AtomicUsize,
    snapshot: ArcSwap<Snapshot>,
    /// The current snapshot's version (unique in the process), for the per-thread caches.
    version: AtomicU64,
    /// Picks this balancer's slot in the per-thread caches (its first version).
    slot_seed: u64,
    core: Mutex<Core>,
    queues: Mutex<Queues>,
    waiting: AtomicUsize,
    /// Requests in the backend's queue (a copy of its length, read without the queue lock).
    backend_waiting: AtomicUsize,
    /// Whether a take must leave a slot to the backend queue's waiters: roundrobin, static-rr
    /// and first with a dynamic limit (see `try_take_shared`).
    waiters_first: bool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Balancer {
    /// Builds a balancer over `servers` (their index in this slice is how picks name them).
    ///
    /// # Errors
    /// [`LbError::TooManyServers`], [`LbError::WeightOutOfRange`], [`LbError::DuplicateId`],
    /// [`LbError::Draws`] or [`LbError::BalanceFactor`] for an invalid setup.
    pub fn new(config: BalanceConfig, servers: Vec<ServerSpec>) -> Result<Self, LbError> {
        if servers.len() > MAX_SERVERS {
            return Err(LbError::TooManyServers {
                count: servers.len(),
                max: MAX_SERVERS,
            });
        }
        let mut ids: Vec<u32> = servers.iter().map(|s| s.id).collect();
        ids.sort_unstable();
        if let Some(w) = ids.windows(2).find(|w| w.first() == w.get(1)) {
            return Err(LbError::DuplicateId {
                id: w.first().copied().unwrap_or_default(),
            });
        }
        if let Some(s) = servers.iter().find(|s| s.weight > MAX_WEIGHT) {
            return Err(LbError::WeightOutOfRange { weight: s.weight });
        }
        if let Algorithm::Random { draws } = config.algorithm
            && (draws == 0 || draws > MAX_DRAWS)
        {
            return Err(LbError::Draws {
                draws,
                max: MAX_DRAWS,
            });
        }
        if config.hash_balance_factor != 0 && config.hash_balance_factor <= 100 {
            return Err(LbError::BalanceFactor {
                factor: config.hash_balance_factor,
            });
        }
        let n = servers.len();
        let wmult = if config.uses_map() {
            map::weight_gcd(servers.iter().map(|s| s.weight))
        } else {
            1
        };
        let mut core = Core {
            uweight: servers.iter().map(|s| s.weight).collect(),
            state: servers.iter().map(|s| s.initial_state).collect(),
            starting: vec![None; n],
            eweight: vec![0; n],
            rr: [RrGroup::Idle(Box::default()), RrGroup::Idle(Box::default())],
            rr_pending: [Vec::new(), Vec::new()],
            rings: [Ring::new(n), Ring::new(n)],
            wmult,
        };
        for i in 0..n {
            let e = Self::eweight_of(&config, &core, &servers, i, 0);
            if let Some(slot) = core.eweight.get_mut(i) {
                *slot = e;
            }
        }
        let limits: Vec<(u32, u32)> = servers.iter().map(ServerSpec::settled_limits).collect();
        let dynamic = limits.iter().any(|&(min, max)| min != max);
        let b = Self {
            served: Counts::new(n, config.counts_locally() && !dynamic),
            maxconn: limits.iter().map(|&(_, max)| AtomicU32::new(max)).collect(),
            minconn: limits.iter().map(|&(min, _)| AtomicU32::new(min)).collect(),
            dynamic,
            ramp: (0..n).map(|_| AtomicU32::new(100)).collect(),
            scaled: AtomicBool::new(dynamic),
            keep_total: config.hash_balance_factor != 0 || dynamic,
            total_served: AtomicU64::new(0),
            queued: (0..n).map(|_| AtomicU32::new(0)).collect(),
            lc: LcTree::keys(n),
            lc_seq: AtomicU32::new(u32::try_from(n).unwrap_or(u32::MAX)),
            lc_tree: LcTree::new(n),
            ew: (0..n).map(|_| AtomicU32::new(0)).collect(),
            ew_magic: (0..n).map(|_| AtomicU64::new(0)).collect(),
            cursor: AtomicUsize::new(0),
            snapshot: ArcSwap::from_pointee(Snapshot::default()),
            version: AtomicU64::new(0),
            slot_seed: local::next_version(),
            queues: Mutex::new(Queues {
                server: vec![VecDeque::new(); n],
                ..Queues::default()
            }),
            waiting: AtomicUsize::new(0),
            backend_waiting: AtomicUsize::new(0),
            waiters_first: dynamic
                && matches!(
                    config.algorithm,
                    Algorithm::RoundRobin | Algorithm::StaticRr | Algorithm::First
                ),
            core: Mutex::new(core),
            config,
            specs: servers,
        };
        {
            let mut core = lock(&b.core);
            let usable: Vec<(u32, bool, bool)> = (0..n)
                .map(|i| (b.eweight(&core, i), b.spec_backup(i), b.usable(&core, i)))
                .collect();
            if matches!(b.config.algorithm, Algorithm::RoundRobin) {
                let model = Fwrr::new(&usable);
                core.rr = [
                    RrGroup::from_model(model.clone(), false),
                    RrGroup::from_model(model, true),
                ];
            }
            if b.config.uses_ring() {
                for (i, &(w, backup, ok)) in usable.iter().enumerate() {
                    let id = b.specs.get(i).map_or(0, |s| s.id);
                    if let Some(r) = core.rings.get_mut(usize::from(backup)) {
                        r.set_points(i, id, if ok { w } else { 0 });
                    }
                }
            }
            b.publish(&mut core);
        }
        Ok(b)
    }

    /// The configuration this balancer was built with.
    #[must_use]
    pub fn config(&self) -> &BalanceConfig {
        &self.config
    }

    /// The servers, in index order.
    #[must_use]
    pub fn servers(&self) -> &[ServerSpec] {
        &self.specs
    }

    /// The index of the server with this name.
    #[must_use]
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.specs.iter().position(|s| s.name == name)
    }

    /// Current connections on server `i` (0 for an unknown index).
    #[must_use]
    pub fn connections(&self, i: usize) -> u32 {
        self.served.get(i)
    }

    /// Requests waiting in server `i`'s queue.
    #[must_use]
    pub fn queued(&self, i: usize) -> u32 {
        self.queued.get(i).map_or(0, |a| a.load(Ordering::Acquire))
    }

    /// The current effective weight of server `i` in the algorithm's units (user weight x 16
    /// for dynamic algorithms, user weight / gcd for map-based ones; 0 when unusable).
    #[must_use]
    pub fn effective_weight(&self, i: usize) -> u32 {
        let snap = self.snapshot.load();
        match snap.usable.get(i) {
            Some(true) => snap.eweight.get(i).copied().unwrap_or(0),
            _ => 0,
        }
    }

    /// Whether load balancing may currently pick server `i`.
    #[must_use]
    pub fn is_usable(&self, i: usize) -> bool {
        self.snapshot.load().usable.get(i).copied().unwrap_or(false)
    }

    /// The current user weight of server `i`.
    #[must_use]
    pub fn weight(&self, i: usize) -> Option<u32> {
        lock(&self.core).uweight.get(i).copied()
    }

    fn spec_backup(&self, i: usize) -> bool {
        self.specs.get(i).is_some_and(|s| s.backup)
    }

    fn eweight(&self, core: &Core, i: usize) -> u32 {
        core.eweight.get(i).copied().unwrap_or(0)
    }

    fn usable(&self, core: &Core, i: usize) -> bool {
        core.state.get(i).is_some_and(|s| s.is_usable()) && self.eweight(core, i) > 0
    }

    /// `server_recalc_eweight()` (src/server.c): the effective weight, ramping during a slow
    /// start on dynamic algorithms.
    fn eweight_of(
        config: &BalanceConfig,
        core: &Core,
        specs: &[ServerSpec],
        i: usize,
        now: u64,
    ) -> u32 {
        let uw = core.uweight.get(i).copied().unwrap_or(0);
        let wdiv = if config.uses_map() { 1 } else { WEIGHT_SCALE };
        let slow = specs.get(i).map_or(0, |s| u64::from(s.slowstart_secs));
        let w = match core.starting.get(i).copied().flatten() {
            Some(since) if config.is_dynamic() && slow > 0 && now < since + slow => {
                let elapsed = now.saturating_sub(since);
                u32::try_from((u64::from(wdiv) * elapsed + slow) / slow).unwrap_or(wdiv)
            }
            _ => wdiv,
        };
        (uw * w).div_ceil(core.wmult)
    }

    /// Applies a change to server `i` under the writer lock: recomputes its effective weight
    /// and moves it in the algorithm's structure; the caller then publishes.
    /// `was` is whether the server was usable before the caller changed it.
    fn apply(&self, core: &mut Core, i: usize, was: bool, now: u64) {
        self.set_ramp(core, i, now);
        let old_w = self.eweight(core, i);
        let new_w = Self::eweight_of(&self.config, core, &self.specs, i, now);
        if let Some(e) = core.eweight.get_mut(i) {
            *e = new_w;
        }
        let is = self.usable(core, i);
        if matches!(self.config.algorithm, Algorithm::RoundRobin) {
            let change = match (was, is) {
                (false, true) => Some(RrChange::Up(i, new_w)),
                (true, false) => Some(RrChange::Down(i)),
                (true, true) if old_w != new_w => Some(RrChange::Weight(i, new_w)),
                _ => None,
            };
            let group = usize::from(self.spec_backup(i));
            if let (Some(c), Some(p)) = (change, core.rr_pending.get_mut(group)) {
                p.push(c);
            }
        }
        if self.config.uses_ring() {
            let id = self.specs.get(i).map_or(0, |s| s.id);
            let backup = self.spec_backup(i);
            if let Some(r) = core.rings.get_mut(usize::from(backup)) {
                r.set_points(i, id, if is { new_w } else { 0 });
            }
        }
        self.lc_weight(i, if is { new_w } else { 0 });
        if was != is || old_w != new_w {
            // fwlc dequeues a server going down and queues it again, after its equals, when
            // it comes back or changes weight.
            self.lc_queue(i, self.connections(i), true);
        }
    }

    /// Sets server `i`'s state. Coming back up starts its slow start (at `now_secs`) when it
    /// has one and the algorithm is dynamic.
    ///
    /// # Errors
    /// [`LbError::NoSuchServer`] for an unknown index.
    pub fn set_state(&self, i: usize, state: ServerState, now_secs: u64) -> Result<(), LbError> {
        let mut core = lock(&self.core);
        let was = self.usable(&core, i);
        let slot = core
            .state
            .get_mut(i)
            .ok_or(LbError::NoSuchServer { index: i })?;
        let was_up = slot.is_usable();
        *slot = state;
        let slow = self.specs.get(i).is_some_and(|s| s.slowstart_secs > 0);
        if let Some(st) = core.starting.get_mut(i) {
            *st = if state.is_usable() && !was_up && slow {
                Some(now_secs)
            } else if state.is_usable() {
                *st
            } else {
                None
            };
        }
        self.apply(&mut core, i, was, now_secs);
        self.publish(&mut core);
        Ok(())
    }

    /// Sets server `i`'s user weight at run time (`set weight`).
    ///
    /// # Errors
    /// [`LbError::StaticWeight`] when the algorithm is static and `weight` is neither 0 nor
    /// the initial weight; [`LbError::WeightOutOfRange`] above 256; [`LbError::NoSuchServer`].
    pub fn set_weight(&self, i: usize, weight: u32, now_secs: u64) -> Result<(), LbError> {
        let spec = self
            .specs
            .get(i)
            .ok_or(LbError::NoSuchServer { index: i })?;
        if weight > MAX_WEIGHT {
            return Err(LbError::WeightOutOfRange { weight });
        }
        if !self.config.is_dynamic() && weight != 0 && weight != spec.weight {
            return Err(LbError::StaticWeight);
        }
        let mut core = lock(&self.core);
        let was = self.usable(&core, i);
        if let Some(w) = core.uweight.get_mut(i) {
            *w = weight;
        }
        self.apply(&mut core, i, was, now_secs);
        self.publish(&mut core);
        Ok(())
    }

    /// Changes server `i`'s `maxconn` at run time (0 = unlimited), as `set maxconn server`
    /// does: the next pick obeys it; connections already open stay. A static limit stays
    /// static (`minconn` follows); a dynamic one keeps its `minconn`, as in HAProxy.
    ///
    /// # Errors
    /// [`LbError::NoSuchServer`].
    pub fn set_maxconn(&self, i: usize, maxconn: u32) -> Result<(), LbError> {
        let slot = self
            .maxconn
            .get(i)
            .ok_or(LbError::NoSuchServer { index: i })?;
        let was = slot.swap(maxconn, Ordering::AcqRel);
        if let Some(min) = self.minconn.get(i) {
            let _ = min.compare_exchange(was, maxconn, Ordering::AcqRel, Ordering::Acquire);
        }
        // leastconn's snapshot records whether some server has a limit.
        let mut core = lock(&self.core);
        self.publish(&mut core);
        Ok(())
    }

    /// Server `i`'s current `maxconn` (0 = unlimited).
    #[must_use]
    pub fn maxconn(&self, i: usize) -> u32 {
        self.maxconn.get(i).map_or(0, |m| m.load(Ordering::Acquire))
    }

    /// Advances slow starts to `now_secs` (call it at each health check, as HAProxy does).
    pub fn tick(&self, now_secs: u64) {
        let mut core = lock(&self.core);
        let mut changed = false;
        for i in 0..self.specs.len() {
            let Some(since) = core.starting.get(i).copied().flatten() else {
                continue;
            };
            let slow = self.specs.get(i).map_or(0, |s| u64::from(s.slowstart_secs));
            if now_secs >= since + slow
                && let Some(s) = core.starting.get_mut(i)
            {
                *s = None;
            }
            self.set_ramp(&core, i, now_secs);
            if Self::eweight_of(&self.config, &core, &self.specs, i, now_secs)
                != self.eweight(&core, i)
            {
                let was = self.usable(&core, i);
                self.apply(&mut core, i, was, now_secs);
                changed = true;
            }
        }
        if changed {
            self.publish(&mut core);
        }
    }

    /// Takes a connection slot on `i` unless it is full (compare-and-swap, never past maxconn).
    /// The common case (no `maxconn`, counted on this thread's lane) is inlined into each pick;
    /// the rest is [`Balancer::try_take_shared`].
    #[inline(always)]
    fn try_take(&self, i: usize) -> bool {
        if self.maxconn(i) == 0
            && let Some(l) = self.served.lane()
        {
            if !self.served.add_on(i, l) {
                return false;
            }
            self.lc_requeue(i, || self.served.get(i));
            return true;
        }
        self.try_take_shared(i)
    }

    /// [`Balancer::try_take`] on the shared lane.
    #[inline(never)]
    fn try_take_shared(&self, i: usize) -> bool {
        // With requests in the backend's queue, roundrobin, static-rr and first queue a
        // newcomer behind them (HAProxy's `assign_server()`: the queue means every server is
        // full). With a dynamic limit it matters: the newcomer's own arrival may raise a
        // limit, and must not let it pass the waiters. (With static limits a waiting backend
        // queue already means every server is full.)
        let maxconn = if self.scaled.load(Ordering::Relaxed) {
            if self.waiters_first && self.backend_waiting.load(Ordering::Acquire) != 0 {
                return false;
            }
            self.limit_with(i, 1)
        } else {
            self.maxconn(i)
        };
        if maxconn == 0 {
            let Some(served) = self.served.shared(i) else {
                return false;
            };
            // leastconn re-keys first, from the count this take makes, and the locked
            // increment follows: the tree's loads and stores then run before the locked
            // instruction instead of waiting behind it. Racing takes may re-key from the same
            // count; as with racing re-keys in any order, the server's next change repairs it.
            self.lc_requeue(i, || self.served.get(i).wrapping_add(1));
            served.fetch_add(1, Ordering::AcqRel);
            self.count_total(1);
            return true;
        }
        if self.queued(i) > 0 {
            return false;
        }
        let taken = self.served.take_limited(i, maxconn);
        if let Ok(was) = taken {
            self.count_total(1);
            self.lc_requeue(i, || was + 1);
        }
        taken.is_ok()
    }

    /// Uncounts one connection of server `i` on the shared lane, and the backend's total (a
    /// release without a connection changes nothing). Returns the count left.
    fn drop_one(&self, i: usize) -> u32 {
        let (dropped, left) = self.served.sub_shared(i);
        if dropped {
            self.count_total(-1);
        }
        left
    }

    /// Keeps the backend total, which only bounded loads and dynamic limits read (so other
    /// setups skip the shared counter).
    fn count_total(&self, delta: i8) {
        if !self.keep_total {
            return;
        }
        if delta > 0 {
            self.total_served.fetch_add(1, Ordering::AcqRel);
        } else {
            self.total_served.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

#[cfg(test)]
mod tests;
