//! Backups, slow start, runtime weights, queues and bounds.

use haproxy_lb::{
    Algorithm, BalanceConfig, Balancer, Handoff, HashType, Hasher, LbError, MAX_SERVERS,
    MAX_WEIGHT, Pick, RequestKey, ServerSpec, ServerState,
};

fn pick(lb: &Balancer) -> Pick {
    lb.pick(&RequestKey::default())
}

fn names(lb: &Balancer, n: usize) -> String {
    (0..n)
        .map(|_| match pick(lb) {
            Pick::Server(i) => {
                lb.release(i);
                lb.servers()[i].name.clone()
            }
            other => panic!("{other:?}"),
        })
        .collect()
}

#[test]
fn first_usable_backup_takes_everything_unless_allbackups() {
    let specs = || {
        vec![
            ServerSpec::new(1, "a"),
            ServerSpec::new(2, "b").with_backup(),
            ServerSpec::new(3, "c").with_backup(),
        ]
    };
    let lb = Balancer::new(BalanceConfig::new(Algorithm::RoundRobin), specs()).unwrap();
    assert_eq!(names(&lb, 3), "aaa");
    lb.set_state(0, ServerState::Down, 0).unwrap();
    assert_eq!(names(&lb, 4), "bbbb");
    lb.set_state(1, ServerState::Maintenance, 0).unwrap();
    assert_eq!(names(&lb, 2), "cc");
    let mut cfg = BalanceConfig::new(Algorithm::RoundRobin);
    cfg.allbackups = true;
    let lb = Balancer::new(cfg, specs()).unwrap();
    lb.set_state(0, ServerState::Down, 0).unwrap();
    assert_eq!(names(&lb, 4), "bcbc");
    lb.set_state(2, ServerState::Down, 0).unwrap();
    lb.set_state(1, ServerState::Down, 0).unwrap();
    assert_eq!(pick(&lb), Pick::NoServer);
}

#[test]
fn slowstart_ramps_the_effective_weight() {
    let specs = vec![
        ServerSpec::new(1, "a").with_weight(10).with_slowstart(10),
        ServerSpec::new(2, "b"),
    ];
    let lb = Balancer::new(BalanceConfig::new(Algorithm::RoundRobin), specs).unwrap();
    assert_eq!(
        lb.effective_weight(0),
        160,
        "no slow start at process start"
    );
    lb.set_state(0, ServerState::Down, 100).unwrap();
    assert_eq!(lb.effective_weight(0), 0);
    lb.set_state(0, ServerState::Up, 100).unwrap();
    // HAProxy's server_recalc_eweight(): w = (16 * elapsed + slowstart) / slowstart.
    assert_eq!(lb.effective_weight(0), 10);
    lb.tick(105);
    assert_eq!(lb.effective_weight(0), 10 * ((16 * 5 + 10) / 10));
    lb.tick(110);
    assert_eq!(lb.effective_weight(0), 160);
    // Static algorithms never ramp.
    let specs = vec![
        ServerSpec::new(1, "a").with_weight(10).with_slowstart(10),
        ServerSpec::new(2, "b"),
    ];
    let lb = Balancer::new(BalanceConfig::new(Algorithm::StaticRr), specs).unwrap();
    lb.set_state(0, ServerState::Down, 100).unwrap();
    lb.set_state(0, ServerState::Up, 100).unwrap();
    assert_eq!(lb.effective_weight(0), 10);
}

#[test]
fn static_algorithms_accept_only_zero_and_initial_weights() {
    let specs = || {
        vec![
            ServerSpec::new(1, "a").with_weight(3),
            ServerSpec::new(2, "b"),
        ]
    };
    let map = BalanceConfig::new(Algorithm::Source);
    for cfg in [BalanceConfig::new(Algorithm::StaticRr), map] {
        let lb = Balancer::new(cfg, specs()).unwrap();
        let err = lb.set_weight(0, 2, 0).unwrap_err();
        assert_eq!(err, LbError::StaticWeight);
        assert_eq!(
            err.haproxy_message(),
            Some(
                "Backend is using a static LB algorithm and only accepts weights '0%' and '100%'."
            )
        );
        lb.set_weight(0, 0, 0).unwrap();
        lb.set_weight(0, 3, 0).unwrap();
    }
    let consistent =
        BalanceConfig::new(Algorithm::Source).with_hash(HashType::Consistent, Hasher::default());
    for cfg in [
        BalanceConfig::new(Algorithm::RoundRobin),
        BalanceConfig::new(Algorithm::LeastConn),
        consistent,
    ] {
        let lb = Balancer::new(cfg, specs()).unwrap();
        lb.set_weight(0, 7, 0).unwrap();
        assert_eq!(lb.weight(0), Some(7));
    }
}

