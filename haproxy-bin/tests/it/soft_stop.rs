//! SIGUSR1 with `hard-stop-after`: a request stuck on a silent server is cut when the time is up,
//! the process exits 0 and warns as HAProxy 2.6 does; with `grace`, the listener keeps serving
//! for the grace period first, with HAProxy's two notices. Run on our binary and, when installed, on
//! the real HAProxy with the same configuration (skipped with a message when it is absent,
//! unless `CI=true`).
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use crate::run::{Proxy, TempDir, WAIT, free_port};

/// A server that accepts and never answers (holds each connection for [`WAIT`]).
fn silent_server() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in l.incoming().take(8).flatten() {
            held.push(s);
        }
        std::thread::sleep(WAIT);
    });
    port
}

/// What a hard-stop run shows: seconds from the signal to the stuck client's close, what that
/// client received, the exit code, the hard-stop warnings with the pid masked.
type HardStop = (Duration, String, Option<i32>, Vec<String>);

/// Runs `exe` on the configuration, sends a request the server never answers, opens a
/// connection that sends nothing when `idle` is set, then SIGUSR1.
fn hard_stop_run(exe: &str, dir: &TempDir, tag: &str, idle: bool) -> HardStop {
    let srv = silent_server();
    let fe = free_port();
    let cfg = dir.write(
        &format!("{tag}.cfg"),
        &format!(
            "global\n    hard-stop-after 1s\n\
             defaults\n    mode http\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n\
             frontend fe\n    bind 127.0.0.1:{fe}\n    default_backend be\n\
             backend be\n    server s1 127.0.0.1:{srv}\n"
        ),
    );
    let mut proxy = Proxy::start_exe(exe, &cfg, fe);
    let mut stuck = TcpStream::connect(("127.0.0.1", fe)).expect("connect");
    stuck.set_read_timeout(Some(WAIT)).expect("timeout");
    stuck
        .write_all(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        .expect("request");
    let _idle = idle.then(|| TcpStream::connect(("127.0.0.1", fe)).expect("connect"));
    std::thread::sleep(Duration::from_millis(300));
    proxy.signal("-USR1");
    let start = Instant::now();
    let mut got = Vec::new();
    let _ = stuck.read_to_end(&mut got);
    let cut = start.elapsed();
    let code = proxy.wait_exit().code();
    let mut stderr = String::new();
    if let Some(mut e) = proxy.take_stderr() {
        let _ = e.read_to_string(&mut stderr);
    }
    let warnings = stderr
        .lines()
        .filter(|l| l.contains("hard-stop"))
        .map(|l| l.split_once(") : ").map_or(l, |(_, m)| m).to_owned())
        .collect();
    (
        cut,
        String::from_utf8_lossy(&got).into_owned(),
        code,
        warnings,
    )
}

#[test]
fn hard_stop_after_cuts_a_stuck_request_exits_and_warns_as_haproxy() {
    let dir = TempDir::new("hardstop");
    let (cut, got, code, warnings) =
        hard_stop_run(env!("CARGO_BIN_EXE_haproxy"), &dir, "ours", false);
    // The stream is killed while it waits for its response: HAProxy's 502, with `close`.
    assert_eq!(
        got,
        "HTTP/1.1 502 Bad Gateway\r\ncontent-length: 107\r\ncache-control: no-cache\r\n\
         content-type: text/html\r\nconnection: close\r\n\r\n<html><body><h1>502 Bad Gateway</h1>\n\
         The server returned an invalid or incomplete response.\n</body></html>\n"
    );
    assert!(
        cut >= Duration::from_millis(900) && cut < Duration::from_secs(4),
        "cut after {cut:?}"
    );
    assert_eq!(code, Some(0));
    assert_eq!(
        warnings,
        [
            "soft-stop running for too long, performing a hard-stop.",
            "Proxy fe hard-stopped (1 remaining conns will be closed).",
        ]
    );
    if let Some(real) = crate::oracle::real_haproxy("the HAProxy side of this test") {
        let (cut, theirs_got, code, theirs) =
            hard_stop_run(&real.display().to_string(), &dir, "real", false);
        assert!(cut >= Duration::from_millis(900) && cut < Duration::from_secs(4));
        assert_eq!(code, Some(0));
        assert_eq!(theirs, warnings);
        assert_eq!(theirs_got, got);
    }
}

#[test]
fn a_connection_without_a_stream_resists_the_hard_stop_and_is_cut_as_haproxy() {
    let dir = TempDir::new("resist");
    let (_, got, code, warnings) = hard_stop_run(env!("CARGO_BIN_EXE_haproxy"), &dir, "ours", true);
    assert!(got.starts_with("HTTP/1.1 502 Bad Gateway\r\n"), "{got}");
    assert_eq!(code, Some(0));
    assert_eq!(
        warnings,
        [
            "soft-stop running for too long, performing a hard-stop.",
            "Proxy fe hard-stopped (2 remaining conns will be closed).",
            "Some tasks resisted to hard-stop, exiting now.",
        ]
    );
    if let Some(real) = crate::oracle::real_haproxy("the HAProxy side of this test") {
        let (_, theirs_got, code, theirs) =
            hard_stop_run(&real.display().to_string(), &dir, "real", true);
        assert_eq!(code, Some(0));
        assert_eq!(theirs, warnings);
        assert_eq!(theirs_got, got);
    }
}

/// Runs `exe` with `grace 600ms`, sends SIGUSR1, and returns (how long the listener kept
/// accepting after the signal, whether a request sent during the grace period was answered
/// with 200, the exit code, the soft-stop notices with the pid masked).
fn grace_run(exe: &str, dir: &TempDir, tag: &str) -> (Duration, bool, Option<i32>, Vec<String>) {
    let fe = free_port();
    let cfg = dir.write(
        &format!("{tag}.cfg"),
        &format!(
            "global\n    grace 600ms\n\
             defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\n\
             frontend fe\n    bind 127.0.0.1:{fe}\n    http-request return status 200 content-type text/plain string ok\n"
        ),
    );
    let mut proxy = Proxy::start_exe(exe, &cfg, fe);
    // Taken before the signal: `kill` is a process of its own, which a loaded machine may take
    // tens of ms to start and reap after it has delivered the signal (548 ms was seen from its
    // return with a 600 ms grace).
    let start = Instant::now();
    proxy.signal("-USR1");
    std::thread::sleep(Duration::from_millis(100));
    let answered = crate::run::request(fe, "/", "").starts_with("HTTP/1.1 200");
    while TcpStream::connect(("127.0.0.1", fe)).is_ok() {
        assert!(start.elapsed() < WAIT, "listener still open");
        std::thread::sleep(Duration::from_millis(20));
    }
    let open_for = start.elapsed();
    let code = proxy.wait_exit().code();
    let mut stderr = String::new();
    if let Some(mut e) = proxy.take_stderr() {
        let _ = e.read_to_string(&mut stderr);
    }
    let notices = stderr
        .lines()
        .filter(|l| l.contains("soft-stop"))
        .map(|l| l.split_once(") : ").map_or(l, |(_, m)| m).to_owned())
        .collect();
    (open_for, answered, code, notices)
}

#[test]
fn grace_keeps_accepting_then_stops_softly_as_haproxy() {
    let dir = TempDir::new("grace");
    let (open_for, answered, code, notices) =
        grace_run(env!("CARGO_BIN_EXE_haproxy"), &dir, "ours");
    assert!(
        open_for >= Duration::from_millis(550) && open_for < Duration::from_secs(4),
        "{open_for:?}"
    );
    assert!(answered);
    assert_eq!(code, Some(0));
    assert_eq!(
        notices,
        [
            "Scheduling a soft-stop in 600 ms.",
            "Grace period expired, proceeding with soft-stop now.",
        ]
    );
    if let Some(real) = crate::oracle::real_haproxy("the HAProxy side of this test") {
        let theirs = grace_run(&real.display().to_string(), &dir, "real");
        assert!(theirs.0 >= Duration::from_millis(550) && theirs.0 < Duration::from_secs(4));
        assert_eq!((theirs.1, theirs.2, theirs.3), (answered, code, notices));
    }
}

/// An origin answering every request with `200 ok` and closing (for up to [`WAIT`]).
pub(crate) fn closing_origin() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for mut s in l.incoming().take(16).flatten() {
            let _ = s.set_read_timeout(Some(WAIT));
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && head.len() < 16384 {
                match s.read(&mut byte) {
                    Ok(1) => head.extend_from_slice(&byte),
                    _ => break,
                }
            }
            let _ =
                s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok");
        }
    });
    port
}

