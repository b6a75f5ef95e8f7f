//! Reader throughput on a generated config (lexing, conditional blocks, section grouping).

use std::fmt::Write as _;
use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

/// A config shaped like big deployments: 2,000 backends of 10 servers and 20,000 ACL lines.
fn generated() -> String {
    let mut s = String::from(
        "global\n    maxconn 50000\n\ndefaults\n    mode http\n    timeout client 5s\n",
    );
    s.push_str("\nfrontend fe\n    bind :8080\n");
    for i in 0..20_000 {
        let _ = writeln!(
            s,
            "    acl a{i} hdr(host) -i \"h{i}.example.org\" # acl {i}"
        );
    }
    for b in 0..2_000 {
        let _ = writeln!(s, "\nbackend be{b}\n    balance roundrobin");
        for v in 0..10 {
            let _ = writeln!(
                s,
                "    server s{v} 10.{}.{}.{v}:80 check inter 2s",
                b / 256,
                b % 256
            );
        }
    }
    s
}

fn bench(c: &mut Criterion) {
    let text = generated();
    let mut g = c.benchmark_group("reader");
    g.throughput(Throughput::Bytes(text.len() as u64));
    g.sample_size(10);
    g.bench_function("parse_str_with 44k lines", |b| {
        b.iter(|| haproxy_cfg::parse_str_with("bench.cfg", black_box(&text), &|_| None));
    });
    let doc = haproxy_cfg::parse_str_with("bench.cfg", &text, &|_| None);
    g.bench_function("print", |b| {
        b.iter(|| haproxy_cfg::fmt::print(black_box(&doc)))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
