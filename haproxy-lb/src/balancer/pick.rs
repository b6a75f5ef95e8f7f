//! The pick path: one snapshot load, then the algorithm's lock-free lookup and an atomic
//! slot take (`assign_server()` and each algorithm's `*_get_next_server()`).

use std::sync::atomic::Ordering;

use crate::algo::kind::{Algorithm, HashType};
use crate::key::uri_path;

use super::snapshot::Snapshot;
use super::{Balancer, Pick, RequestKey};

impl Balancer {
    /// Picks a server for a request, as HAProxy's `assign_server()` does for this algorithm.
    ///
    /// Hashing algorithms use the matching field of `key`; when it is missing they fall back to
    /// round robin, as HAProxy does.
    pub fn pick(&self, key: &RequestKey<'_>) -> Pick {
        self.with_snapshot(|snap| self.pick_in(snap, key))
    }

    #[inline]
    fn pick_in(&self, snap: &Snapshot, key: &RequestKey<'_>) -> Pick {
        if snap.tot_weight == 0 {
            return Pick::NoServer;
        }
        // The algorithms without a key first: one dispatch, no hashing step.
        let hasher = self.config.hasher;
        let hashed = match &self.config.algorithm {
            Algorithm::RoundRobin => return self.pick_rr(snap),
            Algorithm::LeastConn => return self.pick_leastconn(snap),
            Algorithm::StaticRr => return self.pick_map_rr(snap),
            Algorithm::First => return self.pick_first(snap),
            Algorithm::Random { draws } => return self.pick_random(snap, *draws, key.random),
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
            Some(h) => self.pick_hash(snap, h),
            None if self.config.hash_type == HashType::Consistent => self.pick_ring_rr(snap),
            None => self.pick_map_rr(snap),
        }
    }

    /// A hashed key: map slot or ring lookup; a full server queues the request on itself.
    #[inline(always)]
    fn pick_hash(&self, snap: &Snapshot, h: u32) -> Pick {
        let srv = if self.config.hash_type == HashType::MapBased {
            snap.map.slots.get((h % snap.tot_weight) as usize).copied()
        } else if let Some(f) = snap.fbck.filter(|_| snap.srv_act == 0) {
            Some(f)
        } else {
            let factor = self.config.hash_balance_factor;
            snap.ring
                .lookup(h, |s| factor != 0 && !self.bounded_ok(snap, s, factor))
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
    /// cursor moves past full servers, as HAProxy's `rr_idx` does.
    #[inline(always)]
    fn pick_map_rr(&self, snap: &Snapshot) -> Pick {
        for _ in 0..snap.map.slots.len() {
            match snap.map.next() {
                Some(s) if self.try_take(s) => return Pick::Server(s),
                Some(_) => {}
                None => return Pick::NoServer,
            }
        }
        if snap.map.slots.is_empty() {
            Pick::NoServer
        } else {
            self.enqueue(None)
        }
    }

    /// Consistent hashing without a key: walk the ring's points in turn.
    fn pick_ring_rr(&self, snap: &Snapshot) -> Pick {
        if let Some(f) = snap.fbck.filter(|_| snap.srv_act == 0) {
            return if self.try_take(f) {
                Pick::Server(f)
            } else {
                self.enqueue(Some(f))
            };
        }
        let n = snap.ring.len();
        for _ in 0..n {
            let idx = self.cursor.fetch_add(1, Ordering::Relaxed) % n.max(1);
            if let Some(s) = snap.ring.server_at(idx)
                && self.try_take(s)
            {
                return Pick::Server(s);
            }
        }
        if n == 0 {
            Pick::NoServer
        } else {
            self.enqueue(None)
        }
    }

    /// `roundrobin` (`fwrr_get_next_server()`): the group's precomputed order, read with an
    /// atomic cursor. A full server's turn is passed over (HAProxy moves its position on too).
    #[inline(always)]
    fn pick_rr(&self, snap: &Snapshot) -> Pick {
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
        for _ in 0..snap.rr_tries {
            match sched.next() {
                Some(s) if self.try_take(s) => return Pick::Server(s),
                Some(_) => {}
                None => break,
            }
        }
        self.enqueue(None)
    }

    /// `first` (`fas_get_next_server()`): lowest id with a free slot.
    fn pick_first(&self, snap: &Snapshot) -> Pick {
        if let Some(f) = snap.fbck.filter(|_| snap.srv_act == 0) {
            return if self.try_take(f) {
                Pick::Server(f)
            } else {
                self.enqueue(None)
            };
        }
        for &s in &snap.group {
            if self.try_take(s) {
                return Pick::Server(s);
            }
        }
        self.enqueue(None)
    }

    /// `random(<draws>)` (`get_server_rnd()`): the least loaded of the drawn ring positions.
    fn pick_random(&self, snap: &Snapshot, draws: u32, random: &[u32]) -> Pick {
        let mut curr: Option<usize> = None;
        let factor = self.config.hash_balance_factor;
        for &h in random.iter().take(draws as usize) {
            let prev = curr;
            let next = if let Some(f) = snap.fbck.filter(|_| snap.srv_act == 0) {
                Some(f)
            } else {
                snap.ring
                    .lookup(h, |s| factor != 0 && !self.bounded_ok(snap, s, factor))
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
            Some(_) => self.enqueue(None),
            None if random.is_empty() => self.pick_ring_rr(snap),
            None => Pick::NoServer,
        }
    }
}