/// Serves one request through a frontend and one through a listen section (and, with `stats`,
/// two CLI sessions on a stats socket), then SIGUSR1: the `Proxy ... stopped` warnings with the
/// pid masked, and the exit code.
fn stopped_lines(exe: &str, dir: &TempDir, tag: &str, stats: bool) -> (Vec<String>, Option<i32>) {
    let srv = closing_origin();
    let (fe, l) = (free_port(), free_port());
    let sock = dir.write(&format!("{tag}.dir"), "").with_extension("sock");
    let global = if stats {
        format!("global\n    stats socket {} level admin\n", sock.display())
    } else {
        String::new()
    };
    let cfg = dir.write(
        &format!("{tag}.cfg"),
        &format!(
            "{global}defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\n\
             frontend fe\n    bind 127.0.0.1:{fe}\n    default_backend be\n\
             backend be\n    server s 127.0.0.1:{srv}\n\
             listen l\n    bind 127.0.0.1:{l}\n    server s 127.0.0.1:{srv}\n\
             backend unused\n    server s 127.0.0.1:{srv}\n"
        ),
    );
    let mut proxy = Proxy::start_exe(exe, &cfg, fe);
    // The start-up probe of `fe` counts as one connection in both.
    for port in [fe, l] {
        assert!(crate::run::request(port, "/", "").starts_with("HTTP/1.1 200"));
    }
    for _ in 0..u8::from(stats) * 2 {
        let mut cli = std::os::unix::net::UnixStream::connect(&sock).expect("cli");
        cli.write_all(b"show info\n").expect("cli write");
        let mut out = String::new();
        let _ = cli.read_to_string(&mut out);
    }
    proxy.signal("-USR1");
    let code = proxy.wait_exit().code();
    let mut stderr = String::new();
    if let Some(mut e) = proxy.take_stderr() {
        let _ = e.read_to_string(&mut stderr);
    }
    let lines = stderr
        .lines()
        .filter(|l| l.contains("stopped (cumulated"))
        .map(|l| l.replace(&format!("({})", proxy.pid()), "(PID)"))
        .collect();
    (lines, code)
}

