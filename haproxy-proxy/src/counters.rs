//! Live counters per frontend, backend, server and listener, kept with atomics (no locks).

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use crate::facts::StreamFacts;

/// The counters of one frontend, backend, server or listener.
#[derive(Debug, Default)]
pub struct Counters {
    /// Current sessions.
    pub sessions_cur: AtomicU64,
    /// Highest number of concurrent sessions seen.
    pub sessions_max: AtomicU64,
    /// Total sessions.
    pub sessions_total: AtomicU64,
    /// Bytes received from clients.
    pub bytes_in: AtomicU64,
    /// Bytes sent to clients.
    pub bytes_out: AtomicU64,
    /// Requests denied by rules.
    pub denied_req: AtomicU64,
    /// Connections refused by `tcp-request connection` rules.
    pub denied_conn: AtomicU64,
    /// Sessions refused by `tcp-request session` rules.
    pub denied_sess: AtomicU64,
    /// Request errors (bad requests, timeouts).
    pub errors_req: AtomicU64,
    /// Connection errors toward servers.
    pub errors_conn: AtomicU64,
    /// Response errors.
    pub errors_resp: AtomicU64,
    /// Retries.
    pub retries: AtomicU64,
    /// Redispatches.
    pub redispatches: AtomicU64,
    /// Current queue length.
    pub queue_cur: AtomicU64,
    /// Highest queue length seen.
    pub queue_max: AtomicU64,
    /// HTTP responses by class: 1xx, 2xx, 3xx, 4xx, 5xx, other.
    pub http_status: [AtomicU64; 6],
    /// HTTP requests recorded (every recorded stream that carries a status).
    pub requests_total: AtomicU64,
    /// When the last session was recorded, as registry seconds + 1 (0: never).
    pub last_session: AtomicU64,
    /// Sessions per second (`rate`, `rate_max`; `conn_rate` for frontends).
    pub session_rate: RateCounter,
    /// HTTP requests per second (`req_rate`, `req_rate_max`).
    pub request_rate: RateCounter,
    /// Queue, connect, response and total times (ms): HAProxy's sliding sums over the last
    /// [`haproxy_stats::TIME_SAMPLES`] streams (`swrate_add`), read with [`Counters::time_avg`].
    pub time_sums: [AtomicU64; 4],
    /// The highest queue, connect, response and total times seen (ms).
    pub time_max: [AtomicU64; 4],
    /// Streams whose times were counted (the averaging window until it reaches
    /// [`haproxy_stats::TIME_SAMPLES`]).
    pub timed: AtomicU64,
}

/// HAProxy averages stream times over this many streams (`TIME_STATS_SAMPLES`).
const TIME_SAMPLES: u64 = haproxy_stats::TIME_SAMPLES as u64;

/// Milliseconds since the first use in this process: the clock of every [`RateCounter`].
pub(crate) fn now_ms() -> u64 {
    ms_at(Instant::now())
}

/// [`now_ms`] at `now`, for a caller that has read the clock already.
pub(crate) fn ms_at(now: Instant) -> u64 {
    static START: OnceLock<Instant> = OnceLock::new();
    let since = now.saturating_duration_since(*START.get_or_init(Instant::now));
    u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
}

/// Events over the last second, as HAProxy's `freq_ctr` counts them: the current second's
/// events plus the previous second's, weighted by the part of it still inside the window.
/// Lock-free: one compare-and-swap per event.
#[derive(Debug, Default)]
pub struct RateCounter {
    /// `(second << 32) | events in that second`.
    curr: AtomicU64,
    /// Events in the second before `curr`'s.
    prev: AtomicU32,
    /// Highest rate read at an event.
    max: AtomicU32,
}

impl RateCounter {
    /// Counts one event now.
    pub fn add(&self) {
        self.add_at(now_ms());
    }

    /// Counts one event at `ms` ([`now_ms`]), read once by a caller that counts several.
    pub(crate) fn add_at(&self, ms: u64) {
        let sec = ms / 1000;
        let mut cur = self.curr.load(Relaxed);
        loop {
            let (s, n) = (cur >> 32, cur & 0xffff_ffff);
            let (next, prev) = if s == sec {
                (cur.saturating_add(u64::from(n < 0xffff_ffff)), None)
            } else {
                let prev = if s + 1 == sec { n } else { 0 };
                ((sec << 32) | 1, Some(prev))
            };
            match self.curr.compare_exchange_weak(cur, next, Relaxed, Relaxed) {
                Ok(_) => {
                    if let Some(p) = prev {
                        self.prev
                            .store(u32::try_from(p).unwrap_or(u32::MAX), Relaxed);
                    }
                    break;
                }
                Err(actual) => cur = actual,
            }
        }
        // A plain load first: the maximum rarely moves, and `fetch_max` is a locked
        // compare-and-swap loop.
        let rate = self.rate_at(ms);
        if rate > self.max.load(Relaxed) {
            self.max.fetch_max(rate, Relaxed);
        }
    }

