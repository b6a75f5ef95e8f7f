//! Differential test: the same peers and phases as tests/data/haproxy-2.6/record.py, driven through
//! our probes and state machine, must give the same `show stat` check columns.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant};

use haproxy_check::probe::{CheckKind, CheckTimeouts, HttpCheck, redis_check};
use haproxy_check::{BackendCounts, CheckParams, Health, Transition, message};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::peer::{closed_port, normalize};

const RECORDING: &str = include_str!("../data/haproxy-2.6/differential.txt");
const STATE_LOG: &str = include_str!("../data/haproxy-2.6/state-log.txt");
const CHECKS_PER_PHASE: usize = 4;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Http,
    Tcp,
    Redis,
}

fn mode_code(m: &str) -> u8 {
    ["ok", "bad", "silent", "notfound", "refused"]
        .iter()
        .position(|x| *x == m)
        .and_then(|i| u8::try_from(i).ok())
        .expect("known mode")
}

async fn serve(kind: Kind, mode: Arc<AtomicU8>) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = l.local_addr().expect("addr");
    let h = tokio::spawn(async move {
        for _ in 0..1000 {
            let Ok((mut s, _)) = l.accept().await else {
                return;
            };
            let m = mode.load(Ordering::SeqCst);
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                if kind != Kind::Tcp {
                    let _ = tokio::time::timeout(Duration::from_secs(1), s.read(&mut buf)).await;
                }
                let reply: &[u8] = match (kind, m) {
                    (_, 2) => {
                        tokio::time::sleep(Duration::from_millis(600)).await;
                        b""
                    }
                    (Kind::Http, 0) => b"HTTP/1.0 200 OK\r\ncontent-length: 0\r\n\r\n",
                    (Kind::Http, 1) => {
                        b"HTTP/1.0 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n"
                    }
                    (Kind::Http, _) => b"HTTP/1.0 404 Not Found\r\ncontent-length: 0\r\n\r\n",
                    (Kind::Redis, 0) => b"+PONG\r\n",
                    (Kind::Redis, _) => b"-ERR not ready\r\n",
                    (Kind::Tcp, _) => b"",
                };
                let _ = s.write_all(reply).await;
            });
        }
    });
    (addr, h)
}

/// The log lines HAProxy writes for a transition of a backend's only server.
fn log_lines(name: &str, t: Transition, h: &Health) -> Vec<String> {
    let (be, srv) = name.split_once('/').expect("be/srv");
    let active = u32::from(h.is_usable());
    let n = BackendCounts {
        active,
        ..Default::default()
    };
    let mut out = match t {
        Transition::Down => vec![message::server_down(be, srv, false, h.last(), &n)],
        Transition::Up => vec![message::server_up(be, srv, false, h.last(), &n)],
        Transition::NoLb => vec![message::server_stopping(be, srv, false, h.last(), &n)],
        _ => vec![],
    };
    if active == 0 {
        out.push(message::backend_no_server(be));
    }
    out.into_iter().map(|l| normalize(&l)).collect()
}

fn row(h: &Health) -> String {
    [
        h.status_text(false),
        h.check_status_text(),
        h.check_code_text(),
        h.check_desc_text().to_owned(),
        h.health().to_string(),
        h.last().info.clone(),
    ]
    .join("|")
}

#[tokio::test]
async fn same_check_columns_as_haproxy() {
    let phases: Vec<Vec<u8>> = RECORDING
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("# phase modes: "))
        .expect("phase line")
        .split(" | ")
        .map(|p| p.split(',').map(mode_code).collect())
        .collect();
    let servers = [
        ("be_http/s_http", Kind::Http),
        ("be_tcp/s_tcp", Kind::Tcp),
        ("be_redis/s_redis", Kind::Redis),
    ];
    let timeouts = CheckTimeouts::new(
        Duration::from_millis(400),
        Some(Duration::from_secs(1)),
        Some(Duration::from_millis(200)),
    );
    let refused = closed_port().await;
    for (idx, (name, kind)) in servers.iter().enumerate() {
        let want: Vec<String> = RECORDING
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.strip_prefix(&format!("{name}|")))
            .map(str::to_owned)
            .collect();
        let mode = Arc::new(AtomicU8::new(0));
        let (addr, handle) = serve(*kind, Arc::clone(&mode)).await;
        let check = match kind {
            Kind::Http => CheckKind::Http(
                HttpCheck::new(Some("GET"), Some("/health"), None)
                    .unwrap()
                    .disable_on_404(),
            ),
            Kind::Tcp => CheckKind::Connect,
            Kind::Redis => CheckKind::Tcp(redis_check()),
        };
        let mut h = Health::new(CheckParams::default(), Instant::now());
        let mut got: Vec<String> = Vec::new();
        let mut logs: Vec<String> = Vec::new();
        let mut last = String::new();
        if want.first().is_some_and(|w| w.contains("|INI|")) {
            last = row(&h);
            got.push(format!("0|{last}"));
        }
        for (p, modes) in phases.iter().enumerate() {
            let m = modes[idx];
            mode.store(m, Ordering::SeqCst);
            let target = if m == 4 { refused } else { addr };
            for _ in 0..CHECKS_PER_PHASE {
                let o = check.run(target, timeouts, None).await;
                if let Some(t) = h.record(o, Instant::now()) {
                    logs.extend(log_lines(name, t, &h));
                }
                let r = row(&h);
                if r != last {
                    got.push(format!("{p}|{r}"));
                    last = r;
                }
            }
        }
        handle.abort();
        assert_eq!(got, want, "{name}");
        let be = name.split_once('/').expect("be/srv").0;
        let want_logs: Vec<String> = STATE_LOG
            .lines()
            .filter(|l| {
                l.contains(&format!(" {name} "))
                    || *l == format!("backend {be} has no server available!")
            })
            .map(normalize)
            .collect();
        assert!(
            want_logs.len() >= 3,
            "{name}: recording has too few log lines"
        );
        assert_eq!(logs, want_logs, "{name} state-change log lines");
    }
}
