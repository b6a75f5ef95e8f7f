//! A per-thread timer for parked keep-alive connections (deep idle): a parked connection holds a
//! 24-byte timer (its wheel's number and its key) instead of a tokio `Sleep` (about 100 bytes,
//! which took every idle connection's task from a 512-byte cell to a 640-byte one). Each thread's wheel is an ordered map of (deadline tick, sequence) to the
//! parked task's waker, driven by one tokio `Sleep` per thread for the earliest deadline.
//!
//! Granularity: deadlines are rounded up to the next millisecond from a process-wide epoch, as
//! tokio's own timer rounds them, so a connection closes at most about a millisecond after its deadline.
//!
//! Only a `current_thread` runtime uses the wheel (each of the proxy's threads runs one, so a task
//! never moves between threads). On any other runtime, or when a timer registered on one thread is
//! polled on another, the timer falls back to a boxed tokio `Sleep`: a timer is always correct,
//! and the small form is the common one.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, Ordering};
use std::task::{Context, Poll, Waker};

use tokio::time::{Instant, Sleep};

/// Bits of a wheel key given to the sequence number that tells apart timers of the same tick.
const SEQ_BITS: u32 = 24;

/// The most timers one wheel may hold in the same millisecond tick (`2^SEQ_BITS`); past it a timer
/// falls back to a tokio `Sleep`.
pub(crate) const MAX_TIMERS_PER_TICK: u64 = 1 << SEQ_BITS;

/// Numbers the wheels, so that a timer can tell whether it is polled on its own wheel's thread.
static NEXT_WHEEL: AtomicU32 = AtomicU32::new(1);

/// The instant tick 0 stands for, the same on every thread (set once, then only read), so that a
/// timer's deadline can be found from its key alone.
static EPOCH: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();

/// The process-wide tick epoch.
fn epoch() -> Instant {
    *EPOCH.get_or_init(Instant::now)
}

/// The instant a tick stands for.
fn instant(tick: u64) -> Instant {
    epoch() + std::time::Duration::from_millis(tick)
}

thread_local! {
    static WHEEL: RefCell<Wheel> = RefCell::new(Wheel::new());
}

/// One thread's timers.
struct Wheel {
    /// This wheel's number (never 0).
    number: u32,
    /// The instant tick 0 stands for (the process-wide [`EPOCH`]).
    epoch: Instant,
    /// (tick << SEQ_BITS | sequence) -> the waker of the parked connection's task.
    entries: BTreeMap<u64, Waker>,
    /// Keys of timers fired early by [`fire_all`] (a soft stop), not yet seen by their owner.
    fired: std::collections::BTreeSet<u64>,
    /// The next sequence number (wraps within `SEQ_BITS`).
    seq: u64,
    /// Whether a driver task runs for this wheel, and its waker once it has waited.
    driver: Option<Option<Waker>>,
}

impl Wheel {
    fn new() -> Self {
        Wheel {
            number: NEXT_WHEEL.fetch_add(1, Ordering::Relaxed).max(1),
            epoch: epoch(),
            entries: BTreeMap::new(),
            fired: std::collections::BTreeSet::new(),
            seq: 0,
            driver: None,
        }
    }

    /// The tick at or after `deadline` (whole milliseconds since the epoch, rounded up).
    fn tick(&self, deadline: Instant) -> u64 {
        let since = deadline.saturating_duration_since(self.epoch);
        let ms = since.as_nanos().div_ceil(1_000_000);
        u64::try_from(ms)
            .unwrap_or(u64::MAX)
            .min(u64::MAX >> SEQ_BITS)
    }

    /// Adds a timer; its key, or `None` when its tick is full.
    fn insert(&mut self, deadline: Instant, waker: &Waker) -> Option<u64> {
        let base = self.tick(deadline) << SEQ_BITS;
        for _ in 0..MAX_TIMERS_PER_TICK {
            let key = base | (self.seq & (MAX_TIMERS_PER_TICK - 1));
            self.seq = self.seq.wrapping_add(1);
            if self.fired.contains(&key) {
                continue;
            }
            if let std::collections::btree_map::Entry::Vacant(v) = self.entries.entry(key) {
                v.insert(waker.clone());
                return Some(key);
            }
        }
        None
    }
}

