//! Health checks wired into the runtime: the check plan built from configuration text, what is
//! refused at startup, and the running proxy on loopback with real peers: failed servers leave
//! the rotation and come back, backups take over, 503 when nothing is left, HAProxy's
//! state-change lines, TCP sessions cut by `on-marked-down shutdown-sessions`, `track`, and
//! passive health from real connection failures.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Duration, Instant};

use haproxy_cfg::diag::Severity;
use haproxy_check::CheckStatus;
use haproxy_check::probe::{CheckKind, ProxyHeader};
use haproxy_proxy::health::MemoryLog;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::{JoinHandle, JoinSet};

use crate::build::{DEFAULTS, runtime};
use crate::daemon::free_port;
use crate::support::{Served, WAIT, wait_for_line};
/// How soon a stream must end once its server's sessions are shut down: well below every
/// `timeout client`/`server` of these tests, so only the shutdown can end it in time.
const CUT: Duration = Duration::from_secs(2);
/// Most bytes a peer reads for one request head.
const MAX_HEAD: usize = 16384;

#[test]
fn the_plan_follows_server_and_backend_options() {
    let rt = runtime(&format!(
        "global\n spread-checks 5\n{DEFAULTS}\
         frontend fe\n bind 127.0.0.1:0\n default_backend be\n\
         backend be\n timeout check 300ms\n option httpchk GET /health\n http-check send hdr Host h.example\n http-check expect status 200-299\n\
         server a 127.0.0.1:81 check inter 1s fastinter 200ms downinter 3s rise 3 fall 4 port 9000 addr 127.0.0.2\n\
         server b 127.0.0.1:82 check send-proxy observe layer7 error-limit 4 on-error sudden-death agent-check agent-port 7000 agent-inter 500ms agent-send ping\n\
         server c 127.0.0.1:83 track b slowstart 10s\n\
         server d 127.0.0.1:84\n"
    ))
    .unwrap();
    let plan = &rt.health;
    assert_eq!(plan.spread_checks, 5);
    assert_eq!(plan.checked.len(), 2);
    let a = &plan.checked[0];
    assert_eq!((a.backend, a.server), (0, 0));
    assert_eq!(a.spec.addr, "127.0.0.2:9000".parse::<SocketAddr>().unwrap());
    let p = a.spec.params;
    assert_eq!((p.rise(), p.fall()), (3, 4));
    assert_eq!(
        (p.inter(), p.fastinter(), p.downinter()),
        (
            Duration::from_secs(1),
            Duration::from_millis(200),
            Duration::from_secs(3)
        )
    );
    // `timeout check`: connect bounded by min(timeout connect, inter), then a read timeout.
    assert_eq!(a.spec.timeouts.connect, Duration::from_secs(1));
    assert_eq!(a.spec.timeouts.read, Duration::from_millis(300));
    match &a.spec.kind {
        CheckKind::Http(h) => {
            let req = String::from_utf8(h.request(None)).unwrap();
            assert_eq!(req, "GET /health HTTP/1.0\r\nhost: h.example\r\n\r\n");
        }
        other => panic!("{other:?}"),
    }
    let b = &plan.checked[1];
    assert_eq!(b.spec.send_proxy, Some(ProxyHeader::V1));
    assert!(b.spec.passive.is_some());
    let agent = b.spec.agent.as_ref().unwrap();
    assert_eq!(agent.addr, "127.0.0.1:7000".parse::<SocketAddr>().unwrap());
    assert_eq!(
        (agent.inter, agent.send.as_slice()),
        (Duration::from_millis(500), b"ping".as_slice())
    );
    assert_eq!(plan.trackers.len(), 1);
    assert_eq!(
        (plan.trackers[0].server, plan.trackers[0].source),
        (2, haproxy_proxy::health::TrackSource::Checked(1))
    );
    assert_eq!(plan.slowstart_backends, vec![0]);
}