#[test]
fn full_servers_queue_and_the_oldest_waiter_gets_the_slot() {
    let specs = vec![
        ServerSpec::new(1, "a").with_limits(1, 0),
        ServerSpec::new(2, "b").with_limits(1, 0),
    ];
    let lb = Balancer::new(BalanceConfig::new(Algorithm::RoundRobin), specs).unwrap();
    let (Pick::Server(x), Pick::Server(y)) = (pick(&lb), pick(&lb)) else {
        panic!()
    };
    assert_ne!(x, y);
    let Pick::Queued {
        ticket: t1,
        server: None,
    } = pick(&lb)
    else {
        panic!()
    };
    let Pick::Queued {
        ticket: t2,
        server: None,
    } = pick(&lb)
    else {
        panic!()
    };
    assert_eq!(
        lb.release(y),
        Some(Handoff {
            ticket: t1,
            server: y
        })
    );
    assert_eq!(lb.connections(y), 1, "the slot went to the waiter");
    assert_eq!(
        lb.release(x),
        Some(Handoff {
            ticket: t2,
            server: x
        })
    );
    assert_eq!(lb.release(x), None);
    assert_eq!(lb.connections(x), 0);
}

#[test]
fn hashed_requests_queue_on_their_server_until_maxqueue() {
    let specs = vec![ServerSpec::new(1, "a").with_limits(1, 2)];
    let lb = Balancer::new(BalanceConfig::new(Algorithm::Source), specs).unwrap();
    let src = [10u8, 0, 0, 1];
    let key = RequestKey {
        source: Some(&src),
        ..RequestKey::default()
    };
    assert_eq!(lb.pick(&key), Pick::Server(0));
    let Pick::Queued {
        ticket: t1,
        server: Some(0),
    } = lb.pick(&key)
    else {
        panic!()
    };
    let Pick::Queued {
        ticket: t2,
        server: Some(0),
    } = lb.pick(&key)
    else {
        panic!()
    };
    assert_eq!(lb.pick(&key), Pick::QueueFull { server: Some(0) });
    assert_eq!(lb.queued(0), 2);
    assert!(lb.cancel(t1));
    assert!(!lb.cancel(t1));
    assert_eq!(
        lb.release(0),
        Some(Handoff {
            ticket: t2,
            server: 0
        })
    );
    assert_eq!(lb.queued(0), 0);
}

#[test]
fn bounded_load_keeps_every_server_under_the_factor() {
    let specs: Vec<ServerSpec> = (1..=10)
        .map(|i| ServerSpec::new(i, format!("s{i}")))
        .collect();
    let mut cfg =
        BalanceConfig::new(Algorithm::Source).with_hash(HashType::Consistent, Hasher::default());
    cfg.hash_balance_factor = 125;
    let lb = Balancer::new(cfg, specs).unwrap();
    for k in 0u32..1000 {
        let src = k.to_be_bytes();
        let Pick::Server(_) = lb.pick(&RequestKey {
            source: Some(&src),
            ..RequestKey::default()
        }) else {
            panic!()
        };
    }
    let max = (0..10).map(|i| lb.connections(i)).max().unwrap();
    assert!(max <= 125, "max {max} over 1.25 x average 100");
}

#[test]
fn limits_are_enforced_at_their_bounds() {
    let at = vec![ServerSpec::new(1, "a").with_weight(MAX_WEIGHT)];
    assert!(Balancer::new(BalanceConfig::new(Algorithm::RoundRobin), at).is_ok());
    let over = vec![ServerSpec::new(1, "a").with_weight(MAX_WEIGHT + 1)];
    assert_eq!(
        Balancer::new(BalanceConfig::new(Algorithm::RoundRobin), over).unwrap_err(),
        LbError::WeightOutOfRange { weight: 257 }
    );
    let many: Vec<ServerSpec> = (0..=MAX_SERVERS as u32)
        .map(|i| ServerSpec::new(i, "s"))
        .collect();
    assert!(matches!(
        Balancer::new(BalanceConfig::new(Algorithm::First), many),
        Err(LbError::TooManyServers { .. })
    ));
    let dup = vec![ServerSpec::new(1, "a"), ServerSpec::new(1, "b")];
    assert_eq!(
        Balancer::new(BalanceConfig::new(Algorithm::First), dup).unwrap_err(),
        LbError::DuplicateId { id: 1 }
    );
    for (draws, ok) in [
        (0, false),
        (1, true),
        (haproxy_lb::MAX_DRAWS, true),
        (haproxy_lb::MAX_DRAWS + 1, false),
    ] {
        let r = Balancer::new(
            BalanceConfig::new(Algorithm::Random { draws }),
            vec![ServerSpec::new(1, "a")],
        );
        assert_eq!(r.is_ok(), ok, "draws {draws}");
    }
    let mut cfg = BalanceConfig::new(Algorithm::Source);
    cfg.hash_balance_factor = 100;
    assert!(Balancer::new(cfg, vec![]).is_err());
}

