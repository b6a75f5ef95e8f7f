//! Health checks in the daemon (issue 6, end to end): two servers and a backup under a bounded
//! load loop with `retries 3` and `option redispatch`; one server stops, then the other, then
//! both come back. Once a server is marked down no request fails, traffic moves to the other
//! server, then to the backup, and back; the state-change lines appear on stderr in HAProxy's
//! format; when every server is down the frontend answers 503.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers: a failed setup aborts the test"
)]

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::health_support::{Daemon, Peers, WAIT, get};
use crate::run::{TempDir, free_port};

/// Most requests the load loop sends.
const MAX_REQUESTS: usize = 20_000;
/// How long the load loop may run at most.
const MAX_LOAD_TIME: Duration = Duration::from_secs(90);
/// Pause between two requests of the load loop.
const PACE: Duration = Duration::from_millis(5);
/// How many requests each settled phase is observed for (round robin reaches every allowed
/// server within them); counted, not timed, so a slow machine only makes the phase longer.
const SETTLED_REQUESTS: usize = 10;

type Results = Arc<Mutex<Vec<(usize, u16, String)>>>;

/// Moves the load loop to `phase` and waits until one request of that phase has finished, so
/// that no request of the previous phase is still in flight when the test acts.
fn advance(phase: &AtomicUsize, results: &Results, to: usize) {
    phase.store(to, Ordering::SeqCst);
    let start = Instant::now();
    while !results.lock().unwrap().iter().any(|(p, _, _)| *p == to) {
        assert!(start.elapsed() < WAIT, "load loop stalled in phase {to}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Waits until `SETTLED_REQUESTS` requests of phase `p` have finished.
fn observe(results: &Results, p: usize) {
    let start = Instant::now();
    while results
        .lock()
        .unwrap()
        .iter()
        .filter(|(q, _, _)| *q == p)
        .count()
        < SETTLED_REQUESTS
    {
        assert!(start.elapsed() < WAIT, "load loop stalled in phase {p}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn marked_down_servers_lose_traffic_without_failures_and_win_it_back() {
    let mut peers = Peers::new(&["s1", "s2", "b1"]);
    let fe = free_port();
    let opts = "check inter 100 rise 2 fall 2";
    let dir = TempDir::new("health-e2e");
    let cfg = dir.join("e2e.cfg");
    std::fs::write(
        &cfg,
        format!(
            "defaults\n    mode http\n    timeout connect 500ms\n    timeout client 5s\n    timeout server 5s\n    retries 3\n    option redispatch\n\n\
             frontend fe\n    bind 127.0.0.1:{fe}\n    default_backend app\n\n\
             backend app\n    option httpchk GET /health\n\
             \x20   server s1 127.0.0.1:{} {opts}\n    server s2 127.0.0.1:{} {opts}\n    server b1 127.0.0.1:{} {opts} backup\n",
            peers.port(0),
            peers.port(1),
            peers.port(2)
        ),
    )
    .unwrap();
    let daemon = Daemon::start(Path::new(env!("CARGO_BIN_EXE_haproxy")), &cfg, fe);

    let phase = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let results: Results = Arc::default();
    let load = {
        let (phase, stop, results) = (Arc::clone(&phase), Arc::clone(&stop), Arc::clone(&results));
        std::thread::spawn(move || {
            let start = Instant::now();
            for _ in 0..MAX_REQUESTS {
                if stop.load(Ordering::SeqCst) || start.elapsed() > MAX_LOAD_TIME {
                    return;
                }
                let p = phase.load(Ordering::SeqCst);
                let (code, body) = get(fe);
                results.lock().unwrap().push((p, code, body));
                std::thread::sleep(PACE);
            }
        })
    };
    observe(&results, 0);

    advance(&phase, &results, 1);
    peers.stop(0);
    let (down1, _) = daemon.wait_line("Server app/s1 is DOWN");
    advance(&phase, &results, 2);
    observe(&results, 2);

    advance(&phase, &results, 3);
    peers.stop(1);
    let (down2, _) = daemon.wait_line("Server app/s2 is DOWN");
    advance(&phase, &results, 4);
    observe(&results, 4);

    advance(&phase, &results, 5);
    peers.start(0);
    let (up1, _) = daemon.wait_line("Server app/s1 is UP");
    advance(&phase, &results, 6);
    observe(&results, 6);

    advance(&phase, &results, 7);
    peers.start(1);
    let (up2, _) = daemon.wait_line("Server app/s2 is UP");
    advance(&phase, &results, 8);
    observe(&results, 8);
    stop.store(true, Ordering::SeqCst);
    load.join().unwrap();

    let prefix = format!("[WARNING]  ({}) : ", daemon.pid());
    for (line, rest) in [
        (
            &down1,
            "Server app/s1 is DOWN, reason: Layer4 connection problem, info: \"Connection refused\", check duration: ",
        ),
        (
            &down2,
            "Server app/s2 is DOWN, reason: Layer4 connection problem, info: \"Connection refused\", check duration: ",
        ),
        (
            &up1,
            "Server app/s1 is UP, reason: Layer7 check passed, code: 200, check duration: ",
        ),
        (
            &up2,
            "Server app/s2 is UP, reason: Layer7 check passed, code: 200, check duration: ",
        ),
    ] {
        assert!(line.starts_with(&format!("{prefix}{rest}")), "{line}");
    }
    assert!(down1.ends_with("ms. 1 active and 1 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue."), "{down1}");
    assert!(down2.ends_with("ms. 0 active and 1 backup servers left. Running on backup. 0 sessions active, 0 requeued, 0 remaining in queue."), "{down2}");
    assert!(
        up1.ends_with(
            "ms. 1 active and 1 backup servers online. 0 sessions requeued, 0 total in queue."
        ),
        "{up1}"
    );
    assert!(
        up2.ends_with(
            "ms. 2 active and 1 backup servers online. 0 sessions requeued, 0 total in queue."
        ),
        "{up2}"
    );

    let results = results.lock().unwrap().clone();
    let in_phase = |p: usize| -> Vec<&(usize, u16, String)> {
        results.iter().filter(|(q, _, _)| *q == p).collect()
    };
    // Settled phases: every request succeeds, on the servers the checks allow.
    for (p, allowed) in [
        (0, &["s1", "s2"][..]),
        (2, &["s2"][..]),
        (4, &["b1"][..]),
        (6, &["s1"][..]),
        (8, &["s1", "s2"][..]),
    ] {
        let rs = in_phase(p);
        assert!(rs.len() >= 5, "phase {p}: {rs:?}");
        for (_, code, body) in &rs {
            assert_eq!(*code, 200, "phase {p}: {rs:?}");
            assert!(allowed.contains(&body.as_str()), "phase {p}: {rs:?}");
        }
        for want in allowed {
            assert!(
                rs.iter().any(|(_, _, b)| b == want),
                "phase {p} never reached {want}: {rs:?}"
            );
        }
    }
    // Before a stopped server is marked down (phases 1 and 3), a request whose connection the
    // closing listener had already taken may end in a 502, as it would with HAProxy: the issue
    // asks for no failure once the server is marked down, which the settled phases check.
    assert!(results.len() <= MAX_REQUESTS);
    let failed = results.iter().filter(|(_, c, _)| *c != 200).count();
    eprintln!(
        "health e2e: {} requests, {failed} failed (only while a server was stopped, not yet marked down)",
        results.len()
    );

    // Every server down: HAProxy's alert, then 503.
    peers.stop(0);
    peers.stop(1);
    peers.stop(2);
    let (alert, _) = daemon.wait_line("has no server available!");
    assert_eq!(
        alert,
        format!(
            "[ALERT]    ({}) : backend 'app' has no server available!",
            daemon.pid()
        )
    );
    assert_eq!(get(fe).0, 503);
}
