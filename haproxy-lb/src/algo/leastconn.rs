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
//! no longer the smallest there; the next change of that server's key repairs it. Servers
//! outside the group in use carry a flag that ranks them after every other server.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

/// No server (a padding leaf).
const NONE: u32 = u32::MAX;

/// The tree: node 1 is the root, node `j` has children `2j` and `2j + 1`, and the nodes
/// `size..2 * size` are the leaves, standing for servers `0..size` (those past the last server
/// name no server). Leaves are stored like inner nodes so that reading any node's winner is one
/// load.
#[derive(Debug, Default)]
pub(crate) struct LcTree {
    size: usize,
    nodes: Vec<AtomicU32>,
}

impl LcTree {
    /// A tree for `servers` servers (built by [`LcTree::rebuild`]).
    pub(crate) fn new(servers: usize) -> Self {
        let size = servers.next_power_of_two().max(1);
        let leaf = |j: usize| match j.checked_sub(size) {
            Some(s) if s < servers => u32::try_from(s).unwrap_or(NONE),
            _ => NONE,
        };
        Self {
            size,
            nodes: (0..2 * size).map(|j| AtomicU32::new(leaf(j))).collect(),
        }
    }

    /// Server `w`'s rank: its key (below 2^63), with the top bit set when it is flagged off.
    #[inline]
    fn rank(keys: &[AtomicU64], off: &[AtomicBool], w: u32) -> u64 {
        let i = w as usize;
        match (keys.get(i), off.get(i)) {
            (Some(k), Some(o)) => {
                k.load(Ordering::Relaxed) | (u64::from(o.load(Ordering::Relaxed)) << 63)
            }
            _ => u64::MAX,
        }
    }

    /// The winner of node `j` (a leaf stands for its server).
    #[inline]
    fn winner(&self, j: usize) -> u32 {
        self.nodes
            .get(j)
            .map_or(NONE, |n| n.load(Ordering::Relaxed))
    }

    /// Recomputes every node from the keys (after a change of the server set).
    pub(crate) fn rebuild(&self, keys: &[AtomicU64], off: &[AtomicBool]) {
        for j in (1..self.size).rev() {
            let (l, r) = (self.winner(2 * j), self.winner(2 * j + 1));
            let w = if Self::rank(keys, off, r) < Self::rank(keys, off, l) {
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
    pub(crate) fn update(&self, keys: &[AtomicU64], off: &[AtomicBool], i: usize) {
        // Equal lengths let one bounds check cover both arrays in `rank`.
        let n = keys.len().min(off.len());
        let (keys, off, nodes) = (
            keys.get(..n).unwrap_or(&[]),
            off.get(..n).unwrap_or(&[]),
            self.nodes.as_slice(),
        );
        let rank = |w: u32| match (keys.get(w as usize), off.get(w as usize)) {
            (Some(k), Some(o)) => {
                k.load(Ordering::Relaxed) | (u64::from(o.load(Ordering::Relaxed)) << 63)
            }
            _ => u64::MAX,
        };
        let me = u32::try_from(i).unwrap_or(NONE);
        let (mut carried, mut carried_rank) = (me, rank(me));
        let mut child = self.size + i;
        while child > 1 {
            let j = child / 2;
            let (Some(node), Some(sib_node)) = (nodes.get(j), nodes.get(child ^ 1)) else {
                return;
            };
            let sib = sib_node.load(Ordering::Relaxed);
            let sib_rank = rank(sib);
            // Ties go to the left child (the even one).
            let carried_wins =
                carried_rank < sib_rank || (carried_rank == sib_rank && child & 1 == 0);
            if !carried_wins {
                carried = sib;
                carried_rank = sib_rank;
            }
            if node.load(Ordering::Relaxed) != carried {
                node.store(carried, Ordering::Relaxed);
            } else if carried != me {
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

    fn keys(v: &[u64]) -> Vec<AtomicU64> {
        v.iter().map(|&k| AtomicU64::new(k)).collect()
    }

    fn flags(n: usize) -> Vec<AtomicBool> {
        (0..n).map(|_| AtomicBool::new(false)).collect()
    }

    fn min_of(k: &[AtomicU64], off: &[AtomicBool]) -> Option<usize> {
        (0..k.len()).min_by_key(|&i| {
            (
                off[i].load(Ordering::Relaxed),
                k[i].load(Ordering::Relaxed),
                i,
            )
        })
    }

    #[test]
    fn the_root_follows_every_key_change() {
        for n in [1usize, 2, 3, 5, 8, 13, 100] {
            let k = keys(&(0..n as u64).map(|i| (i * 7919) % 101).collect::<Vec<_>>());
            let off = flags(n);
            let t = LcTree::new(n);
            t.rebuild(&k, &off);
            assert_eq!(t.first(), min_of(&k, &off), "n={n}");
            let mut x = 12345u64;
            for step in 0..500 {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let i = (x >> 33) as usize % n;
                k[i].store((x >> 40) % 50, Ordering::Relaxed);
                t.update(&k, &off, i);
                if step % 50 == 0 {
                    // A change of the group: flags move, the tree is rebuilt.
                    let j = (x >> 20) as usize % n;
                    off[j].store(!off[j].load(Ordering::Relaxed), Ordering::Relaxed);
                    t.rebuild(&k, &off);
                }
                assert_eq!(t.first(), min_of(&k, &off), "n={n} step={step}");
            }
        }
    }

    #[test]
    fn an_empty_tree_has_no_winner() {
        let t = LcTree::new(0);
        t.rebuild(&[], &[]);
        assert_eq!(t.first(), None);
    }
}
