//! `option httpchk` variants against a scripted HTTP peer.

use std::time::Duration;

use haproxy_check::CheckStatus;
use haproxy_check::probe::{CheckTimeouts, HttpCheck, HttpExpect, HttpMatch};

use crate::peer::{Step, peer, send};

fn t() -> CheckTimeouts {
    CheckTimeouts::uniform(Duration::from_millis(1000))
}

async fn run(check: &HttpCheck, reply: &str) -> (haproxy_check::CheckOutcome, Vec<u8>) {
    let (addr, h) = peer(vec![Step::Recv, send(reply)]).await;
    let o = check.run(addr, t(), None).await;
    let seen = h.await.expect("peer");
    (o, seen.into_iter().next().unwrap_or_default())
}

const OK: &str = "HTTP/1.0 200 OK\r\ncontent-length: 5\r\nx-app: yes\r\n\r\nhello";

#[tokio::test]
async fn default_request_and_200() {
    let (o, req) = run(&HttpCheck::default(), OK).await;
    assert_eq!(req, b"OPTIONS / HTTP/1.0\r\n\r\n");
    assert_eq!(
        (o.status, o.code, o.info.as_str()),
        (CheckStatus::L7Ok, Some(200), "")
    );
}

#[tokio::test]
async fn get_with_host_header_wire_format() {
    let c = HttpCheck::new(Some("GET"), Some("/health"), None)
        .unwrap()
        .header("Host", "www.example.com")
        .unwrap();
    let (_, req) = run(&c, OK).await;
    assert_eq!(
        req,
        b"GET /health HTTP/1.0\r\nhost: www.example.com\r\n\r\n"
    );
}

#[tokio::test]
async fn http11_adds_connection_close() {
    let c = HttpCheck::new(Some("HEAD"), Some("/x"), Some("HTTP/1.1")).unwrap();
    let (_, req) = run(&c, OK).await;
    assert_eq!(req, b"HEAD /x HTTP/1.1\r\nconnection: close\r\n\r\n");
}

#[tokio::test]
async fn status_503_is_l7sts_with_reason() {
    let (o, _) = run(
        &HttpCheck::default(),
        "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n",
    )
    .await;
    assert_eq!(o.status, CheckStatus::L7Sts);
    assert_eq!(o.code, Some(503));
    assert_eq!(o.info, "Service Unavailable");
}

#[tokio::test]
async fn not_http_is_l7rsp() {
    let (o, _) = run(&HttpCheck::default(), "SSH-2.0-OpenSSH\r\n").await;
    assert_eq!(o.status, CheckStatus::L7Rsp);
}

#[tokio::test]
async fn silent_server_is_l7tout() {
    let (addr, _h) = peer(vec![Step::Recv, Step::Sleep(1500)]).await;
    let o = HttpCheck::default()
        .run(
            addr,
            CheckTimeouts::uniform(Duration::from_millis(200)),
            None,
        )
        .await;
    assert_eq!(o.status, CheckStatus::L7Timeout);
}

#[tokio::test]
async fn expect_status_201_with_200_reply() {
    let c = HttpCheck::default().expect(HttpExpect::new(HttpMatch::status("201").unwrap()));
    let (o, _) = run(&c, OK).await;
    assert_eq!(
        (o.status, o.code, o.info.as_str()),
        (CheckStatus::L7Sts, Some(200), "OK")
    );
}

#[tokio::test]
async fn expect_status_list_and_range() {
    let c = HttpCheck::default().expect(HttpExpect::new(HttpMatch::status("204,300-399").unwrap()));
    let (o, _) = run(&c, "HTTP/1.0 302 Found\r\n\r\n").await;
    assert_eq!(o.status, CheckStatus::L7Ok);
    let (o, _) = run(&c, OK).await;
    assert_eq!(o.status, CheckStatus::L7Sts);
}

#[tokio::test]
async fn expect_rstatus() {
    let c = HttpCheck::default().expect(HttpExpect::new(HttpMatch::rstatus("^2").unwrap()));
    assert_eq!(run(&c, OK).await.0.status, CheckStatus::L7Ok);
}

#[tokio::test]
async fn expect_string_mismatch() {
    let c = HttpCheck::default().expect(HttpExpect::new(HttpMatch::String(b"ready".to_vec())));
    let (o, _) = run(&c, OK).await;
    assert_eq!(o.status, CheckStatus::L7Rsp);
    assert_eq!(o.info, "HTTP content check did not match");
    let c = HttpCheck::default().expect(HttpExpect::new(HttpMatch::String(b"hello".to_vec())));
    assert_eq!(run(&c, OK).await.0.status, CheckStatus::L7Ok);
}

#[tokio::test]
async fn expect_negated_rstring() {
    let c =
        HttpCheck::default().expect(HttpExpect::new(HttpMatch::rstring("hel+o").unwrap()).negate());
    assert_eq!(run(&c, OK).await.0.status, CheckStatus::L7Rsp);
}

