//! The pick path: one snapshot load, then the algorithm's lock-free lookup and an atomic
//! slot take (`assign_server()` and each algorithm's `*_get_next_server()`).
//!
//! Each lookup also takes the server to avoid (HAProxy's `srvtoavoid`, the server a
//! redispatched request just failed on). The plain pick passes [`NoAvoid`], a zero-sized
//! type, so its code has no trace of it (same instruction counts as before it existed).

use std::sync::atomic::Ordering;

use crate::algo::kind::{Algorithm, HashType};
use crate::key::uri_path;

use super::snapshot::Snapshot;
use super::{Balancer, Pick, RequestKey};

/// The server a pick passes over: [`NoAvoid`] for the plain pick (a zero-sized type, so that
/// its checks compile away) or a server index.
pub(super) trait Avoid: Copy {
    /// The server to avoid, if any.
    fn server(self) -> Option<usize>;

    /// Whether `s` is the server to avoid.
    #[inline(always)]
    fn is(self, s: usize) -> bool {
        self.server() == Some(s)
    }
}

/// No server to avoid.
#[derive(Debug, Clone, Copy)]
pub(super) struct NoAvoid;

impl Avoid for NoAvoid {
    #[inline(always)]
    fn server(self) -> Option<usize> {
        None
    }
}

impl Avoid for usize {
    #[inline(always)]
    fn server(self) -> Option<usize> {
        Some(self)
    }
}

impl Balancer {
    /// Picks a server for a request, as HAProxy's `assign_server()` does for this algorithm.
    ///
    /// Hashing algorithms use the matching field of `key`; when it is missing they fall back to
    /// round robin, as HAProxy does.
    pub fn pick(&self, key: &RequestKey<'_>) -> Pick {
        self.with_snapshot(|snap| self.pick_in(snap, key, NoAvoid))
    }

    /// Picks a server for a request while avoiding server `avoid`, as HAProxy's
    /// `assign_server()` does for a redispatched request (`option redispatch`: its `srvtoavoid`
    /// is the server the connection just failed on). With `avoid` = `None` this is
    /// [`Balancer::pick`].
    ///
    /// The avoided server is passed over when another eligible server can take the request,
    /// and taken when it is the only one with room, following each algorithm's HAProxy 2.6
    /// lookup:
    ///
    /// - `roundrobin` (`fwrr_get_next_server()`), `static-rr` and map-based hashing without
    ///   a key (`map_get_server_rr()`), `first` (`fas_get_next_server()`) and consistent
    ///   hashing without a key (`chash_get_next_server()`): the walk passes over the avoided
    ///   server (its turn is used up) and full servers, and takes the avoided server only when
    ///   no other server has room; when none has room the request waits in the backend queue.
    /// - `leastconn` (`fwlc_get_next_server()`): the least loaded server other than the
    ///   avoided one, among those whose connections plus queue are under `maxconn` plus
    ///   `maxqueue`; the avoided server when it is the only such one.
    /// - consistent hashing with a key, `random` and `rdp-cookie` on a consistent ring
    ///   (`chash_get_server_hash()`): from the key's point the ring is walked forward past the
    ///   avoided server's points, so the key goes to the next server on the ring (the avoided
    ///   one only when it is alone), whether or not that server is full.
    /// - map-based hashing with a key (`map_get_server_hash()`): **no server is avoided**; the
    ///   key keeps its server, as in HAProxy.
    /// - A backend running on its first backup server alone (no `option allbackups`) returns
    ///   that server: HAProxy ignores the server to avoid there too.
    ///
    /// Connection counts and queues are kept as by [`Balancer::pick`].
    ///
    /// # Examples
    /// ```
    /// use haproxy_lb::{Algorithm, BalanceConfig, Balancer, Pick, RequestKey, ServerSpec};
    ///
    /// let servers = vec![ServerSpec::new(1, "a"), ServerSpec::new(2, "b")];
    /// let lb = Balancer::new(BalanceConfig::new(Algorithm::First), servers)?;
    /// let key = RequestKey::default();
    /// // `first` sends everything to `a` while it has room, but not a request that failed there.
    /// assert_eq!(lb.pick(&key), Pick::Server(0));
    /// lb.release(0);
    /// assert_eq!(lb.pick_avoiding(&key, Some(0)), Pick::Server(1));
    /// # Ok::<(), haproxy_lb::LbError>(())
    /// ```
    pub fn pick_avoiding(&self, key: &RequestKey<'_>, avoid: Option<usize>) -> Pick {
        match avoid {
            None => self.pick(key),
            Some(a) => self.pick_avoiding_server(key, a),
        }
    }

