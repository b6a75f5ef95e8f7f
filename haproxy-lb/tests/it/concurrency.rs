//! Many threads pick while another changes states and weights.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;

use haproxy_lb::{
    Algorithm, BalanceConfig, Balancer, HashType, Hasher, Pick, RequestKey, ServerSpec, ServerState,
};

const SERVERS: usize = 8;
const PICKS: u32 = 20_000;
const ROUNDS: u32 = 400;

/// Pickers read `banned` (servers made ineligible by a change that has returned) before each
/// pick and must never get one of them; the flipper sets a bit only after the change that
/// excludes the server returned, and clears it before the change that lets it back.
fn run(cfg: BalanceConfig) {
    let specs: Vec<ServerSpec> = (1..=SERVERS as u32)
        .map(|i| ServerSpec::new(i, format!("s{i}")).with_weight(i))
        .collect();
    let lb = Arc::new(Balancer::new(cfg, specs).unwrap());
    let banned = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let pickers: Vec<_> = (0..3u32)
        .map(|t| {
            let (lb, banned, done) = (Arc::clone(&lb), Arc::clone(&banned), Arc::clone(&done));
            thread::spawn(move || {
                let mut k = 0u32;
                // Bounded in count; keeps going while the flipper works.
                while k < PICKS || (!done.load(Ordering::SeqCst) && k < 50 * PICKS) {
                    k += 1;
                    let before = banned.load(Ordering::SeqCst);
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
                        assert_eq!(before & (1 << i), 0, "picked server {i} after it left");
                        lb.release(i);
                    }
                }
            })
        })
        .collect();
    let flipper = {
        let (lb, banned, done) = (Arc::clone(&lb), Arc::clone(&banned), Arc::clone(&done));
        thread::spawn(move || {
            let dynamic = lb.config().is_dynamic();
            for round in 0..ROUNDS {
                // Server 0 always stays; the others come and go.
                let i = 1 + (round as usize * 5) % (SERVERS - 1);
                let bit = 1u64 << i;
                let leave = round % 2 == 0;
                let w = if !dynamic {
                    lb.servers()[i].weight
                } else {
                    1 + round % 9
                };
                if leave {
                    match round % 6 {
                        0 => lb.set_weight(i, 0, u64::from(round)).unwrap(),
                        2 => lb.set_state(i, ServerState::Drain, 0).unwrap(),
                        _ => lb.set_state(i, ServerState::Maintenance, 0).unwrap(),
                    }
                    banned.fetch_or(bit, Ordering::SeqCst);
                } else {
                    // Let back every server this round's partner took out.
                    for j in 1..SERVERS {
                        let b = 1u64 << j;
                        if banned.load(Ordering::SeqCst) & b != 0 && j % 2 == round as usize % 2 {
                            banned.fetch_and(!b, Ordering::SeqCst);
                            lb.set_state(j, ServerState::Up, u64::from(round)).unwrap();
                            let back = if dynamic { w } else { lb.servers()[j].weight };
                            lb.set_weight(j, back, u64::from(round)).unwrap();
                        }
                    }
                    if dynamic && banned.load(Ordering::SeqCst) & bit == 0 {
                        lb.set_weight(i, w, u64::from(round)).unwrap();
                    }
                }
            }
            done.store(true, Ordering::SeqCst);
        })
    };
    flipper.join().unwrap();
    for p in pickers {
        p.join().unwrap();
    }
    let left: u32 = (0..SERVERS).map(|i| lb.connections(i)).sum();
    assert_eq!(left, 0, "connections leaked");
}

#[test]
fn pickers_and_a_flipper_agree_on_every_algorithm() {
    let consistent =
        BalanceConfig::new(Algorithm::Source).with_hash(HashType::Consistent, Hasher::default());
    let mut bounded = consistent.clone();
    bounded.hash_balance_factor = 125;
    for cfg in [
        BalanceConfig::new(Algorithm::RoundRobin),
        BalanceConfig::new(Algorithm::StaticRr),
        BalanceConfig::new(Algorithm::LeastConn),
        BalanceConfig::new(Algorithm::First),
        BalanceConfig::new(Algorithm::Random { draws: 2 }),
        BalanceConfig::new(Algorithm::Source),
        consistent,
        bounded,
    ] {
        run(cfg);
    }
}
