//! The cost of `h1-case-adjust` on a written response head (`cargo bench -p haproxy-proxy
//! --bench h1_case`): the head as the proxy writes it, then the same head respelled by a map of
//! five names, which is the work added per head only when a proxy enables the option.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use haproxy_proxy::h1::{CaseMap, H1Limits, Parsed, parse_response};

const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\nDate: Sun, 22 Nov 2026 10:00:00 GMT\r\nServer: origin\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 1234\r\nCache-Control: no-cache\r\nX-Custom: 1\r\nSet-Cookie: a=1\r\nVary: Accept-Encoding\r\n\r\n";

fn case(c: &mut Criterion) {
    let Ok(Parsed::Complete { head, .. }) = parse_response(RESPONSE, &H1Limits::default()) else {
        return;
    };
    let map = CaseMap::new([
        ("content-type", "Content-Type"),
        ("content-length", "Content-Length"),
        ("x-custom", "X-CUSTOM"),
        ("cache-control", "Cache-Control"),
        ("connection", "Connection"),
    ]);
    let mut g = c.benchmark_group("h1_case");
    let mut out = Vec::with_capacity(512);
    g.bench_function("write_head", |b| {
        b.iter(|| {
            out.clear();
            black_box(&head).write_to(&mut out);
            out.len()
        })
    });
    g.bench_function("write_head_adjusted", |b| {
        b.iter(|| {
            out.clear();
            black_box(&head).write_to(&mut out);
            black_box(&map).adjust_head(&mut out);
            out.len()
        })
    });
    g.finish();
}

criterion_group!(benches, case);
criterion_main!(benches);
