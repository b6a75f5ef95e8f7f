//! Differential scenarios with one backend server: the client-visible responses and the heads the
//! server receives must be the same through real HAProxy 2.6 and through our engine.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use haproxy_proxy::errors::ErrorPages;
use haproxy_proxy::h1::{BodyFraming, ChunkedDecoder, H1Limits, Parsed, parse_request};
use haproxy_proxy::http::{HttpService, ServerPool};
use haproxy_proxy::{
    BackendSettings, ConnMode, Counters, DefaultBackend, ForwardFor, FrontendSettings, Mode,
    PickServer, ServerSettings, StreamView, Timeouts,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::differential::{exchange, start_haproxy_with};
use crate::support::{Diffs, serve_http_on_loopback};

/// An origin that records the raw heads it receives and answers `ok` with keep-alive.
#[derive(Clone, Default)]
struct Origin {
    heads: Arc<Mutex<Vec<String>>>,
}

impl Origin {
    async fn start(&self) -> SocketAddr {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let me = self.clone();
        tokio::spawn(async move {
            while let Ok((s, _)) = l.accept().await {
                let me = me.clone();
                tokio::spawn(async move { me.serve(s).await });
            }
        });
        addr
    }

    async fn serve(&self, mut s: TcpStream) {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 8192];
        loop {
            let (head, len) = loop {
                if let Ok(Parsed::Complete { head, len }) =
                    parse_request(&buf, &H1Limits::default())
                {
                    break (head, len);
                }
                match tokio::time::timeout(Duration::from_secs(3), s.read(&mut chunk)).await {
                    Ok(Ok(n)) if n > 0 => buf.extend_from_slice(&chunk[..n]),
                    _ => return,
                }
            };
            self.heads
                .lock()
                .unwrap()
                .push(String::from_utf8_lossy(&buf[..len]).into_owned());
            buf.drain(..len);
            if head.expects_continue()
                && s.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").await.is_err()
            {
                return;
            }
            // Consume the body.
            match head.framing().unwrap() {
                BodyFraming::Length(n) => {
                    while (buf.len() as u64) < n {
                        let k = s.read(&mut chunk).await.unwrap_or(0);
                        if k == 0 {
                            return;
                        }
                        buf.extend_from_slice(&chunk[..k]);
                    }
                    buf.drain(..n as usize);
                }
                BodyFraming::Chunked => {
                    let mut d = ChunkedDecoder::new();
                    while !d.is_done() {
                        let step = d.advance(&buf).unwrap();
                        buf.drain(..step.consumed);
                        if !d.is_done() && step.consumed == 0 {
                            let k = s.read(&mut chunk).await.unwrap_or(0);
                            if k == 0 {
                                return;
                            }
                            buf.extend_from_slice(&chunk[..k]);
                        }
                    }
                }
                _ => {}
            }
            let close = head
                .headers
                .tokens("connection")
                .iter()
                .any(|t| t == "close");
            let answer: &[u8] = match head.uri.as_str() {
                "/chunked" => b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
                "/upgrade" => b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: test\r\n\r\n",
                "/until-close" => b"HTTP/1.1 200 OK\r\n\r\nuntil close",
                _ => b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Origin: yes\r\n\r\nok",
            };
            if s.write_all(answer).await.is_err() || close || head.uri == "/until-close" {
                return;
            }
            if head.uri == "/upgrade" {
                let mut rest = std::mem::take(&mut buf);
                loop {
                    if !rest.is_empty() && s.write_all(&rest).await.is_err() {
                        return;
                    }
                    rest.clear();
                    match tokio::time::timeout(Duration::from_secs(3), s.read(&mut chunk)).await {
                        Ok(Ok(n)) if n > 0 => rest.extend_from_slice(&chunk[..n]),
                        _ => return,
                    }
                }
            }
        }
    }
}

struct First;
impl PickServer for First {
    fn pick(&self, _b: usize, _s: &StreamView<'_>, _a: Option<usize>) -> Option<usize> {
        Some(0)
    }
}

#[derive(Clone, Copy)]
struct Variant {
    name: &'static str,
    option: &'static str,
    mode: ConnMode,
    forwardfor: bool,
}

