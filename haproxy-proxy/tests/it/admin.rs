//! The runtime API in-process: status texts and `show servers state` figures computed from the
//! registry (admin state, health, published check figures), changes that reach the balancer and
//! the backend's UP/DOWN history, and the stats sockets' levels, `stats maxconn` and
//! `stats timeout`.

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use haproxy_cfg::load::{SystemEnv, load};
use haproxy_cfg::parse_str;
use haproxy_proxy::admin::{Admin, ProcessInfo, StatsSettings, snapshot};
use haproxy_proxy::registry::{Admin as AdminState, Health, Registry};
use haproxy_proxy::runtime::Stop;
use haproxy_stats::cli::{Cli, Level};
use haproxy_stats::{CheckStats, ServerStatus};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::build::{DEFAULTS, runtime};
use crate::scratch::TempDir;

const SERVERS: &str = "backend be\n balance roundrobin\n server a 127.0.0.1:1 weight 10\n\
     server b 127.0.0.1:1 weight 20\n server c 127.0.0.1:1 backup\n\
     backend st\n balance static-rr\n server x 127.0.0.1:1\n";

fn admin(cfg: &str) -> (Admin, Arc<Registry>) {
    let rt = runtime(&format!(
        "{DEFAULTS}frontend fe\n bind 127.0.0.1:0\n default_backend be\n{cfg}"
    ))
    .unwrap();
    let reg = Arc::clone(&rt.registry);
    (Admin::new(Arc::clone(&reg), ProcessInfo::default()), reg)
}

fn run(admin: &mut Admin, level: Level, line: &str) -> String {
    String::from_utf8(Cli::new(level).feed(line.as_bytes(), admin)).unwrap()
}

fn status(reg: &Registry, be: &str, sv: &str) -> ServerStatus {
    snapshot(reg)
        .proxies
        .iter()
        .find(|p| p.name == be)
        .and_then(|p| p.servers.iter().find(|s| s.name == sv))
        .map(|s| s.status.clone())
        .unwrap()
}

fn check(health: u32) -> CheckStats {
    CheckStats {
        status: "L4OK".into(),
        rise: 2,
        fall: 3,
        health,
        ..CheckStats::default()
    }
}

#[test]
fn status_texts_follow_admin_health_and_check_figures() {
    let (_, reg) = admin(SERVERS);
    let (_, _, a) = reg.server("be", "a").unwrap();
    assert_eq!(status(&reg, "be", "a"), ServerStatus::NoCheck);
    // At startup a checked server has health = rise: "UP 1/3" (reference §3.3).
    a.checks.set_health(Some(check(2)));
    assert_eq!(status(&reg, "be", "a").text(), "UP 1/3");
    a.checks.set_health(Some(check(4)));
    assert_eq!(status(&reg, "be", "a").text(), "UP");
    a.set_admin(AdminState::Drain);
    assert_eq!(status(&reg, "be", "a").text(), "DRAIN");
    a.set_admin(AdminState::Ready);
    a.set_health(Health::Down);
    a.checks.set_health(Some(check(1)));
    assert_eq!(status(&reg, "be", "a").text(), "DOWN 1/2");
    a.set_health(Health::NoLb);
    a.checks.set_health(Some(check(4)));
    assert_eq!(status(&reg, "be", "a").text(), "NOLB");
    a.set_admin(AdminState::Maint);
    let snap = snapshot(&reg);
    let sa = &snap.proxies[1].servers[0];
    assert_eq!(sa.status.text(), "MAINT");
    assert!(
        sa.check.as_ref().is_some_and(|c| c.paused),
        "check columns blank in MAINT"
    );
    assert_eq!(
        (
            sa.state.check_status,
            sa.state.check_result,
            sa.state.check_state
        ),
        (6, 3, 8)
    );
    assert_eq!(sa.state.op_state, 0);
    assert_eq!(sa.state.admin_state, 1);
}

