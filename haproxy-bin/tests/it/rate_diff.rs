//! The rate limits side by side: the global `maxconnrate` and `maxsessrate` and a frontend's
//! `rate-limit sessions`, on real HAProxy 2.6 and ours with the same configuration and the same
//! burst of connections. Over the limit a listener stops accepting (the clients wait in the
//! backlog, none is refused) and resumes as HAProxy's sliding one-second counter allows: the
//! first 5 of 15 are served at once, the next ones from the end of the first second, and
//! the other frontend is not held back by a frontend's limit. `show info`'s `ConnRateLimit`
//! and `SessRateLimit` and `show stat`'s `rate_lim` must be equal, and `set rate-limit
//! connections|sessions global 0` lifts the global limits at run time.
//!
//! HAProxy's figures are recorded in tests/data/haproxy-2.6/rates/figures.txt
//! (`HAPROXY_RS_RECORD=1 cargo test -p haproxy-bin --test it rate_diff` re-records them);
//! ours are compared with the recording always, and with the live HAProxy when installed.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use crate::limits_diff::{Started, send};
use crate::run::free_port;

/// How long a reply may take; a client still waiting for its response after this has failed.
const WAIT: Duration = Duration::from_secs(10);
/// Connections in one burst, against a limit of 5 per second.
const BURST: usize = 15;
/// The windows the served connections are counted in: HAProxy serves 5 at once and the sixth
/// just after the first second, so "within the first 900 ms" is 5 there, and 10 by 1.9 s.
const FIRST: Duration = Duration::from_millis(900);
const SECOND: Duration = Duration::from_millis(1900);
/// How far our counts in a window may be from HAProxy's (threads, a slow machine).
const TOLERANCE: usize = 2;

/// Two frontends answering by themselves (no server needed): `limited`, where the cases put
/// a frontend limit, and `free`. `limited`'s second port rejects every connection with a
/// `tcp-request connection` rule: HAProxy counts those in the connection rate, not in the
/// session rates.
const CONFIG: &str = "\
global
    nbthread 1
@GLOBAL@    stats socket @DIR@/admin.sock level admin
defaults
    mode http
    timeout connect 1s
    timeout client 10s
    timeout server 10s
frontend limited
    bind 127.0.0.1:@P1@,127.0.0.1:@P3@
    tcp-request connection reject if { dst_port @P3@ }
@FRONTEND@    http-request return status 200 content-type text/plain string ok
frontend free
    bind 127.0.0.1:@P2@
    http-request return status 200 content-type text/plain string ok
";

/// One case.
#[derive(Clone, Copy)]
struct Case {
    name: &'static str,
    /// A global line.
    global: &'static str,
    /// A line of frontend `limited`.
    frontend: &'static str,
    /// Connections to the rejecting port, one after the other, before the burst.
    rejects: usize,
    /// Whether the burst goes to `free` too.
    both: bool,
    /// The `set rate-limit` command that lifts the limit after the burst.
    lift: Option<&'static str>,
}

const CASES: &[Case] = &[
    Case {
        name: "maxconnrate",
        global: "maxconnrate 5",
        frontend: "",
        rejects: 0,
        both: false,
        lift: Some("set rate-limit connections global 0"),
    },
    Case {
        name: "maxsessrate",
        global: "maxsessrate 5",
        frontend: "",
        rejects: 0,
        both: false,
        lift: Some("set rate-limit sessions global 0"),
    },
    Case {
        name: "rate-limit",
        global: "",
        frontend: "rate-limit sessions 5",
        rejects: 0,
        both: true,
        lift: None,
    },
    // Five rejected connections fill the connection rate (the burst then waits for the next
    // second) but not the session rates.
    Case {
        name: "maxconnrate-after-rejects",
        global: "maxconnrate 5",
        frontend: "",
        rejects: 5,
        both: false,
        lift: None,
    },
    Case {
        name: "maxsessrate-after-rejects",
        global: "maxsessrate 5",
        frontend: "",
        rejects: 5,
        both: false,
        lift: None,
    },
    Case {
        name: "rate-limit-after-rejects",
        global: "",
        frontend: "rate-limit sessions 5",
        rejects: 5,
        both: false,
        lift: None,
    },
];

fn recording() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/haproxy-2.6/rates/figures.txt")
}

/// One client: connects, asks, reads the whole response; returns when it was served
/// (after `start`), or `None` when it was refused, reset or not answered 200.
fn client(port: u16, start: Instant) -> Option<Duration> {
    let mut c = TcpStream::connect(("127.0.0.1", port)).ok()?;
    c.set_read_timeout(Some(WAIT)).ok()?;
    c.write_all(b"GET / HTTP/1.0\r\n\r\n").ok()?;
    let mut out = Vec::new();
    c.read_to_end(&mut out).ok()?;
    out.starts_with(b"HTTP/1.1 200").then(|| start.elapsed())
}

