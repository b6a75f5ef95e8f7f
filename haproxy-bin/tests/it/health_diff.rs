//! Differential test of the health checks against real HAProxy 2.6: the same backend and check
//! configuration, the same peers, a scripted sequence of server failures (refused, HTTP 503,
//! silent) and recoveries, and the state-change lines both daemons print on stderr, compared in
//! order (pids and check durations masked).
//!
//! The real daemon's lines are also kept as a recording
//! (`tests/data/haproxy-2.6/health/state-lines.txt`), which our daemon is compared with even
//! where HAProxy is not installed. `HAPROXY_RS_RECORD=1 cargo test -p haproxy-bin --test it
//! health_diff` rewrites it from the real binary. Without `haproxy` the live part is skipped with
//! a message, unless `CI=true` (then it fails).
#![expect(
    clippy::unwrap_used,
    reason = "test helpers: a failed setup aborts the test"
)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::health_support::{Daemon, Peers, SILENT, WAIT};
use crate::run::{TempDir, free_port};

/// How long each step of the script lasts (inter 100 ms, fall 2: a change shows within ~0.8 s).
const PHASE: Duration = Duration::from_millis(1500);
/// Once a step's first state line is out, how long no further line may come before the step
/// counts as settled (lines of one change, as an ALERT after the last DOWN, come together).
const QUIET: Duration = Duration::from_millis(300);
/// Between two looks at the daemons' lines.
const POLL: Duration = Duration::from_millis(20);

/// One action of the script.
#[derive(Debug, Clone, Copy)]
enum Act {
    /// Close the peer's listener (connections refused).
    Stop(usize),
    /// Listen again.
    Start(usize),
    /// Answer with this status ([`SILENT`]: accept and never answer).
    Status(usize, u16),
}

/// The scripted failures and recoveries of s1, s2 and the backup b1, one step per phase.
const SCRIPT: &[Act] = &[
    Act::Stop(0),
    Act::Status(1, 503),
    Act::Stop(2),
    Act::Start(0),
    Act::Status(1, 200),
    Act::Start(2),
    Act::Status(0, SILENT),
    Act::Status(0, 200),
    Act::Status(1, 404),
    Act::Status(1, 200),
];

fn config(fe: u16, peers: &Peers) -> String {
    let opts = "check inter 100 rise 2 fall 2";
    format!(
        "defaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n    timeout check 300ms\n\n\
         frontend fe\n    bind 127.0.0.1:{fe}\n    default_backend app\n\n\
         backend app\n    option httpchk GET /health\n    http-check disable-on-404\n\
         \x20   server s1 127.0.0.1:{} {opts}\n    server s2 127.0.0.1:{} {opts}\n    server b1 127.0.0.1:{} {opts} backup\n",
        peers.port(0),
        peers.port(1),
        peers.port(2)
    )
}

/// A state-change line without the pid, its check duration masked; other lines are dropped.
fn normalize(line: &str) -> Option<String> {
    if !(line.contains("Server ")
        || line.contains("server ")
        || line.contains("has no server available"))
    {
        return None;
    }
    let (tag, rest) = line.split_once(" (")?;
    let (_, msg) = rest.split_once(") : ")?;
    let mut out = format!("{} {msg}", tag.trim_end());
    if let Some(at) = out.find("check duration: ") {
        let start = at + "check duration: ".len();
        let digits = out[start..]
            .chars()
            .take_while(char::is_ascii_digit)
            .count();
        out.replace_range(start..start + digits, "N");
    }
    Some(out)
}

/// Our daemon, then the real one when installed, each running its own configuration file in a
/// scratch folder.
struct Daemons {
    daemons: Vec<Daemon>,
    /// Dropped after the daemons (fields drop in order).
    _dir: TempDir,
}

impl Daemons {
    /// Writes `config(frontend port)` for each daemon as `<tag><i>.cfg` in a scratch folder named
    /// after `tag`, and starts them.
    fn start(tag: &str, config: impl Fn(u16) -> String) -> Daemons {
        let dir = TempDir::new(&format!("{tag}-diff"));
        let daemons = daemons()
            .iter()
            .enumerate()
            .map(|(i, exe)| {
                let fe = free_port();
                let cfg = dir.join(format!("{tag}{i}.cfg"));
                std::fs::write(&cfg, config(fe)).unwrap();
                Daemon::start(exe, &cfg, fe)
            })
            .collect();
        Daemons { daemons, _dir: dir }
    }

