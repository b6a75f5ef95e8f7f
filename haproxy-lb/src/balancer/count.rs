//! Per-server connection counts, kept so that a pick on a server without `maxconn` needs no
//! locked instruction.
//!
//! A locked read-modify-write costs 15-18 ns on the build machine, as much as the rest of a
//! pick. Each server's count is therefore split into [`LANES`] lanes (32 bytes, never across
//! two cache lines): the last lane is shared and changed with locked instructions; each of
//! the others belongs to one thread at a time (claimed on the thread's first count, given
//! back when it exits), which changes it with a plain load and store. The count is the
//! wrapping sum of the lanes (a connection taken on one thread and released on another
//! leaves one lane above and one below zero).
//!
//! Every algorithm but bounded loads uses the thread lanes (`sharded`); leastconn computes
//! a server's new key from the sum of its lanes and random compares sums. Bounded loads
//! (`hash-balance-factor`) keep everything in the shared lane, which is then exactly the
//! former single counter, since they also keep the backend's total. A server with a
//! `maxconn` always takes and releases through the shared lane with a compare-and-swap on
//! the whole sum, so it never goes past its limit; connections counted in thread lanes before
//! a runtime `set maxconn` still count against it.

use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicU32, Ordering};

/// Lanes per server: [`THREAD_LANES`] owned by threads, then the shared one.
pub(super) const LANES: usize = 8;
/// Threads that count on their own lane at once; further threads use the shared lane.
pub(super) const THREAD_LANES: usize = LANES - 1;
/// The shared lane's index.
const SHARED: usize = LANES - 1;
/// Attempts to claim a lane before a thread settles for the shared one (bounds the
/// compare-and-swap loop when many threads start at once).
const CLAIM_ATTEMPTS: usize = 64;

/// Which thread lanes are taken, one bit each, process-wide.
static CLAIMED: AtomicU32 = AtomicU32::new(0);

/// One server's lanes, aligned so that they sit in one cache line (which they share with at
/// most one other server's).
#[derive(Debug, Default)]
#[repr(align(32))]
struct Lanes([AtomicU32; LANES]);

impl Lanes {
    /// The count: the wrapping sum of the lanes, as a signed number.
    #[inline]
    fn sum(&self) -> i32 {
        let s = self
            .0
            .iter()
            .fold(0u32, |a, l| a.wrapping_add(l.load(Ordering::Acquire)));
        s as i32
    }

    /// The lanes other than the shared one, summed.
    fn others(&self) -> u32 {
        self.0
            .iter()
            .take(SHARED)
            .fold(0u32, |a, l| a.wrapping_add(l.load(Ordering::Acquire)))
    }

    fn shared(&self) -> Option<&AtomicU32> {
        self.0.get(SHARED)
    }
}

/// This thread's lane: [`UNCLAIMED`] until its first count, [`NO_LANE`] when none was free
/// (or the thread is exiting). A constant-initialised cell without a destructor, so reading
/// it is one thread-local load.
const UNCLAIMED: u8 = u8::MAX;
/// See [`UNCLAIMED`].
const NO_LANE: u8 = u8::MAX - 1;

/// Gives the thread's lane back when the thread exits.
#[derive(Debug)]
struct ThreadLane(usize);

impl Drop for ThreadLane {
    fn drop(&mut self) {
        let _ = LANE.try_with(|l| l.set(NO_LANE));
        free(&CLAIMED, self.0);
    }
}

thread_local! {
    static LANE: Cell<u8> = const { Cell::new(UNCLAIMED) };
    static OWNER: RefCell<Option<ThreadLane>> = const { RefCell::new(None) };
}

/// This thread's lane, if it has one (claimed on first use).
#[inline]
fn thread_lane() -> Option<usize> {
    match LANE.try_with(Cell::get) {
        Ok(l) if usize::from(l) < THREAD_LANES => Some(usize::from(l)),
        Ok(UNCLAIMED) => claim_for_thread(),
        _ => None,
    }
}

/// Claims a lane for this thread and registers its return at thread exit.
#[cold]
#[inline(never)]
fn claim_for_thread() -> Option<usize> {
    let got = claim(&CLAIMED);
    let registered = got.and_then(|l| {
        OWNER
            .try_with(|o| {
                o.try_borrow_mut()
                    .map(|mut o| *o = Some(ThreadLane(l)))
                    .is_ok()
            })
            .ok()
            .filter(|&ok| ok)
            .map(|_| l)
    });
    if let (Some(l), None) = (got, registered) {
        // Could not register the return (the thread is exiting): give it back now.
        free(&CLAIMED, l);
    }
    let cell = registered
        .and_then(|l| u8::try_from(l).ok())
        .unwrap_or(NO_LANE);
    let _ = LANE.try_with(|c| c.set(cell));
    registered
}

