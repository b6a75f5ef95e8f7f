//! `build` from real configuration text (parsed and loaded by haproxy-cfg), and the runtime
//! started in-process: settings taken from the model, algorithms through haproxy-lb, conditions
//! through haproxy-acl, refusals of what the proxy does not run, and soft/hard stops.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use haproxy_cfg::load::{Outcome, SystemEnv, load};
use haproxy_cfg::parse_str;
use haproxy_proxy::build::{Runtime, build};
use haproxy_proxy::runtime::{StartupError, Stop};
use haproxy_proxy::{ChooseBackend, ConnMode, Mode, PickServer, ProxyError, StreamView};

/// Loads and builds `text`; `bind 127.0.0.1:0` (refused by HAProxy) becomes a reserved free
/// port (see [`crate::ports`]).
pub(crate) fn runtime(text: &str) -> Result<Runtime, ProxyError> {
    let port = crate::ports::free_port();
    let text = text.replace("bind 127.0.0.1:0", &format!("bind 127.0.0.1:{port}"));
    let docs = vec![parse_str("t.cfg", &text)];
    let loaded = load(&docs, &SystemEnv);
    assert_ne!(loaded.outcome, Outcome::Invalid, "{:?}", loaded.diagnostics);
    build(&loaded.config)
}

pub(crate) const DEFAULTS: &str =
    "defaults\n mode http\n timeout connect 5s\n timeout client 7s\n timeout server 9s\n";

fn view() -> StreamView<'static> {
    StreamView {
        src: "127.0.0.1:40000".parse().unwrap(),
        dst: "127.0.0.1:80".parse().unwrap(),
        request: None,
    }
}

#[test]
fn settings_come_from_the_model() {
    let rt = runtime(&format!(
        "global\n maxconn 77\n{DEFAULTS}\
         frontend fe\n bind 127.0.0.1:0\n option http-server-close\n option forwardfor except 10.0.0.0/8 header X-Client if-none\n timeout http-request 3s\n default_backend be\n\
         backend be\n retries 5\n option redispatch\n option httpclose\n server a 127.0.0.1:1 weight 3 maxconn 9\n server b 127.0.0.1:2 backup\n"
    ))
    .unwrap();
    assert_eq!(rt.global_maxconn, 77);
    let fe = rt.frontends.first().unwrap();
    assert_eq!(fe.type_str, "frontend");
    let svc = &fe.service;
    assert_eq!(svc.frontend.mode, Mode::Http);
    assert_eq!(svc.frontend.conn_mode, ConnMode::ServerClose);
    assert_eq!(svc.frontend.timeouts.client, Some(Duration::from_secs(7)));
    assert_eq!(
        svc.frontend.timeouts.http_request,
        Some(Duration::from_secs(3))
    );
    let ff = svc.frontend.forwardfor.as_ref().unwrap();
    assert_eq!(ff.header, "x-client");
    assert!(ff.if_none && ff.is_excepted("10.1.2.3".parse().unwrap()));
    let be = svc.backends.first().unwrap();
    assert_eq!(
        (be.retries, be.redispatch, be.redispatch_interval),
        (5, true, -1)
    );
    assert_eq!(be.conn_mode, ConnMode::Close);
    assert_eq!(be.timeouts.server, Some(Duration::from_secs(9)));
    let a = be.servers.first().unwrap();
    assert_eq!((a.weight, a.maxconn, a.backup), (3, 9, false));
    assert!(be.servers.get(1).unwrap().backup);
    assert_eq!(svc.chooser.choose(&view()), Some(0));
}

