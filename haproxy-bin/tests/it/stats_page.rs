//! The stats page and the Prometheus exporter served by the daemon: authentication, the CSV and
//! JSON forms, the admin form's outcome codes compared with real HAProxy 2.6, and the exporter's
//! output read by the `prometheus_client` parser.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::run::{Proxy, TempDir, body, free_port, request};

const REAL_HAPROXY: &str = "/usr/sbin/haproxy";

fn config(fe: u16, a1: u16, a2: u16, st: u16, ro: u16) -> String {
    format!(
        "global\n    maxconn 100\n\
         defaults\n    mode http\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n\
         frontend www\n    bind 127.0.0.1:{fe}\n    http-request use-service prometheus-exporter if {{ path /metrics }}\n    default_backend apps\n\
         backend apps\n    balance roundrobin\n    server app1 127.0.0.1:{a1}\n    server app2 127.0.0.1:{a2}\n\
         listen app1\n    bind 127.0.0.1:{a1}\n    http-request return status 200 content-type text/plain string app1\n\
         listen app2\n    bind 127.0.0.1:{a2}\n    http-request return status 200 content-type text/plain string app2\n\
         listen stats\n    bind 127.0.0.1:{st}\n    stats enable\n    stats uri /stats\n    stats realm My\\ Stats\n    stats auth admin:secret\n    stats admin if TRUE\n\
         listen readonly\n    bind 127.0.0.1:{ro}\n    stats enable\n    stats uri /ro\n    stats admin if FALSE\n"
    )
}

/// "admin:secret"
const CREDS: &str = "Authorization: Basic YWRtaW46c2VjcmV0\r\n";

fn post(port: u16, path: &str, extra: &str, form: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: test\r\n{extra}Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{form}",
        form.len()
    )
    .expect("send");
    let mut out = String::new();
    s.read_to_string(&mut out).expect("read");
    out
}

/// The status line and the named header fields (lower-cased names), in that order.
fn head_of(resp: &str, fields: &[&str]) -> Vec<String> {
    let head = resp.split("\r\n\r\n").next().unwrap_or_default();
    let mut lines = head.lines();
    let mut out = vec![lines.next().unwrap_or_default().to_owned()];
    for l in lines {
        let (name, value) = l.split_once(':').unwrap_or((l, ""));
        let name = name.to_ascii_lowercase();
        if fields.contains(&name.as_str()) {
            out.push(format!("{name}: {}", value.trim()));
        }
    }
    out
}

/// The exchanges compared with real HAProxy: (description, response head fields).
fn exchanges(st: u16, ro: u16) -> Vec<(&'static str, Vec<String>)> {
    let fields = [
        "www-authenticate",
        "location",
        "content-type",
        "cache-control",
    ];
    let forms = [
        ("done", "s=app1&action=drain&b=%232"),
        ("part", "s=app2&s=nope&action=ready&b=apps"),
        ("none", "action=ready&b=apps"),
        ("bad action", "s=app1&action=explode&b=apps"),
        ("bad backend", "s=app1&action=ready&b=nothere"),
        ("only unknown servers", "s=zz&action=ready&b=apps"),
        ("back to ready", "s=app1&action=ready&b=apps"),
    ];
    let mut out = vec![
        (
            "no credentials",
            head_of(&request(st, "/stats", ""), &fields),
        ),
        (
            "wrong credentials",
            head_of(
                &request(st, "/stats", "Authorization: Basic YWRtaW46eA==\r\n"),
                &fields,
            ),
        ),
        (
            "csv",
            head_of(&request(st, "/stats;csv;norefresh", CREDS), &fields),
        ),
    ];
    for (what, form) in forms {
        out.push((what, head_of(&post(st, "/stats", CREDS, form), &fields)));
    }
    out.push((
        "admin not granted",
        head_of(&post(ro, "/ro", "", "s=app1&action=maint&b=apps"), &fields),
    ));
    out
}

/// A daemon running [`config`] on free ports from a scratch folder; stopped, then the folder
/// removed, on drop.
struct StatsProxy {
    _proxy: Proxy,
    _dir: TempDir,
    /// The `www` frontend.
    fe: u16,
    /// The `stats` listener (admin granted).
    st: u16,
    /// The `readonly` stats listener.
    ro: u16,
}

impl StatsProxy {
    /// Writes [`config`] in a scratch folder named `tag` and starts `exe` on it.
    fn start(exe: &str, tag: &str) -> StatsProxy {
        let dir = TempDir::new(tag);
        let (fe, a1, a2, st, ro) = (
            free_port(),
            free_port(),
            free_port(),
            free_port(),
            free_port(),
        );
        let cfg = dir.write("stats.cfg", &config(fe, a1, a2, st, ro));
        StatsProxy {
            _proxy: Proxy::start_exe(exe, &cfg, ro),
            _dir: dir,
            fe,
            st,
            ro,
        }
    }
}

