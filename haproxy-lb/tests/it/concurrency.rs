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

/// One let-back in the flipper's word (its bits from 32 count let-backs begun; the bits below
/// are the servers out).
const LET_BACK: u64 = 1 << 32;

/// The flipper keeps one word: a bit per server out (set only after the change that takes the
/// server out has returned) and a count of let-backs begun (raised, with the server's bit
/// cleared in the same step, before the change that lets it back). A pick that starts after
/// a server's bit is set and ends before any let-back begins overlaps no change that could
/// readmit the server, so it must not get it. Reading the word only before the pick would not
/// do: the server can be let back between that read and the pick, which may then see it up.
fn run(cfg: BalanceConfig) {
    let specs: Vec<ServerSpec> = (1..=SERVERS as u32)
        .map(|i| ServerSpec::new(i, format!("s{i}")).with_weight(i))
        .collect();
    let algo = format!(
        "{:?} {:?}/{}",
        cfg.algorithm, cfg.hash_type, cfg.hash_balance_factor
    );
    let lb = Arc::new(Balancer::new(cfg, specs).unwrap());
    let out = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let pickers: Vec<_> = (0..3u32)
        .map(|t| {
            let (lb, out, done) = (Arc::clone(&lb), Arc::clone(&out), Arc::clone(&done));
            let algo = algo.clone();
            thread::spawn(move || {
                // Picks made while some server was out and no let-back began.
                let mut checked = 0u32;
                let mut k = 0u32;
                // Bounded in count; keeps going while the flipper works.
                while k < PICKS || (!done.load(Ordering::SeqCst) && k < 50 * PICKS) {
                    k += 1;
                    let before = out.load(Ordering::SeqCst);
                    let src = (k ^ (t << 20)).to_be_bytes();
                    let uri = format!("/{k}/{t}");
                    let draws = [k.wrapping_mul(2_654_435_761), k];
                    let key = RequestKey {
                        source: Some(&src),
                        uri: Some(uri.as_bytes()),
                        random: &draws,
                        ..RequestKey::default()
                    };
                    let pick = lb.pick(&key);
                    let after = out.load(Ordering::SeqCst);
                    let settled = before / LET_BACK == after / LET_BACK;
                    if settled && before % LET_BACK != 0 {
                        checked += 1;
                    }
                    if let Pick::Server(i) = pick {
                        if settled {
                            assert_eq!(
                                before & (1 << i),
                                0,
                                "{algo}: picked server {i}, out for the whole pick"
                            );
                        }
                        lb.release(i);
                    }
                }
                checked
            })
        })
        .collect();
    let flipper = {
        let (lb, out, done) = (Arc::clone(&lb), Arc::clone(&out), Arc::clone(&done));
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
                    out.fetch_or(bit, Ordering::SeqCst);
                } else {
                    // Let back every server this round's partner took out.
                    for j in 1..SERVERS {
                        let b = 1u64 << j;
                        if out.load(Ordering::SeqCst) & b != 0 && j % 2 == round as usize % 2 {
                            // The bit is set: subtracting it clears it.
                            out.fetch_add(LET_BACK - b, Ordering::SeqCst);
                            lb.set_state(j, ServerState::Up, u64::from(round)).unwrap();
                            let back = if dynamic { w } else { lb.servers()[j].weight };
                            lb.set_weight(j, back, u64::from(round)).unwrap();
                        }
                    }
                    if dynamic && out.load(Ordering::SeqCst) & bit == 0 {
                        lb.set_weight(i, w, u64::from(round)).unwrap();
                    }
                }
            }
            done.store(true, Ordering::SeqCst);
        })
    };
    flipper.join().unwrap();
    let mut checked = 0;
    for p in pickers {
        checked += p.join().unwrap();
    }
    assert!(checked > 0, "{algo}: no pick ran while a server was out");
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
