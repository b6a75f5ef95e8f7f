//! `leastconn` on the balancer: per-server load keys, the group flags and the pick
//! (`fwlc_get_next_server()`, `fwlc_srv_reposition()`, `fwlc_queue_srv()`).

use std::sync::atomic::Ordering;

use crate::algo::kind::Algorithm;

use super::pick::Avoid;
use super::snapshot::Snapshot;
use super::{Balancer, Pick};

/// HAProxy's `SRV_EWGHT_MAX`, used by leastconn's load key.
const EWGHT_MAX: u64 = 256 * 16;
/// The largest load key (31 bits; the low 32 bits of a key order equal loads).
const LC_KEY_MAX: u64 = (1 << 31) - 1;

impl Balancer {
    /// Re-keys server `i` whose connection count is now `served()`, when its load key
    /// changed (`fwlc_srv_reposition()`), placing it after the servers that already have that
    /// key.
    #[inline]
    pub(super) fn lc_requeue(&self, i: usize, served: impl FnOnce() -> u32) {
        // Checked here, inlined into every take and release, so that other algorithms pay
        // neither a call nor the count's load.
        if matches!(self.config.algorithm, Algorithm::LeastConn) {
            self.lc_queue(i, served(), false);
        }
    }

    /// Re-keys server `i` (connection count `served`); `always` queues it again even when its
    /// key did not change (`fwlc_queue_srv()` after a state or weight change).
    pub(super) fn lc_queue(&self, i: usize, served: u32, always: bool) {
        if !matches!(self.config.algorithm, Algorithm::LeastConn) {
            return;
        }
        // `lc` is padded past the last server (see `LcTree::keys`).
        let Some(slot) = self.lc.get(i).filter(|_| i < self.specs.len()) else {
            return;
        };
        let inflight = u64::from(served) + u64::from(self.queued(i));
        let num = (inflight + 1) * EWGHT_MAX;
        let key = match (inflight, u32::try_from(num)) {
            (0, _) => 0,
            (_, Ok(num)) => self.lc_div(i, num),
            _ => {
                num / u64::from(
                    self.ew
                        .get(i)
                        .map_or(1, |a| a.load(Ordering::Acquire).max(1)),
                )
            }
        };
        let key = key.min(LC_KEY_MAX);
        if !always && slot.load(Ordering::Relaxed) >> 32 == key {
            return;
        }
        // The queueing order among equal keys. A plain increment, not a locked one: pickers
        // racing here may draw the same number, and equal keys then go by server index.
        let seq = self.lc_seq.load(Ordering::Relaxed);
        self.lc_seq.store(seq.wrapping_add(1), Ordering::Relaxed);
        slot.store((key << 32) | u64::from(seq), Ordering::Release);
        self.lc_tree.update(&self.lc, i);
    }

    /// `num / ew` for server `i` by multiplying with its stored `ceil(2^64 / ew)` (exact for
    /// 32-bit operands; Lemire, Kaser and Kurz, "Faster remainder by direct computation").
    fn lc_div(&self, i: usize, num: u32) -> u64 {
        match self.ew_magic.get(i).map(|m| m.load(Ordering::Acquire)) {
            // ew <= 1: the quotient is the numerator.
            Some(0) | None => u64::from(num),
            Some(m) => ((u128::from(m) * u128::from(num)) >> 64) as u64,
        }
    }

    /// Stores server `i`'s effective weight for its load key (0 when unusable).
    pub(super) fn lc_weight(&self, i: usize, w: u32) {
        if let Some(a) = self.ew.get(i) {
            a.store(w, Ordering::Release);
        }
        if let Some(m) = self.ew_magic.get(i) {
            m.store(div_magic(w), Ordering::Release);
        }
    }

