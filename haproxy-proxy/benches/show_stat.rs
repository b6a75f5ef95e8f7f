//! What one `show stat` costs the proxy: building the snapshot from the live registry and
//! rendering the CSV, for 50 backends of 20 servers (`cargo bench -p haproxy-proxy --bench
//! show_stat`). The load test in haproxy-bin polls this every 10 ms.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use haproxy_cfg::load::{SystemEnv, load};
use haproxy_cfg::parse_str;
use haproxy_proxy::admin::snapshot;
use haproxy_stats::{RowOptions, StatFilter, csv, rows};

/// The daemon's allocator (haproxy-bin), so the figures are the daemon's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const BACKENDS: usize = 50;
const SERVERS: usize = 20;

fn config() -> String {
    let mut cfg = String::from(
        "defaults\n mode http\n timeout connect 1s\n timeout client 1s\n timeout server 1s\n\
         frontend fe\n bind 127.0.0.1:0\n default_backend be0\n",
    );
    for b in 0..BACKENDS {
        cfg.push_str(&format!("backend be{b}\n balance roundrobin\n"));
        for s in 0..SERVERS {
            cfg.push_str(&format!(
                " server s{s} 127.0.0.1:{} weight {}\n",
                10_000 + s,
                s + 1
            ));
        }
    }
    cfg
}

fn show_stat(c: &mut Criterion) {
    let loaded = load(&[parse_str("bench.cfg", &config())], &SystemEnv);
    let Ok(rt) = haproxy_proxy::build::build(&loaded.config) else {
        return;
    };
    let reg = rt.registry;
    let mut g = c.benchmark_group("show_stat_50x20");
    g.bench_function("snapshot", |b| b.iter(|| snapshot(black_box(&reg))));
    g.bench_function("snapshot_and_csv", |b| {
        b.iter(|| {
            let snap = snapshot(black_box(&reg));
            csv::render(
                &rows(&snap, &StatFilter::default(), RowOptions::default()),
                snap.module_columns,
            )
        })
    });
    let snap = snapshot(&reg);
    g.bench_function("rows_only", |b| {
        b.iter(|| {
            rows(
                black_box(&snap),
                &StatFilter::default(),
                RowOptions::default(),
            )
        })
    });
    let rs = rows(&snap, &StatFilter::default(), RowOptions::default());
    g.bench_function("csv_only", |b| {
        b.iter(|| csv::render(black_box(&rs), snap.module_columns))
    });
    g.finish();
}

criterion_group!(benches, show_stat);
criterion_main!(benches);
