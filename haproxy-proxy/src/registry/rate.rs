//! [`RateLimit`]: a most-events-per-second limit over HAProxy's sliding one-second counter
//! (`freq_ctr`), the one shape of the global `maxconnrate`, `maxsessrate` and a frontend's
//! `rate-limit sessions`.
//!
//! The counter's period starts at the first event after an idle spell, as HAProxy's does (a
//! counter that missed two periods restarts at the event's instant), not on a wall-clock
//! second: a burst against `maxconnrate 5` is let in 5 at once, then one by one as the
//! previous period's weight slides out, the same pattern as HAProxy 2.6.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use crate::counters::now_ms;

/// The counter's period, in milliseconds.
const PERIOD: u64 = 1000;

/// A per-second limit and the events it counts (only while the limit is set: no cost without
/// one). 0 means no limit, as in HAProxy.
#[derive(Debug, Default)]
pub struct RateLimit {
    limit: AtomicU32,
    /// `(period start in ms, low 32 bits) << 32 | events in that period`; 0 before the first.
    curr: AtomicU64,
    /// Events in the period before `curr`'s.
    prev: AtomicU32,
}

/// What the counter holds at one instant: the previous period's events, the current one's, and
/// the milliseconds left in the current period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Window {
    past: u64,
    curr: u64,
    remain: u64,
}

impl RateLimit {
    /// A limit of `per_second` events (0 = none).
    #[must_use]
    pub fn new(per_second: u32) -> RateLimit {
        RateLimit {
            limit: AtomicU32::new(per_second),
            ..RateLimit::default()
        }
    }

    /// The limit now (0 = none).
    pub fn limit(&self) -> u32 {
        self.limit.load(Relaxed)
    }

    /// Changes the limit (`set rate-limit … global`); 0 lifts it.
    pub fn set_limit(&self, per_second: u32) {
        self.limit.store(per_second, Relaxed);
    }

    /// Counts one event, when a limit is set.
    pub fn count(&self) {
        if self.limit() != 0 {
            self.count_at(now_ms());
        }
    }

    /// Events over the last second (the weighted total, rounded down).
    pub fn rate(&self) -> u32 {
        let w = self.window_at(now_ms());
        u32::try_from(w.total() / PERIOD).unwrap_or(u32::MAX)
    }

    /// How long to wait before one more event fits under the limit; `None` when it fits now
    /// or no limit is set.
    pub fn delay(&self) -> Option<Duration> {
        match self.limit() {
            0 => None,
            limit => match self.window_at(now_ms()).delay(limit) {
                0 => None,
                ms => Some(Duration::from_millis(ms)),
            },
        }
    }

    /// Counts one event at `ms` ([`now_ms`]): HAProxy's `update_freq_ctr()`.
    fn count_at(&self, ms: u64) {
        let now = low32(ms);
        let mut cur = self.curr.load(Relaxed);
        loop {
            let (tick, n) = split(cur);
            let elapsed = u64::from(now.wrapping_sub(tick));
            let (next, prev) = if cur != 0 && elapsed < PERIOD {
                (join(tick, n.saturating_add(1)), None)
            } else if cur != 0 && elapsed < 2 * PERIOD {
                (join(tick.wrapping_add(1000), 1), Some(n))
            } else {
                // Idle for two periods or more (or never counted): a period starts now.
                (join(now, 1), Some(0))
            };
            match self.curr.compare_exchange_weak(cur, next, Relaxed, Relaxed) {
                Ok(_) => {
                    if let Some(p) = prev {
                        self.prev.store(p, Relaxed);
                    }
                    return;
                }
                Err(actual) => cur = actual,
            }
        }
    }

    /// The counter at `ms`, rotated as HAProxy's `freq_ctr_total()` reads it.
    fn window_at(&self, ms: u64) -> Window {
        let cur = self.curr.load(Relaxed);
        if cur == 0 {
            return Window {
                past: 0,
                curr: 0,
                remain: PERIOD,
            };
        }
        let (tick, n) = split(cur);
        let elapsed = u64::from(low32(ms).wrapping_sub(tick));
        let (past, curr) = (u64::from(self.prev.load(Relaxed)), u64::from(n));
        if elapsed < PERIOD {
            Window {
                past,
                curr,
                remain: PERIOD - elapsed,
            }
        } else if elapsed < 2 * PERIOD {
            Window {
                past: curr,
                curr: 0,
                remain: 2 * PERIOD - elapsed,
            }
        } else {
            Window {
                past: 0,
                curr: 0,
                remain: PERIOD,
            }
        }
    }
}

impl Window {
    /// Events weighted in milliseconds: the past period's for the part of it still inside the
    /// sliding second, the current one's in full.
    fn total(self) -> u64 {
        self.past * self.remain + self.curr * PERIOD
    }

