//! Lookup cost against large pattern sets (issue 3 speed targets): `src` against CIDRs,
//! `hdr(host) -i` against exact names, `path_beg` against prefixes, and a 20-term condition.
//! Each is measured at 100 patterns and at the large size to show flatness.
#![allow(missing_docs, clippy::unwrap_used, reason = "benchmark harness")]

use std::hint::black_box;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use haproxy_acl::{AclSet, Condition, SampleSource};

struct Req {
    src: SocketAddr,
    uri: String,
    headers: Vec<(String, String)>,
}

impl SampleSource for Req {
    fn src(&self) -> Option<SocketAddr> {
        Some(self.src)
    }
    fn is_http(&self) -> bool {
        true
    }
    fn method(&self) -> Option<&[u8]> {
        Some(b"GET")
    }
    fn uri(&self) -> Option<&[u8]> {
        Some(self.uri.as_bytes())
    }
    fn version(&self) -> Option<&[u8]> {
        Some(b"1.1")
    }
    fn header(&self, i: usize) -> Option<(&[u8], &[u8])> {
        self.headers
            .get(i)
            .map(|(n, v)| (n.as_bytes(), v.as_bytes()))
    }
}

/// Deterministic pseudo-random numbers (xorshift).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn cond_with_file(acl: &[&str], file: String) -> Condition {
    let file = Arc::new(file);
    let mut set = AclSet::with_loader(Arc::new(move |_: &str| Ok((*file).clone())));
    let mut w = vec!["acl", "x"];
    w.extend_from_slice(acl);
    set.parse_acl(&w).unwrap();
    set.parse_condition(&["if", "x"]).unwrap()
}

fn req(src: &str, uri: &str, host: &str) -> Req {
    Req {
        src: src.parse().unwrap(),
        uri: uri.into(),
        headers: vec![
            ("Host".into(), host.into()),
            ("User-Agent".into(), "bench/1".into()),
        ],
    }
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("lookup");
    g.measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(500))
        .sample_size(20);

    for n in [100usize, 100_000] {
        let mut rng = Rng(0x1234_5678);
        let mut nets = String::new();
        for _ in 0..n {
            let v = rng.next() as u32;
            let len = 8 + (rng.next() % 25) as u32;
            nets += &format!(
                "{}/{len}\n",
                std::net::Ipv4Addr::from(v & (u32::MAX << (32 - len)))
            );
        }
        let cond = cond_with_file(&["src", "-f", "nets"], nets);
        let hit_or_miss = [
            req("10.1.2.3:1000", "/", "a"),
            req("203.0.113.9:1000", "/", "a"),
        ];
        g.bench_function(format!("src_vs_{n}_cidrs"), |b| {
            b.iter(|| {
                hit_or_miss
                    .iter()
                    .filter(|r| cond.eval(black_box(*r)))
                    .count()
            })
        });

        let mut names = String::new();
        for i in 0..n {
            names += &format!("host{}-{i}.example.com\n", rng.next() % 1000);
        }
        let cond = cond_with_file(&["hdr(host)", "-i", "-f", "names"], names);
        let reqs = [
            req("10.0.0.1:1", "/", "HOST7-42.Example.com"),
            req("10.0.0.1:1", "/", "nothere.example.org"),
        ];
        g.bench_function(format!("hdr_host_i_vs_{n}_names"), |b| {
            b.iter(|| reqs.iter().filter(|r| cond.eval(black_box(*r))).count())
        });
    }

    for n in [100usize, 10_000, 100_000] {
        let mut rng = Rng(0xfeed);
        let mut prefixes = String::new();
        for i in 0..n {
            prefixes += &format!("/api/v{}/svc{i}/\n", rng.next() % 10);
        }
        let cond = cond_with_file(&["path_beg", "-f", "prefixes"], prefixes);
        let reqs = [
            req("10.0.0.1:1", "/api/v3/svc77/items/9?x=1", "a"),
            req("10.0.0.1:1", "/static/app.js", "a"),
        ];
        g.bench_function(format!("path_beg_vs_{n}_prefixes"), |b| {
            b.iter(|| reqs.iter().filter(|r| cond.eval(black_box(*r))).count())
        });
    }

    let mut set = AclSet::new();
    let lines: &[&[&str]] = &[
        &["acl", "a1", "path_beg", "/api", "/v1", "/v2"],
        &[
            "acl",
            "a2",
            "hdr(host)",
            "-i",
            "example.com",
            "www.example.com",
        ],
        &["acl", "a3", "src", "10.0.0.0/8", "192.168.0.0/16"],
        &["acl", "a4", "method", "GET", "HEAD"],
        &["acl", "a5", "path_end", ".js", ".css", ".png"],
        &["acl", "a6", "hdr_sub(user-agent)", "-i", "bot", "crawler"],
        &["acl", "a7", "url_param(debug)", "1"],
        &["acl", "a8", "hdr_cnt(x-forwarded-for)", "gt", "3"],
        &["acl", "a9", "path_reg", "^/admin/[0-9]+$"],
        &["acl", "a10", "hdr_dom(host)", "internal"],
    ];
    for l in lines {
        set.parse_acl(l).unwrap();
    }
    let words = [
        "if",
        "a1",
        "a2",
        "a3",
        "!a6",
        "a4",
        "or",
        "a5",
        "!a9",
        "a3",
        "or",
        "a7",
        "a8",
        "or",
        "a10",
        "!a1",
        "or",
        "HTTP_1.1",
        "METH_POST",
        "a2",
        "or",
        "{",
        "path",
        "/health",
        "}",
    ];
    let cond = set.parse_condition(&words).unwrap();
    let r = req("10.3.3.3:5000", "/static/app.png?v=3", "www.example.com");
    g.bench_function("condition_20_terms", |b| {
        b.iter(|| cond.eval(black_box(&r)))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