/// A parked connection's keep-alive timer, by where it waits. On a wheel only its key is kept
/// (24 bytes in all, a tokio `Sleep` is about 100): the deadline is then its tick's instant,
/// rounded up to the millisecond.
#[derive(Debug)]
pub(crate) enum IdleTimer {
    /// Not polled yet: expires at this deadline.
    New(Instant),
    /// In wheel `wheel` under `key` (tick << SEQ_BITS | sequence).
    Wheel { wheel: u32, key: u64 },
    /// A tokio timer of its own (not on a wheel thread).
    Sleep(Pin<Box<Sleep>>),
    /// Expired at this deadline.
    Done(Instant),
}

impl IdleTimer {
    /// A timer for `deadline`; it waits only once polled.
    pub(crate) fn new(deadline: Instant) -> Self {
        IdleTimer::New(deadline)
    }

    /// When the timer expires (on a wheel: rounded up to the millisecond).
    pub(crate) fn deadline(&self) -> Instant {
        match self {
            IdleTimer::New(d) | IdleTimer::Done(d) => *d,
            IdleTimer::Wheel { key, .. } => instant(key >> SEQ_BITS),
            IdleTimer::Sleep(sleep) => sleep.deadline(),
        }
    }

    /// Whether the timer was fired by [`fire_all`] before its deadline (a soft stop).
    pub(crate) fn fired_early(&self) -> bool {
        matches!(self, IdleTimer::Done(d) if Instant::now() < *d)
    }

    /// Ready once the deadline has passed, or [`fire_all`] fired it; otherwise the task is
    /// woken when it does.
    pub(crate) fn poll_expired(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let deadline = self.deadline();
        if matches!(self, IdleTimer::Done(_)) || Instant::now() >= deadline || self.take_fired() {
            self.deregister();
            self.set(IdleTimer::Done(deadline));
            return Poll::Ready(());
        }
        if let IdleTimer::Sleep(sleep) = self {
            return sleep.as_mut().poll(cx);
        }
        let on_wheel_thread = tokio::runtime::Handle::try_current()
            .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::CurrentThread);
        // The driver is spawned once the wheel is no longer borrowed: a runtime that is shutting
        // down drops the task at once, and its guard then marks the wheel driverless again.
        let mut spawn = None;
        let placed = on_wheel_thread
            .then(|| {
                WHEEL
                    .try_with(|w| {
                        let mut w = w.try_borrow_mut().ok()?;
                        match *self {
                            IdleTimer::Wheel { wheel, key } if wheel == w.number => {
                                let slot = w.entries.get_mut(&key)?;
                                if !slot.will_wake(cx.waker()) {
                                    slot.clone_from(cx.waker());
                                }
                                Some(IdleTimer::Wheel { wheel, key })
                            }
                            IdleTimer::New(deadline) => {
                                let key = w.insert(deadline, cx.waker())?;
                                let earliest = w.entries.keys().next() == Some(&key);
                                match &mut w.driver {
                                    None => {
                                        w.driver = Some(None);
                                        spawn = Some(w.number);
                                    }
                                    Some(Some(driver)) if earliest => driver.wake_by_ref(),
                                    Some(_) => {}
                                }
                                Some(IdleTimer::Wheel {
                                    wheel: w.number,
                                    key,
                                })
                            }
                            _ => None,
                        }
                    })
                    .ok()
                    .flatten()
            })
            .flatten();
        if let Some(number) = spawn {
            drop(tokio::spawn(drive(number)));
        }
        match placed {
            Some(timer) => {
                self.set(timer);
                Poll::Pending
            }
            None => {
                // Not on a wheel thread (or polled away from its own): a timer of its own.
                self.deregister();
                let mut sleep = Box::pin(tokio::time::sleep_until(deadline));
                let poll = sleep.as_mut().poll(cx);
                self.set(IdleTimer::Sleep(sleep));
                poll
            }
        }
    }

    /// Whether [`fire_all`] fired this timer (on its wheel's thread); forgets it once seen.
    fn take_fired(&self) -> bool {
        let IdleTimer::Wheel { wheel, key } = *self else {
            return false;
        };
        WHEEL
            .try_with(|w| {
                w.try_borrow_mut()
                    .is_ok_and(|mut w| w.number == wheel && w.fired.remove(&key))
            })
            .unwrap_or(false)
    }

    /// Replaces the timer's state without leaving its wheel: the caller has left it already, or
    /// stays on it under the same key (dropping the old state would remove that key).
    fn set(&mut self, next: IdleTimer) {
        let old = std::mem::replace(self, next);
        if let IdleTimer::Wheel { .. } = old {
            // Holds no resource; its Drop would leave the wheel.
            std::mem::forget(old);
        }
    }

    /// Leaves the wheel, when on it and on its thread (a timer dropped on another thread is
    /// removed by its wheel's driver when it expires).
    fn deregister(&mut self) {
        if let IdleTimer::Wheel { wheel, key } = *self {
            let _ = WHEEL.try_with(|w| {
                if let Ok(mut w) = w.try_borrow_mut()
                    && w.number == wheel
                {
                    w.entries.remove(&key);
                    w.fired.remove(&key);
                }
            });
            self.set(IdleTimer::New(instant(key >> SEQ_BITS)));
        }
    }
}

