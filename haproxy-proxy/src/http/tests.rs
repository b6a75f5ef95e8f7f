//! HTTP streams over real loopback sockets, against test servers written here.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::session::DEEP_IDLE_GRACE;
use super::*;
use crate::counters::Counters;
use crate::errors::{ErrorPages, return_reply};
use crate::h1::{H1Limits, Parsed, parse_request};
use crate::route::{DefaultBackend, PickServer, StreamView};
use crate::settings::{
    BackendSettings, ConnMode, ForwardFor, FrontendSettings, Mode, ServerSettings, Timeouts,
};

struct First;
impl PickServer for First {
    fn pick(&self, _b: usize, _s: &StreamView<'_>, _a: Option<usize>) -> Option<usize> {
        Some(0)
    }
}

#[derive(Debug)]
struct PathIs(&'static str);
impl RequestCondition for PathIs {
    fn matches(&self, s: &StreamView<'_>) -> bool {
        s.request.is_some_and(|r| r.uri == self.0)
    }
}

/// A keep-alive origin server: records each request head it gets and answers `body` per request;
/// `/chunked` gets a chunked answer, `/upgrade` a 101 then an echo.
#[derive(Clone, Default)]
struct Origin {
    heads: Arc<Mutex<Vec<String>>>,
    bodies: Arc<Mutex<Vec<Vec<u8>>>>,
    accepts: Arc<AtomicUsize>,
}

impl Origin {
    async fn start(&self) -> SocketAddr {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let me = self.clone();
        tokio::spawn(async move {
            while let Ok((s, _)) = l.accept().await {
                me.accepts.fetch_add(1, Ordering::SeqCst);
                let me = me.clone();
                tokio::spawn(async move { me.conn(s).await });
            }
        });
        addr
    }

    async fn conn(&self, mut s: TcpStream) {
        let mut buf = Vec::new();
        loop {
            let (head, len) = loop {
                if let Ok(Parsed::Complete { head, len }) =
                    parse_request(&buf, &H1Limits::default())
                {
                    break (head, len);
                }
                let mut chunk = [0u8; 4096];
                let n = s.read(&mut chunk).await.unwrap_or(0);
                if n == 0 {
                    return;
                }
                buf.extend_from_slice(&chunk[..n]);
            };
            let mut raw = Vec::new();
            head.write_to(&mut raw);
            self.heads
                .lock()
                .unwrap()
                .push(String::from_utf8(raw).unwrap());
            buf.drain(..len);
            let mut body = Vec::new();
            let framing = head.framing().unwrap();
            let mut rbuf = buf.clone();
            if head.expects_continue() {
                s.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").await.unwrap();
            }
            super::body::relay(&mut s, &mut rbuf, &mut body, framing, None, None)
                .await
                .unwrap();
            buf = rbuf;
            self.bodies.lock().unwrap().push(body.clone());
            let close = head
                .headers
                .tokens("connection")
                .iter()
                .any(|t| t == "close");
            if head.uri == "/upgrade" {
                s.write_all(b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: test\r\n\r\n").await.unwrap();
                let (mut r, mut w) = s.split();
                let _ = tokio::io::copy(&mut r, &mut w).await;
                return;
            }
            let answer = if head.uri == "/chunked" {
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
                    .to_vec()
            } else {
                let b = format!("echo {} {}", head.uri, body.len());
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nX-Server: Origin\r\n\r\n{b}",
                    b.len()
                )
                .into_bytes()
            };
            if s.write_all(&answer).await.is_err() || close {
                return;
            }
        }
    }
}

fn frontend() -> FrontendSettings {
    FrontendSettings {
        name: "fe".into(),
        mode: Mode::Http,
        timeouts: Timeouts {
            client: Some(Duration::from_secs(5)),
            http_request: Some(Duration::from_millis(400)),
            http_keep_alive: Some(Duration::from_secs(2)),
            ..Timeouts::default()
        },
        conn_mode: ConnMode::KeepAlive,
        forwardfor: None,
        originalto: None,
        maxconn: 0,
        limits: H1Limits::default(),
        errors: ErrorPages::new(),
        index: usize::MAX,
        stats: None,
        no_delay: false,
        buffer_request: false,
        own_backend: None,
        case_adjust: None,
    }
}

fn backend(addr: SocketAddr) -> BackendSettings {
    BackendSettings {
        name: "be".into(),
        mode: Mode::Http,
        timeouts: Timeouts {
            connect: Some(Duration::from_millis(200)),
            server: Some(Duration::from_millis(500)),
            ..Timeouts::default()
        },
        conn_mode: ConnMode::KeepAlive,
        retries: 0,
        redispatch: false,
        redispatch_interval: -1,
        forwardfor: None,
        originalto: None,
        servers: vec![ServerSettings {
            name: "s1".into(),
            addr,
            maxconn: 0,
            maxqueue: 0,
            weight: 1,
            backup: false,
            send_proxy: None,
            port_offset: None,
        }],
        errors: ErrorPages::new(),
        reuse: haproxy_cfg::model::HttpReuse::Safe,
        no_delay: false,
        buffer_request: false,
        stats: None,
        rules: Default::default(),
        case_adjust: None,
    }
}

type Svc = HttpService<DefaultBackend, First>;

fn service(fe: FrontendSettings, be: BackendSettings, rules: Vec<RequestRule>) -> Arc<Svc> {
    Arc::new(HttpService {
        frontend: fe,
        backends: vec![be],
        rules,
        chooser: DefaultBackend(0),
        picker: First,
        pool: ServerPool::new(),
        counters: Counters::new(),
        registry: crate::registry::Registry::empty(),
    })
}

/// Runs the proxy on a loopback listener.
async fn proxy(svc: Arc<Svc>) -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((s, peer)) = l.accept().await {
            let svc = Arc::clone(&svc);
            tokio::spawn(async move {
                let local = s.local_addr().unwrap();
                serve_http(&svc, s, peer, local, |_| {}).await;
            });
        }
    });
    addr
}