    /// How many state lines each daemon has printed so far.
    fn counts(&self) -> Vec<usize> {
        self.daemons
            .iter()
            .map(|d| d.lines().iter().filter_map(|l| normalize(l)).count())
            .collect()
    }

    /// Waits until every daemon has printed a state line past `before` (its counts before a
    /// step that changes a state), then until no line has come for [`QUIET`]: a slow check
    /// delays the step instead of spilling its lines into the next one.
    fn settle(&self, before: &[usize]) {
        let start = Instant::now();
        let mut seen = self.counts();
        while seen.iter().zip(before).any(|(now, was)| now <= was) {
            assert!(
                start.elapsed() < WAIT,
                "no state line after a step: {seen:?} vs {before:?}"
            );
            std::thread::sleep(POLL);
            seen = self.counts();
        }
        let mut quiet_since = Instant::now();
        while quiet_since.elapsed() < QUIET {
            assert!(start.elapsed() < WAIT, "state lines keep coming");
            std::thread::sleep(POLL);
            let now = self.counts();
            if now != seen {
                seen = now;
                quiet_since = Instant::now();
            }
        }
    }

    /// Each daemon's normalized lines, ours first; the daemons stop and the scratch folder
    /// goes when `self` drops.
    fn lines(self) -> Vec<Vec<String>> {
        self.daemons
            .iter()
            .map(|d| d.lines().iter().filter_map(|l| normalize(l)).collect())
            .collect()
    }
}

/// Runs the script once with both daemons checking the same peers; returns each daemon's
/// normalized lines.
fn run() -> Vec<Vec<String>> {
    let mut peers = Peers::new(&["s1", "s2", "b1"]);
    let daemons = Daemons::start("health", |fe| config(fe, &peers));
    std::thread::sleep(PHASE);
    // Every step of the script changes a state, so each waits for its lines.
    for act in SCRIPT {
        let before = daemons.counts();
        match *act {
            Act::Stop(i) => peers.stop(i),
            Act::Start(i) => peers.start(i),
            Act::Status(i, code) => peers.set_status(i, code),
        }
        daemons.settle(&before);
    }
    daemons.lines()
}

fn recording(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/haproxy-2.6/health")
        .join(name)
}

/// Compares our lines with the recording `name` and with the live HAProxy's when it ran, after
/// `mask`; `HAPROXY_RS_RECORD=1` rewrites the recording from the live run first.
fn compare(name: &str, mut lines: Vec<Vec<String>>, mask: fn(String) -> String) {
    let theirs = (lines.len() > 1).then(|| lines.remove(1));
    let ours = lines.remove(0);
    if let (Some(t), Ok("1")) = (&theirs, std::env::var("HAPROXY_RS_RECORD").as_deref()) {
        let path = recording(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, t.join("\n") + "\n").unwrap();
    }
    let recorded: Vec<String> = std::fs::read_to_string(recording(name))
        .expect("recording")
        .lines()
        .map(str::to_owned)
        .collect();
    let prepare = |v: Vec<String>| collapse(v.into_iter().map(mask).collect());
    let ours = prepare(ours);
    assert_eq!(ours, prepare(recorded), "ours vs the recording {name}");
    if let Some(t) = theirs {
        assert_eq!(ours, prepare(t), "ours vs the live HAProxy");
    }
}

/// After an agent's `down` then `up`, HAProxy 2.6.12 brings the server back either on the
/// agent's reply (`reason: Layer7 check passed, code: 0, info: "via agent : up"`) or on the next
/// health check (`reason: Layer4 check passed`), depending on which finishes first (both seen in
/// recordings): the reason of UP lines is masked.
fn mask_up_reason(line: String) -> String {
    match (line.find(" is UP, reason: "), line.find("ms. ")) {
        (Some(a), Some(b)) if a < b => {
            format!("{} is UP, reason: *{}", &line[..a], &line[b + 2..])
        }
        _ => line,
    }
}

/// Runs of one repeated line count once: how often an agent's repeated `drain` is logged
/// depends on how many agent checks fit in a phase.
fn collapse(mut lines: Vec<String>) -> Vec<String> {
    lines.dedup();
    lines
}

/// Our binary, then the real one when installed.
fn daemons() -> Vec<PathBuf> {
    let mut exes = vec![PathBuf::from(env!("CARGO_BIN_EXE_haproxy"))];
    exes.extend(crate::oracle::real_haproxy(
        "the live part of the health differential",
    ));
    exes
}