    /// Events over the last second.
    pub fn rate(&self) -> u32 {
        self.rate_at(now_ms())
    }

    fn rate_at(&self, ms: u64) -> u32 {
        let (sec, into) = (ms / 1000, ms % 1000);
        let cur = self.curr.load(Relaxed);
        let (s, n) = (cur >> 32, cur & 0xffff_ffff);
        let (curr, prev) = if s == sec {
            (n, u64::from(self.prev.load(Relaxed)))
        } else if s + 1 == sec {
            (0, n)
        } else {
            (0, 0)
        };
        let v = curr + prev * (1000 - into) / 1000;
        u32::try_from(v).unwrap_or(u32::MAX)
    }

    /// The highest rate seen.
    pub fn max(&self) -> u32 {
        self.max.load(Relaxed)
    }

    /// Restarts the maximum from the current rate (`clear counters`).
    pub fn clear_max(&self) {
        self.max.store(self.rate(), Relaxed);
    }
}

/// Raises a maximum to `v`: a plain load first, the locked `fetch_max` only when it moves.
fn raise(max: &AtomicU64, v: u64) {
    if v > max.load(Relaxed) {
        max.fetch_max(v, Relaxed);
    }
}

/// Holds one session slot; dropping it releases the slot.
#[derive(Debug)]
pub struct SessionSlot {
    counters: Arc<Counters>,
}

impl Drop for SessionSlot {
    fn drop(&mut self) {
        self.counters.sessions_cur.fetch_sub(1, Relaxed);
    }
}

impl Counters {
    /// New zeroed counters.
    pub fn new() -> Arc<Counters> {
        Arc::new(Counters::default())
    }

    /// Counts a new session; the returned slot keeps `sessions_cur` up while alive.
    pub fn open_session(self: &Arc<Self>) -> SessionSlot {
        let cur = self.sessions_cur.fetch_add(1, Relaxed) + 1;
        raise(&self.sessions_max, cur);
        self.sessions_total.fetch_add(1, Relaxed);
        self.session_rate.add();
        SessionSlot {
            counters: Arc::clone(self),
        }
    }

    /// Zeroes every counter except the current values (`clear counters all`); with `all` false
    /// only the maxima restart from the current values (`clear counters`).
    pub fn clear(&self, all: bool) {
        self.sessions_max
            .store(self.sessions_cur.load(Relaxed), Relaxed);
        self.queue_max.store(self.queue_cur.load(Relaxed), Relaxed);
        self.session_rate.clear_max();
        self.request_rate.clear_max();
        for m in &self.time_max {
            m.store(0, Relaxed);
        }
        if !all {
            return;
        }
        for c in [
            &self.sessions_total,
            &self.bytes_in,
            &self.bytes_out,
            &self.denied_req,
            &self.errors_req,
            &self.errors_conn,
            &self.errors_resp,
            &self.retries,
            &self.redispatches,
            &self.requests_total,
            &self.last_session,
            &self.timed,
        ] {
            c.store(0, Relaxed);
        }
        for c in self.http_status.iter().chain(&self.time_sums) {
            c.store(0, Relaxed);
        }
    }

    /// Counts a stream using this backend or server now (`scur`, `smax`) without counting a
    /// new session: the returned slot keeps `sessions_cur` up while alive.
    pub fn hold(self: &Arc<Self>) -> SessionSlot {
        let cur = self.sessions_cur.fetch_add(1, Relaxed) + 1;
        raise(&self.sessions_max, cur);
        SessionSlot {
            counters: Arc::clone(self),
        }
    }

    /// [`Counters::hold`] without a slot: counts a stream using this backend or server now and
    /// returns the counters; the caller calls [`Counters::release`] once when the stream leaves.
    pub(crate) fn enter(&self) -> &Self {
        let cur = self.sessions_cur.fetch_add(1, Relaxed) + 1;
        raise(&self.sessions_max, cur);
        self
    }

    /// Ends what one [`Counters::enter`] began.
    pub(crate) fn release(&self) {
        self.sessions_cur.fetch_sub(1, Relaxed);
    }

    /// Counts an entry into the queue.
    pub fn enqueue(&self) {
        let cur = self.queue_cur.fetch_add(1, Relaxed) + 1;
        raise(&self.queue_max, cur);
    }

    /// Counts a departure from the queue.
    pub fn dequeue(&self) {
        self.queue_cur.fetch_sub(1, Relaxed);
    }

    /// The average of time `i` (0 queue, 1 connect, 2 response, 3 total), in ms, as HAProxy's
    /// `swrate_avg` over a window of `min(streams, 1024)`.
    pub fn time_avg(&self, i: usize) -> u64 {
        let window = self.timed.load(Relaxed).min(TIME_SAMPLES);
        if window == 0 {
            return 0;
        }
        let sum = self.time_sums.get(i).map_or(0, |s| s.load(Relaxed));
        sum.saturating_add(window - 1) / window
    }