#[test]
fn a_soft_stop_reports_each_proxy_stopped_as_haproxy() {
    let dir = TempDir::new("stopped");
    let (ours, code) = stopped_lines(env!("CARGO_BIN_EXE_haproxy"), &dir, "ours", false);
    assert_eq!(code, Some(0));
    let want = [
        "[WARNING]  (PID) : Proxy fe stopped (cumulated conns: FE: 2, BE: 0).",
        "[WARNING]  (PID) : Proxy l stopped (cumulated conns: FE: 1, BE: 1).",
        "[WARNING]  (PID) : Proxy be stopped (cumulated conns: FE: 0, BE: 1).",
        "[WARNING]  (PID) : Proxy unused stopped (cumulated conns: FE: 0, BE: 0).",
        "[WARNING]  (PID) : Proxy <HTTPCLIENT> stopped (cumulated conns: FE: 0, BE: 0).",
    ];
    assert_eq!(ours, want);
    if let Some(real) = crate::oracle::real_haproxy("the HAProxy side of this test") {
        let (theirs, code) = stopped_lines(&real.display().to_string(), &dir, "real", false);
        assert_eq!(code, Some(0));
        assert_eq!(theirs, want);
    }
}

/// With stats sockets HAProxy also stops its CLI proxy, `GLOBAL`, after the frontends, with
/// each CLI session counted as a frontend and a backend connection.
#[test]
fn a_soft_stop_reports_the_cli_proxy_stopped_as_haproxy() {
    let dir = TempDir::new("stopped-cli");
    let (ours, code) = stopped_lines(env!("CARGO_BIN_EXE_haproxy"), &dir, "ours", true);
    assert_eq!(code, Some(0));
    let want = [
        "[WARNING]  (PID) : Proxy fe stopped (cumulated conns: FE: 2, BE: 0).",
        "[WARNING]  (PID) : Proxy l stopped (cumulated conns: FE: 1, BE: 1).",
        "[WARNING]  (PID) : Proxy GLOBAL stopped (cumulated conns: FE: 2, BE: 2).",
        "[WARNING]  (PID) : Proxy be stopped (cumulated conns: FE: 0, BE: 1).",
        "[WARNING]  (PID) : Proxy unused stopped (cumulated conns: FE: 0, BE: 0).",
        "[WARNING]  (PID) : Proxy <HTTPCLIENT> stopped (cumulated conns: FE: 0, BE: 0).",
    ];
    assert_eq!(ours, want);
    if let Some(real) = crate::oracle::real_haproxy("the HAProxy side of this test") {
        let (theirs, code) = stopped_lines(&real.display().to_string(), &dir, "real", true);
        assert_eq!(code, Some(0));
        assert_eq!(theirs, want);
    }
}