#[tokio::test]
async fn expect_hdr_and_custom_statuses() {
    let c = HttpCheck::default().expect(HttpExpect::new(HttpMatch::Hdr {
        name: "X-App".into(),
        value: Some("yes".into()),
    }));
    assert_eq!(run(&c, OK).await.0.status, CheckStatus::L7Ok);
    let c = HttpCheck::default().expect(
        HttpExpect::new(HttpMatch::Hdr {
            name: "x-missing".into(),
            value: None,
        })
        .error_status(CheckStatus::L4Con),
    );
    assert_eq!(run(&c, OK).await.0.status, CheckStatus::L4Con);
    let c = HttpCheck::default()
        .expect(HttpExpect::new(HttpMatch::status("200").unwrap()).ok_status(CheckStatus::L6Ok));
    assert_eq!(run(&c, OK).await.0.status, CheckStatus::L6Ok);
}

#[tokio::test]
async fn disable_on_404_is_l7okc() {
    let c = HttpCheck::default().disable_on_404();
    let (o, _) = run(&c, "HTTP/1.0 404 Not Found\r\n\r\n").await;
    assert_eq!((o.status, o.code), (CheckStatus::L7OkC, Some(404)));
}

#[tokio::test]
async fn send_state_and_body() {
    let c = HttpCheck::new(Some("POST"), Some("/s"), None)
        .unwrap()
        .body("ping")
        .send_state();
    let (addr, h) = peer(vec![Step::Recv, send(OK)]).await;
    c.run(
        addr,
        t(),
        Some("UP 2/3; name=b/s; node=lb1; weight=1/2; scur=0/1; qcur=0"),
    )
    .await;
    let req = h.await.unwrap().concat();
    assert_eq!(
        String::from_utf8(req).unwrap(),
        "POST /s HTTP/1.0\r\nx-haproxy-server-state: UP 2/3; name=b/s; node=lb1; weight=1/2; scur=0/1; qcur=0\r\ncontent-length: 4\r\n\r\nping"
    );
}

#[test]
fn status_list_bounds() {
    let max = vec!["200"; haproxy_check::probe::MAX_STATUS_RANGES].join(",");
    assert!(HttpMatch::status(&max).is_ok());
    let over = format!("{max},201");
    assert!(HttpMatch::status(&over).is_err());
    assert!(HttpMatch::status("300-200").is_err());
    assert!(HttpCheck::new(Some("GE T"), None, None).is_err());
}

#[test]
fn send_state_value_matches_haproxy_layout() {
    // Recorded from HAProxy 2.6.12 (`http-check send-state`, server UP 1/3 before its first check).
    let addr: std::net::SocketAddr = "127.0.0.1:36009".parse().unwrap();
    assert_eq!(
        haproxy_check::probe::server_state_value("UP 1/3", addr, "b/s", "vm", (1, 1), (0, 0), 0),
        "UP 1/3; address=127.0.0.1; port=36009; name=b/s; node=vm; weight=1/1; scur=0/0; qcur=0"
    );
}

#[tokio::test]
async fn connect_sequence_runs_each_exchange() {
    use haproxy_check::probe::{ConnectRule, HttpSequence, HttpStep};
    let (a1, h1) = peer(vec![Step::Recv, send("HTTP/1.0 200 OK\r\n\r\n")]).await;
    let (a2, h2) = peer(vec![
        Step::Recv,
        send("HTTP/1.0 503 Service Unavailable\r\n\r\n"),
    ])
    .await;
    let get = |uri: &str| HttpCheck::new(Some("GET"), Some(uri), None).unwrap();
    let seq = HttpSequence::new(vec![
        HttpStep::Connect(ConnectRule::default()),
        HttpStep::Exchange(get("/a")),
        HttpStep::Connect(ConnectRule {
            port: Some(a2.port()),
            addr: None,
        }),
        HttpStep::Exchange(get("/b")),
    ])
    .unwrap();
    let o = seq.run(a1, t(), None).await;
    assert_eq!(
        (o.status, o.code, o.info.as_str()),
        (CheckStatus::L7Sts, Some(503), "Service Unavailable")
    );
    assert_eq!(h1.await.unwrap(), vec![b"GET /a HTTP/1.0\r\n\r\n".to_vec()]);
    assert_eq!(h2.await.unwrap(), vec![b"GET /b HTTP/1.0\r\n\r\n".to_vec()]);
}

#[tokio::test]
async fn two_exchanges_share_one_connection() {
    use haproxy_check::probe::{HttpSequence, HttpStep};
    let (addr, h) = peer(vec![
        Step::Recv,
        send("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"),
        Step::Recv,
        send("HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nready"),
    ])
    .await;
    let one = HttpCheck::new(Some("GET"), Some("/1"), Some("HTTP/1.1")).unwrap();
    let two = HttpCheck::new(Some("GET"), Some("/2"), Some("HTTP/1.1"))
        .unwrap()
        .expect(HttpExpect::new(HttpMatch::String(b"ready".to_vec())));
    let seq = HttpSequence::new(vec![HttpStep::Exchange(one), HttpStep::Exchange(two)]).unwrap();
    let o = seq.run(addr, t(), None).await;
    assert_eq!(o.status, CheckStatus::L7Ok, "{o:?}");
    assert_eq!(h.await.unwrap().len(), 2);
    assert!(HttpSequence::new(vec![]).is_err());
}