    /// Milliseconds to wait before one more event keeps the rate under `limit` per second: 0
    /// when it fits now. HAProxy's `next_event_delay()` estimates it as the excess weight over
    /// the limit (at least 1 ms) and checks again then; nothing fits before the total falls
    /// under the limit, so this waits for the later of the two instants and skips the checks
    /// HAProxy repeats in vain.
    fn delay(self, limit: u32) -> u64 {
        let limit = u64::from(limit.max(1));
        let allowed = limit * PERIOD;
        let Some(over) = self.total().checked_sub(allowed) else {
            return 0;
        };
        let estimate = (over / limit).max(1);
        // The past period's weight falls by `past` per ms until the current period ends; then
        // the current period's events weigh `curr` less per ms.
        let first_fit = if self.past > 0 && over / self.past < self.remain {
            over / self.past + 1
        } else {
            match (self.curr * PERIOD).checked_sub(allowed) {
                Some(next_over) => self.remain + next_over / self.curr.max(1) + 1,
                None => self.remain,
            }
        };
        estimate.max(first_fit)
    }
}

/// The low 32 bits of a millisecond clock, HAProxy's `now_ms` (wrapping every 49 days).
fn low32(ms: u64) -> u32 {
    u32::try_from(ms & u64::from(u32::MAX)).unwrap_or(0)
}

fn split(cur: u64) -> (u32, u32) {
    (low32(cur >> 32), low32(cur))
}

fn join(tick: u32, n: u32) -> u64 {
    (u64::from(tick) << 32) | u64::from(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn burst(r: &RateLimit, at: u64, n: u32) {
        for _ in 0..n {
            r.count_at(at);
        }
    }

    #[test]
    fn a_burst_fills_the_period_then_slides_in_one_by_one() {
        let r = RateLimit::new(5);
        assert_eq!(r.window_at(10_000).delay(5), 0);
        burst(&r, 10_000, 5);
        // The period began with the burst: the sixth waits until it has ended (HAProxy's 1 ms
        // estimate would look again 1000 times in vain).
        assert_eq!(r.window_at(10_000).delay(5), 1001);
        assert_eq!(r.window_at(10_999).delay(5), 2);
        assert_eq!(r.window_at(11_001).delay(5), 0);
        r.count_at(11_001);
        // 5 * 999 + 1000 = 5995: HAProxy estimates (5995 - 5000) / 5 = 199 ms; the total is
        // under 5000 after 200 ms (5 * 799 + 1000 = 4995).
        assert_eq!(r.window_at(11_001).delay(5), 200);
        assert_eq!(r.window_at(11_200).delay(5), 1);
        assert_eq!(r.window_at(11_201).delay(5), 0);
        // Two idle periods: the next event starts a new one.
        assert_eq!(r.window_at(13_500).total(), 0);
        r.count_at(13_500);
        assert_eq!(r.window_at(13_500).total(), 1000);
        assert_eq!(r.window_at(14_499).delay(1), 2);
    }

    #[test]
    fn haproxys_longer_estimate_is_kept() {
        let r = RateLimit::new(5);
        burst(&r, 20_000, 10);
        // At 21 000: 10 * 1000 weighted, 5000 over. The total is under 5000 after 501 ms, but
        // HAProxy 2.6 sleeps (10000 - 5000) / 5 = 1000 ms before it looks again.
        assert_eq!(r.window_at(21_000).delay(5), 1000);
        // A zero limit is never asked (it means none) but does not divide by zero.
        assert!(r.window_at(21_000).delay(0) > 0);
    }

    #[test]
    fn the_clock_wraps_as_haproxys_now_ms() {
        let r = RateLimit::new(2);
        let at = u64::from(u32::MAX) - 10;
        burst(&r, at, 2);
        let w = r.window_at(at + 500);
        assert_eq!((w.past, w.curr, w.remain), (0, 2, 500));
        assert_eq!(w.delay(2), 501);
    }

    #[test]
    fn counts_only_while_limited() {
        let r = RateLimit::new(0);
        r.count();
        assert_eq!((r.rate(), r.delay()), (0, None));
        r.set_limit(3);
        for _ in 0..3 {
            assert_eq!(r.delay(), None);
            r.count();
        }
        // The period began at the first of the three: the fourth waits until it ends.
        let wait = r.delay().expect("full");
        assert!(wait > Duration::from_millis(500), "{wait:?}");
        assert_eq!(r.rate(), 3);
        r.set_limit(4);
        assert_eq!(r.delay(), None);
        r.set_limit(0);
        assert_eq!(r.delay(), None);
    }
}
