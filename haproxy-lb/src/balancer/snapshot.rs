//! What pickers read without locking, and how a change publishes a new one.
//!
//! A snapshot is immutable except for the cursors it shares with the next snapshot while
//! nothing they depend on changed (the roundrobin schedules of untouched groups). Building one
//! is `recount_servers()` and `update_backend_weight()`, plus for map-based algorithms
//! `recalc_server_map()`, for consistent hashing the sorted ring, and for roundrobin the
//! schedule of each group whose servers changed.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::algo::consistent::{Ring, SortedRing};
use crate::algo::map;
use crate::algo::roundrobin::Fwrr;
use crate::algo::schedule::Schedule;

use super::{Balancer, Core};

/// The static map of `static-rr` and map-based hashing, with `static-rr`'s position.
#[derive(Debug, Default)]
pub(super) struct MapTable {
    /// Server index per slot (`tot_weight` slots).
    pub(super) slots: Vec<usize>,
    /// Picks taken in round robin since this map was built, offset by where HAProxy's
    /// `rr_idx` stood then.
    pub(super) cursor: AtomicU64,
}

impl MapTable {
    /// The next slot in round robin (`map_get_server_rr()` without its saturation loop), as
    /// `(slot index, server)`. The cursor is brought back into the map when it runs past its
    /// end.
    #[inline(always)]
    pub(super) fn next_slot(&self) -> Option<(u64, usize)> {
        let n = self.slots.len() as u64;
        if n == 0 {
            return None;
        }
        let c = self.cursor.fetch_add(1, Ordering::Relaxed);
        let idx = if c < n {
            c
        } else {
            let idx = c % n;
            // Best effort: another picker may have moved the cursor meanwhile.
            let _ =
                self.cursor
                    .compare_exchange(c + 1, idx + 1, Ordering::Relaxed, Ordering::Relaxed);
            idx
        };
        self.slots.get(idx as usize).map(|&s| (idx, s))
    }

    /// Moves the cursor to just after slot `idx` (HAProxy's `rr_idx = avoididx`, when the
    /// avoided server was taken after all).
    pub(super) fn resume_after(&self, idx: u64) {
        self.cursor.store(idx + 1, Ordering::Release);
    }

    /// HAProxy's `rr_idx`: the slot after the last one picked, `n` right after the last slot.
    fn rr_idx(&self) -> u64 {
        let n = self.slots.len() as u64;
        match self.cursor.load(Ordering::Acquire) {
            0 => 0,
            c if n == 0 => c,
            c => (c - 1) % n + 1,
        }
    }
}

/// One roundrobin group's order: running from a schedule, or its model parked while the group
/// has no usable server.
#[derive(Debug)]
pub(super) enum RrGroup {
    /// Pickers read this schedule.
    Running(Arc<Schedule>),
    /// No usable server; the model waits for one to come back.
    Idle(Box<Fwrr>),
}

impl RrGroup {
    /// A group from its model at the current pick.
    pub(super) fn from_model(model: Fwrr, backup: bool) -> Self {
        match Schedule::build(model, backup) {
            Ok(s) => Self::Running(Arc::new(s)),
            Err(model) => Self::Idle(model),
        }
    }

    /// The model as it stands now.
    pub(super) fn model(&self) -> Fwrr {
        match self {
            Self::Running(s) => s.current(),
            Self::Idle(m) => Fwrr::clone(m),
        }
    }

    fn schedule(&self) -> Option<Arc<Schedule>> {
        match self {
            Self::Running(s) => Some(Arc::clone(s)),
            Self::Idle(_) => None,
        }
    }
}

/// A change to apply to a roundrobin group's model, in order.
#[derive(Debug, Clone, Copy)]
pub(super) enum RrChange {
    /// The server became usable with this effective weight.
    Up(usize, u32),
    /// The server stopped being usable.
    Down(usize),
    /// A usable server's effective weight changed.
    Weight(usize, u32),
}

