//! The consistent-hash ring behind `hash-type consistent` and `balance random`.
//!
//! Reimplemented from HAProxy 2.6's src/lb_chash.c: server `s` with effective weight `w`
//! owns the `w` points `avalanche(puid * 4096 + j)` for `j < w` (4096 = `SRV_EWGHT_RANGE`), so
//! keys land exactly where HAProxy puts them. A key goes to the nearer of the points just
//! before and just after it (ties go to the point before), then walks forward while the
//! server is avoided or, with `hash-balance-factor`, over its bounded load.

use std::collections::BTreeMap;

use crate::hash::avalanche;

/// HAProxy's `SRV_EWGHT_RANGE`: the point-index space reserved per server id.
pub(crate) const EWGHT_RANGE: u32 = 256 * 16;

/// The position of point `j` of the server with id `puid` (`chash_queue_dequeue_srv()`).
#[must_use]
pub(crate) fn point(puid: u32, j: u32) -> u32 {
    avalanche(puid.wrapping_mul(EWGHT_RANGE).wrapping_add(j))
}

/// A ring: points ordered by position then insertion, each naming a server index.
#[derive(Debug, Clone, Default)]
pub(crate) struct Ring {
    points: BTreeMap<(u32, u64), usize>,
    /// Per server: the keys of the points currently inserted, in index order.
    owned: Vec<Vec<(u32, u64)>>,
    seq: u64,
}

impl Ring {
    /// An empty ring for `n` servers.
    pub(crate) fn new(n: usize) -> Self {
        Self {
            owned: vec![Vec::new(); n],
            ..Self::default()
        }
    }

    /// Sets the number of points of server `i` (id `puid`) to `w`, adding or removing only
    /// its last points, as `chash_queue_dequeue_srv()` does.
    pub(crate) fn set_points(&mut self, i: usize, puid: u32, w: u32) {
        let Some(owned) = self.owned.get_mut(i) else {
            return;
        };
        while owned.len() > w as usize {
            if let Some(k) = owned.pop() {
                self.points.remove(&k);
            }
        }
        while owned.len() < w as usize {
            let j = u32::try_from(owned.len()).unwrap_or(u32::MAX);
            self.seq += 1;
            let k = (point(puid, j), self.seq);
            self.points.insert(k, i);
            owned.push(k);
        }
    }

    /// The ring as sorted arrays with a bucket index, for lock-free lookups.
    pub(crate) fn to_sorted(&self) -> SortedRing {
        SortedRing::new(
            self.points
                .iter()
                .map(|(&(k, _), &i)| (k, u32::try_from(i).unwrap_or(u32::MAX)))
                .collect(),
        )
    }
}

/// The most bits of a point position the bucket index of a [`SortedRing`] uses (64k + 1
/// entries at most).
const MAX_INDEX_BITS: u32 = 16;

/// A ring as pickers read it: point positions in order, the server of each, and an index of
/// where each range of positions starts, so a lookup reads a bucket instead of searching.
#[derive(Debug, Clone, Default)]
pub(crate) struct SortedRing {
    /// `(position, server)` per point, by position: one cache line holds both.
    points: Vec<(u32, u32)>,
    /// `index[b]`: the first point at or after position `b << shift` (`index[last]` = len).
    index: Vec<u32>,
    shift: u32,
}

impl SortedRing {
    fn new(points: Vec<(u32, u32)>) -> Self {
        // About one point per bucket.
        let bits = points
            .len()
            .next_power_of_two()
            .trailing_zeros()
            .min(MAX_INDEX_BITS);
        let shift = 32 - bits;
        let buckets = 1u64 << bits;
        let mut index = Vec::with_capacity(buckets as usize + 1);
        let mut at = 0usize;
        for b in 0..buckets {
            let start = b << shift;
            while points.get(at).is_some_and(|&(k, _)| u64::from(k) < start) {
                at += 1;
            }
            index.push(u32::try_from(at).unwrap_or(u32::MAX));
        }
        index.push(u32::try_from(points.len()).unwrap_or(u32::MAX));
        Self {
            points,
            index,
            shift,
        }
    }

    /// Number of points.
    pub(crate) fn len(&self) -> usize {
        self.points.len()
    }

    /// The server of point `i`.
    pub(crate) fn server_at(&self, i: usize) -> Option<usize> {
        self.points.get(i).map(|&(_, s)| s as usize)
    }

    /// The first point at or after `hash`, or `len()` when there is none.
    #[inline]
    fn lower_bound(&self, hash: u32) -> usize {
        let b = (u64::from(hash) >> self.shift) as usize;
        let lo = self.index.get(b).map_or(0, |&i| i as usize);
        let hi = self
            .index
            .get(b + 1)
            .map_or(self.points.len(), |&i| i as usize);
        match self.points.get(lo..hi) {
            Some(bucket) => lo + bucket.partition_point(|&(k, _)| k < hash),
            None => self.points.partition_point(|&(k, _)| k < hash),
        }
    }

