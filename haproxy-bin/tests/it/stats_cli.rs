//! The runtime API, live: the same scripted session runs against real HAProxy 2.6 and against
//! our `haproxy` over their unix stats sockets with `socat`, and the replies must be equal once
//! volatile values (pids, times, uptimes, versions, pool sizes) are masked. Skipped with a
//! message when `haproxy` or `socat` is missing, unless `CI=true` (then it fails).

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::run::{TempDir, free_port};

/// How long a daemon may take to open its sockets.
const WAIT: Duration = Duration::from_secs(10);
const STEP: Duration = Duration::from_millis(20);

/// The configuration both daemons run; `@DIR@` and `@PORT@` differ per daemon.
const CONFIG: &str = "\
global
    nbthread 2
    maxconn 1000
    stats socket @DIR@/admin.sock level admin
    stats socket @DIR@/oper.sock
    stats socket @DIR@/user.sock mode 600 level user
    stats timeout 10s
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:@PORT@
    acl blocked src -f @DIR@/blocked.acl
    acl api path_beg /api /v2
    acl mapped path,map_beg(@DIR@/paths.map) -m found
    http-request deny if blocked || mapped
    use_backend be_static if api
    default_backend be_rr
backend be_rr
    balance roundrobin
    server s1 127.0.0.1:9 weight 10
    server s2 127.0.0.1:9 weight 20
    server s3 127.0.0.1:9 backup
backend be_static
    balance static-rr
    fullconn 42
    server a 127.0.0.1:9
";

/// Which socket a step talks to.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Sock {
    Admin,
    Oper,
    User,
}

impl Sock {
    fn file(self) -> &'static str {
        match self {
            Sock::Admin => "admin.sock",
            Sock::Oper => "oper.sock",
            Sock::User => "user.sock",
        }
    }
}

use Sock::{Admin as A, Oper as O, User as U};

