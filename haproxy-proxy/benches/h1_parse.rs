//! Request head parsing and chunked decoding throughput (`cargo bench -p haproxy-proxy`).

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use haproxy_proxy::h1::{ChunkedDecoder, H1Limits, parse_request};

const TYPICAL: &[u8] = b"GET /index.html?q=1 HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64)\r\nAccept: text/html,application/xhtml+xml\r\nAccept-Language: en-US,en;q=0.5\r\nAccept-Encoding: gzip, deflate\r\nCookie: a=1; b=2\r\nConnection: keep-alive\r\n\r\n";

fn parse(c: &mut Criterion) {
    let limits = H1Limits::default();
    let mut g = c.benchmark_group("h1");
    g.throughput(Throughput::Bytes(TYPICAL.len() as u64));
    g.bench_function("parse_request_typical", |b| {
        b.iter(|| parse_request(black_box(TYPICAL), &limits))
    });
    let mut body = Vec::new();
    for _ in 0..64 {
        body.extend_from_slice(b"400\r\n");
        body.extend(std::iter::repeat_n(b'x', 0x400));
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(b"0\r\n\r\n");
    g.throughput(Throughput::Bytes(body.len() as u64));
    g.bench_function("chunked_64k", |b| {
        b.iter(|| {
            let mut d = ChunkedDecoder::new();
            let mut pos = 0;
            while let Some(rest) = body.get(pos..)
                && let Ok(step) = d.advance(black_box(rest))
                && !d.is_done()
            {
                pos += step.consumed;
            }
            pos
        });
    });
    g.finish();
}

criterion_group!(benches, parse);
criterion_main!(benches);
