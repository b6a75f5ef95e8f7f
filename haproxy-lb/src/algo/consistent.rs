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

    /// The ring as a sorted vector, for lock-free lookups.
    pub(crate) fn to_sorted(&self) -> Vec<(u32, usize)> {
        self.points.iter().map(|(&(k, _), &i)| (k, i)).collect()
    }
}

/// Looks `hash` up in a sorted ring of point positions `keys` whose servers are `srv`
/// (`chash_get_server_hash()`): the nearer neighbour wins (the previous one on ties); then,
/// while `skip` says the server may not take it, walk to the following points, wrapping around
/// at most once.
pub(crate) fn lookup(
    keys: &[u32],
    srv: &[u32],
    hash: u32,
    mut skip: impl FnMut(usize) -> bool,
) -> Option<usize> {
    let n = keys.len().min(srv.len());
    if n == 0 {
        return None;
    }
    // First point with key >= hash (eb32_lookup_ge), else the first point.
    let ge = keys.partition_point(|&k| k < hash);
    let next = if ge >= n { 0 } else { ge };
    let prev = if next == 0 { n - 1 } else { next - 1 };
    let dp = hash.wrapping_sub(*keys.get(prev)?);
    let dn = keys.get(next)?.wrapping_sub(hash);
    let mut pos = if dp <= dn { prev } else { next };
    let mut loops = 0;
    let mut s = *srv.get(pos)? as usize;
    while skip(s) {
        pos += 1;
        if pos == n {
            pos = 0;
            loops += 1;
            if loops > 1 {
                break;
            }
        }
        s = *srv.get(pos)? as usize;
    }
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removing_points_keeps_the_first_ones() {
        let mut r = Ring::new(2);
        r.set_points(0, 1, 32);
        r.set_points(1, 2, 16);
        let before = r.to_sorted();
        r.set_points(0, 1, 16);
        let after = r.to_sorted();
        assert_eq!(after.len(), 32);
        assert!(after.iter().all(|p| before.contains(p)));
        assert!(after.contains(&(point(1, 0), 0)));
        assert!(!after.contains(&(point(1, 16), 0)));
    }

    #[test]
    fn nearest_point_wins_and_ties_go_back() {
        let (keys, srv) = ([100, 200], [0, 1]);
        assert_eq!(lookup(&keys, &srv, 140, |_| false), Some(0));
        assert_eq!(lookup(&keys, &srv, 150, |_| false), Some(0));
        assert_eq!(lookup(&keys, &srv, 160, |_| false), Some(1));
        assert_eq!(lookup(&keys, &srv, 150, |s| s == 0), Some(1));
        assert_eq!(lookup(&keys, &srv, 150, |_| true), Some(1));
        assert_eq!(lookup(&keys, &srv, 250, |_| false), Some(1));
        assert_eq!(lookup(&keys, &srv, 10, |_| false), Some(0));
        assert_eq!(lookup(&[], &[], 10, |_| false), None);
    }
}
