//! When the first health checks of a process run: HAProxy 2.6 spreads them over one interval so
//! that they do not all leave at once (`start_checks()` and `start_check_task()`).
//!
//! Every check of the process counts, in configuration order: each server's own check, then its
//! agent. The spreading interval is the shortest one of at least [`SPREAD_THRESHOLD`] among them
//! (shorter ones start on their own schedule without dictating it), raised to the check's own
//! when that is longer, and capped by the global `max-spread-checks`. Check number `pos` of `n`
//! then first runs `interval × pos / n` after start-up.
//!
//! ```
//! use std::time::Duration;
//! use haproxy_check::spread::first_check_delays;
//!
//! let s = Duration::from_secs;
//! let ms = Duration::from_millis;
//! assert_eq!(first_check_delays(&[s(2), s(2), s(10)], None), [s(0), ms(666), ms(6666)]);
//! // `max-spread-checks 300`: all of them within 300 ms.
//! let capped = first_check_delays(&[s(2), s(2), s(10)], Some(Duration::from_millis(300)));
//! assert_eq!(capped, [s(0), ms(100), ms(200)]);
//! ```

use std::time::Duration;

/// Intervals below this do not set the spreading interval (HAProxy's `SRV_CHK_INTER_THRES`).
pub const SPREAD_THRESHOLD: Duration = Duration::from_secs(1);

/// The delay before each check's first run, from the interval each check starts with
/// (`srv_getinter()` of its initial health), in HAProxy's order; `max_spread` is the global
/// `max-spread-checks` (`None` or zero: no cap). Milliseconds, truncated as HAProxy's are.
pub fn first_check_delays(intervals: &[Duration], max_spread: Option<Duration>) -> Vec<Duration> {
    let n = u128::try_from(intervals.len()).unwrap_or(u128::MAX).max(1);
    let shortest = intervals
        .iter()
        .copied()
        .filter(|i| *i >= SPREAD_THRESHOLD)
        .min()
        .unwrap_or(Duration::ZERO);
    let cap = max_spread.filter(|m| !m.is_zero());
    intervals
        .iter()
        .zip(0u128..)
        .map(|(own, pos)| {
            let mut spread = shortest.max(*own);
            if let Some(cap) = cap {
                spread = spread.min(cap);
            }
            let ms = spread.as_millis().saturating_mul(pos) / n;
            Duration::from_millis(u64::try_from(ms).unwrap_or(u64::MAX))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: u64) -> Duration {
        Duration::from_millis(v)
    }

    #[test]
    fn the_shortest_long_interval_spreads_everyone() {
        // 4 checks: 5 s, 3 s, 20 s, 500 ms. The spreading interval is 3 s (500 ms is under
        // the threshold); each check uses the longer of it and its own.
        let d = first_check_delays(&[ms(5000), ms(3000), ms(20000), ms(500)], None);
        assert_eq!(d, [ms(0), ms(750), ms(10000), ms(2250)]);
    }

    #[test]
    fn short_intervals_alone_spread_over_their_own() {
        let d = first_check_delays(&[ms(200), ms(200), ms(900)], None);
        assert_eq!(d, [ms(0), ms(66), ms(600)]);
    }

    #[test]
    fn max_spread_caps_every_interval_and_zero_caps_nothing() {
        let d = first_check_delays(&[ms(60_000), ms(60_000)], Some(ms(1000)));
        assert_eq!(d, [ms(0), ms(500)]);
        let d = first_check_delays(&[ms(60_000), ms(60_000)], Some(Duration::ZERO));
        assert_eq!(d, [ms(0), ms(30_000)]);
    }

    #[test]
    fn no_checks_and_huge_intervals_do_not_overflow() {
        assert!(first_check_delays(&[], None).is_empty());
        let day = Duration::from_secs(86_400 * 24);
        let d = first_check_delays(&vec![day; 10_000], None);
        // 2,073,600,000 ms × 9,999 / 10,000.
        assert_eq!(d.last().copied(), Some(ms(2_073_392_640)));
    }
}
