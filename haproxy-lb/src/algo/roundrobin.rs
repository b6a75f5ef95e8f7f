//! `balance roundrobin`: HAProxy's fast weighted round robin ("fwrr").
#![expect(
    clippy::indexing_slicing,
    reason = "server indices come from the trees this type builds over its own node list, and groups are indexed by a bool"
)]
//!
//! Reimplemented from HAProxy 2.6's src/lb_fwrr.c. Each group (active, backup) keeps three
//! ordered trees: `curr` (servers placed by their next position in the current window),
//! `init` (servers not yet placed in this window, by decreasing weight) and `next` (servers
//! pushed to the following window). Equal keys keep insertion order, as HAProxy's ebtrees do,
//! which is what gives weights 1/2/3 the cycle `c b c a c b`.
//!
//! The trees are min-heaps of `((key, insertion stamp), server)`: fwrr only ever takes a tree's
//! first server, so a heap serves, and is cheaper than an ordered map. Taking a server out of
//! its tree only clears its node's record; the heap entry, no longer matching that record, is
//! dropped when it reaches the top.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// One fwrr tree.
type Heap = BinaryHeap<Reverse<((u32, u64), usize)>>;

/// The first live server of `heap`, dropping entries of servers that have moved since.
fn first_live(heap: &mut Heap, nodes: &[Node]) -> Option<usize> {
    while let Some(&Reverse((k, i))) = heap.peek() {
        if nodes.get(i).and_then(|n| n.tree).map(|t| t.1) == Some(k) {
            return Some(i);
        }
        heap.pop();
    }
    None
}

/// The live entries of `heap` in order, as `(key, server)`.
fn live_in_order(heap: &Heap, nodes: &[Node]) -> Vec<(u32, u64, usize)> {
    let mut v: Vec<(u32, u64, usize)> = heap
        .iter()
        .filter(|Reverse((k, i))| nodes.get(*i).and_then(|n| n.tree).map(|t| t.1) == Some(*k))
        .map(|Reverse(((k, s), i))| (*k, *s, *i))
        .collect();
    v.sort_unstable();
    v
}

/// HAProxy's `SRV_UWGHT_RANGE` (include/haproxy/server-t.h).
const UWGHT_RANGE: i64 = 256;
/// HAProxy's `BE_WEIGHT_SCALE` (include/haproxy/backend-t.h).
pub(crate) const WEIGHT_SCALE: u32 = 16;
/// HAProxy's `SRV_EWGHT_MAX`.
const EWGHT_MAX: i64 = UWGHT_RANGE * WEIGHT_SCALE as i64;

/// Which tree a server sits in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tree {
    Curr,
    /// One of the two swapping trees (`t0`/`t1`), by index.
    Swap(usize),
}

#[derive(Debug, Clone, Default)]
struct Node {
    npos: i64,
    lpos: i64,
    rweight: i64,
    cur_eweight: i64,
    next_eweight: i64,
    backup: bool,
    tree: Option<(Tree, (u32, u64))>,
}

#[derive(Debug, Clone, Default)]
struct Group {
    curr: Heap,
    swap: [Heap; 2],
    init: usize,
    curr_pos: i64,
    curr_weight: i64,
    next_weight: i64,
}

impl Group {
    fn next(&self) -> usize {
        1 - self.init
    }
}

/// The fwrr state of one backend: per-server positions and the two groups.
#[derive(Debug, Clone, Default)]
pub(crate) struct Fwrr {
    nodes: Vec<Node>,
    groups: [Group; 2],
    seq: u64,
}

impl Fwrr {
    /// Builds the trees from each server's `(effective weight, backup, usable)`, as
    /// `fwrr_init_server_groups()`.
    pub(crate) fn new(servers: &[(u32, bool, bool)]) -> Self {
        let mut f = Self {
            nodes: servers
                .iter()
                .map(|&(w, backup, _)| Node {
                    cur_eweight: i64::from(w),
                    next_eweight: i64::from(w),
                    backup,
                    ..Node::default()
                })
                .collect(),
            ..Self::default()
        };
        for b in [false, true] {
            let tot: i64 = servers
                .iter()
                .filter(|s| s.1 == b && s.2 && s.0 > 0)
                .map(|s| i64::from(s.0))
                .sum();
            let g = f.group_mut(b);
            g.curr_pos = tot;
            g.curr_weight = tot;
            g.next_weight = tot;
            g.init = 0;
        }
        for (i, s) in servers.iter().enumerate() {
            if s.2 && s.0 > 0 {
                let init = f.group(s.1).init;
                f.queue_by_weight(i, Tree::Swap(init));
            }
        }
        f
    }

    fn group(&self, backup: bool) -> &Group {
        &self.groups[usize::from(backup)]
    }

    fn group_mut(&mut self, backup: bool) -> &mut Group {
        &mut self.groups[usize::from(backup)]
    }

