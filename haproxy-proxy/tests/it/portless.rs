//! Servers without a port (issue 5, point 7): `server s 127.0.0.2` connects to the port the
//! client connected to, `127.0.0.1:+N` / `:-N` shift it, in HTTP and TCP modes, through our
//! daemon and through real HAProxy 2.6 with the same configuration (the raw answers must be
//! equal); and a health check of such a server without `port` is refused with HAProxy's
//! startup message.

use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use haproxy_cfg::load::{Outcome, SystemEnv, load};
use haproxy_cfg::parse_str;
use haproxy_proxy::build::build;
use haproxy_proxy::runtime::Stop;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::queue::get;
use crate::scratch::TempDir;

/// The most ports tried to find one free on two loopback addresses at once.
const PORT_TRIES: usize = 50;

/// A port kept for a proxy listener on 127.0.0.1 (bound with `SO_REUSEPORT`, not listening).
fn reserve(port: u16) -> Option<socket2::Socket> {
    let s = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).ok()?;
    s.set_reuse_address(true).ok()?;
    s.set_reuse_port(true).ok()?;
    s.bind(&SocketAddr::from(([127, 0, 0, 1], port)).into())
        .ok()?;
    Some(s)
}

/// An origin answering `name` (and closing) on `ip` at a port also free on 127.0.0.1, kept
/// for the proxy's listener; returns the port.
async fn origin_with_free_twin(ip: [u8; 4], name: &'static str) -> (u16, socket2::Socket) {
    let mut tries = 0;
    loop {
        let l = TcpListener::bind(SocketAddr::from((ip, 0))).await.unwrap();
        let port = l.local_addr().unwrap().port();
        if let Some(r) = reserve(port) {
            serve(l, name);
            return (port, r);
        }
        tries += 1;
        assert!(
            tries < PORT_TRIES,
            "no port free on both 127.0.0.1 and {ip:?}"
        );
    }
}

/// Answers every connection with `name` (`Connection: close`).
fn serve(l: TcpListener, name: &'static str) {
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut chunk = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match s.read(&mut chunk).await {
                        Ok(n) if n > 0 => head.extend_from_slice(&chunk[..n]),
                        _ => return,
                    }
                }
                let answer = format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{name}",
                    name.len()
                );
                let _ = s.write_all(answer.as_bytes()).await;
            });
        }
    });
}