/// Opens `BURST` connections at once to each port and returns, per port, when each was served.
fn burst(ports: &[u16]) -> Vec<Vec<Option<Duration>>> {
    let gate = Arc::new(Barrier::new(ports.len() * BURST));
    let start = Instant::now();
    let threads: Vec<Vec<_>> = ports
        .iter()
        .map(|&port| {
            (0..BURST)
                .map(|_| {
                    let gate = Arc::clone(&gate);
                    std::thread::spawn(move || {
                        gate.wait();
                        client(port, start)
                    })
                })
                .collect()
        })
        .collect();
    threads
        .into_iter()
        .map(|t| t.into_iter().map(|h| h.join().expect("client")).collect())
        .collect()
}

/// The counts of one burst on one frontend: served within [`FIRST`], within [`SECOND`], and
/// in all (the rest were refused or not answered).
fn counts(times: &[Option<Duration>]) -> (usize, usize, usize) {
    let within = |d: Duration| times.iter().flatten().filter(|t| **t <= d).count();
    (
        within(FIRST),
        within(SECOND),
        times.iter().flatten().count(),
    )
}

/// The value of `name` in `show info`.
fn info_value(info: &str, name: &str) -> String {
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}: ")))
        .unwrap_or("?")
        .to_owned()
}

/// `rate_lim` of each frontend row of `show stat`, found by its header.
fn rate_lims(stat: &str) -> Vec<String> {
    let mut lines = stat.lines();
    let header: Vec<&str> = lines
        .next()
        .unwrap_or("")
        .trim_start_matches("# ")
        .split(',')
        .collect();
    let col = header.iter().position(|h| *h == "rate_lim");
    lines
        .filter(|l| !l.is_empty())
        .filter_map(|row| {
            let cols: Vec<&str> = row.split(',').collect();
            (cols.get(1) == Some(&"FRONTEND")).then(|| {
                let v = col.and_then(|c| cols.get(c)).unwrap_or(&"?");
                format!("{}/rate_lim={v}", cols.first().unwrap_or(&"?"))
            })
        })
        .collect()
}

/// Connects to the rejecting port `n` times, one after the other; returns how many were
/// closed without an answer.
fn rejected(port: u16, n: usize) -> usize {
    (0..n)
        .filter(|_| {
            let Ok(mut c) = TcpStream::connect(("127.0.0.1", port)) else {
                return false;
            };
            let _ = c.set_read_timeout(Some(WAIT));
            let _ = c.write_all(b"GET / HTTP/1.0\r\n\r\n");
            let mut out = Vec::new();
            // A close (FIN) or a reset (HAProxy's no-linger close) both end the read.
            match c.read_to_end(&mut out) {
                Ok(_) => out.is_empty(),
                Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
            }
        })
        .count()
}

