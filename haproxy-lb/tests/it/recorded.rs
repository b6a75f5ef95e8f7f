//! Compatibility with recordings of real HAProxy 2.6 (see tests/data/haproxy-2.6/README.md).

use std::fs;
use std::path::{Path, PathBuf};

use haproxy_lb::{
    Algorithm, BalanceConfig, Balancer, HashFunction, HashType, Hasher, Pick, RequestKey,
    ServerSpec, ServerState, hash,
};

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/haproxy-2.6")
}

fn parse_algorithm(words: &[&str]) -> Algorithm {
    match words {
        ["roundrobin"] => Algorithm::RoundRobin,
        ["static-rr"] => Algorithm::StaticRr,
        ["leastconn"] => Algorithm::LeastConn,
        ["first"] => Algorithm::First,
        ["source"] => Algorithm::Source,
        ["uri", opts @ ..] => {
            let mut o = haproxy_lb::UriOptions::default();
            let mut it = opts.iter();
            while let Some(w) = it.next() {
                match *w {
                    "len" => o.len = it.next().unwrap().parse().unwrap(),
                    "depth" => o.depth = Some(it.next().unwrap().parse().unwrap()),
                    "whole" => o.whole = true,
                    "path-only" => o.path_only = true,
                    other => panic!("unknown uri option {other}"),
                }
            }
            Algorithm::Uri(o)
        }
        ["url_param", p] => Algorithm::UrlParam((*p).to_owned()),
        ["hdr(x-key)"] => Algorithm::Hdr {
            name: "x-key".into(),
            use_domain_only: false,
        },
        ["hdr(x-key)", "use_domain_only"] => Algorithm::Hdr {
            name: "x-key".into(),
            use_domain_only: true,
        },
        other => panic!("unknown balance {other:?}"),
    }
}

/// A recorded scenario: the setup lines turned into a balancer, plus the remaining lines.
fn load(text: &str) -> (Balancer, Vec<String>) {
    let mut cfg = BalanceConfig::new(Algorithm::RoundRobin);
    let mut servers = Vec::new();
    let mut rest = Vec::new();
    let mut unreachable = Vec::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["balance", algo @ ..] => cfg.algorithm = parse_algorithm(algo),
            ["option", "allbackups"] => cfg.allbackups = true,
            ["hash-type", ht, f, more @ ..] => {
                let ht = if *ht == "consistent" {
                    HashType::Consistent
                } else {
                    HashType::MapBased
                };
                let function = HashFunction::from_keyword(f).unwrap();
                cfg = cfg.with_hash(
                    ht,
                    Hasher {
                        function,
                        avalanche: more == ["avalanche"],
                    },
                );
            }
            ["server", name, "id", id, opts @ ..] => {
                let mut s = ServerSpec::new(id.parse().unwrap(), *name);
                let mut it = opts.iter();
                while let Some(o) = it.next() {
                    match *o {
                        "weight" => s.weight = it.next().unwrap().parse().unwrap(),
                        "maxconn" => s.maxconn = it.next().unwrap().parse().unwrap(),
                        "backup" => s.backup = true,
                        "disabled" => s.initial_state = ServerState::Maintenance,
                        "check" => {}
                        "inter" => {
                            it.next();
                        }
                        // Checked servers start UP; the first failed check takes them down.
                        "unreachable" => unreachable.push(servers.len()),
                        other => panic!("unknown server option {other}"),
                    }
                }
                servers.push(s);
            }
            _ => rest.push(line.to_owned()),
        }
    }
    let lb = Balancer::new(cfg, servers).unwrap();
    for i in unreachable {
        lb.set_state(i, ServerState::Down, 0).unwrap();
    }
    (lb, rest)
}

fn name_of(lb: &Balancer, p: Pick) -> String {
    match p {
        Pick::Server(i) => lb.servers()[i].name.clone(),
        Pick::NoServer => "-".into(),
        other => format!("{other:?}"),
    }
}