async fn start_ours(v: Variant, server: SocketAddr) -> SocketAddr {
    let timeouts = Timeouts {
        client: Some(Duration::from_secs(2)),
        server: Some(Duration::from_millis(500)),
        connect: Some(Duration::from_millis(200)),
        http_request: Some(Duration::from_secs(1)),
        http_keep_alive: Some(Duration::from_millis(200)),
        ..Timeouts::default()
    };
    let frontend = FrontendSettings {
        name: "fe".into(),
        mode: Mode::Http,
        timeouts,
        conn_mode: v.mode,
        forwardfor: v.forwardfor.then(ForwardFor::default),
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
    let backend = BackendSettings {
        name: "be".into(),
        mode: Mode::Http,
        timeouts,
        conn_mode: ConnMode::KeepAlive,
        retries: 0,
        redispatch: false,
        redispatch_interval: -1,
        forwardfor: None,
        originalto: None,
        servers: vec![ServerSettings {
            name: "s1".into(),
            addr: server,
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
    };
    let svc = Arc::new(HttpService {
        frontend,
        backends: vec![backend],
        rules: vec![],
        chooser: DefaultBackend(0),
        picker: First,
        pool: ServerPool::new(),
        counters: Counters::new(),
        registry: haproxy_proxy::registry::Registry::empty(),
    });
    serve_http_on_loopback(svc).await
}

fn config(v: Variant, server: SocketAddr) -> String {
    format!(
        "defaults\n  mode http\n  timeout client 2s\n  timeout connect 200ms\n  timeout server 500ms\n  timeout http-request 1s\n  timeout http-keep-alive 200ms\n\
         frontend fe\n  bind 127.0.0.1:PORT\n  {}\n  {}\n  default_backend be\nbackend be\n  server s1 {server}\n",
        v.option,
        if v.forwardfor {
            "option forwardfor"
        } else {
            ""
        }
    )
}

const REQUESTS: &[(&str, &[u8])] = &[
    (
        "keep-alive pair",
        b"GET /a HTTP/1.1\r\nHost: h\r\nUser-Agent: T\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n",
    ),
    ("http/1.0", b"GET /c HTTP/1.0\r\nHost: h\r\n\r\n"),
    (
        "http/1.0 keep-alive",
        b"GET /d HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
    ),
    (
        "client close",
        b"GET /e HTTP/1.1\r\nConnection: close\r\nX-Forwarded-For: 9.9.9.9\r\n\r\n",
    ),
    (
        "post length",
        b"POST /f HTTP/1.1\r\nContent-Length: 3\r\nContent-Type: text/plain\r\n\r\nabc",
    ),
    (
        "post chunked",
        b"POST /g HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
    ),
    ("chunked response", b"GET /chunked HTTP/1.1\r\n\r\n"),
    (
        "expect 100-continue",
        b"POST /h HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc",
    ),
    (
        "close-delimited response",
        b"GET /until-close HTTP/1.1\r\n\r\n",
    ),
    (
        "upgrade",
        b"GET /upgrade HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: test\r\n\r\nping",
    ),
];

#[tokio::test]
async fn server_visible_heads_and_responses_match_haproxy() {
    let variants = [
        Variant {
            name: "keep-alive",
            option: "",
            mode: ConnMode::KeepAlive,
            forwardfor: false,
        },
        Variant {
            name: "server-close",
            option: "option http-server-close",
            mode: ConnMode::ServerClose,
            forwardfor: false,
        },
        Variant {
            name: "httpclose",
            option: "option httpclose",
            mode: ConnMode::Close,
            forwardfor: false,
        },
        Variant {
            name: "forwardfor",
            option: "",
            mode: ConnMode::KeepAlive,
            forwardfor: true,
        },
    ];
    let mut diffs = Diffs::default();
    let mut heads_seen = 0usize;
    for v in variants {
        let (theirs_origin, ours_origin) = (Origin::default(), Origin::default());
        let Some(real) = start_haproxy_with(&config(v, theirs_origin.start().await)).await else {
            return;
        };
        let ours = start_ours(v, ours_origin.start().await).await;
        for (name, raw) in REQUESTS {
            let (theirs, mine) = (exchange(real.addr, raw).await, exchange(ours, raw).await);
            let (th, oh) = (
                std::mem::take(&mut *theirs_origin.heads.lock().unwrap()),
                std::mem::take(&mut *ours_origin.heads.lock().unwrap()),
            );
            heads_seen += th.len();
            if std::env::var("DIFF_SHOW").is_ok() {
                eprintln!("{} / {name}\n{theirs:?}\n{th:?}", v.name);
            }
            diffs.compare(&format!("{} / {name}: client side", v.name), &theirs, &mine);
            diffs.compare(&format!("{} / {name}: server side", v.name), &th, &oh);
        }
    }
    diffs.assert_none("difference(s)");
    assert!(
        heads_seen >= 24,
        "the server saw only {heads_seen} requests"
    );
}

/// A response head larger than `tune.bufsize - tune.maxrewrite`.
fn big_head() -> &'static [u8] {
    let mut v = b"HTTP/1.1 200 OK\r\nX: ".to_vec();
    v.extend(std::iter::repeat_n(b'0', 20_000));
    v.extend_from_slice(b"\r\n\r\n");
    Vec::leak(v)
}

/// A server that reads a request, then answers `reply` (nothing when empty) and holds the connection.
async fn misbehaving_server(reply: &'static [u8], close: bool) -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            tokio::spawn(async move {
                let mut b = [0u8; 4096];
                let _ = s.read(&mut b).await;
                let _ = s.write_all(reply).await;
                if !close {
                    tokio::time::sleep(Duration::from_secs(2)).await;
                }
            });
        }
    });
    addr
}

#[tokio::test]
async fn server_failures_give_the_same_error_pages_as_haproxy() {
    let (_dead_socket, dead_port) = crate::engines::dead_port();
    let dead: SocketAddr = format!("127.0.0.1:{dead_port}").parse().unwrap();
    let cases: Vec<(&str, SocketAddr)> = vec![
        ("refused (503)", dead),
        (
            "garbage (502)",
            misbehaving_server(b"garbage\r\n\r\n", false).await,
        ),
        (
            "closed without answer (502)",
            misbehaving_server(b"", true).await,
        ),
        ("silent (504)", misbehaving_server(b"", false).await),
        (
            "response head too large (502)",
            misbehaving_server(big_head(), false).await,
        ),
    ];
    let mut diffs = Diffs::default();
    let v = Variant {
        name: "errors",
        option: "retries 0",
        mode: ConnMode::KeepAlive,
        forwardfor: false,
    };
    for (name, server) in cases {
        let Some(real) = start_haproxy_with(&config(v, server)).await else {
            return;
        };
        let ours = start_ours(v, server).await;
        let raw = b"GET / HTTP/1.1\r\nHost: h\r\n\r\n";
        let (theirs, mine) = (exchange(real.addr, raw).await, exchange(ours, raw).await);
        diffs.compare(name, &theirs, &mine);
    }
    diffs.assert_none("difference(s)");
}