fn run_exchanges(exe: &str) -> Vec<(&'static str, Vec<String>)> {
    let tag = if exe == REAL_HAPROXY {
        "stats-real"
    } else {
        "stats-ours"
    };
    let p = StatsProxy::start(exe, tag);
    exchanges(p.st, p.ro)
}

#[test]
fn admin_form_outcomes_and_auth_match_real_haproxy() {
    if !std::path::Path::new(REAL_HAPROXY).exists() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but the real haproxy is missing"
        );
        eprintln!("skipped: real haproxy not installed");
        return;
    }
    let theirs = run_exchanges(REAL_HAPROXY);
    let ours = run_exchanges(env!("CARGO_BIN_EXE_haproxy"));
    for ((what, t), (_, o)) in theirs.iter().zip(&ours) {
        assert_eq!(o, t, "{what}");
    }
    assert_eq!(theirs.len(), ours.len());
}

#[test]
fn csv_json_and_admin_changes_are_served() {
    let p = StatsProxy::start(env!("CARGO_BIN_EXE_haproxy"), "stats-forms");
    let (fe, st) = (p.fe, p.st);
    let csv = request(st, "/stats;csv", CREDS);
    let csv = body(&csv);
    assert!(csv.contains("# pxname,svname,"), "{csv}");
    assert!(
        csv.contains("\r\napps,app1,") || csv.contains("\napps,app1,"),
        "{csv}"
    );
    let json = request(st, "/stats;json", CREDS);
    assert!(json.contains("content-type: application/json"), "{json}");
    // Maintenance through the form moves the traffic at once.
    let r = post(st, "/stats", CREDS, "s=app1&action=maint&b=apps");
    assert!(r.contains("location: /stats;st=DONE"), "{r}");
    let seen: Vec<String> = (0..4).map(|_| chunk_body(&request(fe, "/", ""))).collect();
    assert!(seen.iter().all(|b| b == "app2"), "{seen:?}");
}

/// The body of a response, de-chunked when `transfer-encoding: chunked`.
fn chunk_body(resp: &str) -> String {
    let b = body(resp);
    if !resp
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        return b.to_owned();
    }
    let mut out = String::new();
    let mut rest = b;
    while let Some((size, tail)) = rest.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.push_str(tail.get(..n).unwrap_or(tail));
        rest = tail.get(n + 2..).unwrap_or("");
    }
    out
}

#[test]
fn prometheus_exporter_output_parses_with_prometheus_client() {
    let probe = std::process::Command::new("python3")
        .args(["-c", "import prometheus_client"])
        .output();
    if !probe.as_ref().is_ok_and(|o| o.status.success()) {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but python3 with prometheus_client is missing"
        );
        eprintln!("skipped: python3 with prometheus_client not available");
        return;
    }
    let p = StatsProxy::start(env!("CARGO_BIN_EXE_haproxy"), "stats-prom");
    let fe = p.fe;
    for _ in 0..3 {
        let _ = request(fe, "/", "");
    }
    let resp = request(fe, "/metrics", "");
    assert!(
        resp.contains("content-type: text/plain; version=0.0.4"),
        "{resp}"
    );
    let text = chunk_body(&resp);
    assert!(
        text.contains("haproxy_frontend_http_requests_total{proxy=\"www\"}"),
        "{text}"
    );
    assert!(text.contains("server=\"app1\""), "{text}");
    let script = "import sys\nfrom prometheus_client.parser import text_string_to_metric_families as p\n\
fams = list(p(sys.stdin.read()))\nprint(len(fams))\n";
    let mut child = std::process::Command::new("python3")
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("feed");
    let out = child.wait_with_output().expect("parser");
    assert!(
        out.status.success(),
        "parser failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let families: usize = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or(0);
    assert!(families > 20, "{families}");
}

/// A stats page in a `backend` section answers the requests routed to that backend whose URI
/// matches; the others get the backend's own answer (503 without servers), as in HAProxy.
#[test]
fn a_backend_section_serves_its_stats_page() {
    let dir = TempDir::new("stats-backend");
    let fe = free_port();
    let cfg = dir.write(
        "stats.cfg",
        &format!(
            "defaults\n    mode http\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n\
             frontend www\n    bind 127.0.0.1:{fe}\n    default_backend monitor\n\
             backend monitor\n    stats enable\n    stats uri /bstats\n"
        ),
    );
    let _proxy = Proxy::start(&cfg, fe);
    let csv = request(fe, "/bstats;csv", "");
    assert!(csv.starts_with("HTTP/1.1 200 OK\r\n"), "{csv}");
    assert!(chunk_body(&csv).contains("\nmonitor,BACKEND,"), "{csv}");
    let other = request(fe, "/", "");
    assert!(other.starts_with("HTTP/1.1 503 "), "{other}");
}