    /// [`Balancer::pick_avoiding`] with a server to avoid, outlined so that the plain pick's
    /// inlined path stays as it is.
    #[inline(never)]
    fn pick_avoiding_server(&self, key: &RequestKey<'_>, avoid: usize) -> Pick {
        self.with_snapshot(|snap| self.pick_in(snap, key, avoid))
    }

    #[inline]
    fn pick_in(&self, snap: &Snapshot, key: &RequestKey<'_>, avoid: impl Avoid) -> Pick {
        if snap.tot_weight == 0 {
            return Pick::NoServer;
        }
        // The algorithms without a key first: one dispatch, no hashing step.
        let hasher = self.config.hasher;
        let hashed = match &self.config.algorithm {
            Algorithm::RoundRobin => return self.pick_rr(snap, avoid),
            Algorithm::LeastConn => return self.pick_leastconn(snap, avoid),
            Algorithm::StaticRr => return self.pick_map_rr(snap, avoid),
            Algorithm::First => return self.pick_first(snap, avoid),
            Algorithm::Random { draws } => {
                return self.pick_random(snap, *draws, key.random, avoid);
            }
            Algorithm::Source => key.source.map(|a| hasher.source(a)),
            Algorithm::Uri(opts) => key.uri.map(|u| {
                let u = if opts.path_only { uri_path(u) } else { u };
                hasher.uri(u, *opts)
            }),
            Algorithm::UrlParam(name) => key.uri.and_then(|u| hasher.url_param(u, name.as_bytes())),
            Algorithm::Hdr {
                use_domain_only, ..
            } => key.header.and_then(|h| hasher.header(h, *use_domain_only)),
            Algorithm::RdpCookie(_) => hasher.rdp_cookie(key.rdp_cookie),
        };
        // A hashing algorithm: the key's hash, or round robin when the key is missing.
        match hashed {
            Some(h) => self.pick_hash(snap, h, avoid),
            None if self.config.hash_type == HashType::Consistent => self.pick_ring_rr(snap, avoid),
            None => self.pick_map_rr(snap, avoid),
        }
    }

    /// Whether server `i` can take one more connection now, as HAProxy's lookups ask before
    /// taking a server: no `maxconn`, or nobody in its queue and a free slot.
    fn has_room(&self, i: usize) -> bool {
        let maxconn = self.limit_with(i, 1);
        maxconn == 0 || (self.queued(i) == 0 && self.connections(i) < maxconn)
    }

    /// The avoided server as a last resort, when the walk met it with room (`met`) and no
    /// other server could take the request; otherwise the backend queue.
    fn avoided_or_queue(&self, avoid: impl Avoid, met: bool) -> Pick {
        match avoid.server() {
            Some(a) if met && self.try_take(a) => Pick::Server(a),
            other => self.enqueue_avoiding(None, other),
        }
    }