/// The scripted session: one connection per step, run in order (state carries over).
const SCRIPT: &[(Sock, &str)] = &[
    (A, "show version\n"),
    (A, "show cli level\n"),
    (O, "show cli level\n"),
    (U, "show cli level\n"),
    (U, "show cli sockets\n"),
    (A, "help\n"),
    (O, "help\n"),
    (U, "help\n"),
    (A, "show info\n"),
    (A, "show info typed\n"),
    (A, "show info json\n"),
    (A, "show stat\n"),
    (A, "show stat typed\n"),
    (A, "show stat json\n"),
    (A, "show stat be_rr 4 -1\n"),
    (A, "show stat -1 2 -1\n"),
    (A, "show stat 3 -1 -1 typed\n"),
    (A, "show stat up\n"),
    (A, "show stat no-maint\n"),
    (A, "show stat domain dns\n"),
    (A, "show servers state\n"),
    (A, "show servers state be_rr\n"),
    (A, "show servers state nosuch\n"),
    (U, "show backend\n"),
    (U, "get weight be_rr/s1\n"),
    (A, "get weight be_rr/nosuch\n"),
    (A, "get weight nosuch/s1\n"),
    (A, "get weight be_rr\n"),
    (A, "set weight be_rr/s1 5\n"),
    (A, "get weight be_rr/s1\n"),
    (A, "set weight be_rr/s1 50%\n"),
    (A, "get weight be_rr/s1\n"),
    (A, "set weight be_rr/s1 300\n"),
    (A, "set weight be_rr/s1 abc\n"),
    (A, "set weight be_static/a 5\n"),
    (A, "set weight be_static/a 0%\n"),
    (A, "get weight be_static/a\n"),
    (A, "set weight be_static/a 100%\n"),
    (O, "set weight be_rr/s1 3\n"),
    (U, "set weight be_rr/s1 3\n"),
    (A, "disable server be_rr/s2\n"),
    (A, "show stat be_rr -1 -1\n"),
    (A, "enable server be_rr/s2\n"),
    (A, "set server be_rr/s1 state drain\n"),
    (A, "show servers state be_rr\n"),
    (A, "show stat be_rr -1 -1 typed\n"),
    (A, "set server be_rr/s1 state bogus\n"),
    (A, "set server be_rr/s1 state ready\n"),
    (A, "set server be_rr/s2 health down\n"),
    (A, "show stat be_rr 4 -1\n"),
    (A, "show stat up\n"),
    (A, "set server be_rr/s2 state maint\n"),
    (A, "show stat no-maint\n"),
    (A, "set server be_rr/s2 state ready\n"),
    (A, "set server be_rr/s2 health up\n"),
    (A, "set server be_rr/s1\n"),
    (A, "disable health be_rr/s1\n"),
    (A, "enable health be_rr/s1\n"),
    (A, "disable agent be_rr/s1\n"),
    (A, "enable agent be_rr/s1\n"),
    (A, "set server be_rr/s1 agent up\n"),
    (A, "set server be_rr/s1 agent-addr 1.2.3.4\n"),
    (A, "set server be_rr/s1 check-port 80\n"),
    (A, "shutdown session 0x1234\n"),
    (A, "set rate-limit connections global 10\n"),
    (A, "show info\n"),
    (O, "disable server be_rr/s1\n"),
    (O, "set server be_rr/s1 state maint\n"),
    (A, "set maxconn frontend fe 500\n"),
    (A, "set maxconn frontend nosuch 5\n"),
    (A, "set maxconn server be_rr/s1 10\n"),
    (A, "set maxconn server be_rr/nosuch 10\n"),
    (A, "set maxconn global 500\n"),
    (A, "set maxconn global 99999\n"),
    (O, "set maxconn global 100\n"),
    (A, "show stat -1 1 -1\n"),
    (A, "show stat be_rr 4 1\n"),
    (O, "show env STATS_TEST\n"),
    (O, "show env NOPE\n"),
    (U, "show env STATS_TEST\n"),
    (O, "clear counters\n"),
    (U, "clear counters\n"),
    (O, "clear counters all\n"),
    (A, "clear counters all\n"),
    (A, "show stat -1 2 -1\n"),
    (A, "show stat -1 4 -1 typed\n"),
    (U, "show sess\n"),
    (U, "show map\n"),
    (U, "show acl @DIR@/blocked.acl\n"),
    (U, "get acl @DIR@/blocked.acl 10.1.2.3\n"),
    (U, "get acl @DIR@/blocked.acl 11.1.2.3\n"),
    (U, "add acl @DIR@/blocked.acl notanip\n"),
    (U, "add acl @DIR@/blocked.acl 172.16.0.0/12\n"),
    (U, "get acl @DIR@/blocked.acl 172.16.3.4\n"),
    (O, "del acl @DIR@/blocked.acl 1.2.3.4\n"),
    (O, "del acl @DIR@/blocked.acl 192.168.1.1\n"),
    (U, "show acl @DIR@/blocked.acl\n"),
    (A, "get map @DIR@/paths.map /api/x\n"),
    (A, "get map @DIR@/paths.map /other\n"),
    (A, "set map @DIR@/paths.map /api 9\n"),
    (A, "set map @DIR@/paths.map /nope 9\n"),
    (A, "add map @DIR@/paths.map /new 3\n"),
    (A, "show map @DIR@/paths.map\n"),
    (A, "show map #99\n"),
    (A, "clear acl @DIR@/blocked.acl\n"),
    (A, "show acl @DIR@/blocked.acl\n"),
    (A, "get acl #1 10.0.0.1\n"),
    (U, "show errors\n"),
    (O, "disable frontend fe\n"),
    (A, "foo bar\n"),
    (A, "show foo\n"),
    (U, "operator\n"),
    (O, "user;show cli level;set weight be_rr/s1 1\n"),
    (A, "show version;show cli level;get weight be_rr/s2\n"),
    (A, "prompt\nshow cli level\nget weight be_rr/s1\nquit\n"),
    (
        A,
        "prompt\noperator\nshow cli level\nprompt\nshow cli level\n",
    ),
    (U, "set timeout cli 5\n"),
    (A, "set timeout cli abc\n"),
    (A, "set timeout foo 5\n"),
    (A, "disable frontend fe\n"),
    (A, "disable frontend fe\n"),
    (A, "show stat -1 1 -1\n"),
    (A, "enable frontend fe\n"),
    (A, "enable frontend fe\n"),
    (A, "disable frontend be_rr\n"),
    (A, "shutdown frontend fe\n"),
    (A, "show stat -1 1 -1\n"),
    (A, "disable frontend fe\n"),
    (A, "enable frontend fe\n"),
    (A, "shutdown frontend fe\n"),
    (A, "shutdown frontend nosuch\n"),
    (A, "set server be_rr/s3 addr 1.2.3.x\n"),
    (A, "set server be_rr/s3 addr 127.0.0.2 port 10\n"),
    (A, "set server be_rr/s3 addr 127.0.0.2\n"),
    (A, "set server be_rr/s3 addr 127.0.0.3 port 10\n"),
    (A, "show servers state be_rr\n"),
    (A, "shutdown sessions server be_rr/s1\n"),
    (A, "shutdown sessions server be_rr/nosuch\n"),
    (A, "quit\n"),
];

