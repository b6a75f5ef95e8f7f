//! `balance leastconn` without a lock: a tournament tree over the servers' load keys.
//!
//! HAProxy keeps leastconn servers in an ebtree ordered by load key (src/lb_fwlc.c) under the
//! backend lock. Here every server has an atomic key (`(load << 32) | sequence`, the sequence
//! ordering equal loads by when they were queued, as the ebtree does), and a tree of atomics
//! names, for each subtree, the server with the smallest key. A pick reads the root; a key
//! change walks up from its leaf and stops as soon as a node's winner is unaffected, so
//! releasing a connection usually touches one level and taking one at most `log2(n)`.
//!
//! With picks that do not overlap, the root is always the exact minimum (what the ebtree
//! gives). Overlapping updates of the same subtree may leave a node naming a server that is
//! no longer the smallest there; the next change of that server's key repairs it. A server
//! outside the group in use has an empty leaf, so it never wins a duel: the walk up compares
//! keys only, without a second load per level for a membership flag.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// No server (a padding leaf).
const NONE: u32 = u32::MAX;

/// The tree: node 1 is the root, node `j` has children `2j` and `2j + 1`, and the nodes
/// `size..2 * size` are the leaves: leaf `size + i` names server `i` while it is in the group
/// in use, and no server otherwise (nor past the last server). Leaves are stored like inner
/// nodes so that reading any node's winner is one load.
#[derive(Debug, Default)]
pub(crate) struct LcTree {
    size: usize,
    servers: usize,
    nodes: Vec<AtomicU32>,
}

impl LcTree {
    /// A tree for `servers` servers, none of them in the group yet (see
    /// [`LcTree::set_member`] and [`LcTree::rebuild`]).
    pub(crate) fn new(servers: usize) -> Self {
        let size = servers.next_power_of_two().max(1);
        Self {
            size,
            servers,
            nodes: (0..2 * size).map(|_| AtomicU32::new(NONE)).collect(),
        }
    }

    /// Puts server `i` in the group in use or takes it out (a change; call
    /// [`LcTree::rebuild`] after the last one).
    pub(crate) fn set_member(&self, i: usize, member: bool) {
        if i >= self.servers {
            return;
        }
        let w = if member {
            u32::try_from(i).unwrap_or(NONE)
        } else {
            NONE
        };
        if let Some(leaf) = self.nodes.get(self.size + i) {
            leaf.store(w, Ordering::Relaxed);
        }
    }

    /// The key table for `servers` servers: server `i`'s key (initially `i`) at index `i`,
    /// padded with `u64::MAX` to a power of two longer than `servers`, so that [`NONE`]
    /// masked to the table's length names a padding entry (see [`LcTree::rank`]).
    pub(crate) fn keys(servers: usize) -> Vec<AtomicU64> {
        let len = (servers + 1).next_power_of_two();
        (0..len)
            .map(|i| AtomicU64::new(if i < servers { i as u64 } else { u64::MAX }))
            .collect()
    }

    /// Server `w`'s key (`u64::MAX` for no server). `keys` comes from [`LcTree::keys`]: its
    /// length is a power of two above every server index, so masking the index keeps it in
    /// bounds without a check and sends [`NONE`] to a padding entry.
    #[inline]
    fn rank(keys: &[AtomicU64], w: u32) -> u64 {
        let mask = keys.len().wrapping_sub(1);
        keys.get(w as usize & mask)
            .map_or(u64::MAX, |k| k.load(Ordering::Relaxed))
    }

    /// The winner of node `j` (a leaf stands for its server).
    #[inline]
    fn winner(&self, j: usize) -> u32 {
        self.nodes
            .get(j)
            .map_or(NONE, |n| n.load(Ordering::Relaxed))
    }

    /// Recomputes every inner node from the leaves and keys (after a change of the group).
    pub(crate) fn rebuild(&self, keys: &[AtomicU64]) {
        debug_assert!(keys.len().is_power_of_two() && keys.len() > self.servers);
        for j in (1..self.size).rev() {
            let (l, r) = (self.winner(2 * j), self.winner(2 * j + 1));
            let w = if Self::rank(keys, r) < Self::rank(keys, l) {
                r
            } else {
                l
            };
            if let Some(n) = self.nodes.get(j) {
                n.store(w, Ordering::Relaxed);
            }
        }
    }