#[test]
fn url_param_and_header_fall_back_to_round_robin() {
    let specs = vec![ServerSpec::new(1, "a"), ServerSpec::new(2, "b")];
    let lb = Balancer::new(BalanceConfig::new(Algorithm::UrlParam("k".into())), specs).unwrap();
    let key = RequestKey {
        uri: Some(b"/nothing"),
        ..RequestKey::default()
    };
    let got: Vec<Pick> = (0..4).map(|_| lb.pick(&key)).collect();
    assert_eq!(
        got,
        [
            Pick::Server(0),
            Pick::Server(1),
            Pick::Server(0),
            Pick::Server(1)
        ]
    );
}

#[test]
fn an_unlimited_server_queue_stops_at_max_queue() {
    let specs = vec![ServerSpec::new(1, "a").with_limits(1, 0)];
    let lb = Balancer::new(BalanceConfig::new(Algorithm::Source), specs).unwrap();
    let src = [10u8, 0, 0, 1];
    let key = RequestKey {
        source: Some(&src),
        ..RequestKey::default()
    };
    assert_eq!(lb.pick(&key), Pick::Server(0));
    for _ in 0..haproxy_lb::MAX_QUEUE {
        assert!(matches!(
            lb.pick(&key),
            Pick::Queued {
                server: Some(0),
                ..
            }
        ));
    }
    assert_eq!(lb.queued(0) as usize, haproxy_lb::MAX_QUEUE);
    assert_eq!(lb.pick(&key), Pick::QueueFull { server: Some(0) });
}

#[test]
fn a_huge_balance_factor_does_not_overflow() {
    let mut cfg =
        BalanceConfig::new(Algorithm::Source).with_hash(HashType::Consistent, Hasher::default());
    cfg.hash_balance_factor = u32::MAX;
    let lb = Balancer::new(cfg, vec![ServerSpec::new(1, "a"), ServerSpec::new(2, "b")]).unwrap();
    for k in 0u32..100 {
        let src = k.to_be_bytes();
        assert!(matches!(
            lb.pick(&RequestKey {
                source: Some(&src),
                ..RequestKey::default()
            }),
            Pick::Server(_)
        ));
    }
}

/// More balancers than a thread's snapshot cache has slots, picked from in turn while some
/// change: every pick sees its own balancer's current state.
#[test]
fn many_balancers_share_the_thread_cache_correctly() {
    let lbs: Vec<Balancer> = (0..40)
        .map(|_| {
            let specs = vec![ServerSpec::new(1, "a"), ServerSpec::new(2, "b")];
            Balancer::new(BalanceConfig::new(Algorithm::RoundRobin), specs).unwrap()
        })
        .collect();
    for round in 0..6 {
        for (n, lb) in lbs.iter().enumerate() {
            if n % 3 == round % 3 {
                let st = if round % 2 == 0 {
                    ServerState::Maintenance
                } else {
                    ServerState::Up
                };
                lb.set_state(0, st, 0).unwrap();
            }
        }
        for _ in 0..3 {
            for lb in &lbs {
                let Pick::Server(i) = pick(lb) else {
                    panic!("no pick")
                };
                assert!(lb.is_usable(i), "round {round}: picked an unusable server");
                lb.release(i);
            }
        }
    }
}

#[test]
fn set_maxconn_limits_the_next_picks_and_zero_lifts_the_limit() {
    for algo in [Algorithm::RoundRobin, Algorithm::LeastConn] {
        let lb = Balancer::new(
            BalanceConfig::new(algo.clone()),
            vec![ServerSpec::new(1, "a")],
        )
        .unwrap();
        assert_eq!(lb.maxconn(0), 0);
        assert_eq!(pick(&lb), Pick::Server(0));
        lb.set_maxconn(0, 2).unwrap();
        assert_eq!(lb.maxconn(0), 2);
        assert_eq!(pick(&lb), Pick::Server(0));
        let Pick::Queued { ticket, .. } = pick(&lb) else {
            panic!("{algo:?}: a third connection must wait under maxconn 2")
        };
        // Lowered below what is open: a release does not hand the slot on.
        lb.set_maxconn(0, 1).unwrap();
        assert_eq!(lb.release(0), None, "{algo:?}");
        assert_eq!(lb.connections(0), 1);
        assert!(lb.cancel(ticket));
        lb.set_maxconn(0, 0).unwrap();
        assert_eq!(pick(&lb), Pick::Server(0));
        assert_eq!(pick(&lb), Pick::Server(0));
        assert_eq!(lb.connections(0), 3);
    }
    let lb = Balancer::new(BalanceConfig::new(Algorithm::RoundRobin), Vec::new()).unwrap();
    assert!(matches!(
        lb.set_maxconn(0, 1),
        Err(LbError::NoSuchServer { index: 0 })
    ));
}
