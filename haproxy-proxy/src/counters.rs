//! Live counters per frontend, backend, server and listener, kept with atomics (no locks).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

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
        self.sessions_max.fetch_max(cur, Relaxed);
        self.sessions_total.fetch_add(1, Relaxed);
        SessionSlot {
            counters: Arc::clone(self),
        }
    }

    /// Counts an entry into the queue.
    pub fn enqueue(&self) {
        let cur = self.queue_cur.fetch_add(1, Relaxed) + 1;
        self.queue_max.fetch_max(cur, Relaxed);
    }

    /// Counts a departure from the queue.
    pub fn dequeue(&self) {
        self.queue_cur.fetch_sub(1, Relaxed);
    }

    /// Adds one finished stream's facts.
    pub fn record(&self, facts: &StreamFacts) {
        self.bytes_in.fetch_add(facts.bytes_in, Relaxed);
        self.bytes_out.fetch_add(facts.bytes_out, Relaxed);
        self.retries.fetch_add(u64::from(facts.retries), Relaxed);
        if facts.redispatched {
            self.redispatches.fetch_add(1, Relaxed);
        }
        if let Some(status) = facts.status {
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