#[test]
fn tcp_check_and_protocol_checks_are_built() {
    let rt = runtime(&format!(
        "{DEFAULTS}frontend fe\n bind 127.0.0.1:0\n default_backend r\n\
         backend r\n option tcp-check\n tcp-check connect port 6379\n tcp-check send PING\\r\\n\n tcp-check expect string +PONG\n server a 127.0.0.1:1 check\n\
         backend m\n option mysql-check user haproxy\n server a 127.0.0.1:1 check\n\
         backend s\n option smtpchk EHLO mx.example\n server a 127.0.0.1:1 check\n"
    ))
    .unwrap();
    let kinds: Vec<&CheckKind> = rt.health.checked.iter().map(|c| &c.spec.kind).collect();
    assert_eq!(kinds.len(), 3);
    let CheckKind::Tcp(t) = kinds[0] else {
        panic!("{:?}", kinds[0])
    };
    assert_eq!(t.rules().len(), 3);
    assert!(kinds.iter().all(|k| matches!(k, CheckKind::Tcp(_))));
}

#[test]
fn checks_that_cannot_run_are_refused_with_the_directive() {
    for (backend, needle) in [
        (
            " option tcp-check\n tcp-check send-lf %[src]\n server a 127.0.0.1:1 check\n",
            "'tcp-check send-lf' is not supported yet",
        ),
        (
            " option httpchk\n http-check expect string-lf x\n server a 127.0.0.1:1 check\n",
            "'expect string-lf' is not supported yet",
        ),
        (
            " server a 127.0.0.1:1 check check-ssl\n",
            "TLS health checks need 'verify none'",
        ),
        (
            " server a 127.0.0.1:1 check agent-check\n",
            "'agent-check' needs an 'agent-port'",
        ),
        (
            " server a 127.0.0.1:1 agent-check agent-port 1\n",
            "'agent-check' without 'check' is not supported yet",
        ),
        (
            " option tcp-check\n tcp-check send x\n tcp-check connect port 1\n server a 127.0.0.1:1 check\n",
            "first step MUST also be a 'connect'",
        ),
    ] {
        let err = runtime(&format!(
            "{DEFAULTS}frontend fe\n bind 127.0.0.1:0\n default_backend be\nbackend be\n{backend}"
        ))
        .unwrap_err();
        assert!(err.to_string().contains(needle), "{err}");
    }
}

/// What a loopback peer does with a connection.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Role {
    /// Answers each request with the status in the cell and its name as the body, then closes.
    Http,
    /// Echoes bytes back until the client closes.
    Echo,
    /// Answers a head and part of a 1000-byte body, then stalls until the client closes.
    Stall,
    /// Like `Http`, but keeps the connection open for more requests.
    KeepAlive,
}

/// The status that makes an [`Role::Http`] peer accept and never answer.
pub(crate) const SILENT: u16 = 0;

/// A loopback server that can be stopped (connections refused) and started again on its port.
pub(crate) struct Peer {
    name: &'static str,
    pub(crate) port: u16,
    role: Role,
    pub(crate) status: Arc<AtomicU16>,
    task: Option<(JoinHandle<()>, oneshot::Sender<()>)>,
}

impl Peer {
    pub(crate) async fn new(name: &'static str, role: Role) -> Peer {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = l.local_addr().unwrap().port();
        let mut p = Peer {
            name,
            port,
            role,
            status: Arc::new(AtomicU16::new(200)),
            task: None,
        };
        let (tx, rx) = oneshot::channel();
        p.task = Some((
            tokio::spawn(serve(l, name, role, Arc::clone(&p.status), rx)),
            tx,
        ));
        p
    }

    /// Closes the listener (new connections are refused); connections already accepted finish
    /// their exchange, so a check in flight is not cut into a socket error.
    pub(crate) fn stop(&mut self) {
        if let Some((_, close)) = self.task.take() {
            let _ = close.send(());
        }
    }

