//! Differential tests: the same raw requests sent to real HAProxy 2.6 and to our HTTP engine,
//! with the same single-frontend config; the client-visible bytes must be equal.
//!
//! Skipped with a message when `haproxy` is not installed, unless `CI=true` (then they fail).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use haproxy_proxy::errors::{ErrorPages, return_reply};
use haproxy_proxy::h1::H1Limits;
use haproxy_proxy::http::{
    HttpService, RedirectKind, RequestCondition, RequestRule, RuleAction, ServerPool,
};
use haproxy_proxy::{
    ConnMode, Counters, DefaultBackend, FrontendSettings, Mode, PickServer, StreamView, Timeouts,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::{
    Diffs, Haproxy, haproxy_bin, serve_http_on_loopback, spawn_haproxy_on_free_port,
};

/// The config both engines run: every request is answered by `http-request return`.
const CONFIG: &str = "defaults
  mode http
  timeout client 2s
  timeout connect 1s
  timeout server 1s
  timeout http-request 1s
  timeout http-keep-alive 200ms
frontend fe
  bind 127.0.0.1:PORT
  http-request deny if { path /deny }
  http-request deny deny_status 429 if { path /deny429 }
  http-request redirect prefix /pfx if { path /old }
  http-request redirect location /new code 301 if { path /moved }
  http-request redirect scheme https if { path /sch }
  http-request return status 200 content-type text/plain string ok
";

/// Starts the real HAProxy with `CONFIG`.
async fn start_haproxy() -> Option<Haproxy> {
    start_haproxy_with(CONFIG).await
}

/// Starts the real HAProxy with `config` (its `PORT` replaced by a free loopback port), or
/// returns `None` (skip) when absent.
pub(crate) async fn start_haproxy_with(config: &str) -> Option<Haproxy> {
    let bin = haproxy_bin("skipping differential test")?;
    Some(
        spawn_haproxy_on_free_port(bin, "diff", |port| {
            config.replace("PORT", &port.to_string())
        })
        .await,
    )
}

/// `{ path <p> }`, the only ACL these configs use.
#[derive(Debug)]
struct PathIs(&'static str);
impl RequestCondition for PathIs {
    fn matches(&self, s: &StreamView<'_>) -> bool {
        s.request
            .is_some_and(|r| r.uri.split('?').next() == Some(self.0))
    }
}

struct NoServer;
impl PickServer for NoServer {
    fn pick(&self, _b: usize, _s: &StreamView<'_>, _a: Option<usize>) -> Option<usize> {
        None
    }
}

/// Our engine, configured like `CONFIG`.
async fn start_ours() -> SocketAddr {
    let frontend = FrontendSettings {
        name: "fe".into(),
        mode: Mode::Http,
        timeouts: Timeouts {
            client: Some(Duration::from_secs(2)),
            http_request: Some(Duration::from_secs(1)),
            http_keep_alive: Some(Duration::from_millis(200)),
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
    };
    let on = |p: &'static str, action: RuleAction| RequestRule {
        cond: Some(Arc::new(PathIs(p))),
        negate: false,
        action,
    };
    let rules = vec![
        on("/deny", RuleAction::Deny { status: 403 }),
        on("/deny429", RuleAction::Deny { status: 429 }),
        on(
            "/old",
            RuleAction::Redirect {
                kind: RedirectKind::Prefix("/pfx".into()),
                code: 302,
            },
        ),
        on(
            "/moved",
            RuleAction::Redirect {
                kind: RedirectKind::Location("/new".into()),
                code: 301,
            },
        ),
        on(
            "/sch",
            RuleAction::Redirect {
                kind: RedirectKind::Scheme("https".into()),
                code: 302,
            },
        ),
        RequestRule {
            cond: None,
            negate: false,
            action: RuleAction::Return(return_reply(200, Some("text/plain"), b"ok".to_vec())),
        },
    ];
    let svc = Arc::new(HttpService {
        frontend,
        backends: vec![],
        rules,
        chooser: DefaultBackend(0),
        picker: NoServer,
        pool: ServerPool::new(),
        counters: Counters::new(),
        registry: haproxy_proxy::registry::Registry::empty(),
    });
    serve_http_on_loopback(svc).await
}

/// Sends `raw`, then reads until the peer closes (bounded by a deadline).
pub(crate) async fn exchange(addr: SocketAddr, raw: &[u8]) -> String {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let _ = s.write_all(raw).await;
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(3), s.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

fn with_fields(n: usize) -> Vec<u8> {
    let mut v = b"GET / HTTP/1.1\r\n".to_vec();
    for i in 0..n {
        v.extend_from_slice(format!("X-H{i}: v\r\n").as_bytes());
    }
    v.extend_from_slice(b"\r\n");
    v
}

fn padded(extra_fields: usize, pad: usize) -> Vec<u8> {
    let mut v = b"GET / HTTP/1.1\r\n".to_vec();
    for i in 0..extra_fields {
        v.extend_from_slice(format!("X-H{i}: v\r\n").as_bytes());
    }
    v.extend_from_slice(b"X-Pad: ");
    v.extend(std::iter::repeat_n(b'a', pad));
    v.extend_from_slice(b"\r\n\r\n");
    v
}

fn scenarios() -> Vec<(&'static str, Vec<u8>)> {
    let mut big = b"GET / HTTP/1.1\r\nX-Pad: ".to_vec();
    big.extend(std::iter::repeat_n(b'a', 16000));
    big.extend_from_slice(b"\r\n\r\n");
    vec![
        ("no host on 1.1", b"GET / HTTP/1.1\r\n\r\n".to_vec()),
        ("lf only", b"GET / HTTP/1.1\nHost: a\n\n".to_vec()),
        (
            "absolute uri",
            b"GET http://a/b HTTP/1.1\r\nHost: a\r\n\r\n".to_vec(),
        ),
        ("http/1.2", b"GET / HTTP/1.2\r\n\r\n".to_vec()),
        ("lowercase method", b"get / HTTP/1.1\r\n\r\n".to_vec()),
        ("http/1.0 close", b"GET / HTTP/1.0\r\n\r\n".to_vec()),
        (
            "http/1.0 keep-alive",
            b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n".to_vec(),
        ),
        (
            "connection close",
            b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n".to_vec(),
        ),
        (
            "two pipelined",
            b"GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\nConnection: close\r\n\r\n".to_vec(),
        ),
        ("space in uri", b"GET /a b HTTP/1.1\r\n\r\n".to_vec()),
        (
            "header without colon",
            b"GET / HTTP/1.1\r\nNoColon\r\n\r\n".to_vec(),
        ),
        (
            "invalid content-length",
            b"POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n".to_vec(),
        ),
        (
            "conflicting content-length",
            b"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab".to_vec(),
        ),
        (
            "duplicate host",
            b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n".to_vec(),
        ),
        ("fragment", b"GET /#f HTTP/1.1\r\n\r\n".to_vec()),
        ("bad method", b"G@T / HTTP/1.1\r\n\r\n".to_vec()),
        ("100 fields", with_fields(100)),
        ("101 fields", with_fields(101)),
        ("oversized head", big),
        ("largest head", padded(0, 15250)),
        ("largest head + 1", padded(0, 15251)),
        ("largest head, 20 fields", padded(20, 14980)),
        ("largest head + 1, 20 fields", padded(20, 14981)),
        ("deny keep-alive", b"GET /deny HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n".to_vec()),
        ("deny 429", b"GET /deny429 HTTP/1.1\r\nConnection: close\r\n\r\n".to_vec()),
        ("redirect prefix keep-alive", b"GET /old HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n".to_vec()),
        ("redirect 301", b"GET /moved HTTP/1.1\r\n\r\n".to_vec()),
        ("redirect scheme", b"GET /sch?q=1 HTTP/1.1\r\nHost: example.com:8080\r\n\r\n".to_vec()),
        ("redirect on http/1.0", b"GET /old HTTP/1.0\r\n\r\n".to_vec()),
        ("return with a body pending", b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello".to_vec()),
        ("ctl in value", b"GET / HTTP/1.1\r\nX: a\x01b\r\n\r\n".to_vec()),
        ("te on 1.0", b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n".to_vec()),
        ("te gzip", b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n".to_vec()),
        ("te and cl", b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\nConnection: close\r\n\r\n0\r\n\r\n".to_vec()),
        ("same cl twice", b"POST / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 2\r\nConnection: close\r\n\r\nab".to_vec()),
        ("rtsp version", b"GET / RTSP/1.1\r\n\r\n".to_vec()),
        ("http/2.0", b"GET / HTTP/2.0\r\n\r\n".to_vec()),
    ]
}

#[tokio::test]
async fn request_verdicts_and_generated_responses_match_haproxy() {
    let Some(real) = start_haproxy().await else {
        return;
    };
    let ours = start_ours().await;
    let mut diffs = Diffs::default();
    for (name, raw) in scenarios() {
        let (theirs, mine) = (exchange(real.addr, &raw).await, exchange(ours, &raw).await);
        diffs.compare(name, &theirs, &mine);
    }
    diffs.assert_none("scenario(s) differ");
}
