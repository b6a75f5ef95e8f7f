//! The bookkeeping every HTTP request (and TCP stream) does for `show sess`: register the stream,
//! record its route, unregister it (`cargo bench -p haproxy-proxy --bench stream_registry`).
//!
//! `one_thread` is the uncontended cost; `two_threads` runs the same loop on two threads at once
//! against one table (as `nbthread 2` does) and reports the wall time per operation and thread.

use std::hint::black_box;
use std::net::SocketAddr;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use haproxy_proxy::registry::SessionTable;

fn one_stream(t: &Arc<SessionTable>, src: SocketAddr) {
    let g = t.open(black_box(0), src);
    g.live().route(black_box(1), Some(black_box(2)));
    drop(black_box(g));
}

fn registry(c: &mut Criterion) {
    let src: SocketAddr = "127.0.0.1:40000".parse().expect("address");
    let mut g = c.benchmark_group("stream_registry");
    let table = Arc::new(SessionTable::default());
    g.bench_function("open_route_close_one_thread", |b| {
        b.iter(|| one_stream(&table, src));
    });
    g.bench_function("open_route_close_two_threads", |b| {
        b.iter_custom(|iters| {
            let barrier = Arc::new(Barrier::new(2));
            let other = {
                let (table, barrier) = (Arc::clone(&table), Arc::clone(&barrier));
                std::thread::spawn(move || {
                    barrier.wait();
                    for _ in 0..iters {
                        one_stream(&table, src);
                    }
                })
            };
            barrier.wait();
            let start = Instant::now();
            for _ in 0..iters {
                one_stream(&table, src);
            }
            let mine = start.elapsed();
            let _ = other.join();
            mine.max(Duration::from_nanos(1))
        });
    });
    g.finish();
}

criterion_group!(benches, registry);
criterion_main!(benches);
