//! The global `maxconn` HAProxy 2.6 derives from the open-file limit, side by side: real
//! HAProxy and ours start on the same configuration (no `maxconn` in it) under fixed
//! open-file limits (a `sh -c 'ulimit -n N; exec ...'` child), and `show info`'s `Ulimit-n`,
//! `Maxsock`, `Maxconn` and `Hard_maxconn` and `show stat`'s `slim` of every row must be equal;
//! so must the startup warning and alert when the limit cannot be raised to what `-n` needs.
//! Both are given `no strict-limits`, except in the strict cases, where 2.6's default
//! `strict-limits` makes both exit 1 with the alert instead. Further cases add `fd-hard-limit`
//! (below and above the limits) and `-m` (the memory limit: `Memmax_MB`, the memory-bounded
//! `Maxconn`); the open-file and address-space limits of each running process
//! (`/proc/PID/limits`) must be equal too.
//!
//! HAProxy's figures are recorded in tests/data/haproxy-2.6/limits/figures.txt
//! (`HAPROXY_RS_RECORD=1 cargo test -p haproxy-bin --test it limits_diff` re-records them);
//! ours are compared with the recording always, and with the live HAProxy when installed.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::run::free_port;
use crate::stats_cli::have;

/// How long a daemon may take to open its stats socket, or a reply to come.
const WAIT: Duration = Duration::from_secs(10);
const STEP: Duration = Duration::from_millis(20);

/// No `maxconn` anywhere: two listeners, three servers with checks (one with `port`,
/// `agent-check` and `agent-port`: each takes a descriptor), a stats socket and two threads.
const CONFIG: &str = "\
global
@STRICT@@GLOBAL@    nbthread 2
    stats socket @DIR@/admin.sock level admin
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:@P1@,127.0.0.1:@P2@
    default_backend be
    use_backend other if { path_beg /other }
backend be
    default-server check inter 100s
    server s1 127.0.0.1:9
    server s2 127.0.0.1:9 port 9 agent-check agent-port 9
backend other
    fullconn 42
    server s3 127.0.0.1:9
listen li
    bind 127.0.0.1:@P3@
    maxconn 77
    server s4 127.0.0.1:9
";

/// The cases: the shell's limit commands, extra arguments, extra global lines, and whether
/// `strict-limits` (2.6's default) holds. The third counts the hard limit (the higher one); the
/// `-n 600` ones need 1,235 descriptors under 1,024. `fd-hard-limit 2000` caps the 4,096
/// descriptors, 8000 does not, a negative one leaves the default 100; with `-n 1500` (3,035
/// descriptors) or `ulimit-n 3000` it refuses the raise. `-m`
/// bounds `maxconn` by memory (100 MB: 2,800, which needs more than 4,096 descriptors, so
/// the descriptor figure 2,030 bounds it, rounded to 2,000; `fd-hard-limit 1500` bounds it
/// further), a written `-n` stays, and a negative `-m` leaves no memory at all.
const CASES: &[(&str, &[&str], &str, bool)] = &[
    ("ulimit -n 1024", &[], "", false),
    ("ulimit -n 4096", &[], "", false),
    ("ulimit -S -n 1024; ulimit -H -n 4096", &[], "", false),
    ("ulimit -n 1024", &["-n", "300"], "", false),
    ("ulimit -n 1024", &["-n", "600"], "", false),
    ("ulimit -n 1024", &["-n", "600"], "", true),
    ("ulimit -n 4096", &[], "fd-hard-limit 2000", false),
    ("ulimit -n 4096", &[], "fd-hard-limit 8000", false),
    (
        "ulimit -S -n 1024; ulimit -H -n 4096",
        &[],
        "fd-hard-limit 2000",
        false,
    ),
    (
        "ulimit -n 4096",
        &["-n", "1500"],
        "fd-hard-limit 2000",
        false,
    ),
    (
        "ulimit -n 4096",
        &["-n", "1500"],
        "fd-hard-limit 2000",
        true,
    ),
    ("ulimit -n 4096", &[], "fd-hard-limit -5", false),
    (
        "ulimit -n 4096",
        &[],
        "ulimit-n 3000\n    fd-hard-limit 2000",
        false,
    ),
    ("ulimit -n 4096", &["-m", "100"], "", false),
    ("ulimit -n 4096", &["-m", "1000"], "", false),
    ("ulimit -n 1024", &["-m", "1000"], "", true),
    (
        "ulimit -n 4096",
        &["-m", "1000"],
        "fd-hard-limit 1500",
        true,
    ),
    ("ulimit -n 4096", &["-m", "100", "-n", "300"], "", true),
    ("ulimit -n 4096", &["-m", "-5"], "", true),
];

