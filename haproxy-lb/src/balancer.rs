//! The balancer: a server set plus one algorithm, safe to pick from many threads.
//!
//! Reads on the pick path go through an immutable snapshot swapped in after each change
//! (`arc-swap`), per-server atomic counters, and an atomic cursor; no lock is taken except by
//! `roundrobin` (whose fwrr state moves at every pick, as HAProxy's does under its backend lock)
//! and by the queue when a server is full. Changes (weights, states, slowstart steps) take a
//! writer lock, recompute only what the algorithm keeps (fwrr position of the changed server,
//! its ring points, or the static map), and publish a new snapshot.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use arc_swap::ArcSwap;

use crate::algo::consistent::{self, Ring};
use crate::algo::kind::{Algorithm, BalanceConfig, HashType};
use crate::algo::map;
use crate::algo::roundrobin::{Fwrr, WEIGHT_SCALE};
use crate::error::LbError;
use crate::key::uri_path;
use crate::server::{MAX_SERVERS, MAX_WEIGHT, ServerSpec, ServerState};

/// The most draws `balance random(<draws>)` accepts.
pub const MAX_DRAWS: u32 = 100;
/// The most requests one queue (a server's or the backend's) holds; past it a pick reports
/// [`Pick::QueueFull`].
pub const MAX_QUEUE: usize = 1 << 20;
/// HAProxy's `SRV_EWGHT_MAX`, used by leastconn's load key.
const EWGHT_MAX: u64 = 256 * 16;

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

/// What pickers read without locking.
#[derive(Debug, Default)]
struct Snapshot {
    usable: Vec<bool>,
    eweight: Vec<u32>,
    cumulative: Vec<u32>,
    srv_act: usize,
    srv_bck: usize,
    fbck: Option<usize>,
    tot_weight: u32,
    tot_used: usize,
    map: Vec<usize>,
    ring: Vec<(u32, usize)>,
    /// Servers of the group in use (active, or backups), by id order, for first/leastconn.
    group: Vec<usize>,
}

/// Mutable state, changed under the writer lock.
#[derive(Debug)]
struct Core {
    uweight: Vec<u32>,
    state: Vec<ServerState>,
    /// When a slow start began (seconds), while it runs.
    starting: Vec<Option<u64>>,
    eweight: Vec<u32>,
    fwrr: Fwrr,
    rings: [Ring; 2],
    wmult: u32,
}

#[derive(Debug, Default)]
struct Queues {
    server: Vec<VecDeque<u64>>,
    backend: VecDeque<u64>,
    next_ticket: u64,
}