    /// A hashed key: map slot or ring lookup; a full server queues the request on itself.
    /// The ring lookup walks past `avoid` (`chash_get_server_hash()`); a map slot does not
    /// (`map_get_server_hash()` takes no server to avoid).
    #[inline(always)]
    fn pick_hash(&self, snap: &Snapshot, h: u32, avoid: impl Avoid) -> Pick {
        let srv = if self.config.hash_type == HashType::MapBased {
            snap.map.slots.get((h % snap.tot_weight) as usize).copied()
        } else if let Some(f) = snap.fbck.filter(|_| snap.srv_act == 0) {
            Some(f)
        } else {
            let factor = self.config.hash_balance_factor;
            snap.ring.lookup(h, |s| {
                avoid.is(s) || (factor != 0 && !self.bounded_ok(snap, s, factor))
            })
        };
        match srv {
            Some(s) if self.try_take(s) => Pick::Server(s),
            Some(s) => self.enqueue(Some(s)),
            None => Pick::NoServer,
        }
    }

    /// `chash_server_is_eligible()`: whether `s` is under its bounded load.
    fn bounded_ok(&self, snap: &Snapshot, s: usize, factor: u32) -> bool {
        let total = self.total_served.load(Ordering::Acquire);
        let tot_w = u64::from(snap.tot_weight.max(1));
        let tot_slots = (total + 1).saturating_mul(u64::from(factor)).div_ceil(100);
        let per_w = tot_slots / tot_w;
        let rem = tot_slots % tot_w;
        let w = u64::from(snap.eweight.get(s).copied().unwrap_or(0));
        let cum = u64::from(snap.cumulative.get(s).copied().unwrap_or(0));
        let share = ((cum + w) * rem) / tot_w - (cum * rem) / tot_w;
        let slots = w.saturating_mul(per_w).saturating_add(share).max(1);
        u64::from(self.connections(s)) < slots
    }

    /// `static-rr`, and map-based hashing without a key (`map_get_server_rr()`): the map's
    /// cursor moves past full servers, as HAProxy's `rr_idx` does, and past `avoid`; when
    /// only `avoid` has room it is taken and the cursor left after its last slot met.
    #[inline(always)]
    fn pick_map_rr(&self, snap: &Snapshot, avoid: impl Avoid) -> Pick {
        let mut avoided_at = None;
        for _ in 0..snap.map.slots.len() {
            match snap.map.next_slot() {
                Some((at, s)) if avoid.is(s) => {
                    avoided_at = self.has_room(s).then_some(at).or(avoided_at);
                }
                Some((_, s)) if self.try_take(s) => return Pick::Server(s),
                Some(_) => {}
                None => return Pick::NoServer,
            }
        }
        if snap.map.slots.is_empty() {
            return Pick::NoServer;
        }
        match (avoid.server(), avoided_at) {
            (Some(a), Some(at)) if self.try_take(a) => {
                snap.map.resume_after(at);
                Pick::Server(a)
            }
            _ => self.enqueue_avoiding(None, avoid.server()),
        }
    }

    /// Consistent hashing without a key (`chash_get_next_server()`): walk the ring's points
    /// in turn, past full servers and `avoid`; when only `avoid` has room it is taken and the
    /// walk resumes after its last point met.
    fn pick_ring_rr(&self, snap: &Snapshot, avoid: impl Avoid) -> Pick {
        if let Some(f) = snap.fbck.filter(|_| snap.srv_act == 0) {
            return if self.try_take(f) {
                Pick::Server(f)
            } else {
                self.enqueue(Some(f))
            };
        }
        let n = snap.ring.len();
        let mut avoided_at = None;
        for _ in 0..n {
            let idx = self.cursor.fetch_add(1, Ordering::Relaxed) % n.max(1);
            match snap.ring.server_at(idx) {
                Some(s) if avoid.is(s) => {
                    avoided_at = self.has_room(s).then_some(idx).or(avoided_at);
                }
                Some(s) if self.try_take(s) => return Pick::Server(s),
                _ => {}
            }
        }
        if n == 0 {
            return Pick::NoServer;
        }
        match (avoid.server(), avoided_at) {
            (Some(a), Some(idx)) if self.try_take(a) => {
                self.cursor.store(idx + 1, Ordering::Relaxed);
                Pick::Server(a)
            }
            _ => self.enqueue_avoiding(None, avoid.server()),
        }
    }

