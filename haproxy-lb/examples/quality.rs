//! Balance-quality report for consistent hashing (issue 4): max/average load over
//! 1,000,000 random keys, share of keys moved on removal and on a weight change, and bounded
//! loads with `hash-balance-factor 125`. Run: `cargo run --release -p haproxy-lb --example quality`.
#![expect(clippy::print_stdout, reason = "this example prints its report")]
#![expect(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a report over a fixed, valid setup"
)]

use haproxy_lb::{
    Algorithm, BalanceConfig, Balancer, HashFunction, HashType, Hasher, Pick, RequestKey,
    ServerSpec,
};

const KEYS: u32 = 1_000_000;

fn cfg(factor: u32) -> BalanceConfig {
    let mut c = BalanceConfig::new(Algorithm::Uri(haproxy_lb::UriOptions::default())).with_hash(
        HashType::Consistent,
        Hasher {
            function: HashFunction::Sdbm,
            avalanche: true,
        },
    );
    c.hash_balance_factor = factor;
    c
}

fn key(k: u32) -> String {
    // A deterministic pseudo-random key (xorshift of the index).
    let mut x = u64::from(k) ^ 0x9e37_79b9_7f4a_7c15;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    format!("/obj/{x:016x}")
}

fn assign(lb: &Balancer, release: bool) -> Vec<usize> {
    (0..KEYS)
        .map(|k| {
            let u = key(k);
            match lb.pick(&RequestKey {
                uri: Some(u.as_bytes()),
                ..RequestKey::default()
            }) {
                Pick::Server(i) => {
                    if release {
                        lb.release(i);
                    }
                    i
                }
                other => panic!("{other:?}"),
            }
        })
        .collect()
}

fn max_avg(assigned: &[usize], n: usize) -> f64 {
    let mut counts = vec![0u32; n];
    for &i in assigned {
        counts[i] += 1;
    }
    let max = f64::from(*counts.iter().max().unwrap());
    max / (f64::from(KEYS) / n as f64)
}

fn moved(a: &[usize], b: &[usize]) -> f64 {
    a.iter().zip(b).filter(|(x, y)| x != y).count() as f64 / f64::from(KEYS)
}

fn main() {
    println!(
        "| servers | weight | points/server | max/avg | moved on removal of s1 (its share) | worst removal (max share) | 1.2/N | moved on weight 1x->2x | max/avg with factor 125 |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for n in [10u32, 100] {
        for w in [1u32, 16] {
            let specs = || {
                (1..=n)
                    .map(|i| ServerSpec::new(i, format!("s{i}")).with_weight(w))
                    .collect::<Vec<_>>()
            };
            let lb = Balancer::new(cfg(0), specs()).unwrap();
            let base = assign(&lb, true);
            let ma = max_avg(&base, n as usize);
            let share0 = base.iter().filter(|&&i| i == 0).count() as f64 / f64::from(KEYS);
            lb.set_state(0, haproxy_lb::ServerState::Down, 0).unwrap();
            let after = assign(&lb, true);
            let removed = moved(&base, &after);
            // Only the removed server's keys move, so removing server s moves its share.
            assert!(
                base.iter().zip(&after).all(|(a, b)| a == b || *a == 0),
                "a key of another server moved"
            );
            lb.set_state(0, haproxy_lb::ServerState::Up, 0).unwrap();
            lb.set_weight(0, (2 * w).min(256), 0).unwrap();
            let reweighted = moved(&base, &assign(&lb, true));
            let bounded = Balancer::new(cfg(125), specs()).unwrap();
            let held = assign(&bounded, false);
            let mb = max_avg(&held, n as usize);
            println!(
                "| {n} | {w} | {} | {ma:.3} | {removed:.4} ({share0:.4}) | {:.4} | {:.4} | {reweighted:.4} | {mb:.3} |",
                w * 16,
                ma / f64::from(n),
                1.2 / f64::from(n),
            );
        }
    }
}