impl Drop for IdleTimer {
    fn drop(&mut self) {
        self.deregister();
    }
}

/// Fires every timer on this thread's wheel now (a soft stop): each parked connection wakes
/// with its timer expired early ([`IdleTimer::fired_early`]) and decides whether it closes or
/// parks again. Timers made later are not affected.
pub(crate) fn fire_all() {
    let wakers: Vec<Waker> = WHEEL
        .try_with(|w| {
            let Ok(mut w) = w.try_borrow_mut() else {
                return Vec::new();
            };
            let entries = std::mem::take(&mut w.entries);
            w.fired.extend(entries.keys().copied());
            entries.into_values().collect()
        })
        .unwrap_or_default();
    for waker in wakers {
        waker.wake();
    }
}

/// Marks its wheel driverless when the driver task ends (its runtime shuts down).
struct DriverGuard(u32);

impl Drop for DriverGuard {
    fn drop(&mut self) {
        let _ = WHEEL.try_with(|w| {
            if let Ok(mut w) = w.try_borrow_mut()
                && w.number == self.0
            {
                w.driver = None;
            }
        });
    }
}

/// The most timers one driver pass wakes at once; the rest are woken on the next pass, right after.
const MAX_WAKES_PER_PASS: usize = 1024;

/// Wakes the tasks of wheel `number`'s expired timers, sleeping until the earliest deadline. The
/// guard is made before the future: dropped unpolled, the future still marks the wheel driverless.
fn drive(number: u32) -> impl Future<Output = ()> + Send + 'static {
    let guard = DriverGuard(number);
    async move { drive_wheel(guard).await }
}

/// The driver's loop, for the wheel its guard names.
async fn drive_wheel(guard: DriverGuard) {
    let number = guard.0;
    let _guard = guard;
    let mut sleep = Box::pin(tokio::time::sleep_until(Instant::now()));
    std::future::poll_fn(move |cx| {
        let now = Instant::now();
        let mut due = Vec::new();
        let next = WHEEL.try_with(|w| {
            let mut w = w.try_borrow_mut().ok()?;
            if w.number != number {
                return None;
            }
            // The last whole tick at or before now: its timers' deadlines have passed.
            let passed = now.saturating_duration_since(w.epoch).as_millis();
            let passed = u64::try_from(passed).unwrap_or(u64::MAX);
            while due.len() < MAX_WAKES_PER_PASS {
                let Some(entry) = w.entries.first_entry() else {
                    break;
                };
                if *entry.key() >> SEQ_BITS > passed {
                    break;
                }
                due.push(entry.remove());
            }
            let next = w.entries.keys().next().map(|k| instant(k >> SEQ_BITS));
            w.driver = Some(Some(cx.waker().clone()));
            Some(next)
        });
        let Ok(Some(next)) = next else {
            // Not this wheel's thread (cannot happen on a current_thread runtime): stop.
            return Poll::Ready(());
        };
        let more = due.len() == MAX_WAKES_PER_PASS;
        for waker in due {
            waker.wake();
        }
        if more {
            cx.waker().wake_by_ref();
        } else if let Some(next) = next {
            sleep.as_mut().reset(next);
            if sleep.as_mut().poll(cx).is_ready() {
                cx.waker().wake_by_ref();
            }
        }
        Poll::Pending
    })
    .await;
}

mod fifo;
mod within;

pub(crate) use fifo::within_queued_since;
pub(crate) use within::within;

#[cfg(test)]
mod tests;
