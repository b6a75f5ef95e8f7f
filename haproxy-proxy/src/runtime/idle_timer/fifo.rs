//! Request-path time limits as per-thread queues in arrival order, one queue per duration.
//!
//! The waits that go pending on nearly every HTTP request (the client's next head, the server's
//! response head) each made a tokio `Sleep` and registered it in tokio's timer wheel under the
//! time driver's lock; a registration earlier than the driver's next wake also writes the
//! runtime's eventfd. Their limits are a few fixed durations (`timeout server`, the keep-alive
//! grace period, ...), so the deadlines of one duration arrive in order: each duration gets a
//! queue, a registration is a push at its back, a cancellation clears its entry in place, and
//! one driver task per thread sleeps until the earliest front. A new deadline is never earlier
//! than its queue's front, so the driver's sleep only moves later, and no registration wakes the
//! runtime.
//!
//! Precision: the driver wakes at most once per [`TICK`]; a limit expires at its deadline or up
//! to [`TICK`] later, never earlier. Off a `current_thread` runtime, with more than [`QUEUES`]
//! durations on a thread, or past [`MAX_ENTRIES`] waiting entries, a wait uses tokio's timer.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use tokio::time::{Instant, Sleep};

/// The most distinct durations one thread queues; waits for other durations use tokio's timer.
pub(crate) const QUEUES: usize = 8;

/// The most entries (waiting or cancelled, not yet removed) one thread's queues hold together;
/// past it a wait uses tokio's timer.
pub(crate) const MAX_ENTRIES: usize = 1 << 16;

/// The driver sleeps at least this long between passes (the lateness bound of a deadline).
pub(crate) const TICK: Duration = Duration::from_millis(1);

/// One waiting limit: its deadline and the task to wake (`None` once done or cancelled).
struct Entry {
    deadline: Instant,
    waker: Option<Waker>,
}

/// The waits of one duration, oldest first.
struct Queue {
    limit: Duration,
    /// Sequence number of `entries[0]`.
    base: u64,
    entries: VecDeque<Entry>,
}

impl Queue {
    fn entry(&mut self, seq: u64) -> Option<&mut Entry> {
        let at = usize::try_from(seq.checked_sub(self.base)?).ok()?;
        self.entries.get_mut(at)
    }

    /// Drops the front entries that are done, cancelled or due (waking the due ones).
    fn expire(&mut self, now: Instant, wake: &mut Vec<Waker>) {
        while let Some(front) = self.entries.front_mut() {
            match front.waker.take() {
                Some(w) if front.deadline > now => {
                    front.waker = Some(w);
                    break;
                }
                Some(w) => wake.push(w),
                None => {}
            }
            self.entries.pop_front();
            self.base += 1;
        }
    }
}

/// One thread's queues.
struct Queues {
    /// This thread's number (0 until first used), so that a wait is only ever found again on
    /// the thread that queued it.
    number: u32,
    queues: Vec<Queue>,
    /// Entries held in all queues (recounted by each driver pass).
    held: usize,
    /// The driver, once spawned.
    driver: Option<Driver>,
}

/// What the queues know of their driver task.
struct Driver {
    /// Its waker, once it has run.
    waker: Option<Waker>,
    /// When its sleep ends (`None`: not sleeping, nothing queued).
    armed: Option<Instant>,
}

/// Numbers the threads' queues.
static NEXT_NUMBER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1);

thread_local! {
    static QUEUES_HERE: RefCell<Queues> = const {
        RefCell::new(Queues { number: 0, queues: Vec::new(), held: 0, driver: None })
    };
}

/// Where a pending wait is queued: (thread number, queue index, sequence number).
type Place = (u32, usize, u64);

/// Queues a wait of `limit` ending at `deadline` for the task of `waker`; `None` when it cannot
/// be queued here (then tokio's timer is used).
fn enqueue(limit: Duration, deadline: Instant, waker: &Waker) -> Option<Place> {
    let flavor = tokio::runtime::Handle::try_current().ok()?.runtime_flavor();
    if flavor != tokio::runtime::RuntimeFlavor::CurrentThread {
        return None;
    }
    let mut spawn = false;
    let place = QUEUES_HERE
        .try_with(|q| {
            let mut q = q.try_borrow_mut().ok()?;
            if q.held >= MAX_ENTRIES {
                return None;
            }
            if q.number == 0 {
                q.number = NEXT_NUMBER
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
                    .max(1);
            }
            let number = q.number;
            let at = match q.queues.iter().position(|x| x.limit == limit) {
                Some(at) => at,
                None if q.queues.len() < QUEUES => {
                    q.queues.push(Queue {
                        limit,
                        base: 0,
                        entries: VecDeque::new(),
                    });
                    q.queues.len() - 1
                }
                None => return None,
            };
            let queue = q.queues.get_mut(at)?;
            // Same duration, monotonic clock: in order unless the clock was read out of order.
            if queue.entries.back().is_some_and(|b| b.deadline > deadline) {
                return None;
            }
            queue.entries.push_back(Entry {
                deadline,
                waker: Some(waker.clone()),
            });
            let seq = queue.base + queue.entries.len() as u64 - 1;
            q.held += 1;
            match &mut q.driver {
                None => {
                    q.driver = Some(Driver {
                        waker: None,
                        armed: None,
                    });
                    spawn = true;
                }
                // Earlier than the driver's sleep (or it sleeps not at all): it must look again.
                // A task woken on its own thread is queued locally, with no system call.
                Some(d) if d.armed.is_none_or(|a| deadline < a) => {
                    if let Some(w) = &d.waker {
                        w.wake_by_ref();
                    }
                }
                Some(_) => {}
            }
            Some((number, at, seq))
        })
        .ok()
        .flatten();
    if spawn {
        drop(tokio::spawn(drive()));
    }
    place
}

