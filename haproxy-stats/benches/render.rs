//! Rendering cost of a large `show stat` / exporter / page / CLI round trip.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use haproxy_stats::html::{self, PageOptions};
use haproxy_stats::prometheus::{self, Scopes};
use haproxy_stats::{
    BackendStats, FrontendStats, Info, Mode, ProxyStats, RowOptions, ServerStats, ServerStatus,
    Snapshot, StatFilter, csv, rows,
};

/// 50 proxies with a frontend, a backend and 20 servers each: 1,100 `show stat` lines.
fn snapshot() -> Snapshot {
    let proxies = (0..50u32)
        .map(|p| ProxyStats {
            name: format!("px{p}"),
            iid: p + 2,
            mode: Mode::Http,
            frontend: Some(FrontendStats {
                slim: 1000,
                stot: u64::from(p) * 1000,
                ..FrontendStats::default()
            }),
            backend: Some(BackendStats {
                up: true,
                has_servers: true,
                algo: "roundrobin".into(),
                lastsess: 3,
                ..BackendStats::default()
            }),
            servers: (0..20u32)
                .map(|s| ServerStats {
                    name: format!("srv{s}"),
                    sid: s + 1,
                    status: ServerStatus::Up,
                    weight: 1,
                    uweight: 1,
                    stot: u64::from(s) * 77,
                    lastsess: 1,
                    addr: format!("10.0.{p}.{s}:80"),
                    ..ServerStats::default()
                })
                .collect(),
            ..ProxyStats::default()
        })
        .collect();
    Snapshot {
        proxies,
        module_columns: true,
    }
}

fn bench(c: &mut Criterion) {
    let snap = snapshot();
    let info = Info::default();
    c.bench_function("show_stat_csv_1100_rows", |b| {
        b.iter(|| {
            csv::render(
                &rows(
                    black_box(&snap),
                    &StatFilter::default(),
                    RowOptions::default(),
                ),
                true,
            )
        })
    });
    c.bench_function("prometheus_1100_objects", |b| {
        b.iter(|| prometheus::render(black_box(&snap), &info, Scopes::default()))
    });
    c.bench_function("html_page_1100_objects", |b| {
        b.iter(|| html::render(black_box(&snap), &info, &PageOptions::default()))
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
