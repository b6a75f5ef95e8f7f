//! HAProxy's dynamic server limit (`minconn`, `maxconn` and the backend's `fullconn`): the
//! limit a server obeys grows with the backend's load, from `minconn` while the backend is
//! idle to `maxconn` once it holds `fullconn` streams (HAProxy 2.6 `srv_dynamic_maxconn`).
//!
//! The backend's load is HAProxy's `beconn`: the streams assigned to the backend, served or
//! queued. A take counts itself (HAProxy counts a stream in `beconn` before it picks a
//! server); a release still counts the releasing stream while it hands slots to waiters
//! (HAProxy processes the server's queue before the stream leaves the backend).

use std::sync::atomic::Ordering;

use super::{Balancer, Core, Handoff, lock};

/// The limit of a server with `minconn` and `maxconn` (as [`crate::ServerSpec::settled_limits`]
/// gives them) in a backend holding `beconn` streams out of `fullconn`: `maxconn` once the
/// backend is full (or without `fullconn`) and for a static limit (`minconn == maxconn`),
/// otherwise `beconn × maxconn / fullconn` rounded down, but never below `minconn`.
#[must_use]
pub fn dynamic_maxconn(minconn: u32, maxconn: u32, fullconn: u32, beconn: u64) -> u32 {
    if beconn >= u64::from(fullconn) || minconn == maxconn {
        return maxconn;
    }
    // beconn < fullconn here, so the quotient is below maxconn and fits.
    let scaled = beconn * u64::from(maxconn) / u64::from(fullconn);
    u32::try_from(scaled).unwrap_or(maxconn).max(minconn)
}

impl Balancer {
    /// Server `i`'s `minconn` (equal to its `maxconn` for a static limit).
    #[must_use]
    pub fn minconn(&self, i: usize) -> u32 {
        self.minconn.get(i).map_or(0, |m| m.load(Ordering::Acquire))
    }

    /// The backend's `fullconn` (see [`crate::BalanceConfig::fullconn`]).
    #[must_use]
    pub fn fullconn(&self) -> u32 {
        self.config.fullconn
    }

    /// Whether some server's limit is dynamic (`minconn` below `maxconn` at build time).
    #[must_use]
    pub fn has_dynamic_limits(&self) -> bool {
        self.dynamic
    }

    /// The backend's load as HAProxy's `beconn` counts it, less the stream asking: the
    /// connections its servers hold plus the requests waiting in its queues. Kept only when
    /// some server's limit is dynamic (0 otherwise).
    #[must_use]
    pub fn backend_load(&self) -> u64 {
        if !self.dynamic {
            return 0;
        }
        self.total_served.load(Ordering::Acquire) + self.waiting.load(Ordering::Acquire) as u64
    }

    /// Server `i`'s limit for one more stream now (0 = unlimited): its `maxconn`, or for a
    /// dynamic limit [`dynamic_maxconn`] over the backend's load counting that stream.
    #[must_use]
    pub fn current_limit(&self, i: usize) -> u32 {
        self.limit_with(i, 1)
    }

    /// Server `i`'s limit with `extra` streams counted beside [`Balancer::backend_load`], scaled
    /// by its slow-start ramp.
    #[inline]
    pub(super) fn limit_with(&self, i: usize, extra: u64) -> u32 {
        let maxconn = self.maxconn(i);
        if maxconn == 0 || !self.scaled.load(Ordering::Relaxed) {
            return maxconn;
        }
        let minconn = self.minconn(i);
        let limit = if minconn == maxconn {
            maxconn
        } else {
            dynamic_maxconn(
                minconn,
                maxconn,
                self.config.fullconn,
                self.backend_load() + extra,
            )
        };
        match self.ramp.get(i).map_or(100, |r| r.load(Ordering::Relaxed)) {
            100.. => limit,
            // HAProxy: max(1, limit x ratio / 100), the ratio in whole percent.
            ratio => u32::try_from(u64::from(limit) * u64::from(ratio) / 100)
                .unwrap_or(limit)
                .max(1),
        }
    }

    /// Sets server `i`'s slow-start ramp at `now` (seconds): `100 × elapsed / slowstart` percent
    /// while it starts, 100 otherwise; then whether any limit is scaled.
    pub(super) fn set_ramp(&self, core: &Core, i: usize, now: u64) {
        let slow = self.specs.get(i).map_or(0, |s| u64::from(s.slowstart_secs));
        let ratio = match core.starting.get(i).copied().flatten() {
            Some(since) if slow > 0 && now >= since && now < since + slow => {
                u32::try_from(100 * (now - since) / slow).unwrap_or(100)
            }
            _ => 100,
        };
        if let Some(r) = self.ramp.get(i) {
            r.store(ratio, Ordering::Relaxed);
        }
        let ramping = self.ramp.iter().any(|r| r.load(Ordering::Relaxed) < 100);
        self.scaled
            .store(self.dynamic || ramping, Ordering::Release);
    }

    /// After a release of server `i` (whatever it returned), hands another free slot of `i` to
    /// the oldest waiter it serves, when its limit leaves room: the rest of HAProxy's
    /// `process_srv_queue`, which dequeues as many streams as the limit allows (more than one
    /// when a dynamic limit grew with the load, a slow start's ramp rose, or `maxconn` was
    /// raised). Call it until it returns `None`. The releasing stream is still counted in the
    /// backend's load, as HAProxy counts it until the stream ends. Nobody waiting: `None` at
    /// once.
    pub fn dequeue(&self, i: usize) -> Option<Handoff> {
        if self.waiting.load(Ordering::Acquire) == 0 {
            return None;
        }
        let mut q = lock(&self.queues);
        let limit = self.limit_with(i, 1);
        if limit == 0 || self.connections(i) >= limit {
            return None;
        }
        if !self.has_waiter(&q, i) {
            return None;
        }
        // The waiter's slot, counted as a take is (under the queue lock only a racing take on
        // another path can fill the server first; the waiter then stays).
        self.served.take_limited(i, limit).ok()?;
        let Some(ticket) = self.next_waiter(&mut q, i) else {
            self.drop_one(i);
            return None;
        };
        self.count_total(1);
        self.waiting.fetch_sub(1, Ordering::AcqRel);
        self.lc_requeue(i, || self.connections(i));
        Some(Handoff { ticket, server: i })
    }
}

#[cfg(test)]
mod tests {
    use super::dynamic_maxconn;

    #[test]
    fn the_limit_grows_from_minconn_to_maxconn_with_the_load() {
        // minconn 1, maxconn 4, fullconn 10: HAProxy's integer steps.
        let got: Vec<u32> = (0..=12).map(|b| dynamic_maxconn(1, 4, 10, b)).collect();
        assert_eq!(got, [1, 1, 1, 1, 1, 2, 2, 2, 3, 3, 4, 4, 4]);
    }

    #[test]
    fn static_limits_and_missing_fullconn_give_maxconn() {
        assert_eq!(dynamic_maxconn(4, 4, 10, 0), 4);
        assert_eq!(dynamic_maxconn(1, 4, 0, 0), 4);
        assert_eq!(dynamic_maxconn(0, 0, 10, 3), 0);
    }

    #[test]
    fn extreme_values_do_not_overflow() {
        assert_eq!(
            dynamic_maxconn(1, u32::MAX, u32::MAX, u64::from(u32::MAX) - 1),
            u32::MAX - 1
        );
        assert_eq!(dynamic_maxconn(1, u32::MAX, u32::MAX, u64::MAX), u32::MAX);
        assert_eq!(dynamic_maxconn(7, u32::MAX, 1, 0), 7);
    }
}