    /// Server `i`'s key changed: replays its duels on the way to the root, carrying the
    /// winner of the subtree it comes from, and stops where a node's winner is unaffected.
    /// A server outside the group carries no server up, which also clears any node a racing
    /// update left naming it.
    #[inline]
    pub(crate) fn update(&self, keys: &[AtomicU64], i: usize) {
        // `nodes` has `2 * size` entries, a power of two: masking keeps indices in bounds
        // without a check (every index used is below the length anyway).
        let nodes = self.nodes.as_slice();
        let mask = nodes.len().wrapping_sub(1);
        let me = u32::try_from(i).unwrap_or(NONE);
        let mut child = (self.size + i) & mask;
        let mut carried = nodes.get(child).map_or(NONE, |n| n.load(Ordering::Relaxed));
        let mut carried_rank = Self::rank(keys, carried);
        while child > 1 {
            let j = child / 2;
            let (Some(node), Some(sib_node)) = (nodes.get(j & mask), nodes.get((child ^ 1) & mask))
            else {
                return;
            };
            let sib = sib_node.load(Ordering::Relaxed);
            let sib_rank = Self::rank(keys, sib);
            // Ties go to the left child (the even one).
            let carried_wins =
                carried_rank < sib_rank || (carried_rank == sib_rank && child & 1 == 0);
            if !carried_wins {
                carried = sib;
                carried_rank = sib_rank;
            }
            let old = node.load(Ordering::Relaxed);
            if old != carried {
                node.store(carried, Ordering::Relaxed);
            } else if old != me {
                // Same winner, not the server that changed: nothing above moves.
                return;
            }
            child = j;
        }
    }

    /// The server with the smallest key, if any.
    pub(crate) fn first(&self) -> Option<usize> {
        let w = self.winner(1);
        (w != NONE).then_some(w as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A key table as [`LcTree::keys`] lays it out: padded with `u64::MAX`.
    fn keys(v: &[u64]) -> Vec<AtomicU64> {
        let t = LcTree::keys(v.len());
        for (k, &x) in t.iter().zip(v) {
            k.store(x, Ordering::Relaxed);
        }
        t
    }

    fn min_of(k: &[AtomicU64], member: &[bool]) -> Option<usize> {
        (0..member.len())
            .filter(|&i| member[i])
            .min_by_key(|&i| (k[i].load(Ordering::Relaxed), i))
    }

    #[test]
    fn the_root_follows_every_key_change() {
        for n in [1usize, 2, 3, 5, 8, 13, 100] {
            let k = keys(&(0..n as u64).map(|i| (i * 7919) % 101).collect::<Vec<_>>());
            let mut member = vec![true; n];
            let t = LcTree::new(n);
            for i in 0..n {
                t.set_member(i, true);
            }
            t.rebuild(&k);
            assert_eq!(t.first(), min_of(&k, &member), "n={n}");
            let mut x = 12345u64;
            for step in 0..500 {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let i = (x >> 33) as usize % n;
                k[i].store((x >> 40) % 50, Ordering::Relaxed);
                t.update(&k, i);
                if step % 50 == 0 {
                    // A change of the group: a server leaves or joins, the tree is rebuilt.
                    let j = (x >> 20) as usize % n;
                    member[j] = !member[j];
                    t.set_member(j, member[j]);
                    t.rebuild(&k);
                }
                assert_eq!(t.first(), min_of(&k, &member), "n={n} step={step}");
            }
        }
    }

    #[test]
    fn a_stale_node_naming_a_server_that_left_is_cleared_by_its_next_update() {
        let k = keys(&[5, 1, 7, 3]);
        let t = LcTree::new(4);
        for i in 0..4 {
            t.set_member(i, true);
        }
        t.rebuild(&k);
        assert_eq!(t.first(), Some(1));
        // Server 1 leaves, but (as a racing picker could) its update lands after the rebuild
        // left the inner nodes naming it.
        t.set_member(1, false);
        t.update(&k, 1);
        assert_eq!(t.first(), Some(3));
    }

    #[test]
    fn an_empty_tree_has_no_winner() {
        let t = LcTree::new(0);
        t.rebuild(&LcTree::keys(0));
        assert_eq!(t.first(), None);
        t.set_member(0, true);
        assert_eq!(t.first(), None);
    }
}