/// Reads one response (head + Content-Length body) from `s`.
async fn response(s: &mut TcpStream) -> String {
    response_in(s, &mut Vec::new()).await
}

/// Reads one response from `s`, keeping the bytes of the next ones in `buf`.
async fn response_in(s: &mut TcpStream, buf: &mut Vec<u8>) -> String {
    loop {
        let text = String::from_utf8_lossy(buf).to_string();
        if let Some(end) = text.find("\r\n\r\n") {
            let cl = text[..end]
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length: ")
                        .map(|v| v.parse::<usize>().unwrap())
                })
                .unwrap_or(0);
            if buf.len() >= end + 4 + cl {
                let one = String::from_utf8_lossy(&buf[..end + 4 + cl]).to_string();
                buf.drain(..end + 4 + cl);
                return one;
            }
        }
        let mut chunk = [0u8; 4096];
        let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut chunk))
            .await
            .unwrap()
            .unwrap();
        if n == 0 {
            return text;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

async fn read_all(s: &mut TcpStream) -> String {
    let mut v = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut v))
        .await
        .unwrap()
        .unwrap();
    String::from_utf8_lossy(&v).to_string()
}

#[tokio::test]
async fn keep_alive_on_both_sides_with_forwardfor() {
    let origin = Origin::default();
    let mut fe = frontend();
    fe.forwardfor = Some(ForwardFor::default());
    let px = proxy(service(fe, backend(origin.start().await), vec![])).await;
    let mut c = TcpStream::connect(px).await.unwrap();
    for path in ["/a", "/b"] {
        c.write_all(
            format!("GET {path} HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 1.2.3.4\r\n\r\n")
                .as_bytes(),
        )
        .await
        .unwrap();
        let r = response(&mut c).await;
        assert!(r.starts_with("HTTP/1.1 200 OK\r\ncontent-length: "), "{r}");
        assert!(
            r.contains("x-server: Origin\r\n") && !r.contains("connection"),
            "{r}"
        );
        assert!(r.ends_with(&format!("echo {path} 0")));
    }
    let heads = origin.heads.lock().unwrap().clone();
    assert_eq!(
        heads[0],
        "GET /a HTTP/1.1\r\nhost: x\r\nx-forwarded-for: 1.2.3.4\r\nx-forwarded-for: 127.0.0.1\r\n\r\n"
    );
    assert_eq!(
        origin.accepts.load(Ordering::SeqCst),
        1,
        "one server connection for both requests"
    );
}

