//! Differential test against real HAProxy 2.6: the cases in tests/data/haproxy-2.6/cases.txt are
//! turned into one config (a backend per case, `http-request return status 200 if <cond>`, else
//! 403), HAProxy answers them on loopback, and our engine must give the same verdicts.
//!
//! `recorded_verdicts_match` runs without HAProxy against verdicts.txt. `live_haproxy_agrees` runs
//! HAProxy (skips when it is missing, fails under CI=true); with HAPROXY_ACL_RECORD=1 it rewrites
//! verdicts.txt (see tests/data/haproxy-2.6/record.sh).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use haproxy_acl::AclSet;

use crate::req::Req;

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/haproxy-2.6")
}

#[derive(Debug)]
struct Case {
    n: usize,
    acls: Vec<String>,
    cond: String,
    method: String,
    uri: String,
    headers: Vec<(String, String)>,
}

fn with_files(s: &str) -> String {
    s.replace("FILE:", &format!("{}/", data_dir().display()))
}

fn cases() -> Vec<Case> {
    let text = std::fs::read_to_string(data_dir().join("cases.txt")).unwrap();
    let mut out = Vec::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let f: Vec<&str> = line.split("@@").map(str::trim).collect();
        assert_eq!(f.len(), 4, "bad case line {line}");
        let acls = f[0]
            .split(";;")
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(with_files)
            .collect();
        let (method, uri) = f[2].split_once(' ').unwrap();
        let mut headers: Vec<(String, String)> = f[3]
            .split("^^")
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|h| {
                let (n, v) = h.split_once(':').unwrap();
                (n.trim().to_owned(), v.trim().to_owned())
            })
            .collect();
        let n = out.len();
        if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
            headers.insert(0, ("Host".into(), "test.local".into()));
        }
        headers.push(("X-Case".into(), n.to_string()));
        headers.push(("Connection".into(), "close".into()));
        out.push(Case {
            n,
            acls,
            cond: f[1].to_owned(),
            method: method.into(),
            uri: uri.into(),
            headers,
        });
    }
    out
}

/// Splits words the way the config tokenizer does for these cases (spaces, double quotes).
fn words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut any = false;
    for c in s.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                any = true;
            }
            ' ' if !quoted => {
                if any {
                    out.push(std::mem::take(&mut cur));
                }
                any = false;
            }
            _ => {
                cur.push(c);
                any = true;
            }
        }
    }
    if any {
        out.push(cur);
    }
    out
}

fn our_verdict(c: &Case, port: u16) -> bool {
    let mut set = AclSet::new();
    for a in &c.acls {
        set.parse_acl(&words(a))
            .unwrap_or_else(|e| panic!("case {}: {a}: {e}", c.n));
    }
    let mut w = vec!["if".to_owned()];
    w.extend(words(&c.cond));
    let cond = set
        .parse_condition(&w)
        .unwrap_or_else(|e| panic!("case {}: {e}", c.n));
    let req = Req {
        method: c.method.clone(),
        uri: c.uri.clone(),
        version: "1.1".into(),
        headers: c.headers.clone(),
        src: Some("127.0.0.1:40000".parse().unwrap()),
        dst: Some(format!("127.0.0.1:{port}").parse().unwrap()),
        ..Req::default()
    };
    cond.eval(&req)
}

fn recorded() -> Vec<(usize, u16)> {
    std::fs::read_to_string(data_dir().join("verdicts.txt"))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let (n, s) = l.split_once(' ').unwrap();
            (n.parse().unwrap(), s.parse().unwrap())
        })
        .collect()
}