fn files(dir: &str) -> Vec<PathBuf> {
    let mut v: Vec<_> = fs::read_dir(data().join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    v.sort();
    v
}

#[test]
fn sequences_match_haproxy() {
    let all = files("sequences");
    assert!(all.len() >= 24, "recordings missing");
    let mut failures = Vec::new();
    for path in all {
        let text = fs::read_to_string(&path).unwrap();
        let (lb, steps) = load(&text);
        let mut pending_error: Option<String> = None;
        for step in steps {
            let words: Vec<&str> = step.split_whitespace().collect();
            match words.as_slice() {
                ["picks", expected @ ..] => {
                    let got: Vec<String> = expected
                        .iter()
                        .map(|_| {
                            let p = lb.pick(&RequestKey::default());
                            let n = name_of(&lb, p);
                            if let Pick::Server(i) = p {
                                lb.release(i);
                            }
                            n
                        })
                        .collect();
                    if got != expected {
                        failures.push(format!(
                            "{}: want {expected:?}\n got {got:?}",
                            path.display()
                        ));
                        break;
                    }
                }
                ["set", "weight", srv, w] => {
                    let i = lb.index_of(srv).unwrap();
                    pending_error = lb
                        .set_weight(i, w.parse().unwrap(), 0)
                        .err()
                        .map(|e| e.haproxy_message().unwrap().to_owned());
                }
                ["disable", "server", srv] => {
                    let i = lb.index_of(srv).unwrap();
                    lb.set_state(i, ServerState::Maintenance, 0).unwrap();
                }
                ["enable", "server", srv] => {
                    let i = lb.index_of(srv).unwrap();
                    lb.set_state(i, ServerState::Up, 0).unwrap();
                }
                ["error", ..] => {
                    let want = step.strip_prefix("error ").unwrap();
                    assert_eq!(
                        pending_error.take().as_deref(),
                        Some(want),
                        "{}",
                        path.display()
                    );
                }
                other => panic!("unknown step {other:?}"),
            }
            if !step.starts_with("set ") {
                assert_eq!(
                    pending_error.take(),
                    None,
                    "{}: unexpected error",
                    path.display()
                );
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn key_for<'a>(algo: &Algorithm, key: &'a str, buf: &'a mut Vec<u8>) -> RequestKey<'a> {
    match algo {
        Algorithm::Source => {
            let ip: std::net::Ipv4Addr = key.parse().unwrap();
            *buf = ip.octets().to_vec();
            RequestKey {
                source: Some(buf),
                ..RequestKey::default()
            }
        }
        Algorithm::UrlParam(_) => {
            *buf = format!("/p?x=1&k={key}&y=2").into_bytes();
            RequestKey {
                uri: Some(buf),
                ..RequestKey::default()
            }
        }
        Algorithm::Hdr { .. } => RequestKey {
            header: Some(key.as_bytes()),
            ..RequestKey::default()
        },
        _ => RequestKey {
            uri: Some(key.as_bytes()),
            ..RequestKey::default()
        },
    }
}

#[test]
fn hashed_keys_land_where_haproxy_puts_them() {
    let all = files("hash");
    assert!(all.len() >= 81, "recordings missing: {}", all.len());
    let mut failures = Vec::new();
    for path in all {
        let text = fs::read_to_string(&path).unwrap();
        let (lb, lines) = load(&text);
        let (mut total, mut wrong) = (0, 0);
        for line in lines {
            let words: Vec<&str> = line.split_whitespace().collect();
            match words.as_slice() {
                ["key", ..] => {}
                ["set", "weight", srv, w] => {
                    let i = lb.index_of(srv).unwrap();
                    let w = match w.strip_suffix('%') {
                        Some(pct) => lb.servers()[i].weight * pct.parse::<u32>().unwrap() / 100,
                        None => w.parse().unwrap(),
                    };
                    lb.set_weight(i, w, 0).unwrap();
                    continue;
                }
                ["disable", "server", srv] => {
                    let i = lb.index_of(srv).unwrap();
                    lb.set_state(i, ServerState::Maintenance, 0).unwrap();
                    continue;
                }
                ["enable", "server", srv] => {
                    let i = lb.index_of(srv).unwrap();
                    lb.set_state(i, ServerState::Up, 0).unwrap();
                    continue;
                }
                other => panic!("{}: unknown line {other:?}", path.display()),
            }
            let mut w = line.split_whitespace();
            assert_eq!(w.next(), Some("key"));
            let (k, want) = (w.next().unwrap(), w.next().unwrap());
            let mut buf = Vec::new();
            let p = lb.pick(&key_for(&lb.config().algorithm, k, &mut buf));
            total += 1;
            if name_of(&lb, p) != want {
                wrong += 1;
            }
            if let Pick::Server(i) = p {
                lb.release(i);
            }
        }
        assert!(total >= 1000, "{}: only {total} keys", path.display());
        if wrong > 0 {
            failures.push(format!("{}: {wrong}/{total} differ", path.display()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn hash_functions_match_haproxy_converters() {
    let text = fs::read_to_string(data().join("hash_functions.txt")).unwrap();
    let mut n = 0;
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let mut w = line.split_whitespace();
        let input = w.next().unwrap().as_bytes();
        let want: Vec<u32> = w.map(|x| x.parse().unwrap()).collect();
        let plain = [
            hash::sdbm(input),
            hash::djb2(input),
            hash::wt6(input),
            hash::crc32(input),
        ];
        let got: Vec<u32> = plain
            .iter()
            .copied()
            .chain(plain.iter().map(|&h| hash::avalanche(h)))
            .collect();
        assert_eq!(got, want, "{line}");
        n += 1;
    }
    assert!(n >= 7);
}