#[tokio::test]
async fn server_close_closes_only_the_server_side() {
    let origin = Origin::default();
    let mut be = backend(origin.start().await);
    be.conn_mode = ConnMode::ServerClose;
    let px = proxy(service(frontend(), be, vec![])).await;
    let mut c = TcpStream::connect(px).await.unwrap();
    for _ in 0..2 {
        c.write_all(b"GET / HTTP/1.1\r\n\r\n").await.unwrap();
        let r = response(&mut c).await;
        assert!(!r.contains("connection"), "{r}");
    }
    assert_eq!(
        origin.heads.lock().unwrap()[0],
        "GET / HTTP/1.1\r\nconnection: close\r\n\r\n"
    );
    assert_eq!(origin.accepts.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn httpclose_and_http10_clients_get_connection_close() {
    let origin = Origin::default();
    let addr = origin.start().await;
    let mut fe = frontend();
    fe.conn_mode = ConnMode::Close;
    let px = proxy(service(fe, backend(addr), vec![])).await;
    let mut c = TcpStream::connect(px).await.unwrap();
    c.write_all(b"GET / HTTP/1.1\r\n\r\n").await.unwrap();
    assert!(read_all(&mut c).await.contains("\r\nconnection: close\r\n"));
    let px = proxy(service(frontend(), backend(addr), vec![])).await;
    let mut c = TcpStream::connect(px).await.unwrap();
    c.write_all(b"GET / HTTP/1.0\r\n\r\n").await.unwrap();
    assert!(read_all(&mut c).await.contains("\r\nconnection: close\r\n"));
    let mut c = TcpStream::connect(px).await.unwrap();
    c.write_all(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        .await
        .unwrap();
    assert!(
        response(&mut c)
            .await
            .contains("\r\nconnection: keep-alive\r\n")
    );
}

#[tokio::test]
async fn bad_request_gets_the_raw_400() {
    let origin = Origin::default();
    let px = proxy(service(frontend(), backend(origin.start().await), vec![])).await;
    let mut c = TcpStream::connect(px).await.unwrap();
    c.write_all(b"GET /a b HTTP/1.1\r\n\r\n").await.unwrap();
    assert_eq!(
        read_all(&mut c).await.as_bytes(),
        crate::errors::raw_h1_page(400).unwrap()
    );
    let mut big = b"GET / HTTP/1.1\r\nX: ".to_vec();
    big.extend(std::iter::repeat_n(b'a', 16000));
    let mut c = TcpStream::connect(px).await.unwrap();
    let _ = c.write_all(&big).await;
    assert!(
        read_all(&mut c)
            .await
            .starts_with("HTTP/1.1 400 Bad request\r\n")
    );
    assert_eq!(origin.heads.lock().unwrap().len(), 0);
}

#[tokio::test]
async fn slow_client_gets_408_while_a_hundred_others_are_served() {
    let origin = Origin::default();
    let px = proxy(service(frontend(), backend(origin.start().await), vec![])).await;
    let slow = tokio::spawn(async move {
        let mut c = TcpStream::connect(px).await.unwrap();
        let started = std::time::Instant::now();
        for b in b"GET / HTTP/1.1\r\nHost: slow\r\n".iter() {
            if c.write_all(&[*b]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(40)).await;
        }
        (read_all(&mut c).await, started.elapsed())
    });
    let mut others = Vec::new();
    for i in 0..100 {
        others.push(tokio::spawn(async move {
            let mut c = TcpStream::connect(px).await.unwrap();
            c.write_all(format!("GET /n{i} HTTP/1.1\r\n\r\n").as_bytes())
                .await
                .unwrap();
            response(&mut c).await
        }));
    }
    for (i, o) in others.into_iter().enumerate() {
        assert!(o.await.unwrap().ends_with(&format!("echo /n{i} 0")));
    }
    let (page, elapsed) = slow.await.unwrap();
    assert_eq!(page.as_bytes(), crate::errors::raw_h1_page(408).unwrap());
    assert!(elapsed >= Duration::from_millis(400), "{elapsed:?}");
}

#[tokio::test]
async fn idle_keep_alive_connection_closes_silently() {
    let origin = Origin::default();
    let mut fe = frontend();
    fe.timeouts.http_keep_alive = Some(Duration::from_millis(100));
    let px = proxy(service(fe, backend(origin.start().await), vec![])).await;
    let mut c = TcpStream::connect(px).await.unwrap();
    c.write_all(b"GET / HTTP/1.1\r\n\r\n").await.unwrap();
    response(&mut c).await;
    assert_eq!(read_all(&mut c).await, "");
}

#[tokio::test]
async fn deny_return_and_redirect_rules_answer_locally() {
    let origin = Origin::default();
    let rules = vec![
        RequestRule {
            cond: Some(Arc::new(PathIs("/deny"))),
            negate: false,
            action: RuleAction::Deny { status: 403 },
        },
        RequestRule {
            cond: Some(Arc::new(PathIs("/ret"))),
            negate: false,
            action: RuleAction::Return(return_reply(200, Some("text/plain"), b"hello\n".to_vec())),
        },
        RequestRule {
            cond: Some(Arc::new(PathIs("/old"))),
            negate: false,
            action: RuleAction::Redirect {
                kind: RedirectKind::Prefix("/pfx".into()),
                code: 302,
            },
        },
    ];
    let px = proxy(service(frontend(), backend(origin.start().await), rules)).await;
    let mut c = TcpStream::connect(px).await.unwrap();
    c.write_all(b"GET /ret HTTP/1.1\r\n\r\nGET /old HTTP/1.1\r\n\r\n")
        .await
        .unwrap();
    let mut pending = Vec::new();
    assert_eq!(
        response_in(&mut c, &mut pending).await,
        "HTTP/1.1 200 OK\r\ncontent-length: 6\r\ncontent-type: text/plain\r\n\r\nhello\n"
    );
    assert_eq!(
        response_in(&mut c, &mut pending).await,
        "HTTP/1.1 302 Found\r\ncontent-length: 0\r\nlocation: /pfx/old\r\ncache-control: no-cache\r\n\r\n"
    );
    c.write_all(b"GET /deny HTTP/1.1\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let r = read_all(&mut c).await;
    assert!(
        r.starts_with("HTTP/1.1 403 Forbidden\r\ncontent-length: 93\r\n")
            && r.contains("connection: close"),
        "{r}"
    );
    assert_eq!(origin.heads.lock().unwrap().len(), 0);
}

#[tokio::test]
async fn chunked_bodies_flow_both_ways_and_pipelining_works() {
    let origin = Origin::default();
    let px = proxy(service(frontend(), backend(origin.start().await), vec![])).await;
    let mut c = TcpStream::connect(px).await.unwrap();
    c.write_all(b"POST /up HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nwxyz\r\n0\r\n\r\nGET /chunked HTTP/1.1\r\n\r\n").await.unwrap();
    let mut rest = Vec::new();
    let first = response_in(&mut c, &mut rest).await;
    assert!(
        first.ends_with("echo /up 14"),
        "raw chunked bytes are relayed: {first}"
    );
    let mut chunk = [0u8; 1024];
    while !rest.ends_with(b"0\r\n\r\n") {
        let n = c.read(&mut chunk).await.unwrap();
        assert!(n > 0);
        rest.extend_from_slice(&chunk[..n]);
    }
    assert_eq!(
        String::from_utf8(rest).unwrap(),
        "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
    );
    let heads = origin.heads.lock().unwrap().clone();
    assert_eq!(
        heads[0], "POST /up HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n",
        "content-length dropped"
    );
    assert_eq!(origin.bodies.lock().unwrap()[0], b"4\r\nwxyz\r\n0\r\n\r\n");
}

#[tokio::test]
async fn expect_100_continue_is_relayed() {
    let origin = Origin::default();
    let px = proxy(service(frontend(), backend(origin.start().await), vec![])).await;
    let mut c = TcpStream::connect(px).await.unwrap();
    c.write_all(b"POST /e HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n")
        .await
        .unwrap();
    let mut first = [0u8; 25];
    c.read_exact(&mut first).await.unwrap();
    assert_eq!(&first, b"HTTP/1.1 100 Continue\r\n\r\n");
    c.write_all(b"abc").await.unwrap();
    assert!(response(&mut c).await.ends_with("echo /e 3"));
}

#[tokio::test]
async fn upgrade_switches_to_a_tunnel() {
    let origin = Origin::default();
    let px = proxy(service(frontend(), backend(origin.start().await), vec![])).await;
    let mut c = TcpStream::connect(px).await.unwrap();
    c.write_all(b"GET /upgrade HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: test\r\n\r\n")
        .await
        .unwrap();
    let head = response(&mut c).await;
    assert_eq!(
        head,
        "HTTP/1.1 101 Switching Protocols\r\nconnection: Upgrade\r\nupgrade: test\r\n\r\n"
    );
    c.write_all(b"raw bytes").await.unwrap();
    let mut echo = [0u8; 9];
    c.read_exact(&mut echo).await.unwrap();
    assert_eq!(&echo, b"raw bytes");
    assert_eq!(
        origin.heads.lock().unwrap()[0],
        "GET /upgrade HTTP/1.1\r\nconnection: Upgrade\r\nupgrade: test\r\n\r\n"
    );
}

#[tokio::test]
async fn server_failures_map_to_503_502_504() {
    // Nobody listening: 503.
    let dead = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    let px = proxy(service(frontend(), backend(dead), vec![])).await;
    let mut c = TcpStream::connect(px).await.unwrap();
    c.write_all(b"GET / HTTP/1.1\r\n\r\n").await.unwrap();
    assert!(
        read_all(&mut c)
            .await
            .starts_with("HTTP/1.1 503 Service Unavailable\r\ncontent-length: 107\r\n")
    );
    // Garbage: 502. Silence: 504.
    for (reply, want) in [
        (&b"garbage\r\n\r\n"[..], "HTTP/1.1 502 Bad Gateway\r\n"),
        (b"", "HTTP/1.1 504 Gateway Time-out\r\n"),
    ] {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut s, _) = l.accept().await.unwrap();
            let mut b = [0u8; 1024];
            let _ = s.read(&mut b).await;
            s.write_all(reply).await.unwrap();
            tokio::time::sleep(Duration::from_secs(2)).await;
        });
        let px = proxy(service(frontend(), backend(addr), vec![])).await;
        let mut c = TcpStream::connect(px).await.unwrap();
        c.write_all(b"GET / HTTP/1.1\r\n\r\n").await.unwrap();
        let r = read_all(&mut c).await;
        assert!(r.starts_with(want), "{r}");
    }
}

#[tokio::test]
async fn idle_server_connections_are_pooled_and_reused_by_later_requests_only() {
    let origin = Origin::default();
    let svc = service(frontend(), backend(origin.start().await), vec![]);
    let px = proxy(Arc::clone(&svc)).await;
    // Session 1 leaves its server connection in the pool when it ends.
    let mut c = TcpStream::connect(px).await.unwrap();
    c.write_all(b"GET /1 HTTP/1.1\r\n\r\n").await.unwrap();
    response(&mut c).await;
    drop(c);
    for _ in 0..50 {
        if svc.pool.idle_count(0, 0) == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(svc.pool.idle_count(0, 0), 1);
    // Session 2's first request opens its own connection (safe); the pooled one stays idle.
    let mut c = TcpStream::connect(px).await.unwrap();
    c.write_all(b"GET /2 HTTP/1.1\r\n\r\n").await.unwrap();
    response(&mut c).await;
    assert_eq!(origin.accepts.load(Ordering::SeqCst), 2);
    assert_eq!(svc.pool.idle_count(0, 0), 1);
}

#[tokio::test]
async fn each_request_reports_its_facts() {
    let origin = Origin::default();
    let svc = service(frontend(), backend(origin.start().await), vec![]);
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let served = tokio::spawn(async move {
        let (s, peer) = l.accept().await.unwrap();
        let local = s.local_addr().unwrap();
        let mut seen = Vec::new();
        let n = serve_http(&svc, s, peer, local, |f| seen.push(f.clone())).await;
        (n, seen, svc)
    });
    let mut c = TcpStream::connect(addr).await.unwrap();
    c.write_all(b"GET /x HTTP/1.1\r\n\r\nGET /y HTTP/1.1\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    read_all(&mut c).await;
    let (n, seen, svc) = served.await.unwrap();
    assert_eq!(n, 2);
    assert_eq!(seen.len(), 2);
    for f in &seen {
        assert_eq!(
            (f.status, f.backend, f.server),
            (Some(200), Some(0), Some(0))
        );
        assert_eq!(f.termination.to_string(), "--");
        assert!(f.timers.tr_req.is_some() && f.timers.tr_resp.is_some() && f.timers.ta.is_some());
        assert!(f.bytes_in > 0 && f.bytes_out > 0);
    }
    assert_eq!(svc.counters.http_status[1].load(Ordering::Relaxed), 2);
}

#[tokio::test]
async fn http_request_timeout_counts_from_the_accept_for_the_first_request() {
    let origin = Origin::default();
    let px = proxy(service(frontend(), backend(origin.start().await), vec![])).await;
    let mut c = TcpStream::connect(px).await.unwrap();
    let started = std::time::Instant::now();
    tokio::time::sleep(Duration::from_millis(300)).await;
    c.write_all(b"GET / HTT").await.unwrap();
    let page = read_all(&mut c).await;
    let elapsed = started.elapsed();
    assert_eq!(page.as_bytes(), crate::errors::raw_h1_page(408).unwrap());
    // 400 ms from the accept, not 300 + 400 ms.
    assert!(
        elapsed >= Duration::from_millis(400) && elapsed < Duration::from_millis(650),
        "{elapsed:?}"
    );
}

#[test]
fn chunked_bodies_are_reencoded_as_haproxy_does() {
    use super::body::{chunked_prefix_valid, reencode};
    use crate::h1::ChunkedDecoder;
    // One read: the payload of every chunk becomes one chunk, extensions go, trailer names are
    // lowercased and values trimmed.
    let mut d = ChunkedDecoder::new();
    let mut out = Vec::new();
    let input = b"2\r\nok\r\n3;ext=1\r\nabc\r\n0\r\nX-Sum:  5 \r\n\r\nnext";
    let used = reencode(&mut d, input, &mut out, None).unwrap();
    assert_eq!(used, input.len() - 4, "the pipelined bytes stay");
    assert_eq!(out, b"5\r\nokabc\r\n0\r\nx-sum: 5\r\n\r\n");
    // Split reads: each read's payload goes out as it comes.
    let mut d = ChunkedDecoder::new();
    let mut out = Vec::new();
    let used = reencode(&mut d, b"4\r\nab", &mut out, None).unwrap();
    assert_eq!((used, out.as_slice()), (5, &b"2\r\nab\r\n"[..]));
    out.clear();
    let used = reencode(&mut d, b"cd\r\n0\r\n\r\n", &mut out, None).unwrap();
    assert_eq!((used, out.as_slice()), (9, &b"2\r\ncd\r\n0\r\n\r\n"[..]));
    assert!(chunked_prefix_valid(b"2\r\nab\r\n1"));
    assert!(!chunked_prefix_valid(b"zz\r\n"));
    assert!(!chunked_prefix_valid(b"2\r\nabXX"));
}

#[tokio::test]
async fn a_parked_keep_alive_connection_resumes_on_its_own_server_connection() {
    let origin = Origin::default();
    let mut fe = frontend();
    let keep_alive = DEEP_IDLE_GRACE * 6;
    fe.timeouts.http_keep_alive = Some(keep_alive);
    let svc = service(fe, backend(origin.start().await), vec![]);
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let px = l.local_addr().unwrap();
    let served = {
        let svc = Arc::clone(&svc);
        tokio::spawn(async move {
            let (s, peer) = l.accept().await.unwrap();
            let local = s.local_addr().unwrap();
            let mut seen = Vec::new();
            let handled = serve_http(&svc, s, peer, local, |f| seen.push(f.status)).await;
            (handled, seen)
        })
    };
    let mut c = TcpStream::connect(px).await.unwrap();
    for path in ["/a", "/b", "/c"] {
        c.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
            .await
            .unwrap();
        let r = response(&mut c).await;
        assert!(r.ends_with(&format!("echo {path} 0")), "{r}");
        // Past the grace period: the connection is parked before the next request.
        tokio::time::sleep(DEEP_IDLE_GRACE * 3).await;
    }
    // Parked, the connection still closes on the keep-alive timeout, and not before (the proxy
    // starts counting a little before this client's clock: 10 ms of slack).
    let waited = std::time::Instant::now();
    assert_eq!(read_all(&mut c).await, "");
    let idle = waited.elapsed() + DEEP_IDLE_GRACE * 3;
    assert!(
        idle + Duration::from_millis(10) >= keep_alive,
        "closed after {idle:?}"
    );
    let (handled, seen) = served.await.unwrap();
    assert_eq!(handled, 3);
    assert_eq!(seen, vec![Some(200); 3]);
    assert_eq!(
        origin.accepts.load(Ordering::SeqCst),
        1,
        "the parked session kept its server connection"
    );
    // Closed by the keep-alive timeout while parked, the session leaves it in the pool.
    assert_eq!(svc.pool.idle_count(0, 0), 1);
}

#[tokio::test]
async fn a_parked_connection_without_keep_alive_timeout_waits_until_the_client_leaves() {
    let origin = Origin::default();
    let mut fe = frontend();
    fe.timeouts = Timeouts::default();
    let px = proxy(service(fe, backend(origin.start().await), vec![])).await;
    let mut c = TcpStream::connect(px).await.unwrap();
    for path in ["/a", "/b"] {
        c.write_all(format!("GET {path} HTTP/1.1\r\n\r\n").as_bytes())
            .await
            .unwrap();
        let r = response(&mut c).await;
        assert!(r.ends_with(&format!("echo {path} 0")), "{r}");
        tokio::time::sleep(DEEP_IDLE_GRACE * 3).await;
    }
    assert_eq!(origin.accepts.load(Ordering::SeqCst), 1);
}
