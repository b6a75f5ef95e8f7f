//! Routing through build + `Runtime::start`/`serve` over loopback: backend `http-request` rules
//! (after the frontend's rules and `use_backend`) and dynamic `use_backend %[...]` names whose
//! maps follow runtime edits.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use haproxy_proxy::build::Runtime;
use haproxy_proxy::runtime::Stop;
use tokio::sync::watch;

use crate::build::{DEFAULTS, runtime};
use crate::scratch::TempDir;
use crate::support::named_server;

/// One request; returns the status code and the body.
fn request(addr: SocketAddr, path: &str, headers: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\n{headers}Connection: close\r\n\r\n").as_bytes())
        .unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    let status = out.get(9..12).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = out.split_once("\r\n\r\n").map(|(_, b)| b.to_owned());
    (status, body.unwrap_or_default())
}

/// Starts a runtime; returns the address of its first listener and the stop switch.
async fn serve(rt: Runtime) -> (SocketAddr, watch::Sender<Option<Stop>>) {
    let running = rt.start().unwrap();
    let addr = *running.local_addrs().first().unwrap();
    let (tx, rx) = watch::channel(None);
    tokio::spawn(running.serve(rx));
    (addr, tx)
}

async fn ask(addr: SocketAddr, path: &'static str, headers: &'static str) -> (u16, String) {
    tokio::task::spawn_blocking(move || request(addr, path, headers))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backend_rules_run_after_the_frontend_rules_and_use_backend() {
    let a = named_server("a", 100);
    let b = named_server("b", 100);
    let rt = runtime(&format!(
        "{DEFAULTS}frontend fe\n bind 127.0.0.1:0\n\
         http-request deny if {{ path /fe-deny }}\n\
         http-request allow if {{ path /b/allowed }}\n\
         use_backend b if {{ path_beg /b }}\n use_backend l if {{ path_beg /l }}\n default_backend a\n\
         backend a\n server a {a}\n\
         backend b\n acl ret path /b/ret\n\
         http-request return status 201 content-type text/plain string from-b if ret\n\
         http-request deny deny_status 429 if {{ hdr(x-deny) yes }}\n\
         http-request redirect location /moved code 301 if {{ path /b/allowed }}\n\
         server b {b}\n\
         listen l\n http-request deny deny_status 404 if {{ path /l/no }}\n server b {b}\n"
    ))
    .unwrap();
    let reg = std::sync::Arc::clone(&rt.registry);
    let (addr, stop) = serve(rt).await;
    assert_eq!(ask(addr, "/", "").await, (200, "a".into()));
    assert_eq!(ask(addr, "/b/x", "").await, (200, "b".into()));
    assert_eq!(ask(addr, "/b/ret", "").await, (201, "from-b".into()));
    // The backend's rules see the same conditions; only the chosen backend's rules run.
    assert_eq!(ask(addr, "/b/x", "x-deny: yes\r\n").await.0, 429);
    assert_eq!(ask(addr, "/a", "").await, (200, "a".into()));
    assert_eq!(ask(addr, "/a", "x-deny: yes\r\n").await, (200, "a".into()));
    // The frontend's rules come first; its `allow` does not skip the backend's rules.
    assert_eq!(ask(addr, "/fe-deny", "").await.0, 403);
    assert_eq!(ask(addr, "/b/allowed", "").await.0, 301);
    // A listen section used as a backend runs its rules for the frontend's streams.
    assert_eq!(ask(addr, "/l/no", "").await.0, 404);
    assert_eq!(ask(addr, "/l/yes", "").await, (200, "b".into()));
    let fe = reg.frontend("fe").unwrap().1;
    let be = reg.backend("b").unwrap().1;
    assert_eq!(fe.counters.denied_req.load(Relaxed), 3);
    assert_eq!(be.counters.denied_req.load(Relaxed), 1);
    stop.send(Some(Stop::Hard)).unwrap();
}

/// Writes a map file into `dir`; returns its path.
fn map_file(dir: &TempDir, tag: &str, text: &str) -> String {
    dir.write(&format!("{tag}.map"), text)
        .to_string_lossy()
        .into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamic_use_backend_follows_maps_and_runtime_edits() {
    let a = named_server("a", 100);
    let b = named_server("b", 100);
    let c = named_server("c", 100);
    let dir = TempDir::new("route");
    let hosts = map_file(&dir, "dom", "example.com be_b\nother.org nowhere\n");
    let paths = map_file(&dir, "beg", "/static be_c\n");
    let rt = runtime(&format!(
        "{DEFAULTS}frontend fe\n bind 127.0.0.1:0\n\
         use_backend be_b if {{ path /first }}\n\
         use_backend be_%[req.hdr(x-be)] if {{ req.hdr(x-be) -m found }}\n\
         use_backend be_c if {{ path /second }}\n\
         use_backend %[path,map_beg({paths})]\n\
         use_backend %[req.hdr(host),lower,map_dom({hosts})] if {{ req.hdr(host) -m found }}\n\
         default_backend be_a\n\
         backend be_a\n server a {a}\n backend be_b\n server b {b}\n backend be_c\n server c {c}\n"
    ))
    .unwrap();
    let reg = std::sync::Arc::clone(&rt.registry);
    let (addr, stop) = serve(rt).await;
    // Prefix text and a header: `be_` + `c`.
    assert_eq!(ask(addr, "/", "x-be: c\r\n").await.1, "c");
    // A name that is no backend stops the rules: default_backend, not the next rule.
    assert_eq!(
        ask(addr, "/", "x-be: zz\r\nhost: www.EXAMPLE.com\r\n")
            .await
            .1,
        "a"
    );
    assert_eq!(ask(addr, "/static/x.css", "").await.1, "c");
    // Fixed and dynamic rules keep their file order.
    assert_eq!(ask(addr, "/first", "x-be: c\r\n").await.1, "b");
    assert_eq!(ask(addr, "/second", "").await.1, "c");
    // `map_beg` finds nothing: `-` is no backend, so the host map is never consulted.
    assert_eq!(ask(addr, "/", "host: www.example.com\r\n").await.1, "a");

    // Runtime edits of the map the rules use (what `add map` / `set map` do) apply at once.
    let r = reg.patterns.find(&paths).unwrap();
    r.add("/", Some("be_b")).unwrap();
    assert_eq!(ask(addr, "/x", "").await.1, "b");
    r.set("/static", "be_a").unwrap();
    assert_eq!(ask(addr, "/static/x.css", "").await.1, "a");
    stop.send(Some(Stop::Hard)).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamic_use_backend_with_a_map_default_and_the_host_map() {
    let a = named_server("a", 100);
    let b = named_server("b", 100);
    let dir = TempDir::new("route");
    let hosts = map_file(&dir, "dom2", "example.com be_b\n");
    let rt = runtime(&format!(
        "{DEFAULTS}frontend fe\n bind 127.0.0.1:0\n\
         use_backend %[req.hdr(host),lower,map_dom({hosts},be_a)]\n\
         backend be_a\n server a {a}\n backend be_b\n server b {b}\n"
    ))
    .unwrap();
    let reg = std::sync::Arc::clone(&rt.registry);
    let (addr, stop) = serve(rt).await;
    assert_eq!(ask(addr, "/", "host: WWW.Example.COM\r\n").await.1, "b");
    assert_eq!(ask(addr, "/", "host: other\r\n").await.1, "a");
    reg.patterns
        .find(&hosts)
        .unwrap()
        .add("other", Some("be_b"))
        .unwrap();
    assert_eq!(ask(addr, "/", "host: other\r\n").await.1, "b");
    // No rule applies and no default_backend: 503.
    reg.patterns
        .find(&hosts)
        .unwrap()
        .set("other", "missing")
        .unwrap();
    assert_eq!(ask(addr, "/", "host: other\r\n").await.0, 503);
    stop.send(Some(Stop::Hard)).unwrap();
}

/// A server that reports on `seen` each request head as it arrives (`head:`) and each request
/// read in full (`full:` head and `Content-Length` body), and answers 200 `ok`.
fn recording_server(seen: std::sync::mpsc::Sender<String>) -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        for conn in l.incoming().take(20) {
            let Ok(mut c) = conn else { continue };
            let _ = c.set_read_timeout(Some(Duration::from_secs(5)));
            let mut buf = [0u8; 4096];
            let mut got = Vec::new();
            let mut head_seen = false;
            loop {
                let text = String::from_utf8_lossy(&got).into_owned();
                if let Some((head, body)) = text.split_once("\r\n\r\n") {
                    if !head_seen {
                        head_seen = true;
                        let _ = seen.send(format!("head:{head}"));
                    }
                    let len = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length: "))
                        .and_then(|v| v.parse::<usize>().ok())
                        .unwrap_or(0);
                    if body.len() >= len {
                        let _ = seen.send(format!("full:{text}"));
                        break;
                    }
                }
                match c.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => got.extend_from_slice(&buf[..n]),
                }
            }
            let _ =
                c.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
        }
    });
    addr
}

