//! The scheduler on loopback: intervals, MAINT, agent, passive fastinter.

use std::net::SocketAddr;
use std::time::Duration;

use haproxy_check::passive::{Event, Observe, OnError, Passive};
use haproxy_check::probe::{CheckKind, CheckTimeouts};
use haproxy_check::{AgentSpec, CheckParams, Report, Scheduler, ServerSpec, Transition};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::peer::closed_port;

/// A listener that accepts and drops connections (optionally answering a line) until aborted.
async fn acceptor(reply: &'static [u8]) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let a = l.local_addr().expect("addr");
    let h = tokio::spawn(async move {
        for _ in 0..10_000 {
            let Ok((mut s, _)) = l.accept().await else {
                return;
            };
            if !reply.is_empty() {
                use tokio::io::AsyncWriteExt;
                let _ = s.write_all(reply).await;
            }
        }
    });
    (a, h)
}

fn params() -> CheckParams {
    let ms = Duration::from_millis;
    CheckParams::default()
        .with_inter(ms(50))
        .and_then(|p| p.with_fastinter(ms(20)))
        .and_then(|p| p.with_downinter(ms(120)))
        .expect("valid params")
}

async fn collect(rx: &mut mpsc::Receiver<Report>, for_ms: u64) -> Vec<(Instant, Report)> {
    let end = Instant::now() + Duration::from_millis(for_ms);
    let mut out = Vec::new();
    while let Ok(Some(r)) = tokio::time::timeout_at(end, rx.recv()).await {
        out.push((Instant::now(), r));
        if out.len() > 10_000 {
            break;
        }
    }
    out
}