/// Runs `f` on the entry at `place`, if still queued on this thread.
fn with_entry<R>(place: Place, f: impl FnOnce(&mut Entry) -> R) -> Option<R> {
    QUEUES_HERE
        .try_with(|q| {
            let mut q = q.try_borrow_mut().ok()?;
            if q.number != place.0 {
                return None;
            }
            q.queues.get_mut(place.1)?.entry(place.2).map(f)
        })
        .ok()
        .flatten()
}

/// A pending wait's timer.
enum Timer {
    /// Queued on this thread.
    Queued(Place, Instant),
    /// Tokio's own timer.
    Sleep(std::pin::Pin<Box<Sleep>>),
}

impl Timer {
    fn poll_expired(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        match self {
            Timer::Sleep(s) => s.as_mut().poll(cx),
            Timer::Queued(place, deadline) => {
                if Instant::now() >= *deadline {
                    return Poll::Ready(());
                }
                let kept = with_entry(*place, |e| match &mut e.waker {
                    Some(w) => {
                        if !w.will_wake(cx.waker()) {
                            w.clone_from(cx.waker());
                        }
                        true
                    }
                    None => false,
                });
                if kept == Some(true) {
                    return Poll::Pending;
                }
                // Taken off its queue (or polled on another thread): tokio's timer from here.
                let mut sleep = Box::pin(tokio::time::sleep_until(*deadline));
                let polled = sleep.as_mut().poll(cx);
                *self = Timer::Sleep(sleep);
                polled
            }
        }
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        if let Timer::Queued(place, _) = *self {
            cancel(place);
        }
    }
}

/// Cancels the wait queued at `place`; cancelled entries at the front of its queue leave at
/// once, so that waits which end before their limit (nearly all of them) do not pile up behind
/// a live front until the driver's next pass.
fn cancel(place: Place) {
    let _ = QUEUES_HERE.try_with(|q| {
        let Ok(mut q) = q.try_borrow_mut() else {
            return;
        };
        let Queues {
            number,
            queues,
            held,
            ..
        } = &mut *q;
        if *number != place.0 {
            return;
        }
        let Some(queue) = queues.get_mut(place.1) else {
            return;
        };
        if let Some(e) = queue.entry(place.2) {
            e.waker = None;
        }
        while queue.entries.front().is_some_and(|e| e.waker.is_none()) {
            queue.entries.pop_front();
            queue.base += 1;
            *held = held.saturating_sub(1);
        }
    });
}

/// What [`within_queued_since`] knows of its time limit.
enum Limit {
    /// Not looked at yet (`f` has not been pending).
    Unset,
    /// No limit, or one too far to be represented.
    Unbounded,
    /// Waiting on this timer.
    Timer(Timer),
}

/// Runs `f` for at most `limit` (no limit with `None`): `Some(output)`, or `None` when the time
/// ran out first. The limit is queued on the thread (see the module documentation) only if `f`
/// is not done at its first poll. It counts from `since` when given: an instant the caller has
/// just read as the wait began (in the same poll), so that no clock is read here; with `None`
/// the clock is read once, when `f` is first pending.
///
/// `f` is polled once per poll of this future, its time limit made at the first poll where `f`
/// is pending (no clock read or timer at all when it is done at once). Right after it is queued
/// the limit is not checked against the clock: its deadline lies ahead (a deadline already past,
/// which only a `since` older than the limit can give, is seen by the driver's next pass, at
/// most [`TICK`] later). The limit never expires before its deadline.
pub(crate) async fn within_queued_since<F: Future>(
    since: Option<Instant>,
    limit: Option<Duration>,
    f: F,
) -> Option<F::Output> {
    let mut f = std::pin::pin!(f);
    let mut state = Limit::Unset;
    std::future::poll_fn(|cx| {
        if let Poll::Ready(v) = f.as_mut().poll(cx) {
            return Poll::Ready(Some(v));
        }
        match &mut state {
            Limit::Timer(t) => t.poll_expired(cx).map(|()| None),
            Limit::Unbounded => Poll::Pending,
            Limit::Unset => {
                let Some(limit) = limit else {
                    state = Limit::Unbounded;
                    return Poll::Pending;
                };
                if limit.is_zero() {
                    return Poll::Ready(None);
                }
                // A limit too far to be represented is no limit.
                let Some(deadline) = since.unwrap_or_else(Instant::now).checked_add(limit) else {
                    state = Limit::Unbounded;
                    return Poll::Pending;
                };
                let timer = match enqueue(limit, deadline, cx.waker()) {
                    Some(place) => Timer::Queued(place, deadline),
                    None => {
                        let mut sleep = Box::pin(tokio::time::sleep_until(deadline));
                        if sleep.as_mut().poll(cx).is_ready() {
                            return Poll::Ready(None);
                        }
                        Timer::Sleep(sleep)
                    }
                };
                state = Limit::Timer(timer);
                Poll::Pending
            }
        }
    })
    .await
}