/// Claims a free lane in `map` (`None` when all [`THREAD_LANES`] are taken).
fn claim(map: &AtomicU32) -> Option<usize> {
    let all = (1u32 << THREAD_LANES) - 1;
    let mut cur = map.load(Ordering::Acquire);
    for _ in 0..CLAIM_ATTEMPTS {
        let free = !cur & all;
        if free == 0 {
            return None;
        }
        let bit = free.trailing_zeros();
        match map.compare_exchange_weak(cur, cur | (1 << bit), Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => return Some(bit as usize),
            Err(now) => cur = now,
        }
    }
    None
}

/// Gives lane `l` of `map` back. The lane's counts stay: they belong to the connections
/// that thread took or released, and the next owner goes on from them.
fn free(map: &AtomicU32, l: usize) {
    map.fetch_and(!(1u32 << l), Ordering::AcqRel);
}

/// The connection counts of a balancer's servers.
#[derive(Debug)]
pub(super) struct Counts {
    lanes: Vec<Lanes>,
    /// Whether unlimited servers count on thread lanes (see the module docs).
    sharded: bool,
}

impl Counts {
    /// Counts for `n` servers, all zero.
    pub(super) fn new(n: usize, sharded: bool) -> Self {
        Self {
            lanes: (0..n).map(|_| Lanes::default()).collect(),
            sharded,
        }
    }

    /// Server `i`'s connections (0 for an unknown index, and never below 0 even while racing
    /// takes and releases on other threads' lanes are half seen).
    #[inline]
    pub(super) fn get(&self, i: usize) -> u32 {
        let Some(l) = self.lanes.get(i) else {
            return 0;
        };
        if self.sharded {
            u32::try_from(l.sum()).unwrap_or(0)
        } else {
            l.shared().map_or(0, |a| a.load(Ordering::Acquire))
        }
    }

    /// The shared lane of server `i`: the whole count when not sharded.
    #[inline]
    pub(super) fn shared(&self, i: usize) -> Option<&AtomicU32> {
        self.lanes.get(i).and_then(Lanes::shared)
    }

    /// This thread's lane, when counts are sharded and the thread has one: connections of
    /// servers without `maxconn` are then counted there ([`Counts::add_on`],
    /// [`Counts::sub_on`]); otherwise on the shared lane.
    #[inline]
    pub(super) fn lane(&self) -> Option<usize> {
        if self.sharded { thread_lane() } else { None }
    }

    /// Counts a connection on server `i` on lane `l` (from [`Counts::lane`]), without a
    /// locked instruction: this thread is the lane's only writer. `false` for an unknown
    /// server.
    #[inline]
    pub(super) fn add_on(&self, i: usize, l: usize) -> bool {
        match self.lanes.get(i).and_then(|lanes| lanes.0.get(l)) {
            Some(a) => {
                a.store(a.load(Ordering::Relaxed).wrapping_add(1), Ordering::Release);
                true
            }
            None => false,
        }
    }

    /// Uncounts a connection on server `i` from lane `l`, as [`Counts::add_on`], and returns
    /// the count left. A release of a server with no connection changes nothing (`None`).
    #[inline]
    pub(super) fn sub_on(&self, i: usize, l: usize) -> Option<u32> {
        let lanes = self.lanes.get(i)?;
        let a = lanes.0.get(l)?;
        let count = u32::try_from(lanes.sum()).ok().filter(|&c| c > 0)?;
        a.store(a.load(Ordering::Relaxed).wrapping_sub(1), Ordering::Release);
        Some(count - 1)
    }

