//! Many threads pick while another changes states and weights.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;

use haproxy_lb::{
    Algorithm, BalanceConfig, Balancer, HashType, Hasher, Pick, RequestKey, ServerSpec, ServerState,
};

fn run(cfg: BalanceConfig) {
    let specs: Vec<ServerSpec> = (1..=6)
        .map(|i| ServerSpec::new(i, format!("s{i}")).with_weight(i))
        .collect();
    let lb = Arc::new(Balancer::new(cfg, specs).unwrap());
    let gone = Arc::new(AtomicBool::new(false));
    let pickers: Vec<_> = (0..3u32)
        .map(|t| {
            let (lb, gone) = (Arc::clone(&lb), Arc::clone(&gone));
            thread::spawn(move || {
                for k in 0..20_000u32 {
                    let was_gone = gone.load(Ordering::SeqCst);
                    let src = (k ^ (t << 20)).to_be_bytes();
                    let uri = format!("/{k}/{t}");
                    let draws = [k.wrapping_mul(2_654_435_761), k];
                    let key = RequestKey {
                        source: Some(&src),
                        uri: Some(uri.as_bytes()),
                        random: &draws,
                        ..RequestKey::default()
                    };
                    if let Pick::Server(i) = lb.pick(&key) {
                        assert!(!(was_gone && i == 0), "picked server 0 after it went down");
                        lb.release(i);
                    }
                }
            })
        })
        .collect();
    let flipper = {
        let (lb, gone) = (Arc::clone(&lb), Arc::clone(&gone));
        thread::spawn(move || {
            for round in 0..300u32 {
                let i = 1 + (round as usize % 5);
                let dynamic = lb.config().is_dynamic();
                let w = if dynamic {
                    round % 9
                } else if round % 2 == 0 {
                    0
                } else {
                    lb.servers()[i].weight
                };
                lb.set_weight(i, w, u64::from(round)).unwrap();
                let st = if round % 3 == 0 {
                    ServerState::Drain
                } else {
                    ServerState::Up
                };
                lb.set_state(i, st, u64::from(round)).unwrap();
                if round == 100 {
                    lb.set_state(0, ServerState::Maintenance, 0).unwrap();
                    gone.store(true, Ordering::SeqCst);
                }
            }
        })
    };
    flipper.join().unwrap();
    for p in pickers {
        p.join().unwrap();
    }
    assert_eq!(
        (0..6).map(|i| lb.connections(i)).sum::<u32>(),
        0,
        "connections leaked"
    );
}

#[test]
fn pickers_and_a_flipper_agree_on_every_algorithm() {
    let consistent =
        BalanceConfig::new(Algorithm::Source).with_hash(HashType::Consistent, Hasher::default());
    for cfg in [
        BalanceConfig::new(Algorithm::RoundRobin),
        BalanceConfig::new(Algorithm::StaticRr),
        BalanceConfig::new(Algorithm::LeastConn),
        BalanceConfig::new(Algorithm::First),
        BalanceConfig::new(Algorithm::Random { draws: 2 }),
        BalanceConfig::new(Algorithm::Source),
        consistent,
    ] {
        run(cfg);
    }
}