    fn tree_mut(&mut self, backup: bool, t: Tree) -> &mut Heap {
        let g = self.group_mut(backup);
        match t {
            Tree::Curr => &mut g.curr,
            Tree::Swap(n) => &mut g.swap[n & 1],
        }
    }

    fn insert(&mut self, i: usize, t: Tree, key: u32) {
        self.seq += 1;
        let k = (key, self.seq);
        let backup = self.nodes[i].backup;
        self.tree_mut(backup, t).push(Reverse((k, i)));
        self.nodes[i].tree = Some((t, k));
    }

    /// `fwrr_dequeue_srv()`: takes the server out of its tree (it remembers which); the heap
    /// entry left behind no longer matches and is dropped when it reaches the top.
    fn dequeue(&mut self, i: usize) -> Option<Tree> {
        self.nodes[i].tree.take().map(|t| t.0)
    }

    /// `fwrr_queue_by_weight()`.
    fn queue_by_weight(&mut self, i: usize, t: Tree) {
        let key = (EWGHT_MAX - self.nodes[i].next_eweight) as u32;
        self.insert(i, t, key);
    }

    /// `fwrr_queue_srv()`; `usable` is whether the server will be usable.
    fn queue_srv(&mut self, i: usize, usable: bool) {
        let backup = self.nodes[i].backup;
        let (cw, nw, next) = {
            let g = self.group(backup);
            (g.curr_weight, g.next_weight, g.next())
        };
        let n = &mut self.nodes[i];
        if !usable {
            n.tree = None;
        } else if n.next_eweight <= 0 || n.npos >= 2 * cw || n.npos >= cw + nw {
            n.npos -= cw;
            self.queue_by_weight(i, Tree::Swap(next));
        } else {
            let key = UWGHT_RANGE * n.npos
                + (EWGHT_MAX + n.rweight - n.next_eweight) / i64::from(WEIGHT_SCALE);
            self.insert(i, Tree::Curr, key as u32);
        }
    }

    /// `fwrr_get_srv()`: prepares a server being taken out of `from`.
    fn get_srv(&mut self, i: usize, from: Option<Tree>) {
        let backup = self.nodes[i].backup;
        let g = self.group(backup);
        let (init, next, cw, cp) = (g.init, g.next(), g.curr_weight, g.curr_pos);
        let n = &mut self.nodes[i];
        match from {
            Some(Tree::Swap(t)) if t == init => {
                n.npos = 0;
                n.rweight = 0;
            }
            Some(Tree::Swap(t)) if t == next => n.npos += cw,
            None => n.npos = cp,
            _ => {}
        }
    }

    /// `fwrr_switch_trees()`.
    fn switch_trees(&mut self, backup: bool) {
        let g = self.group_mut(backup);
        g.init = g.next();
        g.curr_weight = g.next_weight;
        g.curr_pos = g.curr_weight;
    }

    /// `fwrr_get_server_take_from_group()`.
    fn take_from_group(&mut self, backup: bool) -> Option<usize> {
        let g = &mut self.groups[usize::from(backup)];
        let s1 = first_live(&mut g.curr, &self.nodes);
        if let Some(i) = s1 {
            let n = &self.nodes[i];
            if n.cur_eweight != 0 && n.npos <= g.curr_pos {
                return Some(i);
            }
        }
        let init = g.init;
        let s2 = first_live(&mut g.swap[init], &self.nodes);
        if let Some(i) = s2
            && self.nodes[i].cur_eweight != 0
        {
            self.nodes[i].npos = 0;
            self.nodes[i].rweight = 0;
            return Some(i);
        }
        s1
    }

    /// `fwrr_update_position()`.
    fn update_position(&mut self, backup: bool, i: usize) {
        let g = self.group(backup);
        let (cp, nw) = (g.curr_pos, g.next_weight);
        let n = &mut self.nodes[i];
        let w = n.cur_eweight;
        if w == 0 {
            return;
        }
        if n.npos == 0 {
            n.npos = cp;
        }
        n.lpos = n.npos;
        n.npos += nw / w;
        n.rweight += nw % w;
        if n.rweight >= w {
            n.rweight -= w;
            n.npos += 1;
        }
    }

    /// `fwrr_get_next_server()` on one group: the next server, `None` when the group is
    /// empty. (Skipping full servers is left to the pick path, which reads the schedule this
    /// model produces.)
    pub(crate) fn next_server(&mut self, backup: bool) -> Option<usize> {
        {
            let g = self.group_mut(backup);
            if g.curr_weight == 0 {
                g.curr_pos = g.next_weight;
                g.curr_weight = g.next_weight;
            }
        }
        let mut switched = false;
        let srv = loop {
            if let Some(s) = self.take_from_group(backup) {
                break s;
            }
            if switched {
                return None;
            }
            switched = true;
            self.switch_trees(backup);
        };
        self.update_position(backup, srv);
        self.dequeue(srv);
        self.group_mut(backup).curr_pos += 1;
        self.queue_srv(srv, true);
        Some(srv)
    }