/// Sends a head announcing a 5-byte body, waits, and reports whether the server saw the
/// request before the body was sent; then sends the body and returns the whole response.
fn send_body_late(
    addr: SocketAddr,
    path: &str,
    extra: &str,
    seen: &std::sync::mpsc::Receiver<String>,
) -> (bool, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(
        format!("POST {path} HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\n{extra}connection: close\r\n\r\n")
            .as_bytes(),
    )
    .unwrap();
    let early = seen.recv_timeout(Duration::from_millis(300)).is_ok();
    s.write_all(b"hello").unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    (early, out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_buffer_request_waits_for_the_body_before_choosing() {
    let (tx, rx) = std::sync::mpsc::channel();
    let srv = recording_server(tx);
    let rt = runtime(&format!(
        "{DEFAULTS}frontend fe\n bind 127.0.0.1:0\n\
         use_backend buffered if {{ path_beg /be }}\n default_backend direct\n\
         backend direct\n server s {srv}\n\
         backend buffered\n option http-buffer-request\n server s {srv}\n"
    ))
    .unwrap();
    let (addr, stop) = serve(rt).await;
    let rx = std::sync::Arc::new(std::sync::Mutex::new(rx));
    let run = |addr: SocketAddr, path: &'static str, extra: &'static str| {
        let rx = std::sync::Arc::clone(&rx);
        tokio::task::spawn_blocking(move || {
            let rx = rx.lock().unwrap();
            let r = send_body_late(addr, path, extra, &rx);
            let at_server = std::iter::from_fn(|| rx.recv_timeout(Duration::from_secs(2)).ok())
                .find(|m| m.starts_with("full:"))
                .unwrap_or_default();
            (r.0, r.1, at_server)
        })
    };
    // Without the option the request goes to the server before its body.
    let (early, resp, _) = run(addr, "/x", "").await.unwrap();
    assert!(early && resp.ends_with("\r\n\r\nok"), "{resp}");
    // With it in the chosen backend, the server sees nothing until the body is there.
    let (early, resp, at_server) = run(addr, "/be", "").await.unwrap();
    assert!(!early && resp.ends_with("\r\n\r\nok"), "{resp}");
    assert!(at_server.ends_with("\r\n\r\nhello"), "{at_server}");
    // Expect: 100-continue is answered by the proxy, which drops the header.
    let (early, resp, at_server) = run(addr, "/be", "expect: 100-continue\r\n").await.unwrap();
    assert!(
        !early && resp.starts_with("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200"),
        "{resp}"
    );
    assert!(
        !at_server.to_ascii_lowercase().contains("expect"),
        "{at_server}"
    );
    stop.send(Some(Stop::Hard)).unwrap();
}

// `timeout http-request` must outlast `send_body_late`'s 300 ms look for an early request by
// far: at 400 ms a loaded machine sent the body after it and got a 408.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_buffer_request_in_a_frontend_and_its_timeout() {
    let (tx, rx) = std::sync::mpsc::channel();
    let srv = recording_server(tx);
    let rt = runtime(&format!(
        "{DEFAULTS}frontend fe\n bind 127.0.0.1:0\n option http-buffer-request\n\
         timeout http-request 1500ms\n\
         http-request deny deny_status 429 if {{ path /deny }}\n default_backend be\n\
         backend be\n server s {srv}\n"
    ))
    .unwrap();
    let (addr, stop) = serve(rt).await;
    let (early, resp) = tokio::task::spawn_blocking(move || {
        let r = send_body_late(addr, "/x", "", &rx);
        let full = std::iter::from_fn(|| rx.recv_timeout(Duration::from_secs(2)).ok())
            .find(|m| m.starts_with("full:"));
        assert!(full.is_some_and(|f| f.ends_with("hello")), "{r:?}");
        r
    })
    .await
    .unwrap();
    assert!(!early && resp.ends_with("\r\n\r\nok"), "{resp}");
    // The frontend's rules run once the body is in: the deny waits for it too.
    let (early, resp) = tokio::task::spawn_blocking(move || {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s.write_all(b"POST /deny HTTP/1.1\r\ncontent-length: 5\r\n\r\nhe")
            .unwrap();
        let mut first = [0u8; 1];
        s.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let early = s.read(&mut first).is_ok();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut out = String::new();
        let _ = s.read_to_string(&mut out);
        (early, out)
    })
    .await
    .unwrap();
    // The body never completes: `timeout http-request` ends the wait with a 408.
    assert!(!early, "{resp}");
    assert!(resp.starts_with("HTTP/1.1 408"), "{resp}");
    stop.send(Some(Stop::Hard)).unwrap();
}

// HAProxy 2.6.12 with this configuration (tests/data/haproxy-2.6/upgrade-settings.txt): a TCP
// frontend's stream that reaches an HTTP backend is HTTP-processed by that backend, with its
// stats page, its `http-request` rules and its `option http-buffer-request`; a TCP frontend's
// own `option http-buffer-request`, `option forwardfor`, `option originalto` and stats page are
// ignored (HAProxy warns that they require HTTP mode).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tcp_frontend_upgraded_to_an_http_backend_honours_its_settings() {
    let (tx, rx) = std::sync::mpsc::channel();
    let srv = recording_server(tx);
    // Two runtimes: binds on port 0 of one address may share a port.
    let backends = format!(
        "backend plain\n mode http\n server s {srv}\n\
         backend be\n mode http\n option http-buffer-request\n stats enable\n stats uri /st\n\
         http-request deny deny_status 429 if {{ path /deny }}\n server s {srv}\n"
    );
    let frontend = |name: &str, extra: &str, to: &str| {
        format!(
            "{DEFAULTS}frontend {name}\n mode tcp\n bind 127.0.0.1:0\n{extra} default_backend {to}\n{backends}"
        )
    };
    let (to_be, stop_be) = serve(runtime(&frontend("tcp_be", "", "be")).unwrap()).await;
    let fe_option = " option http-buffer-request\n";
    let (to_plain, stop_plain) =
        serve(runtime(&frontend("tcp_fe", fe_option, "plain")).unwrap()).await;
    // Its fixed chooser had not copied the backend's stats page.
    let (status, body) = ask(to_be, "/st", "").await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("Statistics Report"), "{body}");
    assert_eq!(ask(to_be, "/deny", "").await.0, 429);
    assert_eq!(ask(to_plain, "/deny", "").await, (200, "ok".into()));
    let rx = std::sync::Arc::new(std::sync::Mutex::new(rx));
    let run = |addr: SocketAddr| {
        let rx = std::sync::Arc::clone(&rx);
        tokio::task::spawn_blocking(move || {
            let rx = rx.lock().unwrap();
            while rx.try_recv().is_ok() {}
            send_body_late(addr, "/x", "", &rx)
        })
    };
    // The backend's option: the server sees nothing before the body.
    let (early, resp) = run(to_be).await.unwrap();
    assert!(!early && resp.ends_with("\r\n\r\nok"), "{resp}");
    // The TCP frontend's option does not apply.
    let (early, resp) = run(to_plain).await.unwrap();
    assert!(early && resp.ends_with("\r\n\r\nok"), "{resp}");
    // Nor do its `option forwardfor`, `option originalto` and stats page.
    let ff = " option forwardfor\n option originalto\n stats enable\n stats uri /st\n";
    let (to_ff, stop_ff) = serve(runtime(&frontend("tcp_ff", ff, "plain")).unwrap()).await;
    while rx.lock().unwrap().try_recv().is_ok() {}
    assert_eq!(ask(to_ff, "/st", "").await, (200, "ok".into()));
    let head = rx.lock().unwrap().recv_timeout(Duration::from_secs(2));
    let head = head.unwrap().to_ascii_lowercase();
    assert!(
        head.starts_with("head:get /st ")
            && !head.contains("x-forwarded-for")
            && !head.contains("x-original-to"),
        "{head}"
    );
    stop_be.send(Some(Stop::Hard)).unwrap();
    stop_plain.send(Some(Stop::Hard)).unwrap();
    stop_ff.send(Some(Stop::Hard)).unwrap();
}