    pub(crate) async fn start(&mut self) {
        let started = Instant::now();
        let l = loop {
            match TcpListener::bind(("127.0.0.1", self.port)).await {
                Ok(l) => break l,
                Err(e) => {
                    assert!(started.elapsed() < WAIT, "rebind {}: {e}", self.port);
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        };
        let st = Arc::clone(&self.status);
        let (tx, rx) = oneshot::channel();
        self.task = Some((tokio::spawn(serve(l, self.name, self.role, st, rx)), tx));
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn serve(
    l: TcpListener,
    name: &'static str,
    role: Role,
    status: Arc<AtomicU16>,
    mut close: oneshot::Receiver<()>,
) {
    let mut conns = JoinSet::new();
    loop {
        while conns.try_join_next().is_some() {}
        let accepted = tokio::select! {
            a = l.accept() => a,
            _ = &mut close => {
                drop(l);
                conns.detach_all();
                return;
            }
        };
        let Ok((mut s, _)) = accepted else {
            continue;
        };
        let status = Arc::clone(&status);
        conns.spawn(async move {
            let mut buf = vec![0u8; MAX_HEAD];
            let mut used = 0;
            loop {
                let Some(free) = buf.get_mut(used..) else {
                    return;
                };
                let n = match s.read(free).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => n,
                };
                if let Role::Echo = role {
                    let echoed = buf.get(..n).unwrap().to_vec();
                    if s.write_all(&echoed).await.is_err() {
                        return;
                    }
                    continue;
                }
                used += n;
                if buf
                    .get(..used)
                    .unwrap()
                    .windows(4)
                    .any(|w| w == b"\r\n\r\n")
                {
                    break;
                }
            }
            if let Role::Stall = role {
                let head = b"HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\npartial";
                if s.write_all(head).await.is_ok() {
                    while let Ok(n) = s.read(&mut buf).await {
                        if n == 0 {
                            break;
                        }
                    }
                }
                return;
            }
            let code = status.load(Ordering::Relaxed);
            if code == SILENT {
                while let Ok(n) = s.read(&mut buf).await {
                    if n == 0 {
                        return;
                    }
                }
                return;
            }
            let reason = match code {
                200 => "OK",
                404 => "Not Found",
                _ => "Service Unavailable",
            };
            let keep = matches!(role, Role::KeepAlive);
            let resp = format!(
                "HTTP/1.1 {code} {reason}\r\ncontent-length: {}\r\n{}\r\n{name}",
                name.len(),
                if keep { "" } else { "connection: close\r\n" }
            );
            if s.write_all(resp.as_bytes()).await.is_err() || !keep {
                return;
            }
            // Keep-alive: serve the next request on the same connection.
            let _ = keep_alive(s, name, status).await;
        });
    }
}

/// Serves further requests on a kept-alive peer connection (bounded by [`MAX_HEAD`] per head).
async fn keep_alive(
    mut s: TcpStream,
    name: &'static str,
    status: Arc<AtomicU16>,
) -> std::io::Result<()> {
    let mut buf = vec![0u8; MAX_HEAD];
    loop {
        let mut used = 0;
        while !buf[..used].windows(4).any(|w| w == b"\r\n\r\n") {
            let Some(free) = buf.get_mut(used..).filter(|f| !f.is_empty()) else {
                return Ok(());
            };
            match s.read(free).await? {
                0 => return Ok(()),
                n => used += n,
            }
        }
        let code = status.load(Ordering::Relaxed);
        let resp = format!(
            "HTTP/1.1 {code} OK\r\ncontent-length: {}\r\n\r\n{name}",
            name.len()
        );
        s.write_all(resp.as_bytes()).await?;
    }
}

/// One request through the proxy: (status code, body).
async fn get(addr: SocketAddr) -> (u16, String) {
    let once = async {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut out = Vec::new();
        s.read_to_end(&mut out).await.unwrap();
        let text = String::from_utf8_lossy(&out).into_owned();
        let code = text.get(9..12).and_then(|c| c.parse().ok()).unwrap_or(0);
        let body = text
            .split_once("\r\n\r\n")
            .map_or(String::new(), |(_, b)| b.to_owned());
        (code, body)
    };
    tokio::time::timeout(WAIT, once).await.unwrap()
}

/// Waits until the log holds a line containing every needle; returns it.
async fn wait_line(log: &MemoryLog, needles: &[&str]) -> String {
    wait_for_line(log, &format!("with {needles:?}"), |l| {
        needles.iter().all(|n| l.contains(n))
    })
    .await
}

/// Opens a connection through `addr` to an echoing peer and checks that `ping` comes back.
async fn echoed_ping(addr: SocketAddr) -> TcpStream {
    let mut c = TcpStream::connect(addr).await.unwrap();
    c.write_all(b"ping").await.unwrap();
    let mut buf = [0u8; 4];
    tokio::time::timeout(WAIT, c.read_exact(&mut buf))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&buf, b"ping");
    c
}

/// Checks that the proxy ends `c` (end of stream or error) within [`CUT`].
async fn assert_cut(c: &mut TcpStream) {
    let mut rest = Vec::new();
    let end = tokio::time::timeout(CUT, c.read_to_end(&mut rest))
        .await
        .unwrap();
    assert!(matches!(end, Ok(0) | Err(_)), "{end:?} {rest:?}");
}

async fn bodies(addr: SocketAddr, n: usize) -> Vec<String> {
    let mut out = Vec::new();
    for _ in 0..n {
        let (code, body) = get(addr).await;
        assert_eq!(code, 200, "{body}");
        out.push(body);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_servers_leave_the_rotation_backups_take_over_and_503_when_all_are_down() {
    let mut s1 = Peer::new("s1", Role::Http).await;
    let s2 = Peer::new("s2", Role::Http).await;
    let mut b1 = Peer::new("b1", Role::Http).await;
    let opts = "check inter 100 rise 2 fall 2";
    let rt = runtime(&format!(
        "{DEFAULTS}frontend fe\n bind 127.0.0.1:0\n default_backend app\n\
         backend app\n option httpchk GET /health\n retries 3\n option redispatch\n\
         server s1 127.0.0.1:{} {opts}\n server s2 127.0.0.1:{} {opts}\n server b1 127.0.0.1:{} {opts} backup\n",
        s1.port, s2.port, b1.port
    ))
    .unwrap();
    let registry = Arc::clone(&rt.registry);
    let px = Served::start(rt);
    let addr = px.addr;

    let seen = bodies(addr, 6).await;
    assert!(
        seen.contains(&"s1".to_owned()) && seen.contains(&"s2".to_owned()),
        "{seen:?}"
    );
    assert!(!seen.contains(&"b1".to_owned()), "{seen:?}");

    s1.stop();
    let line = wait_line(&px.log, &["Server app/s1 is DOWN"]).await;
    assert!(
        line.starts_with(
            "Server app/s1 is DOWN, reason: Layer4 connection problem, info: \"Connection refused\", check duration: "
        ) && line.ends_with(
            "ms. 1 active and 1 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue."
        ),
        "{line}"
    );
    assert_eq!(bodies(addr, 4).await, vec!["s2"; 4]);

    s2.status.store(503, Ordering::Relaxed);
    let line = wait_line(&px.log, &["Server app/s2 is DOWN"]).await;
    assert!(
        line.contains("reason: Layer7 wrong status, code: 503, info: \"Service Unavailable\"")
            && line.contains("0 active and 1 backup servers left. Running on backup."),
        "{line}"
    );
    assert_eq!(bodies(addr, 4).await, vec!["b1"; 4]);

    b1.stop();
    wait_line(&px.log, &["Backup Server app/b1 is DOWN"]).await;
    let alerts: Vec<String> = px
        .log
        .lines()
        .into_iter()
        .filter(|(lvl, _)| *lvl == Severity::Alert)
        .map(|(_, l)| l)
        .collect();
    assert_eq!(alerts, vec!["backend 'app' has no server available!"]);
    assert_eq!(get(addr).await.0, 503);

    s1.start().await;
    let up = wait_line(&px.log, &["Server app/s1 is UP"]).await;
    assert!(
        up.starts_with(
            "Server app/s1 is UP, reason: Layer7 check passed, code: 200, check duration: "
        ) && up.ends_with(
            "ms. 1 active and 0 backup servers online. 0 sessions requeued, 0 total in queue."
        ),
        "{up}"
    );
    assert_eq!(bodies(addr, 3).await, vec!["s1"; 3]);

    let sv = &registry.backends[0].servers[0];
    let stats = sv.checks.health().unwrap();
    assert_eq!(
        (
            stats.status.as_str(),
            stats.code,
            stats.health,
            stats.rise,
            stats.fall
        ),
        ("L7OK", Some(200), 3, 2, 2)
    );
    assert!(sv.checks.chkdown.load(Ordering::Relaxed) >= 1);
    let s2stats = registry.backends[0].servers[1].checks.health().unwrap();
    assert_eq!(s2stats.status, CheckStatus::L7Sts.name());
    assert_eq!(s2stats.last, "Service Unavailable");

    px.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_sessions_end_when_their_server_goes_down_and_trackers_follow() {
    let data = Peer::new("data", Role::Echo).await;
    let mut health = Peer::new("health", Role::Http).await;
    let rt = runtime(&format!(
        "defaults\n mode tcp\n timeout connect 1s\n timeout client 5s\n timeout server 5s\n\
         listen be\n bind 127.0.0.1:0\n\
         server s1 127.0.0.1:{} check port {} inter 100 rise 1 fall 1 on-marked-down shutdown-sessions\n\
         server t1 127.0.0.1:{} track s1\n",
        data.port, health.port, data.port
    ))
    .unwrap();
    let registry = Arc::clone(&rt.registry);
    let px = Served::start(rt);
    let addr = px.addr;

    // Let the first check pass so that both servers are fully up.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut c = echoed_ping(addr).await;

    health.stop();
    wait_line(
        &px.log,
        &["Server be/s1 is DOWN, reason: Layer4 connection problem"],
    )
    .await;
    let via = wait_line(&px.log, &["Server be/t1 is DOWN via be/s1. "]).await;
    assert!(
        via.ends_with("0 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue."),
        "{via}"
    );
    // The stream on s1 was cut: the client reads the end of the connection.
    assert_cut(&mut c).await;

    health.start().await;
    wait_line(
        &px.log,
        &["Server be/s1 is UP, reason: Layer4 check passed"],
    )
    .await;
    wait_line(&px.log, &["Server be/t1 is UP via be/s1. "]).await;

    // Maintenance takes the server too: its sessions end as well (observed on 2.6.12). Round
    // robin gives one of two connections to s1 and the other to t1, which has no shutdown.
    let mut conns = Vec::new();
    for _ in 0..2 {
        conns.push(echoed_ping(addr).await);
    }
    assert!(registry.change_admin(0, 0, haproxy_proxy::registry::Admin::Maint));
    wait_line(&px.log, &["Server be/s1 is going DOWN for maintenance."]).await;
    let mut ended = 0;
    for c in &mut conns {
        let mut rest = Vec::new();
        if tokio::time::timeout(CUT, c.read_to_end(&mut rest))
            .await
            .is_ok()
        {
            ended += 1;
        }
    }
    assert_eq!(ended, 1, "exactly the session on s1 ends");
    px.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passive_health_marks_a_server_down_after_real_connection_errors() {
    let health = Peer::new("health", Role::Http).await;
    let s2 = Peer::new("s2", Role::Http).await;
    // A port nothing listens on: connections to s1's traffic address are refused.
    let refused = free_port();
    let rt = runtime(&format!(
        "{DEFAULTS}frontend fe\n bind 127.0.0.1:0\n default_backend app\n\
         backend app\n retries 0\n balance roundrobin\n\
         server s1 127.0.0.1:{refused} check port {} inter 5s observe layer4 error-limit 2 on-error mark-down\n\
         server s2 127.0.0.1:{}\n",
        health.port, s2.port
    ))
    .unwrap();
    let px = Served::start(rt);
    let addr = px.addr;
    // The first active check passes (the check port answers).
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut failed = 0;
    for _ in 0..6 {
        if get(addr).await.0 == 503 {
            failed += 1;
        }
    }
    assert!((2..=3).contains(&failed), "{failed}");
    let line = wait_line(&px.log, &["Server app/s1 is DOWN, reason: Health analyze"]).await;
    assert!(
        line.contains(
            "info: \"Detected 2 consecutive errors, last one was: L4 unsuccessful connection\""
        ),
        "{line}"
    );
    // Now only s2 is picked.
    assert_eq!(bodies(addr, 3).await, vec!["s2"; 3]);
    px.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http_response_in_flight_is_cut_when_its_server_goes_down() {
    let data = Peer::new("data", Role::Stall).await;
    let mut health = Peer::new("health", Role::Http).await;
    let rt = runtime(&format!(
        "{DEFAULTS}listen be\n bind 127.0.0.1:0\n\
         server s1 127.0.0.1:{} check port {} inter 100 rise 1 fall 1 on-marked-down shutdown-sessions\n",
        data.port, health.port
    ))
    .unwrap();
    let px = Served::start(rt);
    let addr = px.addr;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut c = TcpStream::connect(addr).await.unwrap();
    c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut got = Vec::new();
    let mut chunk = [0u8; 256];
    while !got.ends_with(b"partial") {
        let n = tokio::time::timeout(WAIT, c.read(&mut chunk))
            .await
            .unwrap()
            .unwrap();
        assert_ne!(n, 0, "{}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&chunk[..n]);
    }
    health.stop();
    wait_line(&px.log, &["Server be/s1 is DOWN"]).await;
    assert_cut(&mut c).await;
    px.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_sessions_end_when_an_active_server_comes_back() {
    let backup = Peer::new("b1", Role::Echo).await;
    let data = Peer::new("s1", Role::Echo).await;
    let mut health = Peer::new("health", Role::Http).await;
    health.stop();
    let rt = runtime(&format!(
        "defaults\n mode tcp\n timeout connect 1s\n timeout client 5s\n timeout server 5s\n\
         listen be\n bind 127.0.0.1:0\n\
         server s1 127.0.0.1:{} check port {} inter 100 rise 1 fall 1 on-marked-up shutdown-backup-sessions\n\
         server b1 127.0.0.1:{} backup\n",
        data.port, health.port, backup.port
    ))
    .unwrap();
    let px = Served::start(rt);
    let addr = px.addr;
    wait_line(&px.log, &["Server be/s1 is DOWN", "Running on backup."]).await;
    let mut c = echoed_ping(addr).await;
    health.start().await;
    wait_line(&px.log, &["Server be/s1 is UP"]).await;
    assert_cut(&mut c).await;
    px.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_returning_server_ramps_up_with_slowstart() {
    let mut s1 = Peer::new("s1", Role::Http).await;
    let s2 = Peer::new("s2", Role::Http).await;
    let opts = "check inter 100 rise 1 fall 1 weight 10";
    let rt = runtime(&format!(
        "{DEFAULTS}listen be\n bind 127.0.0.1:0\n\
         server s1 127.0.0.1:{} {opts} slowstart 3s\n server s2 127.0.0.1:{} {opts}\n",
        s1.port, s2.port
    ))
    .unwrap();
    let registry = Arc::clone(&rt.registry);
    let px = Served::start(rt);
    s1.stop();
    wait_line(&px.log, &["Server be/s1 is DOWN"]).await;
    s1.start().await;
    wait_line(&px.log, &["Server be/s1 is UP"]).await;
    let lb = registry.balancer(0).unwrap();
    let full = lb.effective_weight(1);
    let early = lb.effective_weight(0);
    assert!(early > 0 && early < full, "{early} vs {full}");
    // The periodic ticks move the ramp on, up to the full weight after 3 s.
    let started = Instant::now();
    while lb.effective_weight(0) < full {
        assert!(
            started.elapsed() < WAIT,
            "{} vs {full}",
            lb.effective_weight(0)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(started.elapsed() >= Duration::from_secs(1));
    px.stop().await;
}

/// Streams queued behind a slow-starting server enter as its ramp raises the limit, without
/// waiting for a connection to end: HAProxy's warm-up task grabs them from the backend's queue.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_streams_enter_as_the_slowstart_ramp_rises() {
    let mut s1 = Peer::new("s1", Role::Http).await;
    let rt = runtime(&format!(
        "defaults\n mode http\n timeout connect 1s\n timeout client 20s\n timeout server 20s\n\
         timeout queue 20s\n\
         listen be\n bind 127.0.0.1:0\n\
         server s1 127.0.0.1:{} check inter 100 rise 1 fall 1 maxconn 4 slowstart 2s\n",
        s1.port
    ))
    .unwrap();
    let registry = Arc::clone(&rt.registry);
    let px = Served::start(rt);
    s1.stop();
    wait_line(&px.log, &["Server be/s1 is DOWN"]).await;
    // Back up, answering nothing: each request it takes stays on it.
    s1.status.store(SILENT, Ordering::Relaxed);
    s1.start().await;
    wait_line(&px.log, &["Server be/s1 is UP"]).await;
    let lb = registry.balancer(0).unwrap();
    let mut clients = Vec::new();
    for _ in 0..4 {
        let mut c = TcpStream::connect(px.addr).await.unwrap();
        c.write_all(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")
            .await
            .unwrap();
        clients.push(c);
    }
    // Early in the ramp some wait; none is ever released, yet all four reach the server.
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert!(lb.connections(0) < 4, "the ramp began at the full limit");
    let started = Instant::now();
    while lb.connections(0) < 4 {
        assert!(
            started.elapsed() < WAIT,
            "{} on the server, {} queued",
            lb.connections(0),
            lb.queued(0)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(clients);
    px.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passive_health_counts_the_attempts_a_redispatch_hides() {
    let health = Peer::new("health", Role::Http).await;
    let s2 = Peer::new("s2", Role::Http).await;
    let refused = free_port();
    let rt = runtime(&format!(
        "defaults\n mode http\n timeout connect 100ms\n timeout client 5s\n timeout server 5s\n\
         frontend fe\n bind 127.0.0.1:0\n default_backend app\n\
         backend app\n retries 3\n option redispatch\n\
         server s1 127.0.0.1:{refused} check port {} inter 5s observe layer4 error-limit 3 on-error mark-down\n\
         server s2 127.0.0.1:{}\n",
        health.port, s2.port
    ))
    .unwrap();
    let px = Served::start(rt);
    let addr = px.addr;
    tokio::time::sleep(Duration::from_millis(100)).await;
    // Every request succeeds (the last retry goes to s2), yet s1's refusals are counted.
    assert_eq!(bodies(addr, 4).await, vec!["s2"; 4]);
    let line = wait_line(&px.log, &["Server app/s1 is DOWN, reason: Health analyze"]).await;
    assert!(
        line.contains("Detected 3 consecutive errors, last one was: L4 unsuccessful connection"),
        "{line}"
    );
    px.stop().await;
}

#[test]
fn check_rules_come_from_the_defaults_section_unless_the_backend_has_its_own() {
    let rt = runtime(
        "defaults\n mode http\n timeout connect 1s\n timeout client 5s\n timeout server 5s\n\
         option httpchk GET /x\n http-check expect status 201\n\
         frontend fe\n bind 127.0.0.1:0\n default_backend inherit\n\
         backend inherit\n http-check send-state\n server s 127.0.0.1:1 check\n\
         backend own_rules\n http-check send meth GET uri /z\n server s 127.0.0.1:1 check\n\
         backend own_option\n option httpchk GET /y\n server s 127.0.0.1:1 check\n\
         defaults tcp\n mode tcp\n timeout connect 1s\n timeout client 5s\n timeout server 5s\n\
         option tcp-check\n tcp-check send hello\\r\\n\n tcp-check expect string nope\n\
         backend t\n server s 127.0.0.1:1 check\n",
    )
    .unwrap();
    let kinds: Vec<String> = rt
        .health
        .checked
        .iter()
        .map(|c| format!("{:?}", c.spec.kind))
        .collect();
    // Observed on 2.6.12: `inherit` checks with the defaults' `expect status 201` (flags such as
    // send-state do not count as rules), `own_rules` and `own_option` with their own only.
    assert!(kinds[0].contains("201"), "{}", kinds[0]);
    assert!(
        !kinds[1].contains("201") && kinds[1].contains("/z"),
        "{}",
        kinds[1]
    );
    assert!(
        !kinds[2].contains("201") && kinds[2].contains("/y"),
        "{}",
        kinds[2]
    );
    let CheckKind::Tcp(t) = &rt.health.checked[3].spec.kind else {
        panic!("{}", kinds[3])
    };
    assert_eq!(t.rules().len(), 2);
}

#[test]
fn check_connections_inherit_proxy_and_tls_as_haproxy_says() {
    let rt = runtime(&format!(
        "{DEFAULTS}frontend fe\n bind 127.0.0.1:0\n default_backend be\n\
         backend be\n\
         server e 127.0.0.1:85 check port 9001 send-proxy-v2 check-send-proxy\n\
         server f 127.0.0.1:86 check check-ssl verify none check-sni h.example\n\
         server g 127.0.0.1:87 check send-proxy port 9002\n\
         server h 127.0.0.1:88 check ssl verify none addr 127.0.0.3\n\
         server i 127.0.0.1:89 check ssl verify none\n"
    ))
    .unwrap();
    let c = &rt.health.checked;
    // Reference §3.1: `port`/`addr` stop checks from inheriting send-proxy and ssl, unless
    // `check-send-proxy` / `check-ssl` ask for them.
    assert_eq!(c[0].spec.send_proxy, Some(ProxyHeader::V2));
    assert!(c[1].spec.tls.is_some());
    assert_eq!(c[2].spec.send_proxy, None);
    assert!(c[3].spec.tls.is_none());
    assert_eq!(
        c[3].spec.addr,
        "127.0.0.3:88".parse::<SocketAddr>().unwrap()
    );
    assert!(c[4].spec.tls.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kept_alive_session_leaves_a_server_marked_down() {
    let s1 = Peer::new("s1", Role::KeepAlive).await;
    let s2 = Peer::new("s2", Role::KeepAlive).await;
    let mut h1 = Peer::new("h1", Role::Http).await;
    let mut h2 = Peer::new("h2", Role::Http).await;
    let rt = runtime(&format!(
        "{DEFAULTS}listen be\n bind 127.0.0.1:0\n\
         server s1 127.0.0.1:{} check port {} inter 100 rise 1 fall 1\n\
         server s2 127.0.0.1:{} check port {} inter 100 rise 1 fall 1\n",
        s1.port, h1.port, s2.port, h2.port
    ))
    .unwrap();
    let px = Served::start(rt);
    let addr = px.addr;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut c = TcpStream::connect(addr).await.unwrap();
    let ask = async |c: &mut TcpStream| -> String {
        c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let mut got = Vec::new();
        let mut chunk = [0u8; 512];
        loop {
            let n = tokio::time::timeout(WAIT, c.read(&mut chunk))
                .await
                .unwrap()
                .unwrap();
            assert_ne!(n, 0);
            got.extend_from_slice(&chunk[..n]);
            let text = String::from_utf8_lossy(&got).into_owned();
            if let Some((_, body)) = text.split_once("\r\n\r\n")
                && body.len() == 2
            {
                return body.to_owned();
            }
        }
    };
    // Each request is balanced again (HAProxy without `prefer-last-server`): both servers serve
    // this one client connection in turn.
    let first = ask(&mut c).await;
    let second = ask(&mut c).await;
    assert_ne!(first, second, "round robin over one kept-alive connection");
    let (down, other) = if first == "s1" {
        h1.stop();
        ("s1", "s2")
    } else {
        h2.stop();
        ("s2", "s1")
    };
    wait_line(&px.log, &[&format!("Server be/{down} is DOWN")]).await;
    for _ in 0..3 {
        assert_eq!(ask(&mut c).await, other);
    }
    px.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_changes_are_logged_without_any_check() {
    let s1 = Peer::new("s1", Role::Http).await;
    let rt = runtime(&format!(
        "{DEFAULTS}listen be\n bind 127.0.0.1:0\n server s1 127.0.0.1:{}\n",
        s1.port
    ))
    .unwrap();
    assert!(rt.health.is_empty());
    let registry = Arc::clone(&rt.registry);
    let px = Served::start(rt);
    let addr = px.addr;
    // Serving installs the hook before it accepts: once a request is answered, it is there.
    assert_eq!(get(addr).await, (200, "s1".to_owned()));
    assert!(registry.change_admin(0, 0, haproxy_proxy::registry::Admin::Maint));
    let line = wait_line(&px.log, &["Server be/s1 is going DOWN for maintenance."]).await;
    assert!(line.ends_with("0 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue."), "{line}");
    // A listen section is a `proxy` in HAProxy's words (observed on 2.6.12).
    wait_line(&px.log, &["proxy 'be' has no server available!"]).await;
    assert_eq!(get(addr).await.0, 503);
    assert!(registry.change_admin(0, 0, haproxy_proxy::registry::Admin::Ready));
    wait_line(
        &px.log,
        &["Server be/s1 is UP/READY (leaving forced maintenance)."],
    )
    .await;
    assert_eq!(get(addr).await, (200, "s1".to_owned()));
    px.stop().await;
}