/// `true` when the tool runs; `false` means skip (and fails under `CI=true`).
#[expect(clippy::print_stderr, reason = "a skipped test says why")]
pub(crate) fn have(tool: &str, arg: &str) -> bool {
    let ok = Command::new(tool)
        .arg(arg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if !ok {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{tool} is required under CI=true"
        );
        eprintln!("skipping the stats socket differential: {tool} is not installed");
    }
    ok
}

/// A daemon in the foreground in its own directory; killed on drop.
pub(crate) struct Daemon {
    child: Child,
    /// Removed after the daemon is killed (fields drop after `drop` runs).
    pub(crate) dir: TempDir,
    /// The frontend's port.
    pub(crate) port: u16,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Daemon {
    fn start(exe: &str, tag: &str) -> Daemon {
        Daemon::start_with(exe, tag, CONFIG)
    }

    /// Starts `exe` on `config` (`@DIR@`: its directory, `@PORT@`: a free port) and waits for
    /// its `user.sock`.
    pub(crate) fn start_with(exe: &str, tag: &str, config: &str) -> Daemon {
        let dir = TempDir::new(&format!("cli-{tag}"));
        let port = free_port();
        let cfg = config
            .replace("@DIR@", &dir.display().to_string())
            .replace("@PORT@", &port.to_string());
        let path = dir.join("t.cfg");
        std::fs::write(&path, cfg).expect("write cfg");
        std::fs::write(dir.join("blocked.acl"), "10.0.0.0/8\n192.168.1.1\n").expect("acl file");
        std::fs::write(dir.join("paths.map"), "/api 1\n/static 2\n").expect("map file");
        let child = Command::new(exe)
            .args(["-db", "-f", "t.cfg"])
            .current_dir(&dir)
            .env_clear()
            .env("PATH", "/usr/bin:/bin:/usr/sbin:/sbin")
            .env("STATS_TEST", "hello world")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn daemon");
        let d = Daemon { child, dir, port };
        let start = Instant::now();
        while std::os::unix::net::UnixStream::connect(d.dir.join("user.sock")).is_err() {
            assert!(
                start.elapsed() < crate::run::PROCESS_WAIT,
                "{exe} did not open its stats sockets"
            );
            std::thread::sleep(STEP);
        }
        d
    }

    /// Sends `input` (`@DIR@`: this daemon's directory) on a fresh connection with socat and
    /// returns the whole reply, with the directory written back as `@DIR@`.
    pub(crate) fn send(&self, sock: Sock, input: &str) -> String {
        let dir = self.dir.display().to_string();
        let input = input.replace("@DIR@", &dir);
        let mut child = Command::new("socat")
            .args(["-t", "2", "stdio"])
            .arg(format!(
                "unix-connect:{}",
                self.dir.join(sock.file()).display()
            ))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("socat runs");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("send");
        let out = child.wait_with_output().expect("socat output");
        String::from_utf8_lossy(&out.stdout).replace(&dir, "@DIR@")
    }
}

/// `show info` fields whose values belong to the process or the moment, not the behaviour.
const VOLATILE_INFO: &[&str] = &[
    "node",
    "Version",
    "Release_date",
    "Pid",
    "Uptime",
    "Uptime_sec",
    "PoolAlloc_MB",
    "PoolUsed_MB",
    "Ulimit-n",
    "Maxsock",
    "CumConns",
    "CumReq",
    "Tasks",
    "Run_queue",
    "Idle_pct",
    "TotalBytesOut",
    "BytesOutRate",
    "Build info",
    "PoolAlloc_bytes",
    "PoolUsed_bytes",
    "Start_time_sec",
];

/// `show stat` columns that hold times (seconds since a change).
const VOLATILE_STAT: &[(usize, &str)] = &[(23, "lastchg"), (24, "downtime")];

fn mask(text: &str) -> String {
    let mut out = String::new();
    let (mut csv, mut state) = (false, false);
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches('\n');
        let end = &line[body.len()..];
        let masked = if body.starts_with("# pxname,") {
            csv = true;
            body.to_owned()
        } else if body.starts_with("# be_id ") {
            state = true;
            body.to_owned()
        } else if state && !body.is_empty() {
            // `show servers state`: column 9 is srv_time_since_last_change.
            body.split(' ')
                .enumerate()
                .map(|(i, f)| if i == 9 { "<T>" } else { f })
                .collect::<Vec<_>>()
                .join(" ")
        } else if csv && body.contains(',') {
            body.split(',')
                .enumerate()
                .map(|(i, f)| {
                    if VOLATILE_STAT.iter().any(|(n, _)| *n == i) && !f.is_empty() {
                        "<T>"
                    } else {
                        f
                    }
                })
                .collect::<Vec<_>>()
                .join(",")
        } else {
            mask_line(body)
        };
        out.push_str(&masked);
        out.push_str(end);
    }
    out
}

