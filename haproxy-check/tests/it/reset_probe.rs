//! Checks against a peer that resets each connection right after accepting it, one that
//! refuses and one that stays silent, compared with reset-messages.txt (HAProxy 2.6.12).

use std::net::SocketAddr;
use std::time::Duration;

use haproxy_check::CheckStatus;
use haproxy_check::probe::{
    CheckKind, CheckTimeouts, ConnectRule, Expect, HttpCheck, TcpCheck, TcpRule, redis_check,
};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::peer::closed_port;

const RECORDED: &str = include_str!("../data/haproxy-2.6/reset-messages.txt");

/// How the peer treats each connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Accept, then close with an RST (SO_LINGER 0).
    Reset,
    /// Nothing listens.
    Refused,
    /// Accept and never answer.
    Silent,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Self::Reset => "reset",
            Self::Refused => "refused",
            Self::Silent => "silent",
        }
    }
}

/// Starts a peer in `mode`; at most 64 connections are served, for at most 10 s.
async fn start(mode: Mode) -> (SocketAddr, Option<JoinHandle<()>>) {
    if mode == Mode::Refused {
        return (closed_port().await, None);
    }
    let l = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = l.local_addr().expect("local addr");
    let h = tokio::spawn(async move {
        let mut held = Vec::new();
        for _ in 0..64 {
            let Ok(Ok((s, _))) = tokio::time::timeout(Duration::from_secs(10), l.accept()).await
            else {
                return;
            };
            if mode == Mode::Reset {
                socket2::SockRef::from(&s)
                    .set_linger(Some(Duration::ZERO))
                    .expect("SO_LINGER");
                drop(s);
            } else {
                held.push(s);
            }
        }
    });
    (addr, Some(h))
}

/// The check of each recorded case (record_reset.py), aimed at the peer on `port`.
fn kind(case: &str, port: u16) -> Option<CheckKind> {
    let ping = || TcpRule::Send(b"PING\r\n".to_vec());
    let tcp = |rules| CheckKind::Tcp(TcpCheck::new(rules).expect("valid rules"));
    Some(match case {
        "check" => CheckKind::Connect,
        "connonly" => tcp(vec![TcpRule::Connect(ConnectRule::default())]),
        "connport" => tcp(vec![TcpRule::Connect(ConnectRule {
            port: Some(port),
            addr: None,
        })]),
        "expect" => tcp(vec![TcpRule::Expect(Expect::string("x"))]),
        "sendexpect" => tcp(vec![ping(), TcpRule::Expect(Expect::string("+PONG"))]),
        "rstring" => tcp(vec![
            ping(),
            TcpRule::Expect(Expect::rstring("^\\+PONG").expect("regex")),
        ]),
        "httpchk" => {
            CheckKind::Http(HttpCheck::new(Some("GET"), Some("/"), None).expect("request"))
        }
        "redis" => CheckKind::Tcp(redis_check()),
        _ => return None,
    })
}

/// `timeout connect 1s`, `timeout check 300ms`, `inter 200` as recorded.
fn timeouts() -> CheckTimeouts {
    CheckTimeouts::new(
        Duration::from_millis(200),
        Some(Duration::from_secs(1)),
        Some(Duration::from_millis(300)),
    )
}

/// Runs every recorded case of `mode` and compares check_status and last_chk (the port in
/// `connect port N` differs between runs and is put back from ours).
async fn same_as_recorded(mode: Mode) {
    let mut seen = 0;
    let port_re = regex::Regex::new(r"connect port \d+").expect("regex");
    for line in RECORDED.lines().filter(|l| !l.starts_with('#')) {
        let f: Vec<&str> = line.split('|').collect();
        let [m, case, status, check_status, _code, _chkfail, last_chk] = f[..] else {
            unreachable!("bad line {line}");
        };
        if m != mode.name() {
            continue;
        }
        seen += 1;
        let (addr, peer) = start(mode).await;
        let check = kind(case, addr.port()).expect("known case");
        let o = check.run(addr, timeouts(), None).await;
        let want = port_re
            .replace(last_chk, format!("connect port {}", addr.port()).as_str())
            .into_owned();
        assert_eq!(
            (o.status.name(), o.info.as_str()),
            (check_status, want.as_str()),
            "{mode:?} {case}"
        );
        // The recorded row is the server's state after several checks: UP means passed.
        assert_eq!(
            status == "UP",
            matches!(o.status, CheckStatus::L4Ok | CheckStatus::L7Ok),
            "{mode:?} {case}: {o:?}"
        );
        if let Some(h) = peer {
            h.abort();
        }
    }
    assert_eq!(seen, 8, "{mode:?}: every case recorded");
}

#[tokio::test]
async fn reset_after_accept_matches_haproxy() {
    same_as_recorded(Mode::Reset).await;
}

#[tokio::test]
async fn refused_matches_haproxy() {
    same_as_recorded(Mode::Refused).await;
}

#[tokio::test]
async fn silent_peer_matches_haproxy() {
    same_as_recorded(Mode::Silent).await;
}

#[tokio::test]
async fn connect_check_stays_up_against_a_resetting_peer() {
    // The regression behind this file: servers that reset at once flapped (L4CON / L7RSP).
    let (addr, peer) = start(Mode::Reset).await;
    for i in 0..20 {
        let o = CheckKind::Connect.run(addr, timeouts(), None).await;
        assert_eq!(o.status, CheckStatus::L4Ok, "check {i}: {o:?}");
    }
    if let Some(h) = peer {
        h.abort();
    }
}

#[tokio::test]
async fn reset_after_data_leaves_the_verdict_to_the_expect_rule() {
    // An RST right after the last chunk is not an error: the data is matched.
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let h = tokio::spawn(async move {
        let (mut s, _) = l.accept().await.unwrap();
        tokio::io::AsyncWriteExt::write_all(&mut s, b"+PONG\r\n")
            .await
            .unwrap();
        socket2::SockRef::from(&s)
            .set_linger(Some(Duration::ZERO))
            .unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        drop(s);
    });
    let rules = TcpCheck::new(vec![TcpRule::Expect(Expect::string("+PONG"))]).unwrap();
    let o = rules.run(addr, timeouts()).await;
    assert_eq!(o.status, CheckStatus::L7Ok, "{o:?}");
    h.await.unwrap();
}