#[test]
fn state_change_lines_match_haproxy_over_scripted_failures() {
    compare("state-lines.txt", run(), |l| l);
}

/// The agent replies, one per phase, after a first `up`.
const AGENT_SCRIPT: &[&str] = &[
    "drain",
    "75%",
    "ready",
    "down #disk full",
    "up",
    "maint",
    "ready",
    "stopped",
    "up 100%",
];

#[test]
fn agent_state_lines_match_haproxy() {
    let mut peers = Peers::new(&["s1", "s2"]);
    let agent = peers.add_agent("up");
    // `timeout check 2s`: without it a check must answer within `inter` (100 ms), which a
    // loaded machine misses now and then (an extra `Layer7 timeout` line on either side).
    let daemons = Daemons::start("agent", |fe| {
        format!(
            "defaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n    timeout check 2s\n\n\
             frontend fe\n    bind 127.0.0.1:{fe}\n    default_backend app\n\n\
             backend app\n\
             \x20   server s1 127.0.0.1:{} check inter 100 agent-check agent-port {} agent-inter 100\n\
             \x20   server s2 127.0.0.1:{} check inter 100\n",
            peers.port(0),
            peers.agent_port(agent),
            peers.port(1)
        )
    });
    std::thread::sleep(PHASE);
    for reply in AGENT_SCRIPT {
        peers.set_reply(agent, reply);
        std::thread::sleep(PHASE);
    }
    compare("agent-lines.txt", daemons.lines(), mask_up_reason);
}

#[test]
fn tracking_chains_follow_in_haproxy_order() {
    let mut peers = Peers::new(&["s1"]);
    let p = peers.port(0);
    let daemons = Daemons::start("track", |fe| {
        format!(
            "defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n\n\
             frontend fe\n    bind 127.0.0.1:{fe}\n    default_backend be\n\n\
             backend be\n    server s1 127.0.0.1:{p} check inter 100 rise 1 fall 1\n\
             \x20   server t1 127.0.0.1:{p} track s1\n    server t2 127.0.0.1:{p} track t1\n\
             \x20   server o 127.0.0.1:{p} backup\n\n\
             backend other\n    server x 127.0.0.1:{p} track be/s1\n"
        )
    });
    std::thread::sleep(PHASE);
    peers.stop(0);
    std::thread::sleep(PHASE);
    peers.start(0);
    std::thread::sleep(PHASE);
    compare("track-lines.txt", daemons.lines(), |l| l);
}

#[test]
fn log_health_checks_lines_match_haproxy() {
    let mut peers = Peers::new(&["s1"]);
    let p = peers.port(0);
    // `timeout check 2s`: without it a check must answer within `inter` (100 ms), which a
    // loaded machine misses now and then (an extra `Layer7 timeout` line on either side).
    let daemons = Daemons::start("loghc", |fe| {
        format!(
            "defaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n    timeout check 2s\n    option log-health-checks\n\n\
             frontend fe\n    bind 127.0.0.1:{fe}\n    default_backend be\n\n\
             backend be\n    option httpchk GET /health\n    server s1 127.0.0.1:{p} check inter 100\n"
        )
    });
    std::thread::sleep(PHASE);
    peers.stop(0);
    std::thread::sleep(PHASE);
    peers.start(0);
    std::thread::sleep(PHASE);
    peers.set_status(0, 503);
    std::thread::sleep(PHASE);
    peers.set_status(0, 200);
    std::thread::sleep(PHASE);
    compare(
        "log-health-checks-lines.txt",
        daemons.lines(),
        mask_reset_as_refused,
    );
}

/// A check connected at the moment its peer stops listening is reset rather than refused
/// (`info: "Connection reset by peer"`); whether one is in flight then is timing, on either
/// side, so a reset reads as the refusal the next check gets. The real HAProxy, when the reset
/// reaches a check whose connection the closing listener had queued (seen when it is starved
/// beside busy loops), reports it as `reason: Socket error` instead: the same refusal.
fn mask_reset_as_refused(line: String) -> String {
    let refused = "Layer4 connection problem, info: \"Connection refused\"";
    line.replace(
        "Layer4 connection problem, info: \"Connection reset by peer\"",
        refused,
    )
    .replace("Socket error, info: \"Connection reset by peer\"", refused)
}