/// The figures of one case on one executable, as one line.
fn figures(exe: &Path, tag: &str, case: Case) -> String {
    let Case {
        name,
        global,
        frontend,
        rejects,
        both,
        lift,
    } = case;
    let dir = std::env::temp_dir().join(format!(
        "haproxy-rs-rates-{tag}-{name}-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let line = |l: &str| {
        if l.is_empty() {
            String::new()
        } else {
            format!("    {l}\n")
        }
    };
    let (p1, p2, p3) = (free_port(), free_port(), free_port());
    let cfg = CONFIG
        .replace("@GLOBAL@", &line(global))
        .replace("@FRONTEND@", &line(frontend))
        .replace("@DIR@", &dir.display().to_string())
        .replace("@P1@", &p1.to_string())
        .replace("@P2@", &p2.to_string())
        .replace("@P3@", &p3.to_string());
    std::fs::write(dir.join("t.cfg"), cfg).expect("write cfg");
    let mut command = Command::new(exe);
    command.args(["-db", "-f", "t.cfg"]);
    let (run, sock) = Started::with_stats_socket(command, dir);
    let info = send(&sock, "show info\n");
    let mut out = vec![
        format!("ConnRateLimit={}", info_value(&info, "ConnRateLimit")),
        format!("SessRateLimit={}", info_value(&info, "SessRateLimit")),
    ];
    out.extend(rate_lims(&send(&sock, "show stat\n")));
    if rejects > 0 {
        out.push(format!("rejected={}", rejected(p3, rejects)));
    }
    // Bursting on both frontends at once shows `free` is not held back.
    let ports: &[u16] = if both { &[p1, p2] } else { &[p1] };
    let served = burst(ports);
    for (fe, times) in ["limited", "free"].iter().zip(&served) {
        let (first, second, all) = counts(times);
        out.push(format!("{fe}:first={first},second={second},served={all}"));
    }
    if let Some(cmd) = lift {
        assert_eq!(send(&sock, &format!("{cmd}\n")), "\n", "{cmd}");
        let info = send(&sock, "show info\n");
        out.push(format!(
            "lifted:ConnRateLimit={},SessRateLimit={}",
            info_value(&info, "ConnRateLimit"),
            info_value(&info, "SessRateLimit")
        ));
        let served = burst(&[p1]);
        let (first, _, all) = counts(served.first().map_or(&[][..], Vec::as_slice));
        out.push(format!("lifted:first={first},served={all}"));
    }
    drop(run);
    format!("{name}: {}", out.join(" "))
}

fn run_all(exe: &Path, tag: &str) -> Vec<String> {
    CASES.iter().map(|&case| figures(exe, tag, case)).collect()
}

/// The `key=value` pairs of one figures line; a key after a comma takes the prefix of the
/// group's first key (`limited:first=5,second=10` gives `limited:first` and `limited:second`).
fn pairs(line: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for group in line.split(' ') {
        let mut prefix = "";
        for (i, w) in group.split(',').enumerate() {
            let Some((k, v)) = w.split_once('=') else {
                continue;
            };
            let key = if i == 0 {
                prefix = k.rsplit_once(':').map_or("", |(p, _)| p);
                k.to_owned()
            } else if prefix.is_empty() {
                k.to_owned()
            } else {
                format!("{prefix}:{k}")
            };
            out.push((key, v.to_owned()));
        }
    }
    out
}

/// Whether a key counts connections served within a window (compared within [`TOLERANCE`]).
fn is_window(key: &str) -> bool {
    key.ends_with(":first") || key.ends_with(":second")
}

/// Whether the run of `line` had the machine to itself enough to time windows: the free
/// frontend served the whole burst in the first window. A starved run (CI beside other tests)
/// can only serve fewer per window, never more.
fn responsive(line: &str) -> bool {
    pairs(line)
        .iter()
        .any(|(k, v)| k == "free:first" && v.parse::<usize>().ok() == Some(BURST))
}

/// Compares our figures with HAProxy's: the limits shown exactly, none refused, and the counts
/// of served connections per window (within [`TOLERANCE`]) no higher than theirs when their run
/// was [`responsive`] (a starved HAProxy serves fewer per window than its limit allows; the
/// recording was made on a quiet machine) and, when both were, no lower either.
fn compare(ours: &[String], theirs: &[String], what: &str) {
    assert_eq!(ours.len(), theirs.len(), "{what}: cases");
    for (o, t) in ours.iter().zip(theirs) {
        let (o_name, t_name) = (o.split(':').next(), t.split(':').next());
        assert_eq!(o_name, t_name, "{what}: case order");
        let (op, tp) = (pairs(o), pairs(t));
        let (theirs_timed, both_responsive) = (responsive(t), responsive(o) && responsive(t));
        assert_eq!(op.len(), tp.len(), "{what}: ours {o} / theirs {t}");
        for ((ok, ov), (tk, tv)) in op.iter().zip(&tp) {
            assert_eq!(ok, tk, "{what}: ours {o} / theirs {t}");
            match (is_window(ok), ov.parse::<usize>(), tv.parse::<usize>()) {
                (true, Ok(a), Ok(b)) => assert!(
                    (!theirs_timed || a <= b + TOLERANCE)
                        && (!both_responsive || a + TOLERANCE >= b),
                    "{what}: {ok} {a} against {b}: ours {o} / theirs {t}"
                ),
                _ => assert_eq!(ov, tv, "{what}: {ok}: ours {o} / theirs {t}"),
            }
        }
    }
}

#[test]
fn rate_limits_pause_accepting_as_haproxy_does() {
    let ours = run_all(Path::new(env!("CARGO_BIN_EXE_haproxy")), "ours");
    if std::env::var_os("HAPROXY_RS_RECORD").is_some() {
        let exe = crate::oracle::real_haproxy("recording the rate limits").expect("haproxy");
        let theirs = run_all(&exe, "theirs");
        std::fs::create_dir_all(recording().parent().expect("dir")).expect("data dir");
        std::fs::write(recording(), theirs.join("\n") + "\n").expect("write recording");
    }
    // Ours, on their own: every connection served, about 5 in the first second and not all
    // by the end of the second one; the free frontend and a lifted limit not held back.
    for line in &ours {
        let got = pairs(line);
        let n = |key: &str| {
            got.iter()
                .find(|(k, _)| k == key)
                .and_then(|(_, v)| v.parse::<usize>().ok())
        };
        for (k, v) in &got {
            if k.ends_with(":served") {
                assert_eq!(v.parse::<usize>().ok(), Some(BURST), "{k}: {line}");
            }
        }
        let first = n("limited:first").expect("limited:first");
        // Lower bounds only when the machine kept up (see `responsive`).
        let timed = responsive(line);
        if line.starts_with("maxconnrate-after-rejects:") {
            // The rejected connections took this second's room.
            assert!(first <= TOLERANCE, "{line}");
        } else {
            assert!(first <= 8 && (!timed || first >= 3), "{line}");
        }
        if let Some(r) = n("rejected") {
            assert_eq!(r, 5, "{line}");
        }
        assert!(
            n("limited:second").expect("limited:second") < BURST,
            "{line}"
        );
        if let Some(v) = n("lifted:first").filter(|_| timed) {
            assert_eq!(v, BURST, "lifted:first: {line}");
        }
    }
    let recorded = std::fs::read_to_string(recording()).expect("recorded figures");
    let recorded: Vec<String> = recorded.lines().map(str::to_owned).collect();
    compare(&ours, &recorded, "against the recording");
    if let Some(exe) = crate::oracle::real_haproxy("the live rate-limit comparison") {
        let theirs = run_all(&exe, "theirs");
        compare(&ours, &theirs, "against the live HAProxy");
    }
}
