//! A per-thread cache of each balancer's current snapshot.
//!
//! Taking an arc-swap guard costs two locked instructions; with this cache a pick reads the
//! balancer's version (a plain atomic load) and, while it has not moved, uses the snapshot the
//! thread already holds. A change stores the new snapshot, then a new version (unique in the
//! process), so a thread that sees the new version loads the new snapshot. A thread keeps at
//! most [`SLOTS`] snapshots (direct-mapped by the balancer's first version) until it picks
//! from another balancer sharing the slot or exits.

use std::cell::RefCell;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::Balancer;
use super::snapshot::Snapshot;

/// Balancers one thread keeps a snapshot of at once.
const SLOTS: usize = 16;

/// Snapshot versions, process-wide: never reused, so one comparison tells that a cached
/// entry is this balancer's current snapshot (no separate balancer id to compare).
static NEXT_VERSION: AtomicU64 = AtomicU64::new(1);

/// A new snapshot version (also a balancer's first).
pub(super) fn next_version() -> u64 {
    NEXT_VERSION.fetch_add(1, Ordering::Relaxed)
}

/// A cached snapshot and the version it was published under.
struct Entry {
    version: u64,
    snap: Arc<Snapshot>,
}

thread_local! {
    static CACHE: RefCell<[Option<Entry>; SLOTS]> = const { RefCell::new([const { None }; SLOTS]) };
}

impl Balancer {
    /// This balancer's cache slot.
    #[inline]
    fn slot(&self) -> usize {
        (self.slot_seed % SLOTS as u64) as usize
    }

    /// Runs `f` on the current snapshot, from this thread's cache when it is fresh (the one
    /// place `f` is called on the common path, so that it can be inlined there).
    #[inline]
    pub(super) fn with_snapshot<R>(&self, f: impl Fn(&Snapshot) -> R) -> R {
        let version = self.version.load(Ordering::Acquire);
        let slot = self.slot();
        let cached = CACHE.try_with(|cell| {
            let c = cell.try_borrow().ok()?;
            match c.get(slot) {
                Some(Some(e)) if e.version == version => Some(f(&e.snap)),
                _ => None,
            }
        });
        match cached {
            Ok(Some(r)) => r,
            _ => call_cold(&f, &self.refresh(version)),
        }
    }

    /// A cache miss: loads the snapshot (at least as recent as `version`, which was read
    /// first) and caches it for this thread.
    #[cold]
    #[inline(never)]
    fn refresh(&self, version: u64) -> Arc<Snapshot> {
        let snap = self.snapshot.load_full();
        let slot = self.slot();
        let _ = CACHE.try_with(|cell| {
            if let Ok(mut c) = cell.try_borrow_mut()
                && let Some(e) = c.get_mut(slot)
            {
                *e = Some(Entry {
                    version,
                    snap: Arc::clone(&snap),
                });
            }
        });
        snap
    }

    /// Publishes `snap` to pickers: the shared pointer first, then the version caches follow.
    pub(super) fn store_snapshot(&self, snap: Snapshot) {
        self.snapshot.store(Arc::new(snap));
        self.version.store(next_version(), Ordering::Release);
    }
}

/// Runs `f` off the common path (keeps a second inlined copy of it out of the picker).
#[cold]
#[inline(never)]
fn call_cold<R>(f: &impl Fn(&Snapshot) -> R, snap: &Snapshot) -> R {
    f(snap)
}