    /// Adds one stream's times, as `stream_update_time_stats()` (src/stream.c) does: only
    /// streams that reached a server count; outside HTTP the response time is 0.
    fn record_times(&self, facts: &StreamFacts) {
        let t = &facts.timers;
        let ms = |d: Option<std::time::Duration>| {
            d.map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        };
        let Some(connect) = ms(t.tc) else {
            return;
        };
        let total = ms(t.ta).or(ms(t.tt)).unwrap_or(0);
        let values = [
            ms(t.tw).unwrap_or(0),
            connect,
            ms(t.tr_resp).unwrap_or(0),
            total,
        ];
        for ((sum, max), v) in self.time_sums.iter().zip(&self.time_max).zip(values) {
            // swrate_add: sum = sum - ceil(sum / n) + v.
            let _ = sum.fetch_update(Relaxed, Relaxed, |old| {
                Some(old - old.div_ceil(TIME_SAMPLES) + v)
            });
            raise(max, v);
        }
        self.timed.fetch_add(1, Relaxed);
    }

    /// Adds one finished stream's facts.
    pub fn record(&self, facts: &StreamFacts) {
        self.record_at(facts, now_ms());
    }

    /// [`Counters::record`] with the clock ([`now_ms`]) read by the caller, once for the
    /// frontend, backend and server counters of a stream. Counters an event leaves unchanged
    /// (no retry, no redispatch) are not written: each write is a locked instruction.
    pub(crate) fn record_at(&self, facts: &StreamFacts, ms: u64) {
        self.record_times(facts);
        self.bytes_in.fetch_add(facts.bytes_in, Relaxed);
        self.bytes_out.fetch_add(facts.bytes_out, Relaxed);
        if facts.retries > 0 {
            self.retries.fetch_add(u64::from(facts.retries), Relaxed);
        }
        if facts.redispatched {
            self.redispatches.fetch_add(1, Relaxed);
        }
        if let Some(status) = facts.status {
            self.requests_total.fetch_add(1, Relaxed);
            self.request_rate.add_at(ms);
            let class = match status {
                100..=199 => 0,
                200..=299 => 1,
                300..=399 => 2,
                400..=499 => 3,
                500..=599 => 4,
                _ => 5,
            };
            if let Some(c) = self.http_status.get(class) {
                c.fetch_add(1, Relaxed);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_average_as_swrate_does() {
        let c = Counters::new();
        let facts = |connect: u64, resp: u64| StreamFacts {
            timers: crate::Timers {
                tc: Some(std::time::Duration::from_millis(connect)),
                tr_resp: Some(std::time::Duration::from_millis(resp)),
                ta: Some(std::time::Duration::from_millis(connect + resp)),
                ..crate::Timers::default()
            },
            ..StreamFacts::default()
        };
        // A stream that never reached a server does not count.
        c.record(&StreamFacts::default());
        assert_eq!(c.timed.load(Relaxed), 0);
        c.record(&facts(2, 10));
        c.record(&facts(4, 30));
        assert_eq!(c.timed.load(Relaxed), 2);
        // sums: connect 2 then 2 - 1 + 4 = 5 -> ceil(5 / 2) = 3; response 10, 10 - 1 + 30 = 39.
        assert_eq!((c.time_avg(1), c.time_avg(2)), (3, 20));
        assert_eq!(c.time_max[3].load(Relaxed), 34);
        c.clear(false);
        assert_eq!(c.time_max[3].load(Relaxed), 0);
        assert_eq!(c.time_avg(1), 3);
    }

    #[test]
    fn rates_slide_over_one_second_as_freq_ctr_does() {
        let r = RateCounter::default();
        for _ in 0..10 {
            r.add_at(5_000);
        }
        assert_eq!(r.rate_at(5_999), 10);
        // Half-way through the next second, half of the previous second still counts.
        r.add_at(6_500);
        assert_eq!(r.rate_at(6_500), 1 + 5);
        assert_eq!(r.rate_at(7_000), 1);
        assert_eq!(r.rate_at(8_000), 0);
        assert_eq!(r.max(), 10);
    }

    #[test]
    fn slots_track_current_and_max() {
        let c = Counters::new();
        let a = c.open_session();
        let b = c.open_session();
        drop(a);
        let _d = c.open_session();
        drop(b);
        assert_eq!(c.sessions_cur.load(Relaxed), 1);
        assert_eq!(c.sessions_max.load(Relaxed), 2);
        assert_eq!(c.sessions_total.load(Relaxed), 3);
        c.record(&StreamFacts {
            status: Some(503),
            bytes_in: 5,
            retries: 2,
            redispatched: true,
            ..StreamFacts::default()
        });
        assert_eq!(c.http_status[4].load(Relaxed), 1);
        assert_eq!(c.bytes_in.load(Relaxed), 5);
        assert_eq!(c.redispatches.load(Relaxed), 1);
        c.enqueue();
        c.enqueue();
        c.dequeue();
        assert_eq!(
            (c.queue_cur.load(Relaxed), c.queue_max.load(Relaxed)),
            (1, 2)
        );
    }
}
