//! The soft-stop state one runtime's threads share (SIGUSR1, HAProxy's `stopping`): once it has
//! begun, idle keep-alive client connections are closed and responses to in-flight requests
//! carry `connection: close`, at once or spread over global `close-spread-time`; frontends with
//! `option idle-close-on-response` keep their idle connections open.
//!
//! Recorded against HAProxy 2.6.12 in `tests/data/haproxy-2.6/soft-stop/`.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How connections are closed during a soft stop (global `close-spread-time`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CloseSpread {
    /// No `close-spread-time`: idle connections close at once, every response says `close`.
    #[default]
    AtOnce,
    /// `close-spread-time <window>`: closes are spread over the window that starts with the soft
    /// stop; past it, as [`CloseSpread::AtOnce`].
    Window(Duration),
    /// `close-spread-time infinite`: nothing is closed early; connections end at their timeouts.
    Never,
}

/// A soft stop's shared state: whether it has begun, and how connections are closed.
#[derive(Debug)]
pub struct SoftStop {
    /// The instant the milliseconds in `began_ms` count from.
    base: Instant,
    /// Milliseconds from `base` to the soft stop, plus one; 0 while serving.
    began_ms: AtomicU64,
    /// `close-spread-time`, set once by the build.
    spread: OnceLock<CloseSpread>,
    /// By frontend index: `option idle-close-on-response` (idle connections stay open), set
    /// once by the build.
    keep_idle: OnceLock<Vec<bool>>,
    /// Global `hard-stop-after`, set once by the build.
    hard_stop_after: OnceLock<Duration>,
    /// Set when `hard-stop-after` cut the connections: each frontend's name and how many
    /// connections it still had (taken before any was cut).
    hard_stopped: OnceLock<Vec<(String, u64)>>,
    /// Set when connections still ran [`super::HARD_STOP_RESIST`] after the hard stop killed
    /// their streams, and were cut.
    resisted: AtomicBool,
    /// State of the generator that spreads the closes.
    rng: AtomicU64,
    /// Wakes the connections waiting for a request head when the soft stop begins, so that a
    /// `close-spread-time` window can bring their timers forward.
    begun: tokio::sync::Notify,
}

impl Default for SoftStop {
    fn default() -> Self {
        SoftStop::new()
    }
}

