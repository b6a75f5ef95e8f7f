//! Giving freed memory back to the OS when a serving thread goes quiet.
//!
//! mimalloc (v3, the `mimalloc` crate's default) returns the pages that a burst of connections
//! freed to the OS only from inside later allocation and free calls: a page left entirely free is
//! handed to its arena with a purge scheduled `purge_delay` (1 s) later, and the purge runs when
//! the allocator is next called past that time. A proxy that goes quiet after a burst, its
//! keep-alive connections parked, makes no such call, so it kept those pages (1.54 KiB per idle
//! keep-alive connection after 2,000 opened at once, against 0.95 KiB once purged; issue 5).
//!
//! So each serving thread runs [`collect_periodically`], which every [`COLLECT_EVERY`] calls
//! mimalloc's `mi_collect` on its own thread (heaps are per thread): normally with `force =
//! false`, which frees the thread's pages that hold no live block and runs the arena purges that
//! are due, the collection mimalloc itself does from busy allocation paths; and with `force =
//! true` once when the thread has just gone quiet (its runtime woke at most
//! [`QUIET_WAKEUPS`] times during the last period, after a busier one), which also purges the
//! free memory whose delay has not run out yet, so an idle process is back to what its live
//! connections hold within a period or two. The wake-ups are counted by [`woke`], the runtime's
//! `on_thread_unpark` hook.
//!
//! This module holds the project's only `unsafe` block (docs/architecture.md, "Decision: one
//! unsafe call, mimalloc's collect").

use std::cell::Cell;
use std::time::Duration;

/// How often a serving thread collects: short enough that a thread gone quiet has given its
/// free memory back well within a second, long enough that the calls (about 10-20 µs each with a
/// busy heap) cost nothing measurable.
pub(crate) const COLLECT_EVERY: Duration = Duration::from_millis(250);

/// Most runtime wake-ups in one [`COLLECT_EVERY`] period for the thread to count as quiet: the
/// collection's own timer wakes it once, a few connection timers may fire; a thread serving
/// traffic wakes hundreds or thousands of times.
pub(crate) const QUIET_WAKEUPS: u32 = 4;

thread_local! {
    /// This thread's runtime wake-ups since its last collection.
    static WAKEUPS: Cell<u32> = const { Cell::new(0) };
}

/// The runtime's `on_thread_unpark` hook: counts one wake-up of the calling thread.
pub(crate) fn woke() {
    WAKEUPS.with(|w| w.set(w.get().saturating_add(1)));
}

/// Whether a collection forces the purge: the thread woke at most [`QUIET_WAKEUPS`] times in
/// the period just ended and more in the one before (it has just gone quiet). A thread that stays
/// quiet, or stays busy, collects without forcing.
pub(crate) fn force_purge(wakeups: u32, before: u32) -> bool {
    wakeups <= QUIET_WAKEUPS && before > QUIET_WAKEUPS
}

/// Collects the calling thread's mimalloc heap: frees its pages that hold no live block and
/// returns free arena memory to the OS, all of it with `force`, otherwise only what has waited
/// mimalloc's purge delay. Never blocks on I/O.
pub(crate) fn collect(force: bool) {
    // SAFETY: `mi_collect` is a plain C function of the statically linked mimalloc with no
    // preconditions: it takes a `bool` by value, reads and writes no memory of ours, and may be
    // called from any thread at any time (it works on the calling thread's heap and takes
    // mimalloc's own locks for the shared arenas). It cannot invalidate a live allocation: it
    // frees only pages whose blocks are all free.
    unsafe { libmimalloc_sys::mi_collect(force) }
}

/// Collects every [`COLLECT_EVERY`] on the thread that polls it (forcing the purge when the
/// thread has just gone quiet, see [`force_purge`]), forever; spawned on each serving thread's
/// single-threaded runtime, whose `on_thread_unpark` hook is [`woke`], it ends when that runtime
/// is dropped.
pub(crate) async fn collect_periodically() {
    let mut tick = tokio::time::interval(COLLECT_EVERY);
    // After a stall, one collection, not a catch-up burst.
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The first tick completes at once: skip it, nothing was freed yet.
    tick.tick().await;
    let mut before = 0;
    loop {
        tick.tick().await;
        let wakeups = WAKEUPS.with(|w| w.replace(0));
        collect(force_purge(wakeups, before));
        before = wakeups;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_purge_is_forced_once_when_the_thread_goes_quiet() {
        let periods = [5000, 300, QUIET_WAKEUPS + 1, QUIET_WAKEUPS, 1, 0, 900, 1];
        let forced: Vec<bool> = periods
            .windows(2)
            .map(|w| force_purge(w[1], w[0]))
            .collect();
        assert_eq!(
            forced,
            [false, false, true, false, false, false, true],
            "busy -> busy, busy -> busy, busy -> quiet, quiet -> quiet ..., quiet -> busy, busy -> quiet"
        );
    }

    #[test]
    fn wakeups_are_counted_per_thread() {
        WAKEUPS.with(|w| w.set(0));
        woke();
        woke();
        let other = std::thread::spawn(|| {
            woke();
            WAKEUPS.with(Cell::get)
        })
        .join()
        .expect("thread");
        assert_eq!((WAKEUPS.with(Cell::get), other), (2, 1));
    }

    #[test]
    fn a_collection_keeps_live_allocations() {
        let live: Vec<Vec<u8>> = (0..1000u32).map(|i| vec![(i % 251) as u8; 700]).collect();
        let freed: Vec<Vec<u8>> = (0..1000).map(|_| vec![7; 700]).collect();
        drop(freed);
        collect(false);
        collect(true);
        assert!(
            live.iter()
                .enumerate()
                .all(|(i, v)| v.iter().all(|b| u32::from(*b) == i as u32 % 251))
        );
    }
}
