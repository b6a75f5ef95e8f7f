//! Protocol checks against peers that speak just enough of each protocol.

use std::time::Duration;

use haproxy_check::CheckStatus;
use haproxy_check::probe::{
    CheckTimeouts, MysqlProto, TcpCheck, ldap_check, mysql_check, pgsql_check, redis_check,
    smtp_check, ssl_client_hello, ssl_hello_check,
};

use crate::peer::{Step, peer, send};

fn t() -> CheckTimeouts {
    CheckTimeouts::uniform(Duration::from_millis(1000))
}

async fn run(c: &TcpCheck, script: Vec<Step>) -> (haproxy_check::CheckOutcome, Vec<Vec<u8>>) {
    let (addr, h) = peer(script).await;
    let o = c.run(addr, t()).await;
    (o, h.await.expect("peer"))
}

#[tokio::test]
async fn redis_pong_passes() {
    let (o, seen) = run(&redis_check(), vec![Step::Recv, send("+PONG\r\n")]).await;
    assert_eq!(
        (o.status, o.info.as_str()),
        (CheckStatus::L7Ok, "Redis server is ok")
    );
    assert_eq!(seen, vec![b"*1\r\n$4\r\nPING\r\n".to_vec()]);
}

#[tokio::test]
async fn redis_error_reports_reply_line() {
    let (o, _) = run(
        &redis_check(),
        vec![Step::Recv, send("-LOADING loading\r\n")],
    )
    .await;
    assert_eq!(
        (o.status, o.info.as_str()),
        (CheckStatus::L7Sts, "-LOADING loading")
    );
}

#[tokio::test]
async fn smtp_helo_reply_gives_code_and_text() {
    let c = smtp_check(None).unwrap();
    let (o, seen) = run(
        &c,
        vec![
            send("220 mx ESMTP\r\n"),
            Step::Recv,
            send("250 mx hello\r\n"),
        ],
    )
    .await;
    assert_eq!(
        (o.status, o.code, o.info.as_str()),
        (CheckStatus::L7Ok, Some(250), "mx hello")
    );
    assert_eq!(seen, vec![b"HELO localhost\r\n".to_vec()]);
}

#[tokio::test]
async fn smtp_bad_greeting_is_l7sts() {
    let c = smtp_check(Some(("EHLO", "example.org"))).unwrap();
    let (o, _) = run(&c, vec![send("554 go away\r\n"), Step::Sleep(100)]).await;
    assert_eq!(
        (o.status, o.code, o.info.as_str()),
        (CheckStatus::L7Sts, Some(554), "go away")
    );
    assert!(smtp_check(Some(("MAIL", "x"))).is_err());
}

#[tokio::test]
async fn pgsql_auth_request_passes() {
    let c = pgsql_check("haproxy").unwrap();
    let auth_ok = [b'R', 0, 0, 0, 8, 0, 0, 0, 0];
    let (o, seen) = run(&c, vec![Step::Recv, send(auth_ok)]).await;
    assert_eq!(
        (o.status, o.info.as_str()),
        (CheckStatus::L7Ok, "PostgreSQL server is ok")
    );
    let pkt = &seen[0];
    assert_eq!(&pkt[..4], &(pkt.len() as u32).to_be_bytes());
    assert_eq!(&pkt[4..], b"\x00\x03\x00\x00user\x00haproxy\x00\x00");
}

#[tokio::test]
async fn pgsql_error_is_l7rsp() {
    let c = pgsql_check("bad").unwrap();
    let mut err = vec![b'E', 0, 0, 0, 20, b'S'];
    err.extend_from_slice(b"FATAL\0C28000\0\0");
    let (o, _) = run(&c, vec![Step::Recv, send(err)]).await;
    assert_eq!((o.status, o.info.as_str()), (CheckStatus::L7Rsp, "FATAL"));
}

fn mysql_packet(seq: u8, payload: &[u8]) -> Vec<u8> {
    let len = payload.len();
    let mut p = vec![len as u8, (len >> 8) as u8, 0, seq];
    p.extend_from_slice(payload);
    p
}

