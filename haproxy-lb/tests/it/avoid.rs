//! A server to avoid (`Balancer::pick_avoiding`, HAProxy's `srvtoavoid` on redispatch): each
//! algorithm's rule, and the invariants over random backends and traffic.

use haproxy_lb::{
    Algorithm, BalanceConfig, Balancer, HashFunction, HashType, Hasher, Pick, RequestKey,
    ServerSpec, ServerState,
};
use proptest::prelude::*;

fn named(n: u32) -> Vec<ServerSpec> {
    (1..=n)
        .map(|id| ServerSpec::new(id, format!("s{id}")))
        .collect()
}

fn consistent(algorithm: Algorithm) -> BalanceConfig {
    BalanceConfig::new(algorithm).with_hash(
        HashType::Consistent,
        Hasher {
            function: HashFunction::Sdbm,
            avalanche: true,
        },
    )
}

fn lb(cfg: BalanceConfig, servers: Vec<ServerSpec>) -> Balancer {
    Balancer::new(cfg, servers).unwrap()
}

fn source(a: &[u8; 4]) -> RequestKey<'_> {
    RequestKey {
        source: Some(a),
        ..RequestKey::default()
    }
}

/// Picks with `key` and releases at once; the server.
fn server(b: &Balancer, key: &RequestKey<'_>, avoid: Option<usize>) -> usize {
    match b.pick_avoiding(key, avoid) {
        Pick::Server(i) => {
            b.release(i);
            i
        }
        other => panic!("expected a server, got {other:?}"),
    }
}

#[test]
fn first_passes_over_the_avoided_server_while_another_has_room() {
    let b = lb(BalanceConfig::new(Algorithm::First), named(3));
    let k = RequestKey::default();
    assert_eq!(server(&b, &k, None), 0);
    assert_eq!(server(&b, &k, Some(0)), 1);
    assert_eq!(server(&b, &k, Some(1)), 0);
    // Server 1 full: avoiding 0 goes on to 2.
    let b = lb(
        BalanceConfig::new(Algorithm::First),
        vec![
            ServerSpec::new(1, "a"),
            ServerSpec::new(2, "b").with_limits(1, 0),
            ServerSpec::new(3, "c"),
        ],
    );
    assert_eq!(b.pick(&k), Pick::Server(0));
    assert_eq!(b.pick_avoiding(&k, Some(0)), Pick::Server(1));
    assert_eq!(b.pick_avoiding(&k, Some(0)), Pick::Server(2));
}

#[test]
fn the_avoided_server_is_taken_when_it_is_the_only_one_with_room() {
    for cfg in [
        BalanceConfig::new(Algorithm::First),
        BalanceConfig::new(Algorithm::RoundRobin),
        BalanceConfig::new(Algorithm::StaticRr),
        BalanceConfig::new(Algorithm::LeastConn),
        consistent(Algorithm::Source),
        BalanceConfig::new(Algorithm::Random { draws: 2 }),
    ] {
        let name = format!("{:?}", cfg.algorithm);
        // Alone in the backend.
        let b = lb(cfg.clone(), named(1));
        let key = source(&[10, 0, 0, 1]);
        assert_eq!(b.pick_avoiding(&key, Some(0)), Pick::Server(0), "{name}");
        // The other server is full: the avoided one serves rather than queueing.
        let b = lb(
            cfg.clone(),
            vec![
                ServerSpec::new(1, "a"),
                ServerSpec::new(2, "b").with_limits(1, 0),
            ],
        );
        // Avoiding `a` fills `b` at once.
        assert_eq!(b.pick_avoiding(&key, Some(0)), Pick::Server(1), "{name}");
        let again = b.pick_avoiding(&RequestKey::default(), Some(0));
        if cfg.algorithm.is_hash() || matches!(cfg.algorithm, Algorithm::Random { .. }) {
            // The ring walk stops at the next server whatever its load: it queues there.
            assert!(
                matches!(again, Pick::Server(0) | Pick::Queued { .. }),
                "{name}: {again:?}"
            );
        } else {
            assert_eq!(again, Pick::Server(0), "{name}");
        }
    }
}