fn mask_line(body: &str) -> String {
    // `show acl <ref>` / `show map <ref>` entries: `0x<pointer> <key>[ <value>]`.
    if let Some(rest) = body.strip_prefix("0x")
        && let Some((ptr, entry)) = rest.split_once(' ')
        && ptr.bytes().all(|b| b.is_ascii_hexdigit())
    {
        return format!("0x<P> {entry}");
    }
    // `show info`: `Name: value`.
    if let Some((name, _)) = body.split_once(": ")
        && VOLATILE_INFO.contains(&name)
    {
        return format!("{name}: <V>");
    }
    // Typed `show info` (`6.Pid.1:SGP:u32:123`) and typed `show stat`
    // (`S.3.1.23.lastchg.1:MGP:u32:1`): mask the value of a volatile name.
    if let Some((key, _)) = body.rsplit_once(':') {
        let name = key.split(':').next().unwrap_or("");
        let parts: Vec<&str> = name.split('.').collect();
        let volatile = VOLATILE_INFO.iter().any(|v| parts.get(1) == Some(v))
            || VOLATILE_STAT.iter().any(|(_, v)| parts.get(4) == Some(v));
        if volatile {
            return format!("{key}:<V>");
        }
    }
    // Version strings in `show version` and JSON.
    let mut s = body.replace("2.6.12-1+deb12u4", "<VERSION>").replace(
        concat!("2.6.12-haproxy-rs-", env!("CARGO_PKG_VERSION")),
        "<VERSION>",
    );
    // JSON `show stat` / `show info`: `"name":"<n>"},…,"value":{"type":"u32","value":N}`.
    let names = VOLATILE_STAT
        .iter()
        .map(|(_, n)| *n)
        .chain(VOLATILE_INFO.iter().copied());
    for name in names {
        s = mask_json_value(&s, name);
    }
    s
}

/// Replaces the value of every JSON field named `name` by `<V>`.
fn mask_json_value(text: &str, name: &str) -> String {
    let marker = format!("\"name\":\"{name}\"}}");
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find(&marker) {
        let after = &rest[at..];
        let Some(v) = after.find("\"value\":{").map(|i| i + 9) else {
            break;
        };
        let Some(inner) = after[v..].find("\"value\":").map(|i| v + i + 8) else {
            break;
        };
        let tail = &after[inner..];
        let len = match tail.strip_prefix('"') {
            Some(q) => q.find('"').map_or(tail.len(), |e| e + 2),
            None => tail.find(['}', ',']).unwrap_or(tail.len()),
        };
        out.push_str(&rest[..at + inner]);
        out.push_str("\"<V>\"");
        rest = &tail[len..];
    }
    out.push_str(rest);
    out
}

fn run_script(d: &Daemon) -> Vec<String> {
    SCRIPT
        .iter()
        .map(|(sock, input)| {
            if input.starts_with("show info") {
                mask(&settled_info(d, *sock, input))
            } else {
                mask(&d.send(*sock, input))
            }
        })
        .collect()
}