#[test]
fn changes_reach_the_balancer_and_the_backend_history() {
    let (mut api, reg) = admin(SERVERS);
    assert_eq!(
        run(&mut api, Level::Admin, "get weight be/a\n"),
        "10 (initial 10)\n\n"
    );
    assert_eq!(run(&mut api, Level::Admin, "set weight be/a 50%\n"), "\n");
    assert_eq!(reg.balancer(0).unwrap().weight(0), Some(5));
    assert_eq!(
        run(&mut api, Level::Admin, "set weight st/x 2\n"),
        "Backend is using a static LB algorithm and only accepts weights '0%' and '100%'.\n\n"
    );
    // Every server unusable: the backend goes DOWN once, comes back UP, and remembers it.
    for s in ["a", "b", "c"] {
        let line = format!("set server be/{s} state maint\n");
        assert_eq!(run(&mut api, Level::Admin, &line), "\n");
    }
    let be = |reg: &Registry| snapshot(reg).proxies[1].backend.clone().unwrap();
    assert!(!be(&reg).up);
    assert_eq!(be(&reg).chkdown, 1);
    assert_eq!(run(&mut api, Level::Admin, "enable server be/c\n"), "\n");
    let now = be(&reg);
    assert!(
        now.up && now.act == 0 && now.bck == 1 && now.weight == 1,
        "{now:?}"
    );
    assert!(reg.balancer(0).unwrap().is_usable(2));
    assert!(!reg.balancer(0).unwrap().is_usable(0));
    // Operators may not change servers; users may not clear counters.
    assert_eq!(
        run(&mut api, Level::Operator, "set server be/a state ready\n"),
        "Permission denied\n\n"
    );
    let (_, fe) = reg.frontend("fe").unwrap();
    fe.counters.sessions_total.store(7, Relaxed);
    fe.counters.sessions_max.store(3, Relaxed);
    assert_eq!(
        run(&mut api, Level::User, "clear counters\n"),
        "Permission denied\n\n"
    );
    assert_eq!(run(&mut api, Level::Operator, "clear counters\n"), "\n");
    assert_eq!(fe.counters.sessions_max.load(Relaxed), 0);
    assert_eq!(fe.counters.sessions_total.load(Relaxed), 7);
    assert_eq!(run(&mut api, Level::Admin, "clear counters all\n"), "\n");
    assert_eq!(fe.counters.sessions_total.load(Relaxed), 0);
}

#[test]
fn global_maxconn_stays_under_the_configured_value() {
    let (mut api, reg) = admin(SERVERS);
    reg.limits.hard_maxconn.store(100, Relaxed);
    reg.limits.maxconn.store(100, Relaxed);
    assert_eq!(
        run(&mut api, Level::Admin, "set maxconn global 100\n"),
        "\n"
    );
    assert_eq!(
        run(&mut api, Level::Admin, "set maxconn global 101\n"),
        "Value out of range.\n\n"
    );
    assert_eq!(run(&mut api, Level::Admin, "set maxconn global 7\n"), "\n");
    assert_eq!(reg.limits.maxconn.load(Relaxed), 7);
    assert_eq!(run(&mut api, Level::Admin, "set maxconn global 0\n"), "\n");
    assert_eq!(reg.limits.maxconn.load(Relaxed), 100);
}

