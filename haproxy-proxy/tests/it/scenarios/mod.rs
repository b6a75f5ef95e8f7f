//! Differential scenarios (issue 5 acceptance): one configuration text and one request sequence,
//! run through real HAProxy 2.6 and through our proxy built from the same text. The client-visible
//! bytes (status line, headers, bodies; HAProxy sends no `Date`) and the server-visible requests
//! (raw heads with header case and order, raw bodies, and which server connection carried each)
//! must be equal, or the difference is deliberate and listed in docs/compat.md.
//!
//! Skipped with a message when `haproxy` is not installed, unless `CI=true` (then it fails).

mod case;
mod early;
mod gaps;
mod reuse;
mod table;

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::differential::start_haproxy_with;
use crate::engines::start_ours_with;
use crate::origin::{Origin, Seen};
use crate::scratch::TempDir;
use crate::support::Diffs;
use table::{PART_PAUSE, Scenario, scenarios};

/// The defaults every scenario runs with (short timeouts keep the run short).
const DEFAULTS: &str = "defaults
  mode http
  timeout client 2s
  timeout connect 500ms
  timeout server 1s
  timeout http-request 1s
  timeout http-keep-alive 300ms
";

/// How long a client reads before giving up on the proxy closing the connection.
const CLIENT_DEADLINE: Duration = Duration::from_secs(4);

/// Sends `parts` on one connection, [`PART_PAUSE`] apart, while reading everything the proxy
/// sends until it closes (or [`CLIENT_DEADLINE`]).
pub(crate) async fn converse(addr: SocketAddr, parts: &[Vec<u8>], half_close: bool) -> String {
    let s = TcpStream::connect(addr).await.unwrap();
    let (mut r, mut w) = s.into_split();
    let reader = tokio::spawn(async move {
        let mut out = Vec::new();
        let _ = tokio::time::timeout(CLIENT_DEADLINE, r.read_to_end(&mut out)).await;
        out
    });
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            tokio::time::sleep(PART_PAUSE).await;
        }
        if w.write_all(p).await.is_err() {
            break;
        }
    }
    if half_close {
        tokio::time::sleep(PART_PAUSE).await;
        let _ = w.shutdown().await;
    }
    let out = reader.await.unwrap();
    drop(w);
    String::from_utf8_lossy(&out).into_owned()
}

/// Errorfiles the scenarios refer to as `DIR/<code>.http`.
fn errorfile_dir(tag: &str) -> TempDir {
    let dir = TempDir::new(&format!("scenarios-{tag}"));
    std::fs::write(
        dir.join("403.http"),
        "HTTP/1.0 403 Go Away\r\nCache-Control: no-cache\r\nConnection: close\r\nContent-Type: text/plain\r\nX-Custom: 1\r\n\r\nnot for you\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("400.http"),
        "HTTP/1.1 400 Custom Bad\r\nContent-Length: 4\r\n\r\nbad\n",
    )
    .unwrap();
    std::fs::write(dir.join("empty.http"), "").unwrap();
    std::fs::write(dir.join("case.map"), case::CASE_MAP_FILE).unwrap();
    std::fs::write(dir.join("body.txt"), "from a file\n").unwrap();
    std::fs::write(
        dir.join("hosts.map"),
        "example.com be2\nother.org nowhere\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("502.http"),
        "HTTP/1.1 502 Custom Gateway\r\nContent-Type: text/plain\r\nContent-Length: 4\r\n\r\nbad\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("504.http"),
        "HTTP/1.0 504 Slow\r\nContent-Type: text/plain\r\n\r\nslow\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("503.http"),
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\ndown\n",
    )
    .unwrap();
    dir
}

/// What one engine showed: the client transcripts and the server's view.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Outcome {
    pub(crate) client: Vec<String>,
    pub(crate) server: Vec<Seen>,
}

async fn drive(addr: SocketAddr, origin: &Origin, s: &Scenario) -> Outcome {
    // The connection that found the real HAProxy listening (`spawn_haproxy`) reaches the
    // server in TCP mode (with a PROXY header under `send-proxy`): not part of the scenario.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let _ = origin.take();
    let mut client = Vec::new();
    for parts in &s.clients {
        client.push(converse(addr, parts, s.half_close).await);
    }
    // Let the last forwarded bytes reach the origin before its view is taken.
    tokio::time::sleep(Duration::from_millis(50)).await;
    Outcome {
        client,
        server: origin.take(),
    }
}

