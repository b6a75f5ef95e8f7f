//! Pick cost per algorithm at 10, 100 and 1,000 servers, on one thread and on two threads
//! picking concurrently from one shared balancer.
//!
//! Group `pick` measures wall time (for two threads: wall time per pick while both run).
//! Group `pick_cpu` measures the picking thread's CPU time, which other processes taking the
//! core do not inflate: on a shared build machine it is the figure to compare with targets.
//! Group `pick_split_cpu` separates the two halves at 100 servers: `pick` is the thread CPU
//! time of picks alone, `release` of releases alone (see [`bench_split`]).
#![expect(clippy::unwrap_used, clippy::panic, reason = "benchmark setup")]

use std::hint::black_box;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use criterion::{Criterion, criterion_group, criterion_main};
use haproxy_lb::{
    Algorithm, BalanceConfig, Balancer, HashFunction, HashType, Hasher, Pick, RequestKey,
    ServerSpec,
};

fn configs() -> Vec<(&'static str, BalanceConfig)> {
    let consistent = BalanceConfig::new(Algorithm::Source).with_hash(
        HashType::Consistent,
        Hasher {
            function: HashFunction::Sdbm,
            avalanche: true,
        },
    );
    vec![
        ("roundrobin", BalanceConfig::new(Algorithm::RoundRobin)),
        ("static-rr", BalanceConfig::new(Algorithm::StaticRr)),
        ("leastconn", BalanceConfig::new(Algorithm::LeastConn)),
        ("first", BalanceConfig::new(Algorithm::First)),
        (
            "random2",
            BalanceConfig::new(Algorithm::Random { draws: 2 }),
        ),
        ("source-map", BalanceConfig::new(Algorithm::Source)),
        ("source-consistent", consistent),
    ]
}

fn balancer(cfg: BalanceConfig, n: u32) -> Balancer {
    let specs = (1..=n)
        .map(|i| ServerSpec::new(i, format!("s{i}")).with_weight(1 + i % 3))
        .collect();
    Balancer::new(cfg, specs).unwrap()
}

fn one(lb: &Balancer, k: u32) {
    let src = k.to_be_bytes();
    let draws = [k.wrapping_mul(2_654_435_761), k.rotate_left(13)];
    let key = RequestKey {
        source: Some(&src),
        random: &draws,
        ..RequestKey::default()
    };
    if let Pick::Server(i) = lb.pick(black_box(&key)) {
        lb.release(i);
    }
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("pick");
    g.warm_up_time(Duration::from_millis(100))
        .measurement_time(Duration::from_millis(400))
        .sample_size(10);
    for (name, cfg) in configs() {
        for n in [10u32, 100, 1000] {
            let lb = Arc::new(balancer(cfg.clone(), n));
            g.bench_function(format!("{name}/{n}/1thread"), |b| {
                let mut k = 0u32;
                b.iter(|| {
                    k = k.wrapping_add(1);
                    one(&lb, k);
                });
            });
            g.bench_function(format!("{name}/{n}/2threads"), |b| {
                b.iter_custom(|iters| {
                    let start = Instant::now();
                    let hs: Vec<_> = (0..2u32)
                        .map(|t| {
                            let lb = Arc::clone(&lb);
                            thread::spawn(move || {
                                for k in 0..iters {
                                    one(&lb, (k as u32) ^ (t << 24));
                                }
                            })
                        })
                        .collect();
                    for h in hs {
                        h.join().unwrap();
                    }
                    start.elapsed()
                });
            });
        }
    }
    g.finish();
}

/// CPU time of the measuring thread, from `/proc/thread-self/schedstat` (nanoseconds on CPU).
/// The kernel refreshes it at scheduler ticks (a few ms), so samples must be long: the group
/// using it measures for several seconds.
struct ThreadCpu;

fn cpu_now() -> Duration {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    let ns = text
        .split_whitespace()
        .next()
        .and_then(|w| w.parse().ok())
        .unwrap_or(0);
    Duration::from_nanos(ns)
}

impl Measurement for ThreadCpu {
    type Intermediate = Duration;
    type Value = Duration;

    fn start(&self) -> Duration {
        cpu_now()
    }
    fn end(&self, i: Duration) -> Duration {
        cpu_now().saturating_sub(i)
    }
    fn add(&self, v1: &Duration, v2: &Duration) -> Duration {
        *v1 + *v2
    }
    fn zero(&self) -> Duration {
        Duration::ZERO
    }
    fn to_f64(&self, v: &Duration) -> f64 {
        v.as_nanos() as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        WallTime.formatter()
    }
}