    /// Marks which servers are in the group in use, for the key tree
    /// (`fwlc_set_server_status_down/up()`), and rebuilds the tree.
    pub(super) fn lc_flag(&self, in_group: impl Fn(usize) -> bool) {
        if !matches!(self.config.algorithm, Algorithm::LeastConn) {
            return;
        }
        for i in 0..self.specs.len() {
            self.lc_tree.set_member(i, in_group(i));
        }
        self.lc_tree.rebuild(&self.lc);
    }

    /// `leastconn` (`fwlc_get_next_server()`): smallest load key, oldest first among equals;
    /// a server whose queue still has room is acceptable and the request queues on it.
    /// `avoid` is passed over unless it is the only acceptable server.
    #[inline(always)]
    pub(super) fn pick_leastconn(&self, snap: &Snapshot, avoid: impl Avoid) -> Pick {
        if let Some(f) = snap.fbck.filter(|_| snap.srv_act == 0) {
            return if self.try_take(f) {
                Pick::Server(f)
            } else {
                self.enqueue(Some(f))
            };
        }
        let best = if avoid.server().is_some() || snap.group_limited {
            self.lc_scan(snap, snap.group_limited, avoid.server())
        } else {
            self.lc_first(snap)
        };
        match best {
            Some(s) if self.try_take(s) => Pick::Server(s),
            Some(s) => self.enqueue(Some(s)),
            None => self.enqueue_avoiding(None, avoid.server()),
        }
    }

    /// The root of the key tree, checked against the snapshot; when the tree does not match
    /// it (a change in flight), a scan of the group.
    fn lc_first(&self, snap: &Snapshot) -> Option<usize> {
        match self.lc_tree.first() {
            Some(s) if snap.in_group.get(s).copied().unwrap_or(false) => Some(s),
            _ => self.lc_scan(snap, false, None),
        }
    }

    /// The smallest key among the group's servers, skipping those whose connections and
    /// queue are full when `limits`, and `avoid` unless no other server is left.
    fn lc_scan(&self, snap: &Snapshot, limits: bool, avoid: Option<usize>) -> Option<usize> {
        let mut best: Option<(u64, usize)> = None;
        let mut avoided = None;
        for &s in &snap.group {
            let open = !limits
                || self.specs.get(s).is_some_and(|spec| {
                    let maxconn = self.limit_with(s, 1);
                    maxconn == 0 || {
                        let load = self.connections(s) + self.queued(s);
                        load < maxconn.saturating_add(spec.maxqueue)
                    }
                });
            let k = self
                .lc
                .get(s)
                .map_or(u64::MAX, |a| a.load(Ordering::Relaxed));
            if open && Some(s) == avoid {
                avoided = Some(s);
            } else if open && best.is_none_or(|(bk, _)| k < bk) {
                best = Some((k, s));
            }
        }
        best.map(|(_, s)| s).or(avoided)
    }
}

/// `ceil(2^64 / d)` for `d >= 2` (0 for `d <= 1`, whose quotient is the numerator itself).
fn div_magic(d: u32) -> u64 {
    if d <= 1 {
        0
    } else {
        (u64::MAX / u64::from(d)).wrapping_add(1)
    }
}

#[cfg(test)]
mod tests {
    use super::div_magic;

    fn div(num: u32, d: u32) -> u64 {
        match div_magic(d) {
            0 => u64::from(num),
            m => ((u128::from(m) * u128::from(num)) >> 64) as u64,
        }
    }

    #[test]
    fn multiplying_by_the_magic_divides_exactly() {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        for d in (1..=4096u32).chain([65_535, 65_536, 1 << 20, u32::MAX]) {
            for num in [0, 1, d - 1, d, d.saturating_add(1), u32::MAX, u32::MAX - 1] {
                assert_eq!(div(num, d), u64::from(num / d), "{num} / {d}");
            }
            for _ in 0..64 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let num = (x >> 32) as u32;
                assert_eq!(div(num, d), u64::from(num / d), "{num} / {d}");
            }
        }
    }
}
