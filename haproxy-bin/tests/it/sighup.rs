//! SIGHUP: the process keeps running and prints the state of every server and proxy as HAProxy
//! 2.6 does (`sig_dump_state()`); ours used to die of it. Run on our binary and, when installed,
//! on the real HAProxy with the same configuration (skipped with a message when it is absent,
//! unless `CI=true`).
use std::io::BufRead as _;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::run::{PROCESS_WAIT, Proxy, TempDir, free_port};

/// The last line of a dump.
const LAST: &str = "SIGHUP: Proxy <HTTPCLIENT> has no server available !";

/// The dump `exe` prints after one request through `fe` and one through `li`, pids masked,
/// and whether it was still running after it.
fn dump(exe: &str, dir: &TempDir, tag: &str) -> (Vec<String>, bool) {
    let srv = crate::soft_stop::closing_origin();
    let (fe, li) = (free_port(), free_port());
    let sock = dir.write(&format!("{tag}.dir"), "").with_extension("sock");
    let cfg = dir.write(
        &format!("{tag}.cfg"),
        &format!(
            "global\n    stats socket {} level admin\n\
             defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\n\
             frontend fe\n    bind 127.0.0.1:{fe}\n    default_backend be\n\
             backend be\n    server s1 127.0.0.1:{srv}\n    server s2 127.0.0.1:{srv} backup\n    server s3 127.0.0.1:{srv} disabled\n\
             backend bk\n    server b1 127.0.0.1:{srv} backup\n\
             backend none\n    server n1 127.0.0.1:{srv} disabled\n\
             listen li\n    bind 127.0.0.1:{li}\n    http-request return status 200\n",
            sock.display()
        ),
    );
    let mut proxy = Proxy::start_exe(exe, &cfg, fe);
    let (tx, rx) = mpsc::channel();
    let stderr = proxy.take_stderr().expect("stderr");
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr).lines() {
            let Ok(line) = line else { return };
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    for port in [fe, li] {
        assert!(crate::run::request(port, "/", "").starts_with("HTTP/1.1 200"));
    }
    proxy.signal("-HUP");
    let mut lines = Vec::new();
    let start = Instant::now();
    while !lines.last().is_some_and(|l: &String| l.contains(LAST)) {
        let left = PROCESS_WAIT.saturating_sub(start.elapsed());
        let line = rx
            .recv_timeout(left)
            .unwrap_or_else(|_| unreachable_dump(exe, &lines));
        if line.contains("SIGHUP") {
            lines.push(line.replace(&format!("({})", proxy.pid()), "(PID)"));
        }
    }
    // Still serving.
    std::thread::sleep(Duration::from_millis(100));
    let alive = crate::run::request(li, "/", "").starts_with("HTTP/1.1 200");
    proxy.signal("-TERM");
    let _ = proxy.wait_exit();
    (lines, alive)
}

#[test]
fn sighup_dumps_the_servers_states_and_keeps_serving_as_haproxy() {
    let dir = TempDir::new("sighup");
    let w = |s: &str| format!("[WARNING]  (PID) : {s}");
    let want: Vec<String> = [
        "SIGHUP received, dumping servers states.",
        "SIGHUP: Proxy GLOBAL has no servers. Conn: act(FE+BE): 0+0, 0 pend (0 unass), tot(FE+BE): 0+0.",
        // The start-up probe of `fe` counts as a connection in both.
        "SIGHUP: Proxy fe has no servers. Conn: act(FE+BE): 0+0, 0 pend (0 unass), tot(FE+BE): 2+0.",
        "SIGHUP: Server be/s1 is UP. Conn: 0 act, 0 pend, 1 tot.",
        "SIGHUP: Server be/s2 is UP. Conn: 0 act, 0 pend, 0 tot.",
        "SIGHUP: Server be/s3 is DOWN. Conn: 0 act, 0 pend, 0 tot.",
        "SIGHUP: Proxy be has 1 active servers and 1 backup servers available. Conn: act(FE+BE): 0+0, 0 pend (0 unass), tot(FE+BE): 0+1.",
        "SIGHUP: Server bk/b1 is UP. Conn: 0 act, 0 pend, 0 tot.",
        "SIGHUP: Proxy bk is running on backup servers ! Conn: act(FE+BE): 0+0, 0 pend (0 unass), tot(FE+BE): 0+0.",
        "SIGHUP: Server none/n1 is DOWN. Conn: 0 act, 0 pend, 0 tot.",
        "SIGHUP: Proxy none has no server available ! Conn: act(FE+BE): 0+0, 0 pend (0 unass), tot(FE+BE): 0+0.",
        "SIGHUP: Proxy li has no servers. Conn: act(FE+BE): 0+0, 0 pend (0 unass), tot(FE+BE): 1+0.",
        "SIGHUP: Server <HTTPCLIENT>/<HTTPCLIENT> is UP. Conn: 0 act, 0 pend, 0 tot.",
        "SIGHUP: Server <HTTPCLIENT>/<HTTPSCLIENT> is UP. Conn: 0 act, 0 pend, 0 tot.",
        "SIGHUP: Proxy <HTTPCLIENT> has no server available ! Conn: act(FE+BE): 0+0, 0 pend (0 unass), tot(FE+BE): 0+0.",
    ]
    .iter()
    .map(|s| w(s))
    .collect();
    let (ours, alive) = dump(env!("CARGO_BIN_EXE_haproxy"), &dir, "ours");
    assert!(alive, "ours stopped serving after SIGHUP");
    assert_eq!(ours, want);
    if let Some(real) = crate::oracle::real_haproxy("the HAProxy side of this test") {
        let (theirs, alive) = dump(&real.display().to_string(), &dir, "real");
        assert!(alive);
        assert_eq!(theirs, want);
    }
}

#[expect(clippy::panic, reason = "test helper: a missing dump fails the test")]
fn unreachable_dump(exe: &str, lines: &[String]) -> ! {
    panic!("{exe}: no full dump after SIGHUP: {lines:?}")
}