    /// The group's total effective weight (`next_weight`): the length of one window of picks.
    pub(crate) fn window(&self, backup: bool) -> i64 {
        self.group(backup).next_weight
    }

    /// Everything that decides the group's future picks, with the trees' insertion stamps
    /// left out (only their order matters): two equal states give equal pick orders.
    pub(crate) fn state(&self, backup: bool) -> Vec<i64> {
        let g = self.group(backup);
        let mut v = vec![g.curr_pos, g.curr_weight, g.next_weight];
        let kind = |t: Option<(Tree, (u32, u64))>| match t {
            None => 0,
            Some((Tree::Curr, _)) => 1,
            Some((Tree::Swap(n), _)) if n == g.init => 2,
            Some(_) => 3,
        };
        for n in self.nodes.iter().filter(|n| n.backup == backup) {
            v.extend([
                n.npos,
                n.lpos,
                n.rweight,
                n.cur_eweight,
                n.next_eweight,
                kind(n.tree),
            ]);
        }
        for t in [&g.curr, &g.swap[g.init], &g.swap[g.next()]] {
            v.push(-1);
            for (k, _, i) in live_in_order(t, &self.nodes) {
                v.extend([i64::from(k), i as i64]);
            }
        }
        v
    }

    /// `fwrr_set_server_status_up()`: server `i` becomes usable with effective weight `w`.
    pub(crate) fn set_up(&mut self, i: usize, w: u32) {
        let backup = self.nodes[i].backup;
        self.nodes[i].next_eweight = i64::from(w);
        self.group_mut(backup).next_weight += i64::from(w);
        let from = self.nodes[i].tree.map(|t| t.0);
        self.get_srv(i, from);
        let g = self.group(backup);
        let (cp, nw, cw) = (g.curr_pos, g.next_weight, g.curr_weight);
        let n = &mut self.nodes[i];
        if n.next_eweight > 0 {
            n.npos = cp + (nw + cw - cp) / n.next_eweight;
        }
        self.queue_srv(i, true);
        self.nodes[i].cur_eweight = i64::from(w);
    }

    /// `fwrr_set_server_status_down()`: server `i` is no longer usable.
    pub(crate) fn set_down(&mut self, i: usize) {
        let backup = self.nodes[i].backup;
        let w = self.nodes[i].cur_eweight;
        self.group_mut(backup).next_weight -= w;
        self.dequeue(i);
        self.nodes[i].cur_eweight = 0;
        self.nodes[i].next_eweight = 0;
    }

    /// `fwrr_update_server_weight()` for a server that stays usable: new effective weight `w`.
    pub(crate) fn update_weight(&mut self, i: usize, w: u32) {
        let backup = self.nodes[i].backup;
        let w = i64::from(w);
        let old = self.nodes[i].cur_eweight;
        self.nodes[i].next_eweight = w;
        {
            let g = self.group_mut(backup);
            g.next_weight = g.next_weight - old + w;
        }
        let init = self.group(backup).init;
        let tree = self.nodes[i].tree.map(|t| t.0);
        if tree == Some(Tree::Swap(init)) {
            self.dequeue(i);
            self.queue_by_weight(i, Tree::Swap(init));
        } else if tree.is_none() {
            self.get_srv(i, None);
            let g = self.group(backup);
            let (cp, nw, cw) = (g.curr_pos, g.next_weight, g.curr_weight);
            if w > 0 {
                self.nodes[i].npos = cp + (nw + cw - cp) / w;
            }
            self.queue_srv(i, true);
        } else {
            self.get_srv(i, tree);
            let g = self.group(backup);
            let (cp, nw, cw) = (g.curr_pos, g.next_weight, g.curr_weight);
            let n = &mut self.nodes[i];
            if w > 0 {
                let prev_next = n.npos;
                let step = nw / w;
                n.npos = n.lpos + step;
                n.rweight = 0;
                if n.npos > prev_next {
                    n.npos = prev_next;
                }
                if n.npos < cp + 2 {
                    n.npos = cp + step;
                }
            } else {
                n.npos = cp + cw;
            }
            self.dequeue(i);
            self.queue_srv(i, true);
        }
        self.nodes[i].cur_eweight = w;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cycle(weights: &[u32], n: usize) -> String {
        let servers: Vec<_> = weights
            .iter()
            .map(|&w| (w * WEIGHT_SCALE, false, true))
            .collect();
        let mut f = Fwrr::new(&servers);
        (0..n)
            .map(|_| {
                let i = f.next_server(false).unwrap();
                char::from(b'a' + u8::try_from(i).unwrap())
            })
            .collect()
    }

    #[test]
    fn weights_1_2_3_interleave_like_haproxy() {
        assert_eq!(cycle(&[1, 2, 3], 12), "cbcacbcbcacb");
    }

    #[test]
    fn equal_weights_take_turns() {
        assert_eq!(cycle(&[1, 1, 1], 6), "abcabc");
    }
}