/// Runs `text` through HAProxy (`bin`) or ours, sends one `GET /` to each of `ports` on
/// 127.0.0.1, and returns the raw answers.
async fn answers(bin: Option<&str>, text: &str, ports: &[u16]) -> Vec<String> {
    let first: SocketAddr = SocketAddr::from(([127, 0, 0, 1], ports[0]));
    let ask = || async {
        let mut out = Vec::new();
        for p in ports {
            out.push(get(SocketAddr::from(([127, 0, 0, 1], *p)), "/").await);
        }
        out
    };
    if let Some(bin) = bin {
        let dir = TempDir::new("portless");
        let cfg = dir.write("haproxy.cfg", text);
        let child = Command::new(bin)
            .args(["-db", "-f"])
            .arg(&cfg)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let h = crate::requeue_diff::Haproxy(child);
        let started = Instant::now();
        while TcpStream::connect(first).await.is_err() {
            assert!(
                started.elapsed() < crate::support::HAPROXY_START,
                "haproxy did not start"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let out = ask().await;
        drop(h);
        out
    } else {
        let loaded = load(&[parse_str("p.cfg", text)], &SystemEnv);
        assert_ne!(loaded.outcome, Outcome::Invalid, "{:?}", loaded.diagnostics);
        let running = build(&loaded.config).unwrap().start().unwrap();
        let (stop, rx) = watch::channel(None);
        let task = tokio::spawn(running.serve(rx));
        let out = ask().await;
        stop.send(Some(Stop::Hard)).unwrap();
        tokio::time::timeout(Duration::from_secs(10), task)
            .await
            .unwrap()
            .unwrap();
        out
    }
}

/// Builds the scene for `engine` (fresh ports each time) and returns what the client saw.
async fn scene(bin: Option<&str>, mode: &str, offset: bool) -> Vec<String> {
    let head = format!(
        "global\n nbthread 1\ndefaults\n mode {mode}\n timeout connect 1s\n timeout client 5s\n timeout server 5s\n"
    );
    if offset {
        // The origin on 127.0.0.1:Q, the listener on 127.0.0.1:P, the server at `:+/-(Q-P)`.
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let q = l.local_addr().unwrap().port();
        serve(l, "shifted");
        let r = crate::queue::Reserved::new();
        let p = r.addr.port();
        let delta = i32::from(q) - i32::from(p);
        let text = format!("{head}listen l\n bind 127.0.0.1:{p}\n server s 127.0.0.1:{delta:+}\n");
        answers(bin, &text, &[p]).await
    } else {
        // Two listener ports, each with an origin on 127.0.0.2 at the same port.
        let (p1, _r1) = origin_with_free_twin([127, 0, 0, 2], "one").await;
        let (p2, _r2) = origin_with_free_twin([127, 0, 0, 2], "two").await;
        let text = format!(
            "{head}listen l\n bind 127.0.0.1:{p1}\n bind 127.0.0.1:{p2}\n server s 127.0.0.2\n"
        );
        answers(bin, &text, &[p1, p2]).await
    }
}

fn body(resp: &str) -> &str {
    resp.split_once("\r\n\r\n").map_or("", |(_, b)| b)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_without_a_port_uses_the_clients_destination_port_like_haproxy() {
    for mode in ["http", "tcp"] {
        let ours = scene(None, mode, false).await;
        let bodies: Vec<&str> = ours.iter().map(|r| body(r)).collect();
        assert_eq!(bodies, ["one", "two"], "{mode}: {ours:?}");
        if let Some(bin) =
            crate::support::haproxy_bin("portless differential test (checking ours alone)")
        {
            let theirs = scene(Some(bin), mode, false).await;
            assert_eq!(theirs, ours, "{mode}: haproxy (left) vs ours (right)");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_port_offset_shifts_the_clients_destination_port_like_haproxy() {
    for mode in ["http", "tcp"] {
        let ours = scene(None, mode, true).await;
        assert_eq!(body(&ours[0]), "shifted", "{mode}: {ours:?}");
        if let Some(bin) =
            crate::support::haproxy_bin("portless differential test (checking ours alone)")
        {
            let theirs = scene(Some(bin), mode, true).await;
            assert_eq!(theirs, ours, "{mode}: haproxy (left) vs ours (right)");
        }
    }
}

/// HAProxy 2.6.12's alert for a checked server without a port (tests/data/haproxy-2.6/portless).
const NO_CHECK_PORT: &str = include_str!("../data/haproxy-2.6/portless/no-check-port.txt");

#[test]
fn a_checked_server_without_a_port_needs_a_check_port_as_in_haproxy() {
    let text = "defaults\n mode http\n timeout connect 1s\n timeout client 1s\n timeout server 1s\n\
                listen l\n bind 127.0.0.1:0\n server s1 127.0.0.1 check\n";
    let loaded = load(&[parse_str("p.cfg", text)], &SystemEnv);
    let err = build(&loaded.config).unwrap_err().to_string();
    // HAProxy's line after its `[ALERT] (pid) : config : ` prefix.
    let want = NO_CHECK_PORT
        .lines()
        .find_map(|l| l.split_once(" : config : ").map(|(_, m)| m))
        .unwrap();
    assert_eq!(err, want);
    // With `port`, the check has its target and the server builds.
    let ok = text.replace("check\n", "check port 80\n");
    let loaded = load(&[parse_str("p.cfg", &ok)], &SystemEnv);
    assert!(build(&loaded.config).is_ok());
    let shifted = text.replace("127.0.0.1 check", "127.0.0.1:+1 check port 80");
    let loaded = load(&[parse_str("p.cfg", &shifted)], &SystemEnv);
    assert!(build(&loaded.config).is_ok());
}

#[test]
fn the_mapped_port_wraps_as_a_16_bit_port() {
    use haproxy_proxy::mapped_port;
    assert_eq!(mapped_port(8080, 0), 8080);
    assert_eq!(mapped_port(8080, 1000), 9080);
    assert_eq!(mapped_port(8080, -80), 8000);
    assert_eq!(mapped_port(65535, 1), 0);
    assert_eq!(mapped_port(0, -1), 65535);
}