impl SoftStop {
    /// Serving, no soft stop yet; closes at once, no frontend keeps its idle connections.
    #[must_use]
    pub fn new() -> SoftStop {
        let base = Instant::now();
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0x9E37_79B9_7F4A_7C15, |d| d.as_nanos() as u64)
            | 1;
        SoftStop {
            base,
            began_ms: AtomicU64::new(0),
            spread: OnceLock::new(),
            keep_idle: OnceLock::new(),
            hard_stop_after: OnceLock::new(),
            hard_stopped: OnceLock::new(),
            resisted: AtomicBool::new(false),
            rng: AtomicU64::new(seed),
            begun: tokio::sync::Notify::new(),
        }
    }

    /// Sets `close-spread-time` and, by frontend index, `option idle-close-on-response` (first
    /// call only: the build makes it).
    pub fn configure(&self, spread: CloseSpread, keep_idle: Vec<bool>) {
        let _ = self.spread.set(spread);
        let _ = self.keep_idle.set(keep_idle);
    }

    /// Sets global `hard-stop-after` (first call only: the build makes it).
    pub fn set_hard_stop_after(&self, after: Duration) {
        let _ = self.hard_stop_after.set(after);
    }

    /// Global `hard-stop-after`, when set.
    pub fn hard_stop_after(&self) -> Option<Duration> {
        self.hard_stop_after.get().copied()
    }

    /// When the connections still open are to be cut (`hard-stop-after` from the soft stop's
    /// start); `None` before a soft stop or without `hard-stop-after`.
    pub fn hard_stop_at(&self) -> Option<Instant> {
        let began = self.began_ms.load(Ordering::Acquire);
        let after = self.hard_stop_after()?;
        (began != 0).then(|| self.base + Duration::from_millis(began - 1) + after)
    }

    /// The configured `close-spread-time`.
    pub fn spread(&self) -> CloseSpread {
        self.spread.get().copied().unwrap_or_default()
    }

    /// Marks the soft stop as begun now (later calls keep the first instant).
    pub fn begin(&self) {
        let ms = u64::try_from(self.base.elapsed().as_millis()).unwrap_or(u64::MAX - 1);
        let _ = self.began_ms.compare_exchange(
            0,
            ms.saturating_add(1),
            Ordering::AcqRel,
            Ordering::Acquire,
        );
        self.begun.notify_waiters();
    }

    /// Resolves once the soft stop has begun (at once if it has).
    pub async fn begun(&self) {
        loop {
            let notified = self.begun.notified();
            let mut notified = std::pin::pin!(notified);
            // Registered before the check, so a `begin` between the two still wakes.
            notified.as_mut().enable();
            if self.is_stopping() {
                return;
            }
            notified.await;
        }
    }

    /// Whether `close-spread-time` sets a window (only then do request-head waits watch the
    /// soft stop).
    pub fn spreads(&self) -> bool {
        matches!(self.spread(), CloseSpread::Window(_))
    }

    /// The deadline of a connection waiting for a request head, given its own: during a
    /// `close-spread-time` window, one that would expire at or after the window's end is brought
    /// to a random instant of what is left of the window, as HAProxy 2.6 does for front
    /// connections without a ready stream (it then answers the raw 408). Otherwise, and for a
    /// connection without a timer, the deadline is kept.
    pub fn head_deadline(&self, deadline: Option<Instant>) -> Option<Instant> {
        let d = deadline?;
        match (self.spread(), self.remaining()) {
            (CloseSpread::Window(_), Some(left)) if !left.is_zero() => {
                let now = Instant::now();
                if d >= now + left {
                    Some(now + self.random_below(left))
                } else {
                    Some(d)
                }
            }
            _ => Some(d),
        }
    }

    /// Whether a soft stop has begun.
    pub fn is_stopping(&self) -> bool {
        self.began_ms.load(Ordering::Acquire) != 0
    }

    /// What is left of the `close-spread-time` window: `None` when not stopping or the closes
    /// are not spread ([`CloseSpread::Never`] answers `Some(MAX)`).
    fn remaining(&self) -> Option<Duration> {
        let began = self.began_ms.load(Ordering::Acquire);
        if began == 0 {
            return None;
        }
        match self.spread() {
            CloseSpread::AtOnce => Some(Duration::ZERO),
            CloseSpread::Never => Some(Duration::MAX),
            CloseSpread::Window(w) => {
                let since = self
                    .base
                    .elapsed()
                    .saturating_sub(Duration::from_millis(began - 1));
                Some(w.saturating_sub(since))
            }
        }
    }

    /// Records, once, what `hard-stop-after` is about to cut (`left` gives each frontend's name
    /// and open connections); every thread calls it before cutting its own, so the first call
    /// sees them all still open.
    pub fn record_hard_stop(&self, left: impl FnOnce() -> Vec<(String, u64)>) {
        let _ = self.hard_stopped.get_or_init(left);
    }

    /// What `hard-stop-after` cut, when it did: each frontend's name and its open connections
    /// at that moment (HAProxy warns `Proxy X hard-stopped (N remaining conns will be closed).`).
    pub fn hard_stopped(&self) -> Option<&[(String, u64)]> {
        self.hard_stopped.get().map(Vec::as_slice)
    }

    /// Records that connections outlived the hard stop's kill and were cut.
    pub fn mark_resisted(&self) {
        self.resisted.store(true, Ordering::Release);
    }

    /// Whether connections outlived the hard stop's kill and were cut (HAProxy warns `Some
    /// tasks resisted to hard-stop, exiting now.`).
    pub fn resisted(&self) -> bool {
        self.resisted.load(Ordering::Acquire)
    }

    /// A pseudo-random duration in `[0, upto)` (xorshift; spreading needs no better).
    fn random_below(&self, upto: Duration) -> Duration {
        let mut x = self.rng.load(Ordering::Relaxed);
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.rng.store(x, Ordering::Relaxed);
        let nanos = u64::try_from(upto.as_nanos()).unwrap_or(u64::MAX).max(1);
        Duration::from_nanos(x % nanos)
    }

    /// Whether the response being sent now to a client ends its connection
    /// (`connection: close`) because of the soft stop. With a spread window the chance grows as
    /// the window passes (HAProxy: when what remains of it is at most a random part of it).
    pub fn closes_response(&self) -> bool {
        match (self.remaining(), self.spread()) {
            (None, _) | (_, CloseSpread::Never) => false,
            (Some(left), CloseSpread::Window(w)) if !left.is_zero() => left <= self.random_below(w),
            (Some(_), _) => true,
        }
    }

    /// When frontend `fe`'s idle keep-alive connection whose timer expires at `deadline` is to
    /// close because of the soft stop: `None` when it is not (no soft stop, `close-spread-time
    /// infinite`, `option idle-close-on-response`, its timer comes first, or it has no timer and
    /// the closes are spread: HAProxy 2.6 only brings existing timers forward), else now or a
    /// random instant before the spread window ends.
    pub fn idle_close_at(&self, fe: usize, deadline: Option<Instant>) -> Option<Instant> {
        let left = self.remaining()?;
        if left == Duration::MAX
            || self
                .keep_idle
                .get()
                .and_then(|k| k.get(fe))
                .copied()
                .unwrap_or(false)
        {
            return None;
        }
        let now = Instant::now();
        let at = now + self.random_below(left).min(left);
        match deadline {
            Some(d) if d <= now + left && !left.is_zero() => None,
            None if !left.is_zero() => None,
            _ => Some(at),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_closes_before_the_soft_stop() {
        let s = SoftStop::new();
        assert!(!s.is_stopping());
        assert!(!s.closes_response());
        assert_eq!(s.idle_close_at(0, None), None);
    }

    #[test]
    fn without_spread_everything_closes_at_once() {
        let s = SoftStop::new();
        s.configure(CloseSpread::AtOnce, vec![false, true]);
        s.begin();
        assert!(s.is_stopping());
        assert!(s.closes_response());
        let at = s.idle_close_at(0, None).unwrap();
        assert!(at <= Instant::now());
        // `option idle-close-on-response` on frontend 1 keeps its idle connections.
        assert_eq!(s.idle_close_at(1, None), None);
        // Still a response close there.
        assert!(s.closes_response());
    }

    #[test]
    fn infinite_spread_closes_nothing() {
        let s = SoftStop::new();
        s.configure(CloseSpread::Never, vec![false]);
        s.begin();
        assert!(!s.closes_response());
        assert_eq!(s.idle_close_at(0, None), None);
    }

    #[test]
    fn a_spread_window_places_idle_closes_inside_it() {
        let s = SoftStop::new();
        let w = Duration::from_secs(10);
        s.configure(CloseSpread::Window(w), vec![false]);
        s.begin();
        let start = Instant::now();
        let late = Some(start + Duration::from_secs(3600));
        for _ in 0..100 {
            let at = s.idle_close_at(0, late).unwrap();
            assert!(at <= start + w + Duration::from_millis(50));
        }
        // A connection without a timer is left open (HAProxy brings timers forward only).
        assert_eq!(s.idle_close_at(0, None), None);
        // A timer that expires inside the window is kept.
        assert_eq!(
            s.idle_close_at(0, Some(Instant::now() + Duration::from_secs(1))),
            None
        );
        // Early in a 10 s window, most responses keep their connection.
        let closes = (0..1000).filter(|_| s.closes_response()).count();
        assert!(closes < 200, "{closes} of 1000 closed");
    }

    #[test]
    fn a_spread_window_brings_late_head_deadlines_into_it() {
        let s = SoftStop::new();
        let w = Duration::from_secs(2);
        s.configure(CloseSpread::Window(w), vec![false]);
        let late = Some(Instant::now() + Duration::from_secs(30));
        // Not stopping yet: kept.
        assert_eq!(s.head_deadline(late), late);
        s.begin();
        let start = Instant::now();
        for _ in 0..100 {
            let at = s.head_deadline(late).unwrap();
            assert!(at <= start + w + Duration::from_millis(50), "{at:?}");
        }
        // Earlier than the window's end, or no timer: kept.
        let soon = Some(Instant::now() + Duration::from_millis(100));
        assert_eq!(s.head_deadline(soon), soon);
        assert_eq!(s.head_deadline(None), None);
        // Without a window nothing moves.
        let at_once = SoftStop::new();
        at_once.begin();
        assert_eq!(at_once.head_deadline(late), late);
    }

    #[test]
    fn hard_stop_after_counts_from_the_soft_stop() {
        let s = SoftStop::new();
        s.set_hard_stop_after(Duration::from_secs(2));
        assert_eq!(s.hard_stop_at(), None);
        let before = Instant::now();
        s.begin();
        let at = s.hard_stop_at().unwrap();
        assert!(at >= before + Duration::from_millis(1990));
        assert!(at <= Instant::now() + Duration::from_secs(2));
        assert_eq!(SoftStop::new().hard_stop_at(), None);
    }

    #[test]
    fn begin_keeps_the_first_instant() {
        let s = SoftStop::new();
        s.configure(CloseSpread::Window(Duration::from_secs(3600)), vec![]);
        s.begin();
        let first = s.began_ms.load(Ordering::Acquire);
        std::thread::sleep(Duration::from_millis(5));
        s.begin();
        assert_eq!(s.began_ms.load(Ordering::Acquire), first);
    }
}