/// The recording of real HAProxy's figures.
fn recording() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/haproxy-2.6/limits/figures.txt")
}

/// One started daemon and its directory; killed and removed on drop.
pub(crate) struct Started {
    pub(crate) child: Child,
    pub(crate) dir: PathBuf,
}

impl Started {
    /// Runs `command` in `dir` (its output discarded) and waits, bounded by
    /// [`crate::run::PROCESS_WAIT`], until its stats socket `admin.sock` there answers; returns
    /// the daemon and the socket's path.
    pub(crate) fn with_stats_socket(mut command: Command, dir: PathBuf) -> (Started, PathBuf) {
        let child = command
            .current_dir(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn daemon");
        let run = Started { child, dir };
        let sock = run.dir.join("admin.sock");
        let start = Instant::now();
        while UnixStream::connect(&sock).is_err() {
            assert!(
                start.elapsed() < crate::run::PROCESS_WAIT,
                "the daemon did not open its stats socket in {}",
                run.dir.display()
            );
            std::thread::sleep(STEP);
        }
        (run, sock)
    }
}

impl Drop for Started {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Sends one command on a fresh connection and returns the whole reply.
pub(crate) fn send(sock: &Path, command: &str) -> String {
    let mut s = UnixStream::connect(sock).expect("connect stats socket");
    s.set_read_timeout(Some(WAIT)).expect("timeout");
    s.write_all(command.as_bytes()).expect("send");
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

/// The lines of `stderr` about the descriptor or memory limit, without pids.
fn fd_limit_lines(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter(|l| l.contains("FD limit") || l.contains("MEM limit"))
        .filter_map(|l| {
            let (tag, rest) = l.split_once(" (")?;
            let (_, text) = rest.split_once(" : ")?;
            Some(format!("{} {text}", tag.trim_end()))
        })
        .collect()
}

/// The figures one run shows, as one line: `Name=value` pairs from `show info`, then
/// `proxy/row=slim` for every `show stat` row, then the startup lines about the descriptor
/// limit; or `exit=N` and the startup alert.
fn figures(exe: &str, tag: &str, case: (&str, &[&str], &str, bool)) -> String {
    let (ulimit, args, global, strict) = case;
    let dir = std::env::temp_dir().join(format!("haproxy-rs-limits-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let cfg = CONFIG
        .replace(
            "@STRICT@",
            if strict { "" } else { "    no strict-limits\n" },
        )
        .replace(
            "@GLOBAL@",
            &if global.is_empty() {
                String::new()
            } else {
                format!("    {global}\n")
            },
        )
        .replace("@DIR@", &dir.display().to_string())
        .replace("@P1@", &free_port().to_string())
        .replace("@P2@", &free_port().to_string())
        .replace("@P3@", &free_port().to_string());
    std::fs::write(dir.join("t.cfg"), cfg).expect("write cfg");
    let child = Command::new("sh")
        .arg("-c")
        .arg(format!("{ulimit}; exec \"$0\" \"$@\""))
        .arg(exe)
        .arg("-db")
        .args(args)
        .args(["-f", "t.cfg"])
        .current_dir(&dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn daemon");
    let mut run = Started { child, dir };
    let sock = run.dir.join("admin.sock");
    let start = Instant::now();
    while UnixStream::connect(&sock).is_err() {
        if let Ok(Some(status)) = run.child.try_wait() {
            let mut err = String::new();
            if let Some(mut e) = run.child.stderr.take() {
                let _ = e.read_to_string(&mut err);
            }
            let alert = err
                .lines()
                .filter_map(|l| l.strip_prefix("[ALERT]"))
                .filter_map(|l| l.split_once(" : ").map(|(_, t)| t.to_owned()))
                .collect::<Vec<_>>()
                .join(" / ");
            return format!("exit={} alert={alert}", status.code().unwrap_or(-1));
        }
        assert!(
            start.elapsed() < crate::run::PROCESS_WAIT,
            "{exe} did not open its stats socket"
        );
        std::thread::sleep(STEP);
    }
    let info = send(&sock, "show info\n");
    let names = [
        "Ulimit-n",
        "Maxsock",
        "Maxconn",
        "Hard_maxconn",
        "Memmax_MB",
        "Memmax_bytes",
    ];
    let mut out: Vec<String> = names
        .iter()
        .map(|name| {
            let value = info
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{name}: ")))
                .unwrap_or("?");
            format!("{name}={value}")
        })
        .collect();
    let stat = send(&sock, "show stat\n");
    for row in stat
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let cols: Vec<&str> = row.split(',').collect();
        if let (Some(px), Some(sv), Some(slim)) = (cols.first(), cols.get(1), cols.get(6)) {
            out.push(format!("{px}/{sv}={slim}"));
        }
    }
    out.extend(proc_limits(run.child.id()));
    let _ = run.child.kill();
    let _ = run.child.wait();
    let mut err = String::new();
    if let Some(mut e) = run.child.stderr.take() {
        let _ = e.read_to_string(&mut err);
    }
    out.extend(fd_limit_lines(&err));
    out.join(" ")
}

/// The running process's open-file and address-space limits (soft/hard), from
/// `/proc/PID/limits`.
fn proc_limits(pid: u32) -> Vec<String> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap_or_default();
    [("Max open files", "nofile"), ("Max address space", "as")]
        .iter()
        .map(|(row, name)| {
            let values = text
                .lines()
                .find_map(|l| l.strip_prefix(row))
                .map(|rest| {
                    rest.split_whitespace()
                        .take(2)
                        .collect::<Vec<_>>()
                        .join("/")
                })
                .unwrap_or_else(|| "?".to_owned());
            format!("rlimit-{name}={values}")
        })
        .collect()
}

fn case_name(ulimit: &str, args: &[&str], global: &str, strict: bool) -> String {
    let strict = if strict { " (strict-limits)" } else { "" };
    let global = if global.is_empty() {
        String::new()
    } else {
        format!(" [{global}]")
    };
    let global = global.replace("\n    ", ", ");
    format!("{ulimit} {}", args.join(" ")).trim_end().to_owned() + &global + strict
}

fn run_all(exe: &str, tag: &str) -> Vec<String> {
    CASES
        .iter()
        .map(|&case| {
            let (n, args, global, strict) = case;
            // Both name the command as it was run (`[argv0.main()]`); the recording ran `haproxy`.
            let figures =
                figures(exe, tag, case).replace(&format!("[{exe}.main()]"), "[haproxy.main()]");
            format!("{}: {figures}", case_name(n, args, global, strict))
        })
        .collect()
}

#[test]
fn the_derived_maxconn_matches_haproxy_under_a_fixed_ulimit() {
    let ours = run_all(env!("CARGO_BIN_EXE_haproxy"), "ours");
    if std::env::var_os("HAPROXY_RS_RECORD").is_some() {
        let theirs = run_all("haproxy", "theirs");
        std::fs::create_dir_all(recording().parent().expect("dir")).expect("data dir");
        std::fs::write(recording(), theirs.join("\n") + "\n").expect("write recording");
    }
    let recorded = std::fs::read_to_string(recording()).expect("recorded figures");
    let recorded: Vec<&str> = recorded.lines().collect();
    assert_eq!(ours, recorded, "ours (left) against the recording");
    let line = |name: &str| {
        recorded
            .iter()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(": "))
            .unwrap_or_else(|| panic!("no recorded case {name}"))
    };
    // Under `no strict-limits` a limit that cannot be raised is warned about, then alerted
    // about, and the process serves; under `strict-limits` it alerts and exits 1.
    let relaxed = line("ulimit -n 1024 -n 600");
    assert!(
        relaxed.contains("Cannot raise FD limit to 1235")
            && relaxed.contains("too low for maxconn=600/maxsock=1235"),
        "{relaxed}"
    );
    let strict = line("ulimit -n 1024 -n 600 (strict-limits)");
    assert!(
        strict.contains("exit=1")
            && strict.contains("Cannot raise FD limit to 1235, limit is 1024."),
        "{strict}"
    );
    // fd-hard-limit caps what the figures start from, and the limit HAProxy may raise to.
    let capped = line("ulimit -n 4096 [fd-hard-limit 2000]");
    assert!(capped.contains("Maxsock=1999 Maxconn=982"), "{capped}");
    let refused = line("ulimit -n 4096 -n 1500 [fd-hard-limit 2000] (strict-limits)");
    assert!(
        refused.contains("exit=1")
            && refused.contains("Cannot raise FD limit to 3035, limit is 2000."),
        "{refused}"
    );
    // -m: the memory-bounded maxconn (rounded to two digits), Memmax_MB, and the
    // address-space limit set.
    let memory = line("ulimit -n 4096 -m 100");
    assert!(
        memory.contains("Maxconn=2000")
            && memory.contains("Memmax_MB=100")
            && memory.contains("rlimit-as=104857600/104857600"),
        "{memory}"
    );
    let none = line("ulimit -n 4096 -m -5 (strict-limits)");
    assert!(
        none.contains("exit=1") && none.contains("Cannot compute the automatic maxconn"),
        "{none}"
    );
    if have("haproxy", "-v") {
        let theirs = run_all("haproxy", "theirs");
        assert_eq!(ours, theirs, "ours (left) against the live HAProxy");
    }
}

/// Clients held open at once under `-m 100` (its derived `maxconn` is 2,800).
const MEMORY_CLIENTS: usize = 1000;
/// Requests each of them sends on its connection.
const MEMORY_ROUNDS: usize = 2;

/// Under `-m 100` (an address-space limit of 100 MiB) ours starts its threads and serves a
/// thousand keep-alive clients at once without an allocation failing.
#[test]
fn a_memory_limited_daemon_serves_a_thousand_clients() {
    let dir = std::env::temp_dir().join(format!("haproxy-rs-limits-m-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let port = free_port();
    let cfg = format!(
        "global\n    nbthread 2\n    stats socket {}/admin.sock level admin\n\
         defaults\n    mode http\n    timeout connect 1s\n    timeout client 10s\n    timeout server 10s\n\
         frontend fe\n    bind 127.0.0.1:{port}\n    \
         http-request return status 200 content-type text/plain string hello\n",
        dir.display()
    );
    std::fs::write(dir.join("t.cfg"), cfg).expect("write cfg");
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg("ulimit -n 4096; exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_haproxy"))
        .args(["-db", "-m", "100", "-f", "t.cfg"]);
    let (_daemon, sock) = Started::with_stats_socket(command, dir);
    assert!(send(&sock, "show info\n").contains("Memmax_MB: 100\n"));
    let mut clients: Vec<std::net::TcpStream> = (0..MEMORY_CLIENTS)
        .map(|_| {
            let c = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
            c.set_read_timeout(Some(WAIT)).expect("timeout");
            c
        })
        .collect();
    let mut answered = 0;
    for _ in 0..MEMORY_ROUNDS {
        for c in &mut clients {
            c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                .expect("send");
        }
        for c in &mut clients {
            let mut buf = [0u8; 1024];
            let mut got = Vec::new();
            // One small response: read until its body ("hello") arrives.
            while !got.ends_with(b"hello") {
                let n = c.read(&mut buf).expect("read");
                assert!(
                    n > 0,
                    "connection closed: {}",
                    String::from_utf8_lossy(&got)
                );
                got.extend_from_slice(&buf[..n]);
                assert!(got.len() < 4096, "unexpected reply");
            }
            assert!(
                got.starts_with(b"HTTP/1.1 200"),
                "{}",
                String::from_utf8_lossy(&got)
            );
            answered += 1;
        }
    }
    assert_eq!(answered, MEMORY_CLIENTS * MEMORY_ROUNDS);
}