fn check_times(reports: &[(Instant, Report)], server: usize) -> Vec<(Instant, Option<Transition>)> {
    reports
        .iter()
        .filter_map(|(t, r)| match r {
            Report::Check {
                server: s,
                transition,
                ..
            } if *s == server => Some((*t, *transition)),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn intervals_follow_state_and_maint_stops_checks() {
    let (up, h) = acceptor(b"").await;
    let down = closed_port().await;
    let specs = vec![
        ServerSpec::new(up, CheckKind::Connect, params()),
        ServerSpec::new(down, CheckKind::Connect, params()),
    ];
    let (tx, mut rx) = mpsc::channel(64);
    let sched = Scheduler::start(specs, 0, tx);
    let reports = collect(&mut rx, 700).await;

    let up_checks = check_times(&reports, 0);
    assert!(up_checks.len() >= 6, "{}", up_checks.len());
    // Deadlines advance from the previous deadline, so a late check is followed by a shorter gap;
    // the average gap is the robust measure (only a late first check of the span shortens it).
    let mean_gap = |c: &[(Instant, Option<Transition>)]| {
        (c[c.len() - 1].0 - c[1].0) / u32::try_from(c.len() - 2).unwrap()
    };
    assert!(
        mean_gap(&up_checks) >= Duration::from_millis(45),
        "{:?}",
        mean_gap(&up_checks)
    );
    let down_checks = check_times(&reports, 1);
    assert_eq!(down_checks[0].1, Some(Transition::Down));
    assert!(
        down_checks.len() >= 3 && down_checks.len() <= 7,
        "{}",
        down_checks.len()
    );
    // `downinter` (120 ms), not `inter` (50) or `fastinter` (20): a second check that ran late
    // shortens the mean (the others keep their deadlines), so the bound sits between the two.
    assert!(
        mean_gap(&down_checks) >= Duration::from_millis(90),
        "{:?}",
        mean_gap(&down_checks)
    );
    assert_eq!(sched.health(0).unwrap().status_text(false), "UP");
    assert_eq!(sched.health(1).unwrap().status_text(false), "DOWN");

    assert_eq!(sched.set_maint(0, true), Some(Transition::EnterMaint));
    let after = collect(&mut rx, 300).await;
    assert!(check_times(&after, 0).len() <= 1, "checks ran in MAINT");
    assert_eq!(sched.health(0).unwrap().check_status_text(), "");
    h.abort();
}

/// A server with a connect check on an accepting peer and an agent, every 50 ms, on a peer
/// that answers `reply`; returns the spec and the two peers' tasks.
async fn agent_checked(reply: &'static [u8]) -> (ServerSpec, [tokio::task::JoinHandle<()>; 2]) {
    let (up, h1) = acceptor(b"").await;
    let (agent, h2) = acceptor(reply).await;
    let mut spec = ServerSpec::new(up, CheckKind::Connect, params());
    spec.agent = Some(AgentSpec {
        addr: agent,
        send: Vec::new(),
        inter: Duration::from_millis(50),
        timeouts: CheckTimeouts::uniform(Duration::from_millis(500)),
    });
    (spec, [h1, h2])
}

#[tokio::test]
async fn agent_drain_reaches_the_server() {
    let (spec, [h1, h2]) = agent_checked(b"drain 50%\n").await;
    let (tx, mut rx) = mpsc::channel(64);
    let sched = Scheduler::start(vec![spec], 0, tx);
    let reports = collect(&mut rx, 300).await;
    let weight = reports.iter().find_map(|(_, r)| match r {
        Report::Agent { result, .. } => result.reply.as_ref().and_then(|r| r.weight_pct),
        _ => None,
    });
    assert_eq!(weight, Some(50));
    assert_eq!(sched.health(0).unwrap().status_text(true), "DRAIN (agent)");
    assert_eq!(sched.agent_last(0).unwrap().status.name(), "CHECKED");
    h1.abort();
    h2.abort();
}

#[tokio::test]
async fn disabled_health_and_agent_checks_stop_and_restart() {
    let (spec, [h1, h2]) = agent_checked(b"up\n").await;
    let (tx, mut rx) = mpsc::channel(64);
    let sched = Scheduler::start(vec![spec], 0, tx);
    let agents = |r: &[(Instant, Report)]| {
        r.iter()
            .filter(|(_, r)| matches!(r, Report::Agent { .. }))
            .count()
    };
    let before = collect(&mut rx, 300).await;
    assert!(check_times(&before, 0).len() >= 3);
    assert!(agents(&before) >= 3);
    assert!(sched.set_check_enabled(0, false));
    assert!(sched.set_agent_enabled(0, false));
    assert!(!sched.set_check_enabled(1, false), "no server 1");
    // At most one of each was already running when they were disabled.
    let _ = collect(&mut rx, 60).await;
    let off = collect(&mut rx, 300).await;
    assert_eq!(
        check_times(&off, 0).len(),
        0,
        "health checks ran while disabled"
    );
    assert_eq!(agents(&off), 0, "agent checks ran while disabled");
    assert_eq!(sched.health(0).unwrap().status_text(false), "UP");
    assert!(sched.set_check_enabled(0, true));
    assert!(sched.set_agent_enabled(0, true));
    let on = collect(&mut rx, 300).await;
    assert!(
        check_times(&on, 0).len() >= 3,
        "health checks did not restart"
    );
    assert!(agents(&on) >= 3, "agent checks did not restart");
    h1.abort();
    h2.abort();
}

#[tokio::test]
async fn passive_errors_mark_down_between_checks() {
    let (up, h) = acceptor(b"").await;
    let mut spec = ServerSpec::new(
        up,
        CheckKind::Connect,
        params().with_inter(Duration::from_secs(30)).unwrap(),
    );
    spec.passive = Some(Passive::new(Observe::Layer4, 2, OnError::MarkDown).unwrap());
    let (tx, mut rx) = mpsc::channel(64);
    let sched = Scheduler::start(vec![spec], 0, tx);
    let first = collect(&mut rx, 100).await;
    assert_eq!(check_times(&first, 0).len(), 1);
    assert!(sched.observe(0, Event::ConnectError).is_some());
    let v = sched.observe(0, Event::ConnectError).unwrap();
    assert_eq!(v.transition, Some(Transition::Down));
    assert_eq!(sched.health(0).unwrap().last().status.name(), "HANA");
    // fastinter (20 ms) brings the next check forward from inter (30 s); it passes.
    let next = collect(&mut rx, 300).await;
    assert!(!check_times(&next, 0).is_empty());
    h.abort();
}

/// A custom probe: passes while the flag is set.
#[derive(Debug)]
struct FlagProbe(std::sync::Arc<std::sync::atomic::AtomicBool>);

impl haproxy_check::probe::Probe for FlagProbe {
    fn probe<'a>(
        &'a self,
        _target: SocketAddr,
        _conn: &'a haproxy_check::probe::CheckConn,
    ) -> haproxy_check::probe::ProbeFuture<'a> {
        Box::pin(async move {
            let ok = self.0.load(std::sync::atomic::Ordering::SeqCst);
            let status = if ok {
                haproxy_check::CheckStatus::L7Ok
            } else {
                haproxy_check::CheckStatus::L7Sts
            };
            haproxy_check::CheckOutcome::new(
                status,
                Some(if ok { 200 } else { 500 }),
                "custom",
                Duration::ZERO,
            )
        })
    }
}

#[tokio::test]
async fn custom_probe_drives_the_state_machine() {
    let flag = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let kind = CheckKind::Custom(std::sync::Arc::new(FlagProbe(std::sync::Arc::clone(&flag))));
    let addr = closed_port().await;
    let (tx, mut rx) = mpsc::channel(64);
    let sched = Scheduler::start(vec![ServerSpec::new(addr, kind, params())], 0, tx);
    collect(&mut rx, 150).await;
    assert_eq!(sched.health(0).unwrap().status_text(false), "UP");
    flag.store(false, std::sync::atomic::Ordering::SeqCst);
    let after = collect(&mut rx, 400).await;
    assert!(
        check_times(&after, 0)
            .iter()
            .any(|(_, t)| *t == Some(Transition::Down))
    );
    let h = sched.health(0).unwrap();
    assert_eq!(
        (h.status_text(false), h.check_code_text()),
        ("DOWN".to_owned(), "500".to_owned())
    );
}
