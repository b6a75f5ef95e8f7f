//! Property tests: the invariants of issue 4.

use haproxy_lb::{
    Algorithm, BalanceConfig, Balancer, HashFunction, HashType, Hasher, Pick, RequestKey,
    ServerSpec, ServerState,
};
use proptest::prelude::*;

fn servers(weights: &[u32]) -> Vec<ServerSpec> {
    weights
        .iter()
        .enumerate()
        .map(|(i, &w)| {
            ServerSpec::new(u32::try_from(i).unwrap() + 1, format!("s{i}")).with_weight(w)
        })
        .collect()
}

fn consistent() -> BalanceConfig {
    BalanceConfig::new(Algorithm::Uri(haproxy_lb::UriOptions::default())).with_hash(
        HashType::Consistent,
        Hasher {
            function: HashFunction::Sdbm,
            avalanche: true,
        },
    )
}

fn state_of(code: u8) -> ServerState {
    match code % 4 {
        0 => ServerState::Up,
        1 => ServerState::Down,
        2 => ServerState::Drain,
        _ => ServerState::Maintenance,
    }
}

fn algorithms() -> Vec<BalanceConfig> {
    vec![
        BalanceConfig::new(Algorithm::RoundRobin),
        BalanceConfig::new(Algorithm::StaticRr),
        BalanceConfig::new(Algorithm::LeastConn),
        BalanceConfig::new(Algorithm::First),
        BalanceConfig::new(Algorithm::Random { draws: 2 }),
        BalanceConfig::new(Algorithm::Source),
        consistent(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Over whole cycles, each server's share is its weight's share: exactly for static-rr,
    /// within 2 picks per server for roundrobin.
    #[test]
    fn share_is_proportional_to_weight(weights in prop::collection::vec(1u32..=8, 2..6)) {
        let total: u32 = weights.iter().sum();
        let rounds = 10;
        for (cfg, tolerance) in [(BalanceConfig::new(Algorithm::StaticRr), 0), (BalanceConfig::new(Algorithm::RoundRobin), 2)] {
            let lb = Balancer::new(cfg, servers(&weights)).unwrap();
            let mut counts = vec![0u32; weights.len()];
            for _ in 0..total * rounds {
                let Pick::Server(i) = lb.pick(&RequestKey::default()) else { panic!("no pick") };
                counts[i] += 1;
                lb.release(i);
            }
            for (c, w) in counts.iter().zip(&weights) {
                prop_assert!(c.abs_diff(w * rounds) <= tolerance, "{counts:?} vs {weights:?}");
            }
        }
    }

    /// Load balancing never picks a down, draining, maintenance or zero-weight server.
    #[test]
    fn never_picks_an_unusable_server(
        spec in prop::collection::vec((0u32..=3, any::<u8>()), 1..8),
        keys in prop::collection::vec(any::<u32>(), 1..40),
    ) {
        for cfg in algorithms() {
            let weights: Vec<u32> = spec.iter().map(|s| s.0).collect();
            let lb = Balancer::new(cfg, servers(&weights)).unwrap();
            for (i, s) in spec.iter().enumerate() {
                lb.set_state(i, state_of(s.1), 0).unwrap();
            }
            for k in &keys {
                let src = k.to_be_bytes();
                let uri = format!("/{k}");
                let draws = [*k, k.rotate_left(7)];
                let key = RequestKey { source: Some(&src), uri: Some(uri.as_bytes()), random: &draws, ..RequestKey::default() };
                match lb.pick(&key) {
                    Pick::Server(i) => {
                        prop_assert!(state_of(spec[i].1) == ServerState::Up && spec[i].0 > 0);
                        lb.release(i);
                    }
                    Pick::NoServer => prop_assert!(spec.iter().all(|s| state_of(s.1) != ServerState::Up || s.0 == 0)),
                    other => prop_assert!(false, "unexpected {other:?}"),
                }
            }
        }
    }

    /// Consistent hashing: when a server goes down or changes weight, only keys on it (or,
    /// for a weight rise, keys moving onto it) change server.
    #[test]
    fn consistent_hash_moves_only_the_changed_servers_keys(
        weights in prop::collection::vec(1u32..=4, 2..8),
        victim in any::<prop::sample::Index>(),
        new_weight in 0u32..=8,
        keys in prop::collection::vec(any::<u64>(), 1..200),
    ) {
        let lb = Balancer::new(consistent(), servers(&weights)).unwrap();
        let v = victim.index(weights.len());
        let pick = |lb: &Balancer, k: u64| {
            let uri = format!("/{k}");
            match lb.pick(&RequestKey { uri: Some(uri.as_bytes()), ..RequestKey::default() }) {
                Pick::Server(i) => { lb.release(i); i }
                other => panic!("{other:?}"),
            }
        };
        let before: Vec<usize> = keys.iter().map(|&k| pick(&lb, k)).collect();
        lb.set_weight(v, new_weight, 0).unwrap();
        for (&k, &b) in keys.iter().zip(&before) {
            let a = pick(&lb, k);
            if new_weight <= weights[v] {
                prop_assert!(a == b || b == v, "key moved from {b} to {a}");
            } else {
                prop_assert!(a == b || a == v, "key moved from {b} to {a}");
            }
        }
    }

    /// leastconn never picks a server with more connections than another eligible one, and
    /// no pick ever exceeds maxconn.
    #[test]
    fn leastconn_picks_the_least_loaded_within_maxconn(
        n in 2usize..6,
        maxconn in 1u32..4,
        ops in prop::collection::vec(any::<(bool, prop::sample::Index)>(), 1..120),
    ) {
        let specs: Vec<ServerSpec> = servers(&vec![1; n]).into_iter().map(|s| s.with_limits(maxconn, 0)).collect();
        let lb = Balancer::new(BalanceConfig::new(Algorithm::LeastConn), specs).unwrap();
        let mut held: Vec<usize> = Vec::new();
        for (take, idx) in ops {
            if take || held.is_empty() {
                let loads: Vec<u32> = (0..n).map(|i| lb.connections(i)).collect();
                match lb.pick(&RequestKey::default()) {
                    Pick::Server(i) => {
                        prop_assert!(loads.iter().all(|&l| loads[i] <= l), "{loads:?} picked {i}");
                        held.push(i);
                    }
                    Pick::Queued { ticket, .. } => {
                        prop_assert!(loads.iter().all(|&l| l >= maxconn));
                        prop_assert!(lb.cancel(ticket));
                    }
                    other => prop_assert!(false, "unexpected {other:?}"),
                }
            } else {
                let i = held.swap_remove(idx.index(held.len()));
                prop_assert_eq!(lb.release(i), None);
            }
            prop_assert!((0..n).all(|i| lb.connections(i) <= maxconn));
        }
    }

    /// leastconn without limits (the key tree's path), equal weights, servers coming and
    /// going: a pick never lands on a server with more connections than another eligible one.
    #[test]
    fn leastconn_tree_picks_the_least_loaded(
        n in 2usize..12,
        ops in prop::collection::vec(any::<(u8, prop::sample::Index)>(), 1..200),
    ) {
        let lb = Balancer::new(BalanceConfig::new(Algorithm::LeastConn), servers(&vec![2; n])).unwrap();
        let mut held: Vec<usize> = Vec::new();
        let mut up = vec![true; n];
        for (op, idx) in ops {
            match op % 8 {
                0 => {
                    // A server leaves or comes back (never the last one up).
                    let i = idx.index(n);
                    if !up[i] || up.iter().filter(|&&u| u).count() > 1 {
                        up[i] = !up[i];
                        let st = if up[i] { ServerState::Up } else { ServerState::Maintenance };
                        lb.set_state(i, st, 0).unwrap();
                    }
                }
                1..=3 if !held.is_empty() => {
                    let i = held.swap_remove(idx.index(held.len()));
                    prop_assert_eq!(lb.release(i), None);
                }
                _ => {
                    let loads: Vec<u32> = (0..n).map(|i| lb.connections(i)).collect();
                    let Pick::Server(i) = lb.pick(&RequestKey::default()) else {
                        return Err(TestCaseError::fail("no pick"));
                    };
                    prop_assert!(up[i], "picked {i}, which is down");
                    prop_assert!(
                        (0..n).filter(|&j| up[j]).all(|j| loads[i] <= loads[j]),
                        "{loads:?} up {up:?} picked {i}"
                    );
                    held.push(i);
                }
            }
        }
    }

    /// No algorithm takes a server past its maxconn: a full set queues instead.
    #[test]
    fn no_pick_exceeds_maxconn(
        limits in prop::collection::vec(1u32..4, 1..6),
        ops in prop::collection::vec(any::<(bool, u32)>(), 1..80),
    ) {
        for cfg in algorithms() {
            let specs: Vec<ServerSpec> = limits
                .iter()
                .enumerate()
                .map(|(i, &m)| ServerSpec::new(u32::try_from(i).unwrap() + 1, format!("s{i}")).with_limits(m, 0))
                .collect();
            let lb = Balancer::new(cfg, specs).unwrap();
            let mut held: Vec<usize> = Vec::new();
            for &(take, k) in &ops {
                if take || held.is_empty() {
                    let src = k.to_be_bytes();
                    let uri = format!("/{k}");
                    let draws = [k, k.rotate_left(9)];
                    let key = RequestKey { source: Some(&src), uri: Some(uri.as_bytes()), random: &draws, ..RequestKey::default() };
                    match lb.pick(&key) {
                        Pick::Server(i) => held.push(i),
                        Pick::Queued { ticket, .. } => prop_assert!(lb.cancel(ticket)),
                        other => prop_assert!(false, "unexpected {other:?}"),
                    }
                } else {
                    let i = held.swap_remove(k as usize % held.len());
                    prop_assert_eq!(lb.release(i), None);
                }
                for (i, &m) in limits.iter().enumerate() {
                    prop_assert!(lb.connections(i) <= m, "server {i}: {} > {m}", lb.connections(i));
                }
            }
        }
    }
}