#[test]
fn the_redispatch_interval_comes_from_the_model() {
    let interval = |line: &str| {
        let rt = runtime(&format!(
            "{DEFAULTS}{line}frontend fe\n bind 127.0.0.1:0\n default_backend be\n\
             backend be\n{line} server a 127.0.0.1:1\n"
        ))
        .unwrap();
        let be = rt.frontends[0].service.backends[0].clone();
        (be.redispatch, be.redispatch_interval)
    };
    assert_eq!(interval(" option redispatch 2\n"), (true, 2));
    assert_eq!(interval(" option redispatch -3\n"), (true, -3));
    assert_eq!(interval(" option redispatch 0\n"), (true, 0));
    assert_eq!(interval(" option redispatch\n"), (true, -1));
    assert_eq!(interval(""), (false, -1));
}

#[test]
fn static_rr_follows_haproxy_order_and_redispatch_avoids_the_failed_server() {
    let rt = runtime(&format!(
        "{DEFAULTS}listen l\n bind 127.0.0.1:0\n balance static-rr\n\
         server a 127.0.0.1:1 weight 1\n server b 127.0.0.1:2 weight 2\n server c 127.0.0.1:3 weight 3\n"
    ))
    .unwrap();
    let svc = &rt.frontends.first().unwrap().service;
    // A listen section is its own backend.
    assert_eq!(svc.chooser.choose(&view()), Some(0));
    let names = ["a", "b", "c"];
    let order: String = (0..6)
        .map(|_| names[svc.picker.pick(0, &view(), None).unwrap()])
        .collect();
    assert_eq!(order, "acbcbc"); // reference §2: weights 1/2/3 give `a c b c b c`
    for _ in 0..8 {
        assert_ne!(svc.picker.pick(0, &view(), Some(2)), Some(2));
    }
}

#[test]
fn use_backend_conditions_are_compiled_with_haproxy_acl() {
    let rt = runtime(&format!(
        "{DEFAULTS}frontend fe\n bind 127.0.0.1:0\n acl local src 127.0.0.0/8\n\
         use_backend b2 if local {{ dst_port 8443 }}\n use_backend b1 unless local\n default_backend b3\n\
         backend b1\n server s 127.0.0.1:1\nbackend b2\n server s 127.0.0.1:1\nbackend b3\n server s 127.0.0.1:1\n"
    ))
    .unwrap();
    let svc = &rt.frontends.first().unwrap().service;
    let mut v = view();
    assert_eq!(svc.chooser.choose(&v), Some(2));
    v.dst = "127.0.0.1:8443".parse().unwrap();
    assert_eq!(svc.chooser.choose(&v), Some(1));
    v.src = "192.0.2.1:5".parse().unwrap();
    assert_eq!(svc.chooser.choose(&v), Some(0));
}

#[test]
fn what_the_proxy_cannot_run_is_refused_at_startup() {
    for (body, needle) in [
        (
            "http-request set-header X-A b\n",
            "'http-request set-header' is not supported yet",
        ),
        (
            "use_backend %[nosuchfetch]\n",
            "'use_backend' : failed to parse sample expression",
        ),
        (
            "http-request return status 200 hdr X-A b\n",
            "'hdr' is not supported yet",
        ),
    ] {
        let err = runtime(&format!(
            "{DEFAULTS}frontend fe\n bind 127.0.0.1:0\n {body}"
        ))
        .unwrap_err();
        assert!(err.to_string().contains(needle), "{err}");
    }
}

/// What only a frontend may have is refused in a backend with HAProxy 2.6.12's parse errors
/// (observed with `haproxy -c`).
#[test]
fn frontend_only_tcp_request_rules_in_a_backend_are_refused_as_haproxy() {
    for (rule, want) in [
        (
            "tcp-request connection reject",
            "parsing [t.cfg:10] : tcp-request connection is not allowed because backend b is not a frontend",
        ),
        (
            "tcp-request session reject",
            "parsing [t.cfg:10] : tcp-request session is not allowed because backend b is not a frontend",
        ),
        (
            "tcp-request content switch-mode http",
            "parsing [t.cfg:10] : 'tcp-request switch-mode' not allowed because backend 'b' has no frontend capability",
        ),
    ] {
        let err = runtime(&format!(
            "{DEFAULTS}frontend f\n bind 127.0.0.1:0\n default_backend b\nbackend b\n {rule}\n server s 127.0.0.1:80\n"
        ))
        .unwrap_err();
        assert_eq!(err.to_string(), want);
    }
    // Content rules and inspect-delay are a backend's own.
    assert!(
        runtime(&format!(
            "{DEFAULTS}frontend f\n bind 127.0.0.1:0\n default_backend b\nbackend b\n tcp-request inspect-delay 1s\n tcp-request content accept if {{ req.len gt 0 }}\n tcp-request content reject\n server s 127.0.0.1:80\n"
        ))
        .is_ok()
    );
}