/// Asks a read-only `show info` until its `Jobs` counts only the listeners and the asking
/// connection, then returns that reply (the last one when [`WAIT`] runs out, so a real
/// difference still shows). The previous step's connection is counted until the daemon has
/// released it, which on a busy machine (and with `nbthread 2`, on another thread) can happen
/// after the client saw the reply end: the count is then transiently one too high.
fn settled_info(d: &Daemon, sock: Sock, input: &str) -> String {
    let start = Instant::now();
    loop {
        let reply = d.send(sock, input);
        let quiet = matches!(
            (info_value(&reply, "Jobs"), info_value(&reply, "Listeners")),
            (Some(jobs), Some(listeners)) if jobs == listeners + 1
        );
        if quiet || start.elapsed() >= WAIT {
            return reply;
        }
        std::thread::sleep(STEP);
    }
}

/// The integer value of the `show info` field `name`, in its plain (`Jobs: 5`), typed
/// (`53.Jobs.1:MGP:u32:5`) or JSON form.
fn info_value(reply: &str, name: &str) -> Option<u64> {
    let json = format!("\"name\":\"{name}\"}}");
    if let Some(at) = reply.find(&json) {
        let after = &reply[at..];
        let v = after.find("\"value\":{")? + 9;
        let inner = v + after[v..].find("\"value\":")? + 8;
        let digits: String = after[inner..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        return digits.parse().ok();
    }
    reply.lines().find_map(|line| {
        if let Some(v) = line.strip_prefix(name).and_then(|r| r.strip_prefix(": ")) {
            return v.trim().parse().ok();
        }
        let (key, value) = line.rsplit_once(':')?;
        let field = key.split(':').next()?;
        (field.split('.').nth(1) == Some(name))
            .then(|| value.trim().parse().ok())
            .flatten()
    })
}

/// Real HAProxy's masked replies to [`SCRIPT`], recorded by this test with
/// `RECORD_STATS_SESSION=1` (see tests/data/haproxy-2.6/README.md).
const RECORDING: &str = "tests/data/haproxy-2.6/stats-session.txt";
/// Ends each reply in the recording.
const END: &str = "\n###end\n";

fn recording_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(RECORDING)
}

fn write_recording(replies: &[String]) {
    let mut out = String::new();
    for (i, ((sock, input), reply)) in SCRIPT.iter().zip(replies).enumerate() {
        out.push_str(&format!("### {i} {sock:?} {input:?}\n{reply}{END}"));
    }
    std::fs::write(recording_path(), out).expect("write the recording");
}

fn read_recording() -> Vec<String> {
    let text = std::fs::read_to_string(recording_path()).expect("the recording is committed");
    text.split(END)
        .filter(|chunk| !chunk.is_empty())
        .map(|chunk| chunk.split_once('\n').map_or("", |(_, r)| r).to_owned())
        .collect()
}

fn differences(theirs: &[String], ours: &[String], who: &str) -> Vec<String> {
    assert_eq!(theirs.len(), SCRIPT.len(), "{who} has a reply per step");
    SCRIPT
        .iter()
        .zip(theirs.iter().zip(ours))
        .enumerate()
        .filter(|(_, (_, (t, o)))| t != o)
        .map(|(i, ((sock, input), (t, o)))| {
            format!("step {i} {sock:?} {input:?}\n--- {who}\n{t}\n--- ours\n{o}\n")
        })
        .collect()
}

#[test]
fn a_scripted_session_answers_as_haproxy_2_6_does() {
    assert!(SCRIPT.len() >= 30);
    if !have("socat", "-V") {
        return;
    }
    let ours = run_script(&Daemon::start(env!("CARGO_BIN_EXE_haproxy"), "ours"));
    let mut failures = Vec::new();
    if have("haproxy", "-v") {
        let theirs = run_script(&Daemon::start("haproxy", "real"));
        if std::env::var_os("RECORD_STATS_SESSION").is_some() {
            write_recording(&theirs);
        }
        failures.extend(differences(&theirs, &ours, "live haproxy"));
    }
    // The recording holds even where HAProxy is not installed.
    failures.extend(differences(&read_recording(), &ours, "recorded haproxy"));
    assert!(
        failures.is_empty(),
        "{} differences over {} steps:\n{}",
        failures.len(),
        SCRIPT.len(),
        failures.join("\n")
    );
}

