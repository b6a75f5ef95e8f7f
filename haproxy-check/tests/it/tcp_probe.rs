//! Plain connect and tcp-check sequences against scripted loopback peers.

use std::time::Duration;

use haproxy_check::CheckStatus;
use haproxy_check::probe::{CheckKind, CheckTimeouts, ConnectRule, Expect, TcpCheck, TcpRule};

use crate::peer::{Step, closed_port, peer, send};

fn t(ms: u64) -> CheckTimeouts {
    CheckTimeouts::uniform(Duration::from_millis(ms))
}

#[tokio::test]
async fn connect_check_passes_on_listener() {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let o = CheckKind::Connect
        .run(l.local_addr().unwrap(), t(1000), None)
        .await;
    assert_eq!(o.status, CheckStatus::L4Ok);
    assert_eq!(o.info, "");
    // As HAProxy's (TCP_QUICKACK off, then close with RST), the check ends before the
    // handshake's last ACK: the connection never reaches the server's accept queue.
    #[cfg(target_os = "linux")]
    assert!(
        tokio::time::timeout(Duration::from_millis(300), l.accept())
            .await
            .is_err(),
        "a connect-only check was accepted by the server"
    );
}

#[tokio::test]
async fn expect_first_check_is_accepted_and_greeted() {
    // A server that speaks first must see the connection at once (quick ACK kept on).
    let (addr, h) = peer(vec![send("220 ready\r\n")]).await;
    let rules = TcpCheck::new(vec![TcpRule::Expect(Expect::string("220"))]).unwrap();
    let o = rules.run(addr, t(1000)).await;
    assert_eq!(o.status, CheckStatus::L7Ok, "{o:?}");
    h.await.unwrap();
}

/// A listener whose accept queue is full: further SYNs are dropped, so connects hang.
fn full_listener() -> (socket2::Socket, Vec<std::net::TcpStream>) {
    use socket2::{Domain, Socket, Type};
    let l = Socket::new(Domain::IPV4, Type::STREAM, None).expect("socket");
    l.bind(
        &"127.0.0.1:0"
            .parse::<std::net::SocketAddr>()
            .expect("address")
            .into(),
    )
    .expect("bind");
    l.listen(0).expect("listen");
    let addr = l
        .local_addr()
        .ok()
        .and_then(|a| a.as_socket())
        .expect("local address");
    // Never accepted: these fill the queue (one fits with a backlog of 0, two for safety).
    let fillers = (0..2)
        .filter_map(|_| {
            std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)).ok()
        })
        .collect();
    (l, fillers)
}

#[tokio::test]
async fn connect_timeout_is_l4tout_within_timeout_connect() {
    let (l, _fillers) = full_listener();
    let addr = l.local_addr().unwrap().as_socket().unwrap();
    // `inter 5s`, `timeout connect 200ms`, `timeout check 5s`: the connect gives up at 200 ms.
    let ms = Duration::from_millis;
    let timeouts = CheckTimeouts::new(ms(5000), Some(ms(200)), Some(ms(5000)));
    let start = std::time::Instant::now();
    let o = CheckKind::Connect.run(addr, timeouts, None).await;
    assert_eq!(o.status, CheckStatus::L4Timeout, "{o:?}");
    assert_eq!(o.info, "");
    let took = start.elapsed();
    assert!(took >= ms(190) && took < ms(2000), "{took:?}");
}

#[tokio::test]
async fn connect_finishing_late_goes_through_the_reactor() {
    // The SYN is dropped while the queue is full; the listener drains it 200 ms later, so the
    // kernel's SYN retransmission (about 1 s) completes the connect after `connect()` returned.
    let (l, fillers) = full_listener();
    let addr = l
        .local_addr()
        .ok()
        .and_then(|a| a.as_socket())
        .expect("local address");
    let (done, wait) = std::sync::mpsc::channel::<()>();
    let drain = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        for _ in 0..fillers.len() {
            let _ = l.accept();
        }
        // Keep the listener open until the check is over (bounded).
        let _ = wait.recv_timeout(Duration::from_secs(5));
        drop(fillers);
    });
    let start = std::time::Instant::now();
    let o = CheckKind::Connect.run(addr, t(2500), None).await;
    let _ = done.send(());
    assert_eq!(o.status, CheckStatus::L4Ok, "{o:?}");
    assert!(start.elapsed() >= Duration::from_millis(500), "{o:?}");
    drain.join().unwrap();
}