/// A backend's servers and balancing algorithm. `Send + Sync`: share it in an `Arc`.
#[derive(Debug)]
pub struct Balancer {
    config: BalanceConfig,
    specs: Vec<ServerSpec>,
    served: Vec<AtomicU32>,
    /// The sum of `served` (HAProxy's backend `served`), for bounded loads.
    total_served: AtomicU64,
    queued: Vec<AtomicU32>,
    /// leastconn: `(load key << 32) | insertion sequence`, smallest wins.
    lc: Vec<AtomicU64>,
    lc_seq: AtomicU32,
    cursor: AtomicUsize,
    snapshot: ArcSwap<Snapshot>,
    core: Mutex<Core>,
    queues: Mutex<Queues>,
    waiting: AtomicUsize,
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
            fwrr: Fwrr::default(),
            rings: [Ring::new(n), Ring::new(n)],
            wmult,
        };
        for i in 0..n {
            let e = Self::eweight_of(&config, &core, &servers, i, 0);
            if let Some(slot) = core.eweight.get_mut(i) {
                *slot = e;
            }
        }
        let b = Self {
            served: (0..n).map(|_| AtomicU32::new(0)).collect(),
            total_served: AtomicU64::new(0),
            queued: (0..n).map(|_| AtomicU32::new(0)).collect(),
            lc: (0..n).map(|i| AtomicU64::new(i as u64)).collect(),
            lc_seq: AtomicU32::new(u32::try_from(n).unwrap_or(u32::MAX)),
            cursor: AtomicUsize::new(0),
            snapshot: ArcSwap::from_pointee(Snapshot::default()),
            queues: Mutex::new(Queues {
                server: vec![VecDeque::new(); n],
                ..Queues::default()
            }),
            waiting: AtomicUsize::new(0),
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
                core.fwrr = Fwrr::new(&usable);
            }
            if b.config.uses_ring() {
                for (i, &(w, backup, ok)) in usable.iter().enumerate() {
                    let id = b.specs.get(i).map_or(0, |s| s.id);
                    if let Some(r) = core.rings.get_mut(usize::from(backup)) {
                        r.set_points(i, id, if ok { w } else { 0 });
                    }
                }
            }
            b.publish(&core);
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
        self.served.get(i).map_or(0, |a| a.load(Ordering::Acquire))
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

    /// Rebuilds the snapshot pickers read (`recount_servers()`, `update_backend_weight()`,
    /// and for map-based algorithms `recalc_server_map()`).
    fn publish(&self, core: &Core) {
        let n = self.specs.len();
        let mut s = Snapshot {
            usable: (0..n).map(|i| self.usable(core, i)).collect(),
            eweight: (0..n).map(|i| self.eweight(core, i)).collect(),
            cumulative: vec![0; n],
            ..Snapshot::default()
        };
        let (mut wact, mut wbck) = (0u32, 0u32);
        for i in 0..n {
            if !s.usable.get(i).copied().unwrap_or(false) {
                continue;
            }
            let w = s.eweight.get(i).copied().unwrap_or(0);
            let c = s.cumulative.get_mut(i);
            if self.spec_backup(i) {
                if s.srv_bck == 0 && !self.config.allbackups {
                    s.fbck = Some(i);
                }
                s.srv_bck += 1;
                if let Some(c) = c {
                    *c = wbck;
                }
                wbck += w;
            } else {
                s.srv_act += 1;
                if let Some(c) = c {
                    *c = wact;
                }
                wact += w;
            }
        }
        (s.tot_weight, s.tot_used) = if s.srv_act > 0 {
            (wact, s.srv_act)
        } else if let Some(f) = s.fbck {
            (s.eweight.get(f).copied().unwrap_or(0), 1)
        } else {
            (wbck, s.srv_bck)
        };
        let backup_group = s.srv_act == 0;
        s.group = (0..n)
            .filter(|&i| {
                s.usable.get(i).copied().unwrap_or(false) && self.spec_backup(i) == backup_group
            })
            .collect();
        s.group
            .sort_by_key(|&i| self.specs.get(i).map_or(0, |sp| sp.id));
        if self.config.uses_map() {
            let members: Vec<(u32, bool)> = (0..n)
                .map(|i| {
                    let ok = s.usable.get(i).copied().unwrap_or(false)
                        && self.spec_backup(i) == backup_group;
                    (s.eweight.get(i).copied().unwrap_or(0), ok)
                })
                .collect();
            s.map = map::build(&members, s.tot_weight);
        }
        if self.config.uses_ring() {
            let ring = core.rings.get(usize::from(backup_group));
            s.ring = ring.map(Ring::to_sorted).unwrap_or_default();
        }
        self.snapshot.store(Arc::new(s));
    }

    /// Applies a change to server `i` under the writer lock: recomputes its effective weight,
    /// moves it in the algorithm's structure, and publishes a new snapshot.
    /// `was` is whether the server was usable before the caller changed it.
    fn apply(&self, core: &mut Core, i: usize, was: bool, now: u64) {
        let old_w = self.eweight(core, i);
        let new_w = Self::eweight_of(&self.config, core, &self.specs, i, now);
        if let Some(e) = core.eweight.get_mut(i) {
            *e = new_w;
        }
        let is = self.usable(core, i);
        if matches!(self.config.algorithm, Algorithm::RoundRobin) {
            match (was, is) {
                (false, true) => core.fwrr.set_up(i, new_w),
                (true, false) => core.fwrr.set_down(i),
                (true, true) if old_w != new_w => core.fwrr.update_weight(i, new_w),
                _ => {}
            }
        }
        if self.config.uses_ring() {
            let id = self.specs.get(i).map_or(0, |s| s.id);
            let backup = self.spec_backup(i);
            if let Some(r) = core.rings.get_mut(usize::from(backup)) {
                r.set_points(i, id, if is { new_w } else { 0 });
            }
        }
        self.lc_requeue(i, new_w);
        self.publish(core);
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
        Ok(())
    }

    /// Advances slow starts to `now_secs` (call it at each health check, as HAProxy does).
    pub fn tick(&self, now_secs: u64) {
        let mut core = lock(&self.core);
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
            if Self::eweight_of(&self.config, &core, &self.specs, i, now_secs)
                != self.eweight(&core, i)
            {
                let was = self.usable(&core, i);
                self.apply(&mut core, i, was, now_secs);
            }
        }
    }

    /// Whether server `i` has no free slot (`maxconn` reached or requests already queued).
    fn is_full(&self, i: usize) -> bool {
        let Some(spec) = self.specs.get(i) else {
            return true;
        };
        spec.maxconn != 0 && (self.queued(i) > 0 || self.connections(i) >= spec.maxconn)
    }

    /// Takes a connection slot on `i` unless it is full (compare-and-swap, never past maxconn).
    fn try_take(&self, i: usize) -> bool {
        let (Some(spec), Some(served)) = (self.specs.get(i), self.served.get(i)) else {
            return false;
        };
        if spec.maxconn == 0 {
            served.fetch_add(1, Ordering::AcqRel);
            self.count_total(1);
            self.lc_requeue(i, self.effective_weight(i));
            return true;
        }
        if self.queued(i) > 0 {
            return false;
        }
        let ok = served
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |c| {
                (c < spec.maxconn).then_some(c + 1)
            })
            .is_ok();
        if ok {
            self.count_total(1);
            self.lc_requeue(i, self.effective_weight(i));
        }
        ok
    }

    /// leastconn: re-keys server `i` when its load key changed (`fwlc_srv_reposition()`),
    /// placing it after the servers that already have that key.
    fn lc_requeue(&self, i: usize, eweight: u32) {
        if !matches!(self.config.algorithm, Algorithm::LeastConn) {
            return;
        }
        let Some(slot) = self.lc.get(i) else { return };
        let inflight = u64::from(self.connections(i)) + u64::from(self.queued(i));
        let key = if inflight == 0 {
            0
        } else {
            (inflight + 1) * EWGHT_MAX / u64::from(eweight.max(1))
        };
        let key = key.min(u64::from(u32::MAX));
        let cur = slot.load(Ordering::Acquire);
        if cur >> 32 != key {
            let seq = self.lc_seq.fetch_add(1, Ordering::AcqRel);
            slot.store((key << 32) | u64::from(seq), Ordering::Release);
        }
    }

    /// Picks a server for a request, as HAProxy's `assign_server()` does for this algorithm.
    ///
    /// Hashing algorithms use the matching field of `key`; when it is missing they fall back to
    /// round robin, as HAProxy does.
    pub fn pick(&self, key: &RequestKey<'_>) -> Pick {
        let snap = self.snapshot.load();
        if snap.tot_weight == 0 {
            return Pick::NoServer;
        }
        let hasher = self.config.hasher;
        let hashed = match &self.config.algorithm {
            Algorithm::Source => key.source.map(|a| hasher.source(a)),
            Algorithm::Uri(opts) => key.uri.map(|u| {
                let u = if opts.path_only { uri_path(u) } else { u };
                hasher.uri(u, *opts)
            }),
            Algorithm::UrlParam(name) => key.uri.and_then(|u| hasher.url_param(u, name.as_bytes())),
            Algorithm::Hdr {
                use_domain_only, ..
            } => key.header.and_then(|h| hasher.header(h, *use_domain_only)),
            Algorithm::RdpCookie(_) => hasher.rdp_cookie(key.rdp_cookie),
            _ => None,
        };
        match (&self.config.algorithm, hashed) {
            (a, Some(h)) if a.is_hash() => self.pick_hash(&snap, h),
            (Algorithm::RoundRobin, _) => self.pick_rr(&snap),
            (Algorithm::LeastConn, _) => self.pick_leastconn(&snap),
            (Algorithm::First, _) => self.pick_first(&snap),
            (Algorithm::Random { draws }, _) => self.pick_random(&snap, *draws, key.random),
            _ if self.config.hash_type == HashType::Consistent
                && self.config.algorithm.is_hash() =>
            {
                self.pick_ring_rr(&snap)
            }
            _ => self.pick_map_rr(&snap),
        }
    }

    /// A hashed key: map slot or ring lookup; a full server queues the request on itself.
    fn pick_hash(&self, snap: &Snapshot, h: u32) -> Pick {
        let srv = if self.config.hash_type == HashType::MapBased {
            snap.map.get((h % snap.tot_weight) as usize).copied()
        } else if let Some(f) = snap.fbck.filter(|_| snap.srv_act == 0) {
            Some(f)
        } else {
            let factor = self.config.hash_balance_factor;
            consistent::lookup(&snap.ring, h, |s| {
                factor != 0 && !self.bounded_ok(snap, s, factor)
            })
        };
        match srv {
            Some(s) if self.try_take(s) => Pick::Server(s),
            Some(s) => self.enqueue(Some(s)),
            None => Pick::NoServer,
        }
    }

    /// `chash_server_is_eligible()`: whether `s` is under its bounded load.
    fn bounded_ok(&self, snap: &Snapshot, s: usize, factor: u32) -> bool {
        let total = self.total_served.load(Ordering::Acquire);
        let tot_w = u64::from(snap.tot_weight.max(1));
        let tot_slots = ((total + 1) * u64::from(factor)).div_ceil(100);
        let per_w = tot_slots / tot_w;
        let rem = tot_slots % tot_w;
        let w = u64::from(snap.eweight.get(s).copied().unwrap_or(0));
        let cum = u64::from(snap.cumulative.get(s).copied().unwrap_or(0));
        let slots = (w * per_w + ((cum + w) * rem) / tot_w - (cum * rem) / tot_w).max(1);
        u64::from(self.connections(s)) < slots
    }

    /// `static-rr`, and map-based hashing without a key (`map_get_server_rr()`).
    fn pick_map_rr(&self, snap: &Snapshot) -> Pick {
        let n = snap.map.len();
        if n == 0 {
            return Pick::NoServer;
        }
        for _ in 0..n {
            // HAProxy's `rr_idx`: restarts at 0 when past the end of a (possibly shrunk) map.
            let idx = self
                .cursor
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |c| {
                    Some(if c >= n { 1 } else { c + 1 })
                })
                .map_or(0, |c| if c >= n { 0 } else { c });
            if let Some(&s) = snap.map.get(idx)
                && self.try_take(s)
            {
                return Pick::Server(s);
            }
        }
        self.enqueue(None)
    }

    /// Consistent hashing without a key: walk the ring's points in turn.
    fn pick_ring_rr(&self, snap: &Snapshot) -> Pick {
        if let Some(f) = snap.fbck.filter(|_| snap.srv_act == 0) {
            return if self.try_take(f) {
                Pick::Server(f)
            } else {
                self.enqueue(Some(f))
            };
        }
        let n = snap.ring.len();
        for _ in 0..n {
            let idx = self.cursor.fetch_add(1, Ordering::AcqRel) % n.max(1);
            if let Some(&(_, s)) = snap.ring.get(idx)
                && self.try_take(s)
            {
                return Pick::Server(s);
            }
        }
        if n == 0 {
            Pick::NoServer
        } else {
            self.enqueue(None)
        }
    }

    /// `roundrobin` (`fwrr_get_next_server()`).
    fn pick_rr(&self, snap: &Snapshot) -> Pick {
        if let Some(f) = snap.fbck.filter(|_| snap.srv_act == 0) {
            return if self.try_take(f) {
                Pick::Server(f)
            } else {
                self.enqueue(None)
            };
        }
        let backup = snap.srv_act == 0;
        let mut core = lock(&self.core);
        let chosen = core.fwrr.next_server(backup, |s| self.is_full(s));
        drop(core);
        match chosen {
            Some(s) if self.try_take(s) => Pick::Server(s),
            _ => self.enqueue(None),
        }
    }

    /// `first` (`fas_get_next_server()`): lowest id with a free slot.
    fn pick_first(&self, snap: &Snapshot) -> Pick {
        if let Some(f) = snap.fbck.filter(|_| snap.srv_act == 0) {
            return if self.try_take(f) {
                Pick::Server(f)
            } else {
                self.enqueue(None)
            };
        }
        for &s in &snap.group {
            if self.try_take(s) {
                return Pick::Server(s);
            }
        }
        self.enqueue(None)
    }

    /// `leastconn` (`fwlc_get_next_server()`): smallest load key, oldest first among equals;
    /// a server whose queue still has room is acceptable and the request queues on it.
    fn pick_leastconn(&self, snap: &Snapshot) -> Pick {
        if let Some(f) = snap.fbck.filter(|_| snap.srv_act == 0) {
            return if self.try_take(f) {
                Pick::Server(f)
            } else {
                self.enqueue(Some(f))
            };
        }
        let mut best: Option<(u64, usize)> = None;
        for &s in &snap.group {
            let Some(spec) = self.specs.get(s) else {
                continue;
            };
            // Counters are only read for servers with a limit (the common case has none).
            let open = spec.maxconn == 0 || {
                let load = self.connections(s) + self.queued(s);
                load < spec.maxconn.saturating_add(spec.maxqueue)
            };
            if !open {
                continue;
            }
            let k = self
                .lc
                .get(s)
                .map_or(u64::MAX, |a| a.load(Ordering::Acquire));
            if best.is_none_or(|(bk, _)| k < bk) {
                best = Some((k, s));
            }
        }
        match best {
            Some((_, s)) if self.try_take(s) => Pick::Server(s),
            Some((_, s)) => self.enqueue(Some(s)),
            None => self.enqueue(None),
        }
    }

    /// `random(<draws>)` (`get_server_rnd()`): the least loaded of the drawn ring positions.
    fn pick_random(&self, snap: &Snapshot, draws: u32, random: &[u32]) -> Pick {
        let mut curr: Option<usize> = None;
        let factor = self.config.hash_balance_factor;
        for &h in random.iter().take(draws as usize) {
            let prev = curr;
            let next = if let Some(f) = snap.fbck.filter(|_| snap.srv_act == 0) {
                Some(f)
            } else {
                consistent::lookup(&snap.ring, h, |s| {
                    factor != 0 && !self.bounded_ok(snap, s, factor)
                })
            };
            let Some(c) = next else { break };
            curr = Some(c);
            if let Some(p) = prev {
                let cw = u64::from(snap.eweight.get(c).copied().unwrap_or(0));
                let pw = u64::from(snap.eweight.get(p).copied().unwrap_or(0));
                if p != c
                    && u64::from(self.connections(c)) * pw > u64::from(self.connections(p)) * cw
                {
                    curr = Some(p);
                }
            }
        }
        match curr {
            Some(s) if self.try_take(s) => Pick::Server(s),
            Some(_) => self.enqueue(None),
            None if random.is_empty() => self.pick_ring_rr(snap),
            None => Pick::NoServer,
        }
    }

    /// Queues a request on `server` (or the backend), re-checking for a free slot under the
    /// queue lock so a concurrent release cannot strand it.
    fn enqueue(&self, server: Option<usize>) -> Pick {
        let mut q = lock(&self.queues);
        if let Some(s) = server {
            if self.try_take(s) {
                return Pick::Server(s);
            }
            let maxqueue = self.specs.get(s).map_or(0, |sp| sp.maxqueue) as usize;
            let Some(sq) = q.server.get(s) else {
                return Pick::NoServer;
            };
            if (maxqueue != 0 && sq.len() >= maxqueue) || sq.len() >= MAX_QUEUE {
                return Pick::QueueFull { server: Some(s) };
            }
        } else {
            if let Some(s) = self
                .snapshot
                .load()
                .group
                .iter()
                .copied()
                .find(|&s| self.try_take(s))
            {
                return Pick::Server(s);
            }
            if q.backend.len() >= MAX_QUEUE {
                return Pick::QueueFull { server: None };
            }
        }
        q.next_ticket += 1;
        let ticket = q.next_ticket;
        match server.and_then(|s| q.server.get_mut(s).map(|sq| (s, sq))) {
            Some((s, sq)) => {
                sq.push_back(ticket);
                if let Some(c) = self.queued.get(s) {
                    c.fetch_add(1, Ordering::AcqRel);
                }
            }
            None => q.backend.push_back(ticket),
        }
        self.waiting.fetch_add(1, Ordering::AcqRel);
        Pick::Queued { ticket, server }
    }

    /// Releases a connection on server `i`. When requests wait (in `i`'s queue or the
    /// backend's), the oldest of them takes the slot at once and is returned.
    pub fn release(&self, i: usize) -> Option<Handoff> {
        let served = self.served.get(i)?;
        let has_limit = self.specs.get(i).is_some_and(|s| s.maxconn != 0);
        if !has_limit && self.waiting.load(Ordering::Acquire) == 0 {
            self.drop_one(served);
            self.lc_requeue(i, self.effective_weight(i));
            return None;
        }
        let mut q = lock(&self.queues);
        let own = q.server.get(i).and_then(|sq| sq.front().copied());
        let shared = if self.is_usable(i) {
            q.backend.front().copied()
        } else {
            None
        };
        let ticket = match (own, shared) {
            (Some(a), Some(b)) if b < a => q.backend.pop_front(),
            (Some(_), _) => {
                let t = q.server.get_mut(i).and_then(VecDeque::pop_front);
                if let Some(c) = self.queued.get(i) {
                    c.fetch_sub(1, Ordering::AcqRel);
                }
                t
            }
            (None, Some(_)) => q.backend.pop_front(),
            (None, None) => None,
        };
        match ticket {
            Some(ticket) => {
                self.waiting.fetch_sub(1, Ordering::AcqRel);
                self.lc_requeue(i, self.effective_weight(i));
                Some(Handoff { ticket, server: i })
            }
            None => {
                self.drop_one(served);
                self.lc_requeue(i, self.effective_weight(i));
                None
            }
        }
    }

    /// Decrements one server's and the backend's connection counts (never below zero).
    fn drop_one(&self, served: &AtomicU32) {
        if served
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |c| c.checked_sub(1))
            .is_ok()
        {
            self.count_total(-1);
        }
    }

    /// Keeps the backend total, which only bounded loads read (so other setups skip the
    /// shared counter).
    fn count_total(&self, delta: i8) {
        if self.config.hash_balance_factor == 0 {
            return;
        }
        if delta > 0 {
            self.total_served.fetch_add(1, Ordering::AcqRel);
        } else {
            self.total_served.fetch_sub(1, Ordering::AcqRel);
        }
    }

    /// Removes a waiter that gave up (`timeout queue`, client abort). Returns whether it was
    /// still queued.
    pub fn cancel(&self, ticket: u64) -> bool {
        let mut q = lock(&self.queues);
        if let Some(p) = q.backend.iter().position(|&t| t == ticket) {
            q.backend.remove(p);
            self.waiting.fetch_sub(1, Ordering::AcqRel);
            return true;
        }
        for (s, sq) in q.server.iter_mut().enumerate() {
            if let Some(p) = sq.iter().position(|&t| t == ticket) {
                sq.remove(p);
                if let Some(c) = self.queued.get(s) {
                    c.fetch_sub(1, Ordering::AcqRel);
                }
                self.waiting.fetch_sub(1, Ordering::AcqRel);
                return true;
            }
        }
        false
    }
}