/// What pickers read without locking.
#[derive(Debug, Default)]
pub(super) struct Snapshot {
    pub(super) usable: Vec<bool>,
    pub(super) eweight: Vec<u32>,
    pub(super) cumulative: Vec<u32>,
    pub(super) srv_act: usize,
    pub(super) srv_bck: usize,
    pub(super) fbck: Option<usize>,
    pub(super) tot_weight: u32,
    pub(super) map: Arc<MapTable>,
    /// The consistent-hash ring of the group in use.
    pub(super) ring: SortedRing,
    /// Servers of the group in use (active, or backups), by id order, for first/leastconn.
    pub(super) group: Vec<usize>,
    /// By server index: whether the server is in `group` (one check for leastconn's pick).
    pub(super) in_group: Vec<bool>,
    /// Whether some server of `group` has a `maxconn` (leastconn must then check room).
    pub(super) group_limited: bool,
    /// roundrobin: the schedules of the active and backup groups.
    pub(super) rr: [Option<Arc<Schedule>>; 2],
    /// roundrobin: turns a pick tries before queueing: the group in use's cycle, at most
    /// twice the group's size (at least 1).
    pub(super) rr_tries: usize,
}

impl Balancer {
    /// Applies the pending roundrobin changes, rebuilds the snapshot pickers read and
    /// publishes it.
    pub(super) fn publish(&self, core: &mut Core) {
        for backup in [false, true] {
            let b = usize::from(backup);
            let Some(pending) = core.rr_pending.get_mut(b) else {
                continue;
            };
            if pending.is_empty() {
                continue;
            }
            let changes = std::mem::take(pending);
            let Some(group) = core.rr.get_mut(b) else {
                continue;
            };
            let mut model = group.model();
            for c in changes {
                match c {
                    RrChange::Up(i, w) => model.set_up(i, w),
                    RrChange::Down(i) => model.set_down(i),
                    RrChange::Weight(i, w) => model.update_weight(i, w),
                }
            }
            *group = RrGroup::from_model(model, backup);
        }
        let old = self.snapshot.load();
        let n = self.specs.len();
        let mut s = Snapshot {
            usable: (0..n).map(|i| self.usable(core, i)).collect(),
            eweight: (0..n).map(|i| self.eweight(core, i)).collect(),
            cumulative: vec![0; n],
            rr: [
                core.rr.first().and_then(RrGroup::schedule),
                core.rr.get(1).and_then(RrGroup::schedule),
            ],
            ..Snapshot::default()
        };
        let (mut wact, mut wbck) = (0u32, 0u32);
        for i in 0..n {
            let usable = s.usable.get(i).copied().unwrap_or(false);
            let w = if usable {
                s.eweight.get(i).copied().unwrap_or(0)
            } else {
                0
            };
            self.lc_weight(i, w);
            if !usable {
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
        s.tot_weight = if s.srv_act > 0 {
            wact
        } else if let Some(f) = s.fbck {
            s.eweight.get(f).copied().unwrap_or(0)
        } else {
            wbck
        };
        let backup_group = s.srv_act == 0;
        s.in_group = (0..n)
            .map(|i| {
                s.usable.get(i).copied().unwrap_or(false) && self.spec_backup(i) == backup_group
            })
            .collect();
        s.group = (0..n)
            .filter(|&i| s.in_group.get(i).copied().unwrap_or(false))
            .collect();
        s.group
            .sort_by_key(|&i| self.specs.get(i).map_or(0, |sp| sp.id));
        self.lc_flag(|i| s.in_group.get(i).copied().unwrap_or(false));
        s.group_limited = s.group.iter().any(|&i| self.maxconn(i) != 0);
        s.rr_tries =
            s.rr.get(usize::from(backup_group))
                .and_then(Option::as_ref)
                .map_or(0, |sched| {
                    sched.cycle().min(s.group.len().saturating_mul(2).max(1))
                });
        if self.config.uses_map() {
            let members: Vec<(u32, bool)> = (0..n)
                .map(|i| {
                    let ok = s.usable.get(i).copied().unwrap_or(false)
                        && self.spec_backup(i) == backup_group;
                    (s.eweight.get(i).copied().unwrap_or(0), ok)
                })
                .collect();
            let slots = map::build(&members, s.tot_weight);
            // `rr_idx` survives the rebuild, restarting at 0 when past the new end.
            let idx = old.map.rr_idx();
            let start = if idx >= slots.len() as u64 { 0 } else { idx };
            s.map = Arc::new(MapTable {
                slots,
                cursor: AtomicU64::new(start),
            });
        }
        if self.config.uses_ring() {
            let ring = core.rings.get(usize::from(backup_group));
            s.ring = ring.map(Ring::to_sorted).unwrap_or_default();
        }
        self.store_snapshot(s);
    }
}