#[test]
fn every_server_full_queues_in_the_backend() {
    let k = RequestKey::default();
    for algorithm in [Algorithm::First, Algorithm::RoundRobin, Algorithm::StaticRr] {
        let b = lb(
            BalanceConfig::new(algorithm.clone()),
            vec![
                ServerSpec::new(1, "a").with_limits(1, 0),
                ServerSpec::new(2, "b").with_limits(1, 0),
            ],
        );
        assert!(matches!(b.pick(&k), Pick::Server(_)));
        assert!(matches!(b.pick(&k), Pick::Server(_)));
        assert!(
            matches!(
                b.pick_avoiding(&k, Some(0)),
                Pick::Queued { server: None, .. }
            ),
            "{algorithm:?}"
        );
    }
}

#[test]
fn roundrobin_uses_up_the_avoided_servers_turn() {
    let b = lb(BalanceConfig::new(Algorithm::RoundRobin), named(3));
    let k = RequestKey::default();
    let plain: Vec<usize> = (0..6).map(|_| server(&b, &k, None)).collect();
    let b = lb(BalanceConfig::new(Algorithm::RoundRobin), named(3));
    // The first turn is server plain[0]'s: avoiding it gives the next turn, and the order
    // goes on from there.
    assert_eq!(server(&b, &k, Some(plain[0])), plain[1]);
    assert_eq!(server(&b, &k, None), plain[2]);
    assert_eq!(server(&b, &k, None), plain[3]);
}

#[test]
fn static_rr_moves_its_cursor_past_the_avoided_server() {
    let b = lb(BalanceConfig::new(Algorithm::StaticRr), named(3));
    let k = RequestKey::default();
    let plain: Vec<usize> = (0..6).map(|_| server(&b, &k, None)).collect();
    let b = lb(BalanceConfig::new(Algorithm::StaticRr), named(3));
    assert_eq!(server(&b, &k, Some(plain[0])), plain[1]);
    assert_eq!(server(&b, &k, None), plain[2]);
    // Only the avoided server has room: it is taken and the cursor stays after its slot.
    let b = lb(
        BalanceConfig::new(Algorithm::StaticRr),
        vec![
            ServerSpec::new(1, "a").with_limits(1, 0),
            ServerSpec::new(2, "b"),
            ServerSpec::new(3, "c").with_limits(1, 0),
        ],
    );
    assert_eq!(b.pick(&k), Pick::Server(0));
    assert_eq!(b.pick(&k), Pick::Server(1));
    assert_eq!(b.pick(&k), Pick::Server(2));
    assert_eq!(b.pick_avoiding(&k, Some(1)), Pick::Server(1));
    b.release(0);
    assert_eq!(b.pick(&k), Pick::Server(0), "the slot after b's is a's");
}

#[test]
fn leastconn_takes_the_next_least_loaded() {
    let b = lb(BalanceConfig::new(Algorithm::LeastConn), named(3));
    let k = RequestKey::default();
    // Loads 0 / 1 / 2: the least loaded is 0; avoiding it gives 1.
    assert_eq!(b.pick(&k), Pick::Server(0));
    assert_eq!(b.pick(&k), Pick::Server(1));
    assert_eq!(b.pick(&k), Pick::Server(2));
    assert_eq!(b.pick(&k), Pick::Server(0));
    b.release(0);
    b.release(0);
    assert_eq!(b.connections(0), 0);
    assert_eq!(b.pick_avoiding(&k, Some(0)), Pick::Server(1));
    assert_eq!(b.pick_avoiding(&k, Some(0)), Pick::Server(2));
    // With limits: a server whose connections and queue are full is not acceptable.
    let b = lb(
        BalanceConfig::new(Algorithm::LeastConn),
        vec![
            ServerSpec::new(1, "a"),
            ServerSpec::new(2, "b").with_limits(1, 0),
            ServerSpec::new(3, "c").with_limits(1, 1),
        ],
    );
    assert_eq!(b.pick_avoiding(&k, Some(0)), Pick::Server(1));
    assert_eq!(b.pick_avoiding(&k, Some(0)), Pick::Server(2));
    // c still has queue room: the request waits on c rather than going to a.
    assert!(matches!(
        b.pick_avoiding(&k, Some(0)),
        Pick::Queued {
            server: Some(2),
            ..
        }
    ));
    assert_eq!(b.pick_avoiding(&k, Some(0)), Pick::Server(0));
}

