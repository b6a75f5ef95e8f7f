//! The cost of a server slot: a pick that holds its server until the slot drops (`LbPicker`,
//! with its queue hand-off machinery) against haproxy-lb's bare pick + release
//! (`cargo bench -p haproxy-proxy --bench slot`).

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use haproxy_lb::{Algorithm, BalanceConfig, Balancer, Pick, RequestKey, ServerSpec};
use haproxy_proxy::build::{BackendBalancer, LbPicker};
use haproxy_proxy::{PickServer, StreamView, Take};

fn balancer(algo: Algorithm, maxconn: u32) -> Balancer {
    let servers = (1..=10)
        .map(|i| ServerSpec::new(i, format!("s{i}")).with_limits(maxconn, 0))
        .collect();
    Balancer::new(BalanceConfig::new(algo), servers).expect("valid servers")
}

fn slots(c: &mut Criterion) {
    let view = StreamView {
        src: "127.0.0.1:40000".parse().expect("address"),
        dst: "127.0.0.1:80".parse().expect("address"),
        request: None,
    };
    let mut g = c.benchmark_group("slot");
    for (name, algo, maxconn) in [
        ("roundrobin", Algorithm::RoundRobin, 0),
        ("leastconn", Algorithm::LeastConn, 0),
        ("roundrobin_maxconn", Algorithm::RoundRobin, 100),
    ] {
        let bare = balancer(algo.clone(), maxconn);
        g.bench_function(format!("lb_pick_release_{name}_10"), |b| {
            b.iter(|| {
                if let Pick::Server(i) = bare.pick(black_box(&RequestKey::default())) {
                    bare.release(i);
                }
            })
        });
        let picker = LbPicker(Arc::new(vec![Arc::new(BackendBalancer::new(
            Some(balancer(algo, maxconn)),
            None,
            false,
        ))]));
        g.bench_function(format!("take_drop_{name}_10"), |b| {
            b.iter(|| {
                let taken = picker.take(0, black_box(&view), None);
                assert!(matches!(taken, Take::Ready(_)));
            })
        });
    }
    g.finish();
}

criterion_group!(benches, slots);
criterion_main!(benches);