fn bench_cpu(c: &mut Criterion<ThreadCpu>) {
    let mut g = c.benchmark_group("pick_cpu");
    g.warm_up_time(Duration::from_millis(200))
        .measurement_time(Duration::from_secs(3))
        .sample_size(10);
    for (name, cfg) in configs() {
        for n in [10u32, 100, 1000] {
            let lb = balancer(cfg.clone(), n);
            g.bench_function(format!("{name}/{n}/1thread"), |b| {
                let mut k = 0u32;
                b.iter(|| {
                    k = k.wrapping_add(1);
                    one(&lb, k);
                });
            });
        }
    }
    g.finish();
}

/// Picks taken before their releases in [`bench_split`]: below the server count, so that
/// under leastconn each server holds at most one of them.
const BATCH: usize = 96;

/// This thread's CPU time, exact to the nanosecond (`CLOCK_THREAD_CPUTIME_ID`).
fn thread_cpu() -> Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    Duration::new(
        u64::try_from(t.tv_sec).unwrap_or(0),
        u32::try_from(t.tv_nsec).unwrap_or(0),
    )
}

/// Which part of a batch [`split`] times.
#[derive(Clone, Copy)]
enum Half {
    /// The picks.
    Pick,
    /// The releases.
    Release,
    /// Nothing: two clock reads in a row, the overhead included in each batch of the others.
    Clock,
}

/// Times picks alone or releases alone: [`BATCH`] picks in a row, then their releases in the
/// same order, the clock read around one half only. Each batch's figure includes one clock
/// read's worth of overhead, which [`Half::Clock`] measures on its own (per pick of a batch).
fn split(lb: &Balancer, iters: u64, half: Half) -> Duration {
    let mut total = Duration::ZERO;
    let mut taken = [0usize; BATCH];
    let mut k = 0u32;
    let mut done = 0u64;
    while done < iters {
        let n = usize::try_from(iters - done).map_or(BATCH, |left| left.min(BATCH));
        let t0 = thread_cpu();
        if !matches!(half, Half::Clock) {
            for slot in taken.iter_mut().take(n) {
                k = k.wrapping_add(1);
                let src = k.to_be_bytes();
                let key = RequestKey {
                    source: Some(&src),
                    ..RequestKey::default()
                };
                *slot = match lb.pick(black_box(&key)) {
                    Pick::Server(i) => i,
                    other => panic!("unexpected {other:?}"),
                };
            }
        }
        let t1 = thread_cpu();
        if matches!(half, Half::Clock) {
            total += t1 - t0;
            done += n as u64;
            continue;
        }
        for &i in taken.iter().take(n) {
            black_box(lb.release(black_box(i)));
        }
        let t2 = thread_cpu();
        total += if matches!(half, Half::Pick) {
            t1 - t0
        } else {
            t2 - t1
        };
        done += n as u64;
    }
    total
}

/// The pick target's two halves at 100 servers, for the four algorithms the target names,
/// and the clock overhead each of their figures includes.
fn bench_split(c: &mut Criterion<ThreadCpu>) {
    let mut g = c.benchmark_group("pick_split_cpu");
    g.warm_up_time(Duration::from_millis(200))
        .measurement_time(Duration::from_secs(3))
        .sample_size(10);
    for (name, cfg) in configs() {
        if !matches!(
            name,
            "roundrobin" | "static-rr" | "leastconn" | "source-consistent"
        ) {
            continue;
        }
        let lb = balancer(cfg, 100);
        for (label, half) in [("pick", Half::Pick), ("release", Half::Release)] {
            g.bench_function(format!("{name}/100/{label}"), |b| {
                b.iter_custom(|iters| split(&lb, iters, half));
            });
        }
    }
    let lb = balancer(BalanceConfig::new(Algorithm::RoundRobin), 100);
    g.bench_function("clock-overhead", |b| {
        b.iter_custom(|iters| split(&lb, iters, Half::Clock));
    });
    g.finish();
}

/// The cost of a runtime change (`set weight` back and forth on one server): the writer
/// rebuilds what the algorithm keeps (for roundrobin, the replayed fwrr schedule).
fn bench_change(c: &mut Criterion) {
    let mut g = c.benchmark_group("change");
    g.warm_up_time(Duration::from_millis(100))
        .measurement_time(Duration::from_millis(500))
        .sample_size(10);
    for (name, cfg) in configs() {
        if !cfg.is_dynamic() {
            continue;
        }
        for n in [10u32, 100, 1000] {
            let lb = balancer(cfg.clone(), n);
            g.bench_function(format!("{name}/{n}"), |b| {
                let mut w = 1;
                b.iter(|| {
                    w = 3 - w;
                    lb.set_weight(0, w, 0).unwrap();
                    one(&lb, w);
                });
            });
        }
    }
    g.finish();
}

criterion_group!(benches, bench, bench_change);
criterion_group! {
    name = cpu;
    config = Criterion::default().with_measurement(ThreadCpu);
    targets = bench_cpu, bench_split
}
criterion_main!(benches, cpu);