fn settings(dir: &std::path::Path, extra: &str) -> StatsSettings {
    let text = format!(
        "global\n stats socket {}/a.sock mode 640 level admin\n stats socket ipv4@127.0.0.1:0 level user\n{extra}",
        dir.display()
    );
    let loaded = load(&[parse_str("g.cfg", &text)], &SystemEnv);
    StatsSettings::from_global(&loaded.config.global).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stats_sockets_keep_their_level_maxconn_and_timeout() {
    let dir = TempDir::new("admin-sock");
    let s = settings(dir.path(), " stats maxconn 1\n stats timeout 4s\n");
    assert_eq!(s.maxconn, 1);
    assert_eq!(s.timeout, Duration::from_secs(4));
    let (api, _) = admin(SERVERS);
    let server = s.open(api).unwrap();
    let tcp = server.local_addrs()[0];
    let (tx, rx) = tokio::sync::watch::channel(None);
    let serving = tokio::spawn(server.serve(rx));
    let path = dir.join("a.sock");
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o640);
    }

    // Levels: the unix socket is admin, the TCP one user.
    let mut u = tokio::net::TcpStream::connect(tcp).await.unwrap();
    u.write_all(b"show cli level\n").await.unwrap();
    let mut out = String::new();
    u.read_to_string(&mut out).await.unwrap();
    assert_eq!(out, "user\n\n");
    let mut u = tokio::net::TcpStream::connect(tcp).await.unwrap();
    u.write_all(b"show cli sockets\n").await.unwrap();
    let mut out = String::new();
    u.read_to_string(&mut out).await.unwrap();
    assert_eq!(
        out,
        format!(
            "# socket lvl processes\nunix@{} admin all\nipv4@{tcp} user all\n\n",
            dir.join("a.sock").display()
        )
    );

    // `stats maxconn 1`: a session in prompt mode holds the only slot.
    let mut first = tokio::net::UnixStream::connect(&path).await.unwrap();
    first.write_all(b"prompt\n").await.unwrap();
    let mut buf = [0u8; 64];
    let n = first.read(&mut buf).await.unwrap();
    assert_eq!(&buf[..n], b"\n> ");
    let mut second = tokio::net::UnixStream::connect(&path).await.unwrap();
    second.write_all(b"show cli level\n").await.unwrap();
    let waited = tokio::time::timeout(Duration::from_millis(300), second.read(&mut buf)).await;
    assert!(
        waited.is_err(),
        "a second session ran above stats maxconn 1"
    );
    // The limit is shared by every stats socket (it bounds HAProxy's CLI frontend).
    let mut other = tokio::net::TcpStream::connect(tcp).await.unwrap();
    other.write_all(b"show cli level\n").await.unwrap();
    let waited = tokio::time::timeout(Duration::from_millis(300), other.read(&mut buf)).await;
    assert!(
        waited.is_err(),
        "the TCP socket ran a session above stats maxconn 1"
    );
    drop(other);
    // `stats timeout 4s`: the idle prompt session is closed, which frees the slot.
    let closed = tokio::time::timeout(Duration::from_secs(15), first.read(&mut buf)).await;
    assert_eq!(closed.unwrap().unwrap(), 0, "idle session not closed");
    let mut out = String::new();
    tokio::time::timeout(Duration::from_secs(5), second.read_to_string(&mut out))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(out, "admin\n\n");

    // `set timeout cli` shortens this session's idle timeout below `stats timeout`.
    drop(first);
    drop(second);
    let mut short = tokio::net::UnixStream::connect(&path).await.unwrap();
    short
        .write_all(b"prompt\nset timeout cli 1\n")
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let mut all = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), short.read_to_end(&mut all))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(all, b"\n> \n> ");
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_millis(3500),
        "closed after {took:?}, not after about 1 s"
    );

    tx.send(Some(Stop::Soft)).unwrap();
    tokio::time::timeout(Duration::from_secs(5), serving)
        .await
        .unwrap()
        .unwrap();
}

#[test]
fn bad_stats_socket_lines_are_refused_with_a_reason() {
    let text = "global\n stats socket ipv9@1.2.3.4:5\n";
    let loaded = load(&[parse_str("g.cfg", text)], &SystemEnv);
    let e = StatsSettings::from_global(&loaded.config.global).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("'stats socket ipv9@1.2.3.4:5' : "),
        "{e}"
    );
    let text = "global\n stats socket /tmp/x.sock user no-such-user-here\n";
    let loaded = load(&[parse_str("g.cfg", text)], &SystemEnv);
    let e = StatsSettings::from_global(&loaded.config.global).unwrap_err();
    assert_eq!(
        e.to_string(),
        "'stats socket /tmp/x.sock' : unknown user 'no-such-user-here'"
    );
}

#[tokio::test]
async fn a_client_that_stops_reading_is_cut_after_the_timeout() {
    let (api, _) = admin(SERVERS);
    // A 64-byte pipe: the reply to `show stat` cannot be written while nobody reads it.
    let (mut client, server) = tokio::io::duplex(64);
    let session = tokio::spawn(haproxy_proxy::admin::session(
        server,
        Level::Admin,
        api,
        Duration::from_secs(1),
    ));
    client.write_all(b"show stat\n").await.unwrap();
    let ended = tokio::time::timeout(Duration::from_secs(10), session).await;
    assert!(
        ended.is_ok(),
        "the session waited forever on a client that does not read"
    );
    // What was written before the cut is the start of the reply.
    let mut got = vec![0u8; 64];
    let n = client.read(&mut got).await.unwrap();
    assert!(got[..n].starts_with(b"# pxname,svname,"));
}