    /// Looks `hash` up (`chash_get_server_hash()`): the nearer of the points just before and
    /// at or after it wins (the one before on ties); then, while `skip` says the server may
    /// not take it, walk to the following points, wrapping around at most once.
    #[inline]
    pub(crate) fn lookup(&self, hash: u32, mut skip: impl FnMut(usize) -> bool) -> Option<usize> {
        let n = self.len();
        if n == 0 {
            return None;
        }
        let ge = self.lower_bound(hash);
        let next = if ge >= n { 0 } else { ge };
        let prev = if next == 0 { n - 1 } else { next - 1 };
        let dp = hash.wrapping_sub(self.points.get(prev)?.0);
        let dn = self.points.get(next)?.0.wrapping_sub(hash);
        let mut pos = if dp <= dn { prev } else { next };
        let mut loops = 0;
        let mut s = self.server_at(pos)?;
        while skip(s) {
            pos += 1;
            if pos == n {
                pos = 0;
                loops += 1;
                if loops > 1 {
                    break;
                }
            }
            s = self.server_at(pos)?;
        }
        Some(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removing_points_keeps_the_first_ones() {
        let mut r = Ring::new(2);
        r.set_points(0, 1, 32);
        r.set_points(1, 2, 16);
        let pairs = |s: SortedRing| -> Vec<(u32, usize)> {
            (0..s.len())
                .map(|i| (s.points[i].0, s.points[i].1 as usize))
                .collect()
        };
        let before = pairs(r.to_sorted());
        r.set_points(0, 1, 16);
        let after = pairs(r.to_sorted());
        assert_eq!(after.len(), 32);
        assert!(after.iter().all(|p| before.contains(p)));
        assert!(after.contains(&(point(1, 0), 0)));
        assert!(!after.contains(&(point(1, 16), 0)));
    }

    #[test]
    fn nearest_point_wins_and_ties_go_back() {
        let r = SortedRing::new(vec![(100, 0), (200, 1)]);
        assert_eq!(r.lookup(140, |_| false), Some(0));
        assert_eq!(r.lookup(150, |_| false), Some(0));
        assert_eq!(r.lookup(160, |_| false), Some(1));
        assert_eq!(r.lookup(150, |s| s == 0), Some(1));
        assert_eq!(r.lookup(150, |_| true), Some(1));
        assert_eq!(r.lookup(250, |_| false), Some(1));
        assert_eq!(r.lookup(10, |_| false), Some(0));
        assert_eq!(SortedRing::default().lookup(10, |_| false), None);
        assert_eq!(SortedRing::new(Vec::new()).lookup(10, |_| false), None);
    }

    #[test]
    fn the_bucket_index_finds_what_a_search_finds() {
        let mut x = 0x9e37_79b9u32;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x
        };
        for n in [1usize, 2, 3, 7, 64, 100, 1000, 70_000] {
            let mut keys: Vec<u32> = (0..n).map(|_| next()).collect();
            keys.extend([0, u32::MAX]);
            keys.sort_unstable();
            let r = SortedRing::new(keys.iter().map(|&k| (k, 0)).collect());
            for h in (0..2000)
                .map(|_| next())
                .chain([0, 1, u32::MAX, u32::MAX - 1])
            {
                assert_eq!(
                    r.lower_bound(h),
                    keys.partition_point(|&k| k < h),
                    "n={n} h={h}"
                );
            }
            for &k in &keys {
                assert_eq!(r.lower_bound(k), keys.partition_point(|&x| x < k));
            }
        }
    }
}

/// Balance quality measured exactly on the ring geometry (the share of the hash space each
/// server gets under the nearest-point rule), for the README's targets.
#[cfg(test)]
mod quality {
    use super::*;

    /// Each server's share of the 2^32 hash space: a point owns the arc from the midpoint
    /// with its predecessor to the midpoint with its successor.
    fn shares(servers: u32, weight: u32) -> Vec<f64> {
        let mut r = Ring::new(servers as usize);
        for i in 0..servers {
            r.set_points(i as usize, i + 1, weight * 16);
        }
        let s = r.to_sorted();
        let n = s.len();
        let mut out = vec![0f64; servers as usize];
        for i in 0..n {
            let prev =
                f64::from(s.points[(i + n - 1) % n].0) - if i == 0 { 4294967296.0 } else { 0.0 };
            let next =
                f64::from(s.points[(i + 1) % n].0) + if i == n - 1 { 4294967296.0 } else { 0.0 };
            out[s.points[i].1 as usize] += (next - prev) / 2.0 / 4294967296.0;
        }
        out
    }

    fn max_over_avg(s: &[f64]) -> f64 {
        s.iter().copied().fold(0.0, f64::max) * s.len() as f64
    }

    #[test]
    fn shares_add_up() {
        let s = shares(10, 1);
        assert!((s.iter().sum::<f64>() - 1.0).abs() < 1e-9);
    }

    /// With HAProxy's 16 points per unit of weight, weight-1 servers are lumpy (documented);
    /// weight 16 (256 points each) is the quality knob that meets the targets.
    #[test]
    fn the_weight_knob_meets_the_targets() {
        // Removing any one of 10 servers moves exactly its keys: at most 1.2/N.
        let s10 = shares(10, 16);
        assert!(s10.iter().all(|&x| x <= 1.2 / 10.0), "{s10:?}");
        // max/avg at most 1.10 at 100 servers.
        let m100 = max_over_avg(&shares(100, 16));
        assert!(m100 <= 1.10, "{m100}");
        // And the default point count does not (what the README reports).
        assert!(max_over_avg(&shares(100, 1)) > 1.10);
    }
}
