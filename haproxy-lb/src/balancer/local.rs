//! A per-thread cache of each balancer's current snapshot.
//!
//! Taking an arc-swap guard costs two locked instructions; with this cache a pick reads the
//! balancer's version (a plain atomic load) and, while it has not moved, uses the snapshot the
//! thread already holds. A change stores the new snapshot, then bumps the version, so a
//! thread that sees the new version loads the new snapshot. A thread keeps at most
//! [`SLOTS`] snapshots (direct-mapped by balancer id) until it picks from another balancer
//! sharing the slot or exits.

use std::cell::RefCell;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::Balancer;
use super::snapshot::Snapshot;

/// Balancers one thread keeps a snapshot of at once.
const SLOTS: usize = 16;

/// Balancer ids: never reused in a process, so an entry cannot be mistaken for another
/// balancer's.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// A new balancer id.
pub(super) fn next_id() -> u64 {
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

struct Entry {
    id: u64,
    version: u64,
    snap: Arc<Snapshot>,
}

thread_local! {
    static CACHE: RefCell<[Option<Entry>; SLOTS]> = const { RefCell::new([const { None }; SLOTS]) };
}

impl Balancer {
    /// Runs `f` on the current snapshot, from this thread's cache when it is fresh.
    pub(super) fn with_snapshot<R>(&self, f: impl Fn(&Snapshot) -> R) -> R {
        let version = self.version.load(Ordering::Acquire);
        let slot = (self.id % SLOTS as u64) as usize;
        let hit =
            |e: &Option<Entry>| matches!(e, Some(e) if e.id == self.id && e.version == version);
        let cached = CACHE.try_with(|cell| {
            // The common case: one shared borrow, a fresh entry, the pick runs under it.
            if let Ok(c) = cell.try_borrow()
                && let Some(Some(e)) = c.get(slot).filter(|e| hit(e))
            {
                return Some(f(&e.snap));
            }
            {
                // The version was read first, so this snapshot is at least that recent.
                let mut c = cell.try_borrow_mut().ok()?;
                *c.get_mut(slot)? = Some(Entry {
                    id: self.id,
                    version,
                    snap: self.snapshot.load_full(),
                });
            }
            let c = cell.try_borrow().ok()?;
            match c.get(slot) {
                Some(Some(e)) if e.id == self.id && e.version == version => Some(f(&e.snap)),
                _ => None,
            }
        });
        match cached {
            Ok(Some(r)) => r,
            _ => f(&self.snapshot.load()),
        }
    }

    /// Publishes `snap` to pickers: the shared pointer first, then the version caches follow.
    pub(super) fn store_snapshot(&self, snap: Snapshot) {
        self.snapshot.store(Arc::new(snap));
        self.version.fetch_add(1, Ordering::AcqRel);
    }
}
