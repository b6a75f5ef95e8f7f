//! A fixed number of picks and releases for instruction counting (not a criterion bench):
//! `valgrind --tool=callgrind <this binary> <algorithm> <picks>`, with `--toggle-collect` on
//! `*Balancer::pick` or `*Balancer::release` to count one half. The work is deterministic, so
//! two runs with different pick counts give the exact instructions per pick. Algorithms:
//! `roundrobin`, `static-rr`, `leastconn`, `source-consistent`, `first`, `random2` (two draws
//! per pick, from the pick counter), at 100 servers of weights 1-3
//! (as in `benches/pick.rs`), in batches of 96 picks then their releases. A `+maxconn` suffix
//! (`roundrobin+maxconn`) gives every server a static `maxconn` of 1,000 (never reached);
//! `+minconn` a dynamic limit instead (`minconn 500 maxconn 1000`, `fullconn 10000`).
//!
//! With a third argument `time`, it also prints the wall time per pick and per release of
//! each batch: the minimum and the median over all batches (the minimum is the figure noise
//! from other processes cannot inflate; use criterion's `pick_split_cpu` for reports).
#![expect(
    clippy::unwrap_used,
    clippy::panic,
    clippy::print_stdout,
    reason = "benchmark setup and output"
)]

use std::hint::black_box;
use std::time::Instant;

use haproxy_lb::{
    Algorithm, BalanceConfig, Balancer, HashFunction, HashType, Hasher, Pick, RequestKey,
    ServerSpec,
};

/// Picks taken before their releases (as `BATCH` in `benches/pick.rs`).
const BATCH: usize = 96;

fn main() {
    let mut args = std::env::args().skip(1);
    let algo = args.next().unwrap_or_else(|| "roundrobin".into());
    let picks: usize = args.next().map_or(100_000, |a| a.parse().unwrap());
    let time = args.next().is_some_and(|a| a == "time");
    let (base, limits) = algo.split_once('+').unwrap_or((algo.as_str(), ""));
    let cfg = match base {
        "roundrobin" => BalanceConfig::new(Algorithm::RoundRobin),
        "static-rr" => BalanceConfig::new(Algorithm::StaticRr),
        "leastconn" => BalanceConfig::new(Algorithm::LeastConn),
        "source-consistent" => BalanceConfig::new(Algorithm::Source).with_hash(
            HashType::Consistent,
            Hasher {
                function: HashFunction::Sdbm,
                avalanche: true,
            },
        ),
        "first" => BalanceConfig::new(Algorithm::First),
        "random2" => BalanceConfig::new(Algorithm::Random { draws: 2 }),
        other => panic!("unknown algorithm {other}"),
    };
    let cfg = cfg.with_fullconn(10_000);
    let specs = (1..=100u32)
        .map(|i| {
            let s = ServerSpec::new(i, format!("s{i}")).with_weight(1 + i % 3);
            match limits {
                "" => s,
                "maxconn" => s.with_limits(1000, 0),
                "minconn" => s.with_limits(1000, 0).with_minconn(500),
                other => panic!("unknown limit {other}"),
            }
        })
        .collect();
    let lb = Balancer::new(cfg, specs).unwrap();
    let mut taken = [0usize; BATCH];
    let mut k = 0u32;
    let mut done = 0;
    let (mut pick_ns, mut release_ns) = (Vec::new(), Vec::new());
    while done < picks {
        let n = (picks - done).min(BATCH);
        let t0 = Instant::now();
        for slot in taken.iter_mut().take(n) {
            k = k.wrapping_add(1);
            let src = k.to_be_bytes();
            let draws = [k.wrapping_mul(0x9e37_79b9), k.wrapping_mul(0x85eb_ca6b)];
            let key = RequestKey {
                source: Some(&src),
                random: &draws,
                ..RequestKey::default()
            };
            *slot = match lb.pick(black_box(&key)) {
                Pick::Server(i) => i,
                other => panic!("unexpected {other:?}"),
            };
        }
        let t1 = Instant::now();
        for &i in taken.iter().take(n) {
            black_box(lb.release(black_box(i)));
        }
        let t2 = Instant::now();
        if time && n == BATCH {
            pick_ns.push((t1 - t0).as_nanos() as f64 / BATCH as f64);
            release_ns.push((t2 - t1).as_nanos() as f64 / BATCH as f64);
        }
        done += n;
    }
    if time {
        for (what, v) in [("pick", &mut pick_ns), ("release", &mut release_ns)] {
            v.sort_by(f64::total_cmp);
            let min = v.first().copied().unwrap_or(0.0);
            let median = v.get(v.len() / 2).copied().unwrap_or(0.0);
            println!("{algo} {what}: min {min:.1} ns, median {median:.1} ns");
        }
    }
}