#[test]
fn recorded_verdicts_match() {
    let cases = cases();
    assert!(cases.len() >= 60);
    let rec = recorded();
    assert_eq!(
        rec.len(),
        cases.len(),
        "verdicts.txt is stale; run record.sh"
    );
    let mut bad = Vec::new();
    for (c, (n, status)) in cases.iter().zip(rec) {
        assert_eq!(c.n, n);
        if our_verdict(c, 80) != (status == 200) {
            bad.push(format!(
                "case {n}: haproxy {status}, {:?} if {} on {} {} {:?}",
                c.acls, c.cond, c.method, c.uri, c.headers
            ));
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

fn config(cases: &[Case], port: u16) -> String {
    let mut s = format!(
        "defaults\n  mode http\n  timeout client 5s\n  timeout server 5s\n  timeout connect 5s\n\
         frontend fe\n  bind 127.0.0.1:{port}\n"
    );
    for c in cases {
        s += &format!(
            "  use_backend be_{0} if {{ req.hdr(x-case) -m str {0} }}\n",
            c.n
        );
    }
    for c in cases {
        s += &format!("backend be_{}\n", c.n);
        for a in &c.acls {
            s += &format!("  {a}\n");
        }
        s += &format!(
            "  http-request return status 200 if {}\n  http-request return status 403\n",
            c.cond
        );
    }
    s
}

struct Proc(Child);
impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A scratch dir in the temp dir, removed on drop (also when the test fails).
struct TempDir(PathBuf);
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// How many times HAProxy is started in all when its port was taken between the lookup and its
/// bind (by a parallel test), each time on a fresh port.
const BIND_ATTEMPTS: usize = 3;

/// Starts `bin` on `config(port)` for a free port; once it listens, returns it and the port.
/// Retries with a fresh port when HAProxy exits saying it cannot bind.
fn start_on_free_port(bin: &Path, dir: &Path, config: impl Fn(u16) -> String) -> (Proc, u16) {
    let mut attempt = 1;
    loop {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let cfg = dir.join("diff.cfg");
        std::fs::write(&cfg, config(port)).unwrap();
        let check = Command::new(bin)
            .arg("-c")
            .arg("-f")
            .arg(&cfg)
            .output()
            .unwrap();
        assert!(
            check.status.success(),
            "{}",
            String::from_utf8_lossy(&check.stderr)
        );
        let stderr = dir.join("stderr");
        let mut p = Proc(
            Command::new(bin)
                .arg("-db")
                .arg("-f")
                .arg(&cfg)
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(&stderr).unwrap())
                .spawn()
                .unwrap(),
        );
        let start = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if p.0.try_wait().unwrap().is_some() {
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "haproxy did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        if p.0.try_wait().unwrap().is_none() {
            return (p, port);
        }
        let said = std::fs::read_to_string(&stderr).unwrap_or_default();
        assert!(
            attempt < BIND_ATTEMPTS && said.contains("cannot bind"),
            "haproxy exited (start {attempt}): {said}"
        );
        attempt += 1;
    }
}

fn ask(port: u16, c: &Case) -> u16 {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut req = format!("{} {} HTTP/1.1\r\n", c.method, c.uri);
    for (n, v) in &c.headers {
        req += &format!("{n}: {v}\r\n");
    }
    req += "\r\n";
    s.write_all(req.as_bytes()).unwrap();
    let mut buf = Vec::new();
    let _ = s.take(64 * 1024).read_to_end(&mut buf);
    let text = String::from_utf8_lossy(&buf);
    text.split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

#[test]
fn live_haproxy_agrees() {
    let Some(bin) = ["/usr/sbin/haproxy", "/usr/local/sbin/haproxy"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .or_else(|| {
            std::env::var_os("PATH").and_then(|p| {
                std::env::split_paths(&p)
                    .map(|d| d.join("haproxy"))
                    .find(|p| p.exists())
            })
        })
    else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "haproxy is required when CI=true"
        );
        eprintln!("skipping: haproxy not found");
        return;
    };
    let cases = cases();
    let dir =
        TempDir(std::env::temp_dir().join(format!("haproxy-acl-diff-{}", std::process::id())));
    std::fs::create_dir_all(&dir.0).unwrap();
    let (_p, port) = start_on_free_port(&bin, &dir.0, |port| config(&cases, port));
    let statuses: Vec<u16> = cases.iter().map(|c| ask(port, c)).collect();
    if std::env::var("HAPROXY_ACL_RECORD").as_deref() == Ok("1") {
        let mut out =
            String::from("# case-number status (recorded from HAProxy 2.6 by record.sh)\n");
        for (c, s) in cases.iter().zip(&statuses) {
            out += &format!("{} {s}\n", c.n);
        }
        std::fs::write(data_dir().join("verdicts.txt"), out).unwrap();
    }
    let mut bad = Vec::new();
    for (c, status) in cases.iter().zip(&statuses) {
        assert!(
            *status == 200 || *status == 403,
            "case {}: unexpected status {status}",
            c.n
        );
        if our_verdict(c, port) != (*status == 200) {
            bad.push(format!(
                "case {}: haproxy {status}, {:?} if {} on {} {}",
                c.n, c.acls, c.cond, c.method, c.uri
            ));
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}
