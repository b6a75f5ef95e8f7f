//! The lock-free roundrobin against HAProxy's fwrr procedures run live, one step at a time,
//! as HAProxy runs them under its lock: random weights, random runtime changes, same picks.

use super::*;
use crate::algo::roundrobin::Fwrr;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The reference: the fwrr model stepped live, with HAProxy's change procedures applied at
/// the moment of each change (what `lb_fwrr.c` does under the backend lock).
struct Live {
    fwrr: Fwrr,
    weight: Vec<u32>,
    up: Vec<bool>,
}

impl Live {
    fn usable(&self, i: usize) -> bool {
        self.up[i] && self.weight[i] > 0
    }

    fn change(&mut self, i: usize, weight: u32, up: bool) {
        let (was, old_w) = (self.usable(i), self.weight[i] * WEIGHT_SCALE);
        self.weight[i] = weight;
        self.up[i] = up;
        let (is, new_w) = (self.usable(i), weight * WEIGHT_SCALE);
        match (was, is) {
            (false, true) => self.fwrr.set_up(i, new_w),
            (true, false) => self.fwrr.set_down(i),
            (true, true) if old_w != new_w => self.fwrr.update_weight(i, new_w),
            _ => {}
        }
    }
}

#[test]
fn roundrobin_matches_the_live_fwrr_model_across_random_changes() {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    for scenario in 0..20 {
        let n = 2 + rng.below(6) as usize;
        let weights: Vec<u32> = (0..n).map(|_| 1 + rng.below(8) as u32).collect();
        let specs: Vec<ServerSpec> = weights
            .iter()
            .enumerate()
            .map(|(i, &w)| ServerSpec::new(i as u32 + 1, format!("s{i}")).with_weight(w))
            .collect();
        let lb = Balancer::new(BalanceConfig::new(Algorithm::RoundRobin), specs).unwrap();
        let servers: Vec<_> = weights
            .iter()
            .map(|&w| (w * WEIGHT_SCALE, false, true))
            .collect();
        let mut live = Live {
            fwrr: Fwrr::new(&servers),
            weight: weights.clone(),
            up: vec![true; n],
        };
        for step in 0..15 {
            // Picks: the same server as the live model (or none when no server is usable).
            for p in 0..rng.below(60) {
                let want = if (0..n).any(|i| live.usable(i)) {
                    live.fwrr.next_server(false)
                } else {
                    None
                };
                let got = match lb.pick(&RequestKey::default()) {
                    Pick::Server(i) => {
                        lb.release(i);
                        Some(i)
                    }
                    Pick::NoServer => None,
                    other => panic!("{other:?}"),
                };
                assert_eq!(got, want, "scenario {scenario} step {step} pick {p}");
            }
            // A change: a new weight (0 included), or down/up.
            let i = rng.below(n as u64) as usize;
            let (w, up) = match rng.below(3) {
                0 => (rng.below(6) as u32, live.up[i]),
                1 => (live.weight[i], !live.up[i]),
                _ => (1 + rng.below(10) as u32, live.up[i]),
            };
            lb.set_weight(i, w, 0).unwrap();
            let st = if up {
                ServerState::Up
            } else {
                ServerState::Maintenance
            };
            lb.set_state(i, st, 0).unwrap();
            // The reference applies the same two steps in the same order.
            live.change(i, w, live.up[i]);
            live.change(i, w, up);
        }
    }
}

/// The reference for leastconn: HAProxy's ebtree of `(key, insertion order)` as an ordered
/// set, re-keyed only when a server's key changes (`fwlc_srv_reposition()`), a server taken
/// out when it goes down and queued last when it comes back (`fwlc_queue_srv()`).
struct LiveLc {
    tree: std::collections::BTreeSet<(u64, u64, usize)>,
    node: Vec<Option<(u64, u64)>>,
    conns: Vec<u32>,
    weight: Vec<u32>,
    seq: u64,
}

impl LiveLc {
    fn key(&self, i: usize) -> u64 {
        let inflight = u64::from(self.conns[i]);
        if inflight == 0 {
            0
        } else {
            (inflight + 1) * 4096 / u64::from(self.weight[i] * WEIGHT_SCALE)
        }
    }

    fn queue(&mut self, i: usize) {
        self.seq += 1;
        let k = (self.key(i), self.seq);
        self.tree.insert((k.0, k.1, i));
        self.node[i] = Some(k);
    }

    fn dequeue(&mut self, i: usize) {
        if let Some((k, s)) = self.node[i].take() {
            self.tree.remove(&(k, s, i));
        }
    }

    fn reposition(&mut self, i: usize) {
        if let Some((k, _)) = self.node[i]
            && k != self.key(i)
        {
            self.dequeue(i);
            self.queue(i);
        }
    }
}

#[test]
fn leastconn_matches_an_ordered_tree_across_takes_releases_and_changes() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for scenario in 0..40 {
        let n = 2 + rng.below(9) as usize;
        let weights: Vec<u32> = (0..n).map(|_| 1 + rng.below(4) as u32).collect();
        let specs: Vec<ServerSpec> = weights
            .iter()
            .enumerate()
            .map(|(i, &w)| ServerSpec::new(i as u32 + 1, format!("s{i}")).with_weight(w))
            .collect();
        let lb = Balancer::new(BalanceConfig::new(Algorithm::LeastConn), specs).unwrap();
        let mut live = LiveLc {
            tree: std::collections::BTreeSet::new(),
            node: vec![None; n],
            conns: vec![0; n],
            weight: weights.clone(),
            seq: 0,
        };
        for i in 0..n {
            live.queue(i);
        }
        let mut held: Vec<usize> = Vec::new();
        for step in 0..300 {
            match rng.below(10) {
                0 => {
                    // A server goes down or comes back (never the last one).
                    let i = rng.below(n as u64) as usize;
                    let up = live.node[i].is_some();
                    if up && live.tree.len() == 1 {
                        continue;
                    }
                    let st = if up {
                        ServerState::Maintenance
                    } else {
                        ServerState::Up
                    };
                    lb.set_state(i, st, 0).unwrap();
                    if up {
                        live.dequeue(i);
                    } else {
                        live.queue(i);
                    }
                }
                1..=4 if !held.is_empty() => {
                    let i = held.swap_remove(rng.below(held.len() as u64) as usize);
                    lb.release(i);
                    live.conns[i] -= 1;
                    live.reposition(i);
                }
                _ => {
                    let want = live.tree.first().map(|&(_, _, i)| i);
                    let got = match lb.pick(&RequestKey::default()) {
                        Pick::Server(i) => Some(i),
                        other => panic!("{other:?}"),
                    };
                    assert_eq!(got, want, "scenario {scenario} step {step}");
                    if let Some(i) = got {
                        held.push(i);
                        live.conns[i] += 1;
                        live.reposition(i);
                    }
                }
            }
        }
    }
}