/// A source address that `b` sends to server `to`.
fn source_to(b: &Balancer, to: usize) -> [u8; 4] {
    (1..=255u8)
        .map(|x| [10, 0, 0, x])
        .find(|a| server(b, &source(a), None) == to)
        .expect("some address hashes there")
}

#[test]
fn a_consistent_hash_walks_past_the_avoided_server() {
    let b = lb(consistent(Algorithm::Source), named(3));
    for to in 0..3 {
        let a = source_to(&b, to);
        let key = source(&a);
        let other = server(&b, &key, Some(to));
        assert_ne!(other, to);
        // The next server on the ring, every time.
        assert_eq!(server(&b, &key, Some(to)), other);
        assert_eq!(server(&b, &key, None), to);
    }
    // Without a key, the ring is walked in turn, past the avoided server.
    for _ in 0..10 {
        assert_ne!(server(&b, &RequestKey::default(), Some(1)), 1);
    }
}

#[test]
fn bounded_loads_and_the_avoided_server_are_both_walked_past() {
    let mut cfg = consistent(Algorithm::Source);
    cfg.hash_balance_factor = 150;
    let b = lb(cfg, named(3));
    let mut held = Vec::new();
    for x in 0..30u8 {
        let a = [10, 0, 1, x];
        match b.pick_avoiding(&source(&a), Some(0)) {
            Pick::Server(i) => {
                assert_ne!(i, 0);
                held.push(i);
            }
            other => panic!("{other:?}"),
        }
    }
    // 30 connections over two servers, each bounded to ceil(31 * 1.5 / 3) = 16.
    assert!(b.connections(1) <= 16 && b.connections(2) <= 16);
    assert_eq!(b.connections(0), 0);
    for i in held {
        b.release(i);
    }
}

#[test]
fn map_based_hashing_keeps_the_keys_server() {
    let b = lb(BalanceConfig::new(Algorithm::Source), named(3));
    for to in 0..3 {
        let a = source_to(&b, to);
        assert_eq!(server(&b, &source(&a), Some(to)), to);
    }
    // Without a key it falls back to the map's round robin, which avoids.
    for _ in 0..10 {
        assert_ne!(server(&b, &RequestKey::default(), Some(1)), 1);
    }
}

#[test]
fn random_draws_walk_past_the_avoided_server() {
    let b = lb(BalanceConfig::new(Algorithm::Random { draws: 2 }), named(2));
    for x in 0..200u32 {
        let draws = [x.wrapping_mul(0x9e37_79b9), x.wrapping_mul(0x85eb_ca6b)];
        let key = RequestKey {
            random: &draws,
            ..RequestKey::default()
        };
        assert_eq!(server(&b, &key, Some(0)), 1);
    }
}

#[test]
fn the_first_backup_alone_is_kept_even_when_avoided() {
    for algorithm in [
        Algorithm::RoundRobin,
        Algorithm::First,
        Algorithm::LeastConn,
        Algorithm::Source,
    ] {
        let b = lb(
            BalanceConfig::new(algorithm.clone()),
            vec![
                ServerSpec::new(1, "a").with_state(ServerState::Down),
                ServerSpec::new(2, "b1").with_backup(),
                ServerSpec::new(3, "b2").with_backup(),
            ],
        );
        let key = source(&[10, 0, 0, 1]);
        assert_eq!(server(&b, &key, Some(1)), 1, "{algorithm:?}");
        // With `option allbackups` the backups balance, and avoid.
        let mut cfg = BalanceConfig::new(algorithm.clone());
        cfg.allbackups = true;
        let b = lb(
            cfg,
            vec![
                ServerSpec::new(1, "a").with_state(ServerState::Down),
                ServerSpec::new(2, "b1").with_backup(),
                ServerSpec::new(3, "b2").with_backup(),
            ],
        );
        if !algorithm.is_hash() {
            assert_eq!(server(&b, &key, Some(1)), 2, "{algorithm:?}");
        }
    }
}