/// An origin answering `/slow` after 500 ms and anything else at once, keeping connections
/// open (for up to [`WAIT`]).
fn keep_alive_origin() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for s in l.incoming().take(16).flatten() {
            std::thread::spawn(move || {
                let mut s = s;
                let _ = s.set_read_timeout(Some(WAIT));
                for _ in 0..16 {
                    let mut head = Vec::new();
                    let mut byte = [0u8; 1];
                    while !head.ends_with(b"\r\n\r\n") && head.len() < 16384 {
                        match s.read(&mut byte) {
                            Ok(1) => head.extend_from_slice(&byte),
                            _ => return,
                        }
                    }
                    if head.starts_with(b"GET /slow") {
                        std::thread::sleep(Duration::from_millis(500));
                    }
                    if s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                        .is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    port
}

/// Reads one `content-length: 2` response, or what came before the close.
fn read_response(s: &mut TcpStream) -> String {
    let mut got = Vec::new();
    let mut byte = [0u8; 1];
    while !(got.ends_with(b"\r\n\r\nok")) {
        match s.read(&mut byte) {
            Ok(1) => got.push(byte[0]),
            _ => break,
        }
    }
    String::from_utf8_lossy(&got).into_owned()
}

/// An idle keep-alive client and a request in flight at SIGUSR1: how long the idle client
/// stayed open, the in-flight response, whether that connection closed after it, the exit code.
fn idle_and_in_flight(
    exe: &str,
    dir: &TempDir,
    tag: &str,
) -> (Duration, String, bool, Option<i32>) {
    let srv = keep_alive_origin();
    let fe = free_port();
    let cfg = dir.write(
        &format!("{tag}.cfg"),
        &format!(
            "defaults\n    mode http\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n    timeout http-keep-alive 30s\n\
             frontend fe\n    bind 127.0.0.1:{fe}\n    default_backend be\n\
             backend be\n    server s 127.0.0.1:{srv}\n"
        ),
    );
    let mut proxy = Proxy::start_exe(exe, &cfg, fe);
    let mut idle = TcpStream::connect(("127.0.0.1", fe)).expect("connect");
    idle.set_read_timeout(Some(WAIT)).expect("timeout");
    idle.write_all(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        .expect("send");
    assert!(read_response(&mut idle).starts_with("HTTP/1.1 200 OK"));
    let mut busy = TcpStream::connect(("127.0.0.1", fe)).expect("connect");
    busy.set_read_timeout(Some(WAIT)).expect("timeout");
    busy.write_all(b"GET /slow HTTP/1.1\r\nHost: t\r\n\r\n")
        .expect("send");
    // Long enough for ours to park the idle connection (deep idle).
    std::thread::sleep(Duration::from_millis(200));
    proxy.signal("-USR1");
    let start = Instant::now();
    let mut rest = Vec::new();
    let _ = idle.read_to_end(&mut rest);
    let idle_for = start.elapsed();
    assert!(rest.is_empty(), "{rest:?}");
    let resp = read_response(&mut busy);
    let mut after = Vec::new();
    let closed = matches!(busy.read_to_end(&mut after), Ok(0));
    (idle_for, resp, closed, proxy.wait_exit().code())
}

#[test]
fn sigusr1_closes_idle_clients_and_answers_in_flight_with_close_as_haproxy() {
    let dir = TempDir::new("idle");
    let (idle_for, resp, closed, code) =
        idle_and_in_flight(env!("CARGO_BIN_EXE_haproxy"), &dir, "ours");
    assert!(idle_for < Duration::from_millis(400), "{idle_for:?}");
    assert_eq!(
        resp,
        "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok"
    );
    assert!(closed);
    assert_eq!(code, Some(0));
    if let Some(real) = crate::oracle::real_haproxy("the HAProxy side of this test") {
        let theirs = idle_and_in_flight(&real.display().to_string(), &dir, "real");
        assert!(theirs.0 < Duration::from_millis(400), "{:?}", theirs.0);
        assert_eq!((theirs.1, theirs.2, theirs.3), (resp, closed, code));
    }
}

/// Reads a prompt-mode CLI reply up to its `\n> ` prompt.
fn prompt_reply(cli: &mut std::os::unix::net::UnixStream, command: &str) -> String {
    cli.write_all(command.as_bytes()).expect("cli write");
    let mut out = Vec::new();
    let mut chunk = [0u8; 8192];
    while !out.ends_with(b"\n> ") {
        let n = cli.read(&mut chunk).expect("cli read");
        assert_ne!(n, 0, "cli closed after {}", String::from_utf8_lossy(&out));
        out.extend_from_slice(chunk.get(..n).unwrap_or_default());
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Runs `exe` with a stats socket, opens a prompt-mode CLI session and a request the server
/// never answers, sends SIGUSR1, and returns what the session then reads: the `show info` fields
/// that follow the stop, the frontend's `show stat` status, and whether a new CLI connection is
/// accepted.
fn stopping_run(exe: &str, dir: &TempDir, tag: &str) -> (Vec<String>, String, bool) {
    let srv = silent_server();
    let fe = free_port();
    let sock = dir.write(&format!("{tag}.dir"), "").with_extension("sock");
    let cfg = dir.write(
        &format!("{tag}.cfg"),
        &format!(
            "global\n    stats socket {} level admin\n\
             defaults\n    mode http\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n\
             frontend fe\n    bind 127.0.0.1:{fe}\n    default_backend be\n\
             backend be\n    server s1 127.0.0.1:{srv}\n",
            sock.display()
        ),
    );
    let proxy = Proxy::start_exe(exe, &cfg, fe);
    let mut cli = std::os::unix::net::UnixStream::connect(&sock).expect("cli");
    cli.set_read_timeout(Some(WAIT)).expect("timeout");
    prompt_reply(&mut cli, "prompt\n");
    let mut busy = TcpStream::connect(("127.0.0.1", fe)).expect("connect");
    busy.write_all(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        .expect("request");
    std::thread::sleep(Duration::from_millis(300));
    proxy.signal("-USR1");
    std::thread::sleep(Duration::from_millis(300));
    let info = prompt_reply(&mut cli, "show info\n");
    let fields = info
        .lines()
        .filter(|l| {
            ["Stopping:", "Listeners:", "Jobs:", "CurrConns:"]
                .iter()
                .any(|f| l.starts_with(f))
        })
        .map(str::to_owned)
        .collect();
    let stat = prompt_reply(&mut cli, "show stat\n");
    let status = stat
        .lines()
        .find(|l| l.starts_with("fe,FRONTEND,"))
        .and_then(|l| l.split(',').nth(17))
        .unwrap_or_default()
        .to_owned();
    let accepted = std::os::unix::net::UnixStream::connect(&sock).is_ok();
    drop((cli, busy, proxy));
    (fields, status, accepted)
}

#[test]
fn show_info_and_show_stat_follow_the_soft_stop_as_haproxy() {
    let dir = TempDir::new("stopping");
    let ours = stopping_run(env!("CARGO_BIN_EXE_haproxy"), &dir, "ours");
    assert_eq!(
        ours,
        (
            vec![
                "CurrConns: 1".to_owned(),
                "Stopping: 1".to_owned(),
                "Jobs: 2".to_owned(),
                "Listeners: 0".to_owned(),
            ],
            "STOP".to_owned(),
            false
        )
    );
    if let Some(real) = crate::oracle::real_haproxy("the HAProxy side of this test") {
        let theirs = stopping_run(&real.display().to_string(), &dir, "real");
        assert_eq!(theirs, ours);
    }
}

/// Runs `exe` with `close-spread-time 1s`, opens a client that sends nothing, sends SIGUSR1, and
/// returns what the client receives, how long after the signal it was closed, and the exit code.
fn spread_run(exe: &str, dir: &TempDir, tag: &str) -> (String, Duration, Option<i32>) {
    let fe = free_port();
    let cfg = dir.write(
        &format!("{tag}.cfg"),
        &format!(
            "global\n    close-spread-time 1s\n\
             defaults\n    mode http\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n\
             frontend fe\n    bind 127.0.0.1:{fe}\n    http-request return status 200\n"
        ),
    );
    let mut proxy = Proxy::start_exe(exe, &cfg, fe);
    let mut fresh = TcpStream::connect(("127.0.0.1", fe)).expect("connect");
    fresh.set_read_timeout(Some(WAIT)).expect("timeout");
    std::thread::sleep(Duration::from_millis(200));
    proxy.signal("-USR1");
    let start = Instant::now();
    let mut got = Vec::new();
    let _ = fresh.read_to_end(&mut got);
    let after = start.elapsed();
    let code = proxy.wait_exit().code();
    (String::from_utf8_lossy(&got).into_owned(), after, code)
}

#[test]
fn a_client_that_sent_nothing_gets_408_within_the_spread_window_as_haproxy() {
    let dir = TempDir::new("spread");
    let (got, after, code) = spread_run(env!("CARGO_BIN_EXE_haproxy"), &dir, "ours");
    assert!(
        got.starts_with("HTTP/1.1 408 Request Time-out\r\n"),
        "{got}"
    );
    assert!(after < Duration::from_millis(1500), "{after:?}");
    assert_eq!(code, Some(0));
    if let Some(real) = crate::oracle::real_haproxy("the HAProxy side of this test") {
        let (theirs, after, code) = spread_run(&real.display().to_string(), &dir, "real");
        assert!(after < Duration::from_millis(1500), "{after:?}");
        assert_eq!(code, Some(0));
        assert_eq!(theirs, got);
    }
}