#[test]
fn masking_hides_times_but_not_behaviour() {
    let csv = "# pxname,svname\nbe,s1,0,0,0,0,,0,0,0,,0,,0,0,0,0,UP,1,1,0,,,12,,,1\n";
    let m = mask(csv);
    assert!(m.contains(",UP,1,1,0,,,<T>,,,1"), "{m}");
    assert_eq!(mask_line("Pid: 42"), "Pid: <V>");
    assert_eq!(mask_line("0x55d3a0 /api 9"), "0x<P> /api 9");
    let json = r#"{"field":{"pos":6,"name":"Pid"},"processNum":1,"value":{"type":"u32","value":42}},{"field":{"pos":1,"name":"Version"},"value":{"type":"str","value":"2.6"}},{"field":{"pos":15,"name":"Maxconn"},"value":{"type":"u32","value":7}}"#;
    let m = mask_json_value(&mask_json_value(json, "Pid"), "Version");
    assert!(m.contains(r#""value":{"type":"u32","value":"<V>"}"#), "{m}");
    assert!(m.contains(r#""value":{"type":"str","value":"<V>"}"#), "{m}");
    assert!(m.contains(r#""value":{"type":"u32","value":7}"#), "{m}");
    let st = mask("1\n# be_id be_name\n3 be_rr 1 s1 127.0.0.1 2 0 10 10 41 1 0 2\n");
    assert!(
        st.ends_with("3 be_rr 1 s1 127.0.0.1 2 0 10 10 <T> 1 0 2\n"),
        "{st}"
    );
    assert_eq!(mask_line("Maxconn: 42"), "Maxconn: 42");
    assert_eq!(
        mask_line("S.3.1.23.lastchg.1:MGP:u32:17"),
        "S.3.1.23.lastchg.1:MGP:u32:<V>"
    );
}

#[test]
fn info_values_are_read_in_every_show_info_format() {
    let plain = "Unstoppable Jobs: 0\nJobs: 6\nListeners: 4\n";
    assert_eq!(info_value(plain, "Jobs"), Some(6));
    assert_eq!(info_value(plain, "Listeners"), Some(4));
    let typed = "54.Unstoppable Jobs.1:MGP:u32:0\n53.Jobs.1:MGP:u32:5\n55.Listeners.1:MGP:u32:4\n";
    assert_eq!(info_value(typed, "Jobs"), Some(5));
    assert_eq!(info_value(typed, "Listeners"), Some(4));
    let json = r#"[{"field":{"pos":53,"name":"Jobs"},"processNum":1,"value":{"type":"u32","value":7}},{"field":{"pos":55,"name":"Listeners"},"processNum":1,"value":{"type":"u32","value":4}}]"#;
    assert_eq!(info_value(json, "Jobs"), Some(7));
    assert_eq!(info_value(json, "Listeners"), Some(4));
    assert_eq!(info_value("Permission denied\n", "Jobs"), None);
}

/// The `[ALERT]` lines of a startup, without their pids.
fn alerts(stderr: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(stderr)
        .lines()
        .filter(|l| l.starts_with("[ALERT]"))
        .map(|l| l.split_once(") : ").map_or(l, |(_, m)| m).to_owned())
        .collect()
}

#[test]
fn a_stats_socket_that_cannot_bind_stops_startup_as_haproxy_does() {
    let dir = TempDir::new("cli-bad");
    let cfg = format!(
        "global\n    stats socket /nonexistent-dir/x.sock level admin\ndefaults\n    mode http\n    \
         timeout connect 1s\n    timeout client 1s\n    timeout server 1s\nfrontend fe\n    \
         bind 127.0.0.1:{}\n",
        free_port()
    );
    std::fs::write(dir.join("bad.cfg"), cfg).expect("write cfg");
    let run = |exe: &str| {
        Command::new(exe)
            .args(["-db", "-f", "bad.cfg"])
            .current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .output()
            .expect("runs")
    };
    // The last alert names the command as it was run (`argv[0]`).
    let want = |exe: &str| {
        [
            "Binding [bad.cfg:2] for frontend GLOBAL: cannot bind UNIX socket (No such file or directory) [/nonexistent-dir/x.sock]".to_owned(),
            format!("[{exe}.main()] Some protocols failed to start their listeners! Exiting."),
        ]
    };
    let exe = env!("CARGO_BIN_EXE_haproxy");
    let ours = run(exe);
    assert_eq!(ours.status.code(), Some(1));
    assert_eq!(alerts(&ours.stderr), want(exe));
    if Command::new("haproxy").arg("-v").output().is_ok() {
        let theirs = run("haproxy");
        assert_eq!(theirs.status.code(), Some(1));
        assert_eq!(alerts(&theirs.stderr), want("haproxy"));
    }
}