/// The algorithms of the property tests (no bounded loads).
fn configs() -> Vec<BalanceConfig> {
    vec![
        BalanceConfig::new(Algorithm::RoundRobin),
        BalanceConfig::new(Algorithm::StaticRr),
        BalanceConfig::new(Algorithm::LeastConn),
        BalanceConfig::new(Algorithm::First),
        BalanceConfig::new(Algorithm::Random { draws: 2 }),
        BalanceConfig::new(Algorithm::Source),
        consistent(Algorithm::Source),
        consistent(Algorithm::Uri(haproxy_lb::UriOptions::default())),
    ]
}

/// One step of random traffic: a pick (with a key or without, avoiding a server or not), a
/// release of an earlier pick, or a state change.
#[derive(Debug, Clone)]
enum Op {
    Pick {
        key: Option<u8>,
        avoid: Option<u8>,
        draws: [u32; 2],
    },
    Release(u8),
    State(u8, bool),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (any::<Option<u8>>(), any::<Option<u8>>(), any::<[u32; 2]>())
            .prop_map(|(key, avoid, draws)| Op::Pick { key, avoid, draws }),
        3 => any::<u8>().prop_map(Op::Release),
        1 => (any::<u8>(), any::<bool>()).prop_map(|(i, up)| Op::State(i, up)),
    ]
}

/// Servers with weights, limits and backup flags from the strategy's tuples.
fn specs(raw: &[(u32, u32, u32, bool)]) -> Vec<ServerSpec> {
    raw.iter()
        .enumerate()
        .map(|(i, &(w, maxconn, maxqueue, backup))| {
            let s = ServerSpec::new(u32::try_from(i).unwrap() + 1, format!("s{i}"))
                .with_weight(w)
                .with_limits(maxconn, maxqueue);
            if backup { s.with_backup() } else { s }
        })
        .collect()
}

fn specs_strategy() -> impl Strategy<Value = Vec<(u32, u32, u32, bool)>> {
    prop::collection::vec(
        (
            1u32..=4,
            prop_oneof![Just(0u32), 1u32..=3],
            0u32..=2,
            prop::bool::weighted(0.2),
        ),
        1..6,
    )
}

/// The servers load balancing may use now: the active usable ones, else the usable backups
/// (all of them with `option allbackups`, else the first).
fn group(b: &Balancer) -> Vec<usize> {
    let usable = |backup: bool| -> Vec<usize> {
        (0..b.servers().len())
            .filter(|&i| b.servers()[i].backup == backup && b.is_usable(i))
            .collect()
    };
    let active = usable(false);
    if !active.is_empty() {
        return active;
    }
    let mut backups = usable(true);
    if !b.config().allbackups {
        let cfg = b.config();
        let map = matches!(cfg.algorithm, Algorithm::StaticRr)
            || (cfg.algorithm.is_hash() && cfg.hash_type == HashType::MapBased);
        if map {
            // HAProxy's map then spreads the first backup's weight over every usable backup
            // (lb_map.c), so which servers are in it is the map's business: no claim here.
            return Vec::new();
        }
        backups.truncate(1);
    }
    backups
}

/// Whether server `i` could take a connection now, as the algorithm's walk asks.
fn has_room(b: &Balancer, i: usize) -> bool {
    let maxconn = b.maxconn(i);
    if matches!(b.config().algorithm, Algorithm::LeastConn) {
        return maxconn == 0 || b.connections(i) + b.queued(i) < maxconn + b.servers()[i].maxqueue;
    }
    maxconn == 0 || (b.queued(i) == 0 && b.connections(i) < maxconn)
}