#[tokio::test]
async fn mysql_handshake_passes_with_version() {
    let mut hs = vec![10u8];
    hs.extend_from_slice(b"8.0.36\0");
    hs.extend_from_slice(&[1, 0, 0, 0]);
    let (o, _) = run(
        &mysql_check(None).unwrap(),
        vec![send(mysql_packet(0, &hs))],
    )
    .await;
    assert_eq!((o.status, o.info.as_str()), (CheckStatus::L7Ok, "8.0.36"));
}

#[tokio::test]
async fn mysql_user_auth_error_is_l7sts() {
    let mut hs = vec![10u8];
    hs.extend_from_slice(b"5.7.0\0");
    let mut err = vec![0xff, 0x15, 0x04, b'#'];
    err.extend_from_slice(b"28000Access denied");
    let c = mysql_check(Some(("check", MysqlProto::Post41))).unwrap();
    let (o, seen) = run(
        &c,
        vec![
            send(mysql_packet(0, &hs)),
            Step::Recv,
            send(mysql_packet(2, &err)),
        ],
    )
    .await;
    assert_eq!(
        (o.status, o.code, o.info.as_str()),
        (CheckStatus::L7Sts, Some(1045), "Access denied")
    );
    assert!(seen[0].windows(6).any(|w| w == b"check\0"));
    let ok = mysql_packet(2, &[0, 0, 0, 2, 0, 0, 0]);
    let (o, _) = run(
        &c,
        vec![send(mysql_packet(0, &hs)), Step::Recv, send(ok), Step::Recv],
    )
    .await;
    assert_eq!(o.status, CheckStatus::L7Ok);
}

#[tokio::test]
async fn ldap_bind_success_and_failure() {
    let ok = [
        0x30, 0x0c, 0x02, 0x01, 0x01, 0x61, 0x07, 0x0a, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00,
    ];
    let (o, seen) = run(&ldap_check(), vec![Step::Recv, send(ok)]).await;
    assert_eq!((o.status, o.info.as_str()), (CheckStatus::L7Ok, "Success"));
    assert_eq!(
        seen[0],
        [
            0x30, 0x0c, 0x02, 0x01, 0x01, 0x60, 0x07, 0x02, 0x01, 0x03, 0x04, 0x00, 0x80, 0x00
        ]
    );
    let denied = [
        0x30, 0x0c, 0x02, 0x01, 0x01, 0x61, 0x07, 0x0a, 0x01, 0x31, 0x04, 0x00, 0x04, 0x00,
    ];
    let (o, _) = run(&ldap_check(), vec![Step::Recv, send(denied)]).await;
    assert_eq!((o.status, o.code), (CheckStatus::L7Sts, Some(0x31)));
    let (o, _) = run(
        &ldap_check(),
        vec![Step::Recv, send("HTTP/1.0 400 Bad\r\n\r\n")],
    )
    .await;
    assert_eq!(
        (o.status, o.info.as_str()),
        (CheckStatus::L7Rsp, "Not LDAPv3 protocol")
    );
}

#[tokio::test]
async fn ssl_hello_server_hello_and_garbage() {
    let c = ssl_hello_check().unwrap();
    let (o, seen) = run(
        &c,
        vec![Step::Recv, send([0x16, 0x03, 0x01, 0x00, 0x02, 0x02, 0x00])],
    )
    .await;
    assert_eq!(o.status, CheckStatus::L6Ok);
    assert_eq!(seen[0], ssl_client_hello());
    let (o, _) = run(&c, vec![Step::Recv, send("HTTP/1.0 400\r\n\r\n")]).await;
    assert_eq!(o.status, CheckStatus::L6Rsp);
    let (addr, _h) = peer(vec![Step::Recv, Step::Sleep(1500)]).await;
    let o = c
        .run(addr, CheckTimeouts::uniform(Duration::from_millis(200)))
        .await;
    assert_eq!(o.status, CheckStatus::L6Timeout);
}