#[tokio::test]
async fn connect_check_over_ipv6_loopback() {
    let Ok(l) = tokio::net::TcpListener::bind("[::1]:0").await else {
        return; // no IPv6 on this host
    };
    let o = CheckKind::Connect
        .run(l.local_addr().unwrap(), t(1000), None)
        .await;
    assert_eq!(o.status, CheckStatus::L4Ok, "{o:?}");
}

#[tokio::test]
async fn connect_timeout_without_timeout_check_is_bounded_by_inter() {
    let (l, _fillers) = full_listener();
    let addr = l.local_addr().unwrap().as_socket().unwrap();
    let rules = TcpCheck::new(vec![
        TcpRule::Send(b"PING\r\n".to_vec()),
        TcpRule::Expect(Expect::string("+PONG")),
    ])
    .unwrap();
    let start = std::time::Instant::now();
    let o = rules.run(addr, t(250)).await;
    assert_eq!(o.status, CheckStatus::L4Timeout, "{o:?}");
    assert!(start.elapsed() < Duration::from_millis(2000));
}

#[tokio::test]
async fn refused_connect_is_l4con_connection_refused() {
    let o = CheckKind::Connect
        .run(closed_port().await, t(1000), None)
        .await;
    assert_eq!(o.status, CheckStatus::L4Con);
    assert_eq!(o.info, "Connection refused");
}

#[tokio::test]
async fn tcp_check_mismatch_names_step() {
    let (addr, h) = peer(vec![Step::Recv, send("-ERR nope\r\n")]).await;
    let rules = TcpCheck::new(vec![
        TcpRule::Connect(ConnectRule::default()),
        TcpRule::Send(b"PING\r\n".to_vec()),
        TcpRule::Expect(Expect::string("+PONG")),
    ])
    .unwrap();
    let o = rules.run(addr, t(1000)).await;
    assert_eq!(o.status, CheckStatus::L7Rsp);
    assert_eq!(o.info, "TCPCHK did not match content '+PONG' at step 3");
    assert_eq!(h.await.unwrap(), vec![b"PING\r\n".to_vec()]);
}

#[tokio::test]
async fn tcp_check_negated_match_fails_on_content() {
    let (addr, _h) = peer(vec![Step::Recv, send("ERROR\n")]).await;
    let rules = TcpCheck::new(vec![
        TcpRule::Send(b"x".to_vec()),
        TcpRule::Expect(Expect::string("ERROR").negate()),
    ])
    .unwrap();
    let o = rules.run(addr, t(1000)).await;
    assert_eq!(o.status, CheckStatus::L7Rsp);
    assert_eq!(o.info, "TCPCHK matched unwanted content 'ERROR' at step 2");
}

#[tokio::test]
async fn tcp_check_binary_and_regex_pass() {
    let (addr, h) = peer(vec![Step::Recv, send([0x01u8, 0x02, 0xab, b'o', b'k'])]).await;
    let rules = TcpCheck::new(vec![
        TcpRule::Send(haproxy_check::probe::parse_hex("DEAD").unwrap()),
        TcpRule::Expect(Expect::binary("02ab").unwrap()),
        TcpRule::Expect(Expect::rbinary("^0102").unwrap()),
        TcpRule::Expect(Expect::rstring("o+k$").unwrap()),
    ])
    .unwrap();
    let o = rules.run(addr, t(1000)).await;
    assert_eq!(o.status, CheckStatus::L7Ok, "{o:?}");
    assert_eq!(h.await.unwrap(), vec![vec![0xde, 0xad]]);
}

#[tokio::test]
async fn silent_peer_times_out_as_l7tout() {
    let (addr, _h) = peer(vec![Step::Sleep(1500)]).await;
    let rules = TcpCheck::new(vec![TcpRule::Expect(Expect::string("hello"))]).unwrap();
    let o = rules.run(addr, t(200)).await;
    assert_eq!(o.status, CheckStatus::L7Timeout);
    assert!(o.duration >= Duration::from_millis(190), "{o:?}");
    assert!(o.duration < Duration::from_millis(1000), "{o:?}");
}

#[tokio::test]
async fn min_recv_makes_mismatch_final() {
    let (addr, _h) = peer(vec![send("abcd"), Step::Sleep(1500)]).await;
    let rules = TcpCheck::new(vec![TcpRule::Expect(Expect::string("zz").min_recv(4))]).unwrap();
    let o = rules.run(addr, t(1000)).await;
    assert_eq!(o.status, CheckStatus::L7Rsp);
    assert!(o.duration < Duration::from_millis(900));
}