fn describe(o: &Outcome) -> String {
    let mut out = String::new();
    for (i, c) in o.client.iter().enumerate() {
        out.push_str(&format!("  client {i}: {c:?}\n"));
    }
    for s in &o.server {
        out.push_str(&format!(
            "  server conn {}: {:?} body {:?}\n",
            s.conn, s.head, s.body
        ));
    }
    out
}

/// Where HAProxy's outcome of each scenario is recorded (`RECORD_SCENARIOS=1` rewrites them).
fn recording_path(name: &str) -> std::path::PathBuf {
    let slug: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/haproxy-2.6/scenarios")
        .join(format!("{slug}.txt"))
}

/// The scenario's configuration for an origin at `origin`.
fn scenario_config(s: &Scenario, origin: SocketAddr, dead: u16, dir: &std::path::Path) -> String {
    format!("{}{DEFAULTS}{}", s.global, s.config)
        .replace("SERVER", &origin.to_string())
        .replace("DEAD", &format!("127.0.0.1:{dead}"))
        .replace("DIR", &dir.display().to_string())
}

/// Runs `s` through real HAProxy and through ours at the same time; `None` when `haproxy` is
/// not installed.
async fn run_both(s: &Scenario, dead: u16, dir: &std::path::Path) -> Option<(Outcome, Outcome)> {
    let (theirs_origin, ours_origin) = (Origin::default(), Origin::default());
    let theirs_cfg = scenario_config(s, theirs_origin.start().await, dead, dir);
    let real = start_haproxy_with(&theirs_cfg).await?;
    let ours = start_ours_with(&scenario_config(s, ours_origin.start().await, dead, dir));
    Some(tokio::join!(
        drive(real.addr, &theirs_origin, s),
        drive(ours.addr, &ours_origin, s)
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenarios_match_haproxy_for_clients_and_servers() {
    let dir = errorfile_dir("live");
    let (_dead_socket, dead) = crate::engines::dead_port();
    let only = std::env::var("SCENARIO").ok();
    let record = std::env::var("RECORD_SCENARIOS").is_ok();
    let mut diffs = Diffs::default();
    let mut ran = 0usize;
    for s in scenarios() {
        if only.as_deref().is_some_and(|o| !s.name.contains(o)) {
            continue;
        }
        // A difference must show twice: a loopback port taken by a parallel test between
        // choosing it and binding it must not fail the run.
        let Some((mut theirs, mut mine)) = run_both(&s, dead, dir.path()).await else {
            return;
        };
        if theirs != mine {
            let Some(again) = run_both(&s, dead, dir.path()).await else {
                return;
            };
            (theirs, mine) = again;
        }
        ran += 1;
        if std::env::var("DIFF_SHOW").is_ok() {
            eprintln!("=== {}\n{}", s.name, describe(&theirs));
        }
        if record {
            std::fs::write(recording_path(s.name), describe(&theirs)).unwrap();
        }
        if theirs != mine {
            diffs.push(format!(
                "--- {}\nhaproxy:\n{}ours:\n{}",
                s.name,
                describe(&theirs),
                describe(&mine)
            ));
        }
    }
    diffs.assert_none(&format!("of {ran} scenario(s) differ"));
    assert!(only.is_some() || ran >= 30, "only {ran} scenarios ran");
}

/// The same scenarios against HAProxy's recorded outcomes: runs without `haproxy` installed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenarios_match_the_recordings_of_haproxy() {
    let dir = errorfile_dir("recorded");
    let (_dead_socket, dead) = crate::engines::dead_port();
    let mut diffs = Diffs::default();
    let mut ran = 0usize;
    for s in scenarios() {
        let path = recording_path(s.name);
        let theirs = std::fs::read_to_string(&path)
            .unwrap_or_else(|_| format!("(no recording at {})\n", path.display()));
        let mut mine = String::new();
        // As in the live test, a difference must show twice.
        for _ in 0..2 {
            let origin = Origin::default();
            let ours =
                start_ours_with(&scenario_config(&s, origin.start().await, dead, dir.path()));
            mine = describe(&drive(ours.addr, &origin, &s).await);
            if mine == theirs {
                break;
            }
        }
        ran += 1;
        if theirs != mine {
            diffs.push(format!("--- {}\nhaproxy:\n{theirs}ours:\n{mine}", s.name));
        }
    }
    diffs.assert_none(&format!("of {ran} scenario(s) differ from the recordings"));
}