/// Runs `ops` on `b`; `avoiding` picks through `pick_avoiding` (else `pick`, ignoring avoid).
/// Returns every outcome, and checks the invariants on the way.
fn drive(b: &Balancer, ops: &[Op], avoiding: bool) -> Result<Vec<Pick>, TestCaseError> {
    let n = b.servers().len();
    let mut held: Vec<usize> = Vec::new();
    let mut out = Vec::new();
    for op in ops {
        match op {
            Op::Pick { key, avoid, draws } => {
                let addr = key.map(|k| [10, 0, k, 1]);
                let uri = key.map(|k| format!("/{k}"));
                let key = RequestKey {
                    source: addr.as_ref().map(<[u8; 4]>::as_slice),
                    uri: uri.as_deref().map(str::as_bytes),
                    random: draws,
                    ..RequestKey::default()
                };
                let avoid = avoid.map(|a| usize::from(a) % n);
                let conns: Vec<u32> = (0..n).map(|i| b.connections(i)).collect();
                let queued: Vec<u32> = (0..n).map(|i| b.queued(i)).collect();
                let others_with_room =
                    avoid.is_some_and(|a| group(b).iter().any(|&s| s != a && has_room(b, s)));
                let p = if avoiding {
                    b.pick_avoiding(&key, avoid)
                } else {
                    b.pick(&key)
                };
                // Accounting: a server pick takes exactly one slot, a server queue one place.
                for i in 0..n {
                    let took = u32::from(p == Pick::Server(i));
                    prop_assert_eq!(b.connections(i), conns[i] + took, "{:?}", p);
                    let waits =
                        u32::from(matches!(p, Pick::Queued { server: Some(s), .. } if s == i));
                    prop_assert_eq!(b.queued(i), queued[i] + waits, "{:?}", p);
                }
                let map_hash_with_key = b.config().algorithm.is_hash()
                    && b.config().hash_type == HashType::MapBased
                    && key.source.is_some();
                if avoiding && others_with_room && !map_hash_with_key {
                    let a = avoid.unwrap();
                    prop_assert!(
                        p != Pick::Server(a)
                            && !matches!(p, Pick::Queued { server: Some(s), .. } if s == a),
                        "{:?}: avoided {} but got {:?}",
                        b.config(),
                        a,
                        p
                    );
                }
                if let Pick::Server(i) = p {
                    held.push(i);
                }
                out.push(p);
            }
            Op::Release(k) => {
                if !held.is_empty() {
                    let i = held.remove(usize::from(*k) % held.len());
                    // A handed-off slot stays taken by the waiter it went to.
                    if let Some(h) = b.release(i) {
                        held.push(h.server);
                    }
                }
            }
            Op::State(i, up) => {
                let state = if *up {
                    ServerState::Up
                } else {
                    ServerState::Down
                };
                b.set_state(usize::from(*i) % n, state, 0).unwrap();
            }
        }
    }
    Ok(out)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Avoiding nothing picks exactly as `pick` does, step for step.
    #[test]
    fn avoiding_nothing_is_the_plain_pick(
        raw in specs_strategy(),
        ops in prop::collection::vec(op(), 1..80),
    ) {
        let none: Vec<Op> = ops
            .iter()
            .map(|o| match o {
                Op::Pick { key, draws, .. } => Op::Pick { key: *key, avoid: None, draws: *draws },
                other => other.clone(),
            })
            .collect();
        for cfg in configs() {
            let plain = lb(cfg.clone(), specs(&raw));
            let avoiding = lb(cfg, specs(&raw));
            prop_assert_eq!(drive(&plain, &none, false)?, drive(&avoiding, &none, true)?);
        }
    }

    /// The avoided server is never chosen (nor queued on) while another server of the group
    /// in use has room, except by map-based hashing with a key, which keeps the key's server
    /// as HAProxy does; counts and queues move by exactly what the pick says.
    #[test]
    fn the_avoided_server_is_not_chosen_while_another_has_room(
        raw in specs_strategy(),
        ops in prop::collection::vec(op(), 1..80),
        allbackups in any::<bool>(),
    ) {
        for mut cfg in configs() {
            cfg.allbackups = allbackups;
            let b = lb(cfg, specs(&raw));
            drive(&b, &ops, true)?;
        }
    }
}