    /// Takes a connection on server `i` if its count is under `maxconn`, on the shared lane
    /// (compare-and-swap). Returns the count before (`Err`: the count that was too high).
    pub(super) fn take_limited(&self, i: usize, maxconn: u32) -> Result<u32, u32> {
        let Some(lanes) = self.lanes.get(i) else {
            return Err(0);
        };
        let others = if self.sharded { lanes.others() } else { 0 };
        let Some(shared) = lanes.shared() else {
            return Err(0);
        };
        let total = |c: u32| u32::try_from(c.wrapping_add(others) as i32).unwrap_or(0);
        shared
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |c| {
                (total(c) < maxconn).then_some(c.wrapping_add(1))
            })
            .map(total)
            .map_err(total)
    }

    /// Uncounts a connection on server `i` from the shared lane; a release of a server with
    /// no connection changes nothing. Returns whether a connection was uncounted and the
    /// count left.
    pub(super) fn sub_shared(&self, i: usize) -> (bool, u32) {
        let Some(shared) = self.shared(i) else {
            return (false, 0);
        };
        if self.sharded {
            if self.get(i) == 0 {
                return (false, 0);
            }
            shared.fetch_sub(1, Ordering::AcqRel);
            return (true, self.get(i));
        }
        match shared.fetch_sub(1, Ordering::AcqRel) {
            0 => {
                // A release without a connection (a caller's mistake): undo rather than wrap.
                shared.fetch_add(1, Ordering::AcqRel);
                (false, 0)
            }
            was => (true, was - 1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A take as the balancer does one on a server without `maxconn`.
    fn add(c: &Counts, i: usize) {
        match c.lane() {
            Some(l) => {
                c.add_on(i, l);
            }
            None => {
                c.shared(i).map(|a| a.fetch_add(1, Ordering::AcqRel));
            }
        }
    }

    /// A release as the balancer does one on a server without `maxconn`.
    fn sub(c: &Counts, i: usize) {
        match c.lane() {
            Some(l) => {
                c.sub_on(i, l);
            }
            None => {
                c.sub_shared(i);
            }
        }
    }

    #[test]
    fn lanes_are_claimed_up_to_the_limit_and_reused_after_a_free() {
        let map = AtomicU32::new(0);
        let got: Vec<usize> = (0..THREAD_LANES).filter_map(|_| claim(&map)).collect();
        assert_eq!(got, (0..THREAD_LANES).collect::<Vec<_>>());
        assert_eq!(
            claim(&map),
            None,
            "past THREAD_LANES a thread uses the shared lane"
        );
        free(&map, 3);
        assert_eq!(claim(&map), Some(3));
        assert_eq!(claim(&map), None);
    }

    #[test]
    fn counts_taken_on_one_thread_and_released_on_another_add_up() {
        let c = Counts::new(2, true);
        std::thread::scope(|s| {
            s.spawn(|| (0..5).for_each(|_| add(&c, 1)));
        });
        assert_eq!(c.get(1), 5);
        std::thread::scope(|s| {
            s.spawn(|| (0..3).for_each(|_| sub(&c, 1)));
        });
        assert_eq!(c.get(1), 2);
        assert_eq!(c.get(0), 0);
        // A release without a connection changes nothing.
        sub(&c, 0);
        sub(&c, 0);
        assert_eq!(c.get(0), 0);
        add(&c, 0);
        assert_eq!(c.get(0), 1);
    }

    #[test]
    fn more_threads_than_lanes_still_count_exactly() {
        let c = Counts::new(3, true);
        std::thread::scope(|s| {
            for _ in 0..2 * LANES {
                s.spawn(|| (0..100).for_each(|k| add(&c, k % 3)));
            }
        });
        let total: u32 = (0..3).map(|i| c.get(i)).sum();
        assert_eq!(total, 2 * LANES as u32 * 100);
        std::thread::scope(|s| {
            for _ in 0..2 * LANES {
                s.spawn(|| (0..100).for_each(|k| sub(&c, k % 3)));
            }
        });
        assert_eq!((0..3).map(|i| c.get(i)).collect::<Vec<_>>(), [0, 0, 0]);
    }

    #[test]
    fn a_limited_take_counts_every_lane_against_maxconn() {
        let c = Counts::new(1, true);
        // Two connections on thread lanes (as before a runtime `set maxconn`).
        std::thread::scope(|s| {
            for _ in 0..2 {
                s.spawn(|| add(&c, 0));
            }
        });
        assert_eq!(c.get(0), 2);
        assert_eq!(c.take_limited(0, 2), Err(2));
        assert_eq!(c.take_limited(0, 3), Ok(2));
        assert_eq!(c.take_limited(0, 3), Err(3));
        assert_eq!(c.get(0), 3);
        assert_eq!(c.sub_shared(0), (true, 2));
        assert_eq!(c.take_limited(0, 3), Ok(2));
    }

    #[test]
    fn an_unknown_server_is_not_counted() {
        let c = Counts::new(2, true);
        assert!(!c.add_on(2, 0));
        assert_eq!(c.sub_on(2, 0), None);
        assert_eq!(c.get(2), 0);
        assert_eq!(c.take_limited(2, 5), Err(0));
        assert_eq!(c.sub_shared(2), (false, 0));
    }

    #[test]
    fn unsharded_counts_stay_in_the_shared_lane() {
        let c = Counts::new(1, false);
        assert_eq!(c.lane(), None);
        assert_eq!(c.take_limited(0, 1), Ok(0));
        assert_eq!(c.take_limited(0, 1), Err(1));
        assert_eq!(c.sub_shared(0), (true, 0));
        assert_eq!(c.sub_shared(0), (false, 0));
        assert_eq!(c.get(0), 0);
    }
}