/// The thread's driver: wakes the tasks of due entries, drops the done ones, sleeps until the
/// earliest front (at least [`TICK`]), and waits without a timer while nothing is queued.
async fn drive() {
    /// Marks the thread driverless when the driver ends (its runtime shuts down).
    struct Guard;
    impl Drop for Guard {
        fn drop(&mut self) {
            let _ = QUEUES_HERE.try_with(|q| {
                if let Ok(mut q) = q.try_borrow_mut() {
                    q.driver = None;
                }
            });
        }
    }
    let _guard = Guard;
    let mut sleep = Box::pin(tokio::time::sleep_until(Instant::now()));
    let mut armed: Option<Instant> = None;
    let mut due = Vec::new();
    std::future::poll_fn(move |cx| {
        let now = Instant::now();
        let next = QUEUES_HERE.try_with(|q| {
            let mut q = q.try_borrow_mut().ok()?;
            let mut held = 0;
            let mut next: Option<Instant> = None;
            for queue in &mut q.queues {
                queue.expire(now, &mut due);
                held += queue.entries.len();
                if let Some(front) = queue.entries.front() {
                    next = Some(next.map_or(front.deadline, |n| n.min(front.deadline)));
                }
            }
            q.held = held;
            // Sleeps until the earliest front, but at least a tick: cancelled entries ahead of
            // live ones do not make it spin.
            let at = next.map(|n| n.max(now + TICK));
            let d = q.driver.as_mut()?;
            if !d.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                d.waker = Some(cx.waker().clone());
            }
            d.armed = at;
            Some(at)
        });
        for w in due.drain(..) {
            w.wake();
        }
        let Ok(Some(at)) = next else {
            // Not this thread's driver any more (cannot happen on a current_thread runtime).
            return Poll::Ready(());
        };
        let Some(at) = at else {
            armed = None;
            return Poll::Pending;
        };
        if armed != Some(at) {
            sleep.as_mut().reset(at);
            armed = Some(at);
        }
        if sleep.as_mut().poll(cx).is_ready() {
            armed = None;
            cx.waker().wake_by_ref();
        }
        Poll::Pending
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn queues_and_entries_stop_at_their_bounds() {
        let waker = Waker::noop();
        let deadline = Instant::now() + Duration::from_secs(60);
        // QUEUES durations are queued here; one more falls back to tokio's timer.
        for i in 0..QUEUES {
            let limit = Duration::from_secs(60 + i as u64);
            assert!(enqueue(limit, deadline, waker).is_some(), "duration {i}");
        }
        assert!(enqueue(Duration::from_secs(1), deadline, waker).is_none());
        // An existing duration keeps queueing up to MAX_ENTRIES entries in all.
        let limit = Duration::from_secs(60);
        for _ in QUEUES..MAX_ENTRIES {
            assert!(enqueue(limit, deadline, waker).is_some());
        }
        assert!(enqueue(limit, deadline, waker).is_none());
        // A deadline before its queue's last one (the clock read out of order) is not queued.
        QUEUES_HERE.with(|q| q.borrow_mut().held = 0);
        let earlier = deadline - Duration::from_secs(1);
        assert!(enqueue(limit, earlier, waker).is_none());
    }

    #[tokio::test]
    async fn waits_cancelled_in_order_leave_their_queue_at_once() {
        let waker = Waker::noop();
        let limit = Duration::from_secs(60);
        let held = || QUEUES_HERE.with(|q| q.borrow().held);
        let len = || {
            QUEUES_HERE.with(|q| {
                q.borrow()
                    .queues
                    .iter()
                    .map(|x| x.entries.len())
                    .sum::<usize>()
            })
        };
        // Far more waits than MAX_ENTRIES, each cancelled before the next: none piles up.
        for _ in 0..MAX_ENTRIES * 2 {
            let place = enqueue(limit, Instant::now() + limit, waker).expect("queued");
            drop(Timer::Queued(place, Instant::now() + limit));
        }
        assert_eq!((held(), len()), (0, 0));
        // Behind a live front, cancelled waits stay until the front goes, then all leave.
        let front = enqueue(limit, Instant::now() + limit, waker).expect("queued");
        for _ in 0..10 {
            let place = enqueue(limit, Instant::now() + limit, waker).expect("queued");
            drop(Timer::Queued(place, Instant::now() + limit));
        }
        assert_eq!(len(), 11);
        drop(Timer::Queued(front, Instant::now() + limit));
        assert_eq!((held(), len()), (0, 0));
    }
}