pub(crate) fn get(addr: SocketAddr) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runtime_serves_until_a_hard_stop_and_reports_startup_failures() {
    let rt = runtime(&format!(
        "{DEFAULTS}frontend fe\n bind 127.0.0.1:0\n http-request return status 200 content-type text/plain string hi\n"
    ))
    .unwrap();
    let running = rt.start().unwrap();
    let addr = *running.local_addrs().first().unwrap();
    let (tx, rx) = tokio::sync::watch::channel(None);
    let serving = tokio::spawn(running.serve(rx));
    let resp = tokio::task::spawn_blocking(move || get(addr))
        .await
        .unwrap();
    assert!(resp.ends_with("\r\n\r\nhi"), "{resp}");
    tx.send(Some(Stop::Hard)).unwrap();
    tokio::time::timeout(Duration::from_secs(5), serving)
        .await
        .unwrap()
        .unwrap();
    assert!(TcpStream::connect(addr).is_err());

    let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = held.local_addr().unwrap().port();
    let rt = runtime(&format!(
        "{DEFAULTS}listen l\n bind 127.0.0.1:{port}\n http-request return status 200\n"
    ))
    .unwrap();
    let Err(StartupError::Bind(lines)) = rt.start() else {
        panic!("bind should fail");
    };
    assert_eq!(
        lines,
        [format!(
            "Binding [t.cfg:7] for proxy l: cannot bind socket (Address already in use) for [127.0.0.1:{port}]"
        )]
    );
    let rt = runtime(&format!("{DEFAULTS}backend b\n server s 127.0.0.1:1\n")).unwrap();
    assert_eq!(rt.start().unwrap_err(), StartupError::NoListener);
}

fn exchange(addr: SocketAddr, bytes: &[u8]) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(bytes).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accept_proxy_gives_acl_the_client_address_from_the_header() {
    let rt = runtime(&format!(
        "{DEFAULTS}frontend fe\n bind 127.0.0.1:0 accept-proxy\n\
         http-request return status 200 content-type text/plain string proxied if {{ src 192.0.2.7 }}\n\
         http-request deny\n"
    ))
    .unwrap();
    let running = rt.start().unwrap();
    let addr = *running.local_addrs().first().unwrap();
    let (tx, rx) = tokio::sync::watch::channel(None);
    let serving = tokio::spawn(running.serve(rx));
    let (ok, denied, bare) = tokio::task::spawn_blocking(move || {
        let req = "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
        (
            exchange(
                addr,
                format!("PROXY TCP4 192.0.2.7 127.0.0.1 4000 80\r\n{req}").as_bytes(),
            ),
            exchange(
                addr,
                format!("PROXY TCP4 192.0.2.8 127.0.0.1 4000 80\r\n{req}").as_bytes(),
            ),
            exchange(addr, req.as_bytes()),
        )
    })
    .await
    .unwrap();
    assert!(
        ok.starts_with("HTTP/1.1 200 OK\r\n") && ok.ends_with("proxied"),
        "{ok}"
    );
    assert!(denied.starts_with("HTTP/1.1 403 Forbidden\r\n"), "{denied}");
    assert_eq!(bare, "", "no PROXY header: closed without a reply");
    tx.send(Some(Stop::Hard)).unwrap();
    tokio::time::timeout(Duration::from_secs(5), serving)
        .await
        .unwrap()
        .unwrap();
}