#[tokio::test]
async fn connect_must_come_first() {
    let r = TcpCheck::new(vec![
        TcpRule::Send(b"x".to_vec()),
        TcpRule::Connect(ConnectRule::default()),
    ]);
    assert!(r.is_err());
}

#[tokio::test]
async fn connect_rule_port_overrides_target() {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let other = closed_port().await;
    let rules = TcpCheck::new(vec![TcpRule::Connect(ConnectRule {
        port: Some(l.local_addr().unwrap().port()),
        addr: None,
    })])
    .unwrap();
    let o = rules.run(other, t(1000)).await;
    assert_eq!(
        (o.status, o.info.as_str()),
        (CheckStatus::L4Ok, "(tcp-check)")
    );
}

#[test]
fn rule_count_is_bounded() {
    use haproxy_check::probe::MAX_RULES;
    let ok = vec![TcpRule::Send(vec![1]); MAX_RULES];
    assert!(TcpCheck::new(ok).is_ok());
    let too_many = vec![TcpRule::Send(vec![1]); MAX_RULES + 1];
    assert!(TcpCheck::new(too_many).is_err());
}

#[tokio::test]
async fn send_proxy_v1_precedes_the_check() {
    use haproxy_check::probe::{CheckConn, HttpCheck, ProxyHeader};
    let (addr, h) = peer(vec![Step::Recv, send("HTTP/1.0 200 OK\r\n\r\n")]).await;
    let conn = CheckConn::new(t(1000)).with_send_proxy(Some(ProxyHeader::V1));
    let o = HttpCheck::default().run(addr, conn, None).await;
    assert_eq!(o.status, CheckStatus::L7Ok);
    let seen = String::from_utf8(h.await.unwrap().concat()).unwrap();
    let want_tail = format!(" {}\r\nOPTIONS / HTTP/1.0\r\n\r\n", addr.port());
    assert!(
        seen.starts_with("PROXY TCP4 127.0.0.1 127.0.0.1 "),
        "{seen:?}"
    );
    assert!(seen.ends_with(&want_tail), "{seen:?}");
}

const TCP_CHECK_MESSAGES: &str = include_str!("../data/haproxy-2.6/tcp-check-messages.txt");

/// The recorded (check_status, last_chk) of one case in tcp-check-messages.txt.
fn recorded(case: &str) -> (String, String) {
    let line = TCP_CHECK_MESSAGES
        .lines()
        .find(|l| l.starts_with(&format!("{case}|")))
        .expect("case recorded");
    let f: Vec<&str> = line.split('|').collect();
    let col = |i: usize| f.get(i).map(|s| (*s).to_owned()).expect("column");
    (col(2), col(4))
}

#[tokio::test]
async fn tcp_check_results_match_the_recording() {
    // Each case as in record_tcpcheck.py, against a peer answering `-ERR nope`.
    let ping = || TcpRule::Send(b"PING\r\n".to_vec());
    let cases: Vec<(&str, Vec<TcpRule>)> = vec![
        (
            "str",
            vec![
                TcpRule::Connect(ConnectRule::default()),
                ping(),
                TcpRule::Expect(Expect::string("+PONG")),
            ],
        ),
        (
            "bin",
            vec![
                ping(),
                TcpRule::Expect(Expect::binary("2b504f4e47").unwrap()),
            ],
        ),
        (
            "rstr",
            vec![
                ping(),
                TcpRule::Expect(Expect::rstring("^\\+PONG").unwrap()),
            ],
        ),
        (
            "rbin",
            vec![ping(), TcpRule::Expect(Expect::rbinary("^2B50").unwrap())],
        ),
        (
            "neg",
            vec![ping(), TcpRule::Expect(Expect::string("ERR").negate())],
        ),
        ("ok", vec![ping(), TcpRule::Expect(Expect::string("ERR"))]),
        ("connonly", vec![TcpRule::Connect(ConnectRule::default())]),
    ];
    for (case, rules) in cases {
        let (addr, _h) = peer(vec![Step::Recv, send("-ERR nope\r\n")]).await;
        let o = TcpCheck::new(rules).unwrap().run(addr, t(1000)).await;
        assert_eq!(
            (o.status.name().to_owned(), o.info),
            recorded(case),
            "{case}"
        );
    }
}