    /// `roundrobin` (`fwrr_get_next_server()`): the group's precomputed order, read with an
    /// atomic cursor. A full server's turn is passed over (HAProxy moves its position on too),
    /// and so are `avoid`'s turns; `avoid` is taken only when no other server has room (fwrr's
    /// walk takes each server out of its tree once, so it never meets `avoid` twice).
    #[inline(always)]
    fn pick_rr(&self, snap: &Snapshot, avoid: impl Avoid) -> Pick {
        if let Some(f) = snap.fbck.filter(|_| snap.srv_act == 0) {
            return if self.try_take(f) {
                Pick::Server(f)
            } else {
                self.enqueue(None)
            };
        }
        let Some(sched) = snap
            .rr
            .get(usize::from(snap.srv_act == 0))
            .and_then(Option::as_ref)
        else {
            return Pick::NoServer;
        };
        // Bounded: past twice the group's size in full servers, the backend queue's own scan
        // of the group finds a free server if one is left (`rr_tries`, set at publish).
        let mut avoided = false;
        for _ in 0..snap.rr_tries {
            match sched.next() {
                Some(s) if avoid.is(s) => avoided |= self.has_room(s),
                Some(s) if self.try_take(s) => return Pick::Server(s),
                Some(_) => {}
                None => break,
            }
        }
        // The turns tried may not reach every server; HAProxy's walk does, so another server
        // with room comes before the avoided one.
        if let Some(a) = avoid.server()
            && let Some(s) = snap
                .group
                .iter()
                .copied()
                .find(|&s| s != a && self.try_take(s))
        {
            return Pick::Server(s);
        }
        self.avoided_or_queue(avoid, avoided)
    }

    /// `first` (`fas_get_next_server()`): lowest id with a free slot, other than `avoid`
    /// unless it is the only one.
    fn pick_first(&self, snap: &Snapshot, avoid: impl Avoid) -> Pick {
        if let Some(f) = snap.fbck.filter(|_| snap.srv_act == 0) {
            return if self.try_take(f) {
                Pick::Server(f)
            } else {
                self.enqueue(None)
            };
        }
        let mut avoided = false;
        for &s in &snap.group {
            if avoid.is(s) {
                avoided = self.has_room(s);
            } else if self.try_take(s) {
                return Pick::Server(s);
            }
        }
        self.avoided_or_queue(avoid, avoided)
    }

    /// `random(<draws>)` (`get_server_rnd()`): the least loaded of the drawn ring positions,
    /// each draw's lookup walking past `avoid`.
    fn pick_random(&self, snap: &Snapshot, draws: u32, random: &[u32], avoid: impl Avoid) -> Pick {
        let mut curr: Option<usize> = None;
        let factor = self.config.hash_balance_factor;
        for &h in random.iter().take(draws as usize) {
            let prev = curr;
            let next = if let Some(f) = snap.fbck.filter(|_| snap.srv_act == 0) {
                Some(f)
            } else {
                snap.ring.lookup(h, |s| {
                    avoid.is(s) || (factor != 0 && !self.bounded_ok(snap, s, factor))
                })
            };
            let Some(c) = next else { break };
            curr = Some(c);
            if let Some(p) = prev {
                let cw = u64::from(snap.eweight.get(c).copied().unwrap_or(0));
                let pw = u64::from(snap.eweight.get(p).copied().unwrap_or(0));
                if p != c
                    && u64::from(self.connections(c)) * pw > u64::from(self.connections(p)) * cw
                {
                    curr = Some(p);
                }
            }
        }
        match curr {
            Some(s) if self.try_take(s) => Pick::Server(s),
            Some(_) => self.enqueue_avoiding(None, avoid.server()),
            None if random.is_empty() => self.pick_ring_rr(snap, avoid),
            None => Pick::NoServer,
        }
    }
}
