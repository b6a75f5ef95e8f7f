//! `tcp-request connection|session|content` rules, `inspect-delay` and `use_backend` in TCP mode,
//! through the daemon path (build, `Runtime::start`, serve) over loopback.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use haproxy_proxy::proxy_proto::{ProxyHeader, encode_v2};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpSocket, TcpStream};

use crate::daemon::{eventually, read_all, start, tag_server};
use crate::support::client_hello;

const DEFAULTS: &str =
    "defaults\n mode tcp\n timeout connect 2s\n timeout client 5s\n timeout server 5s\n";

async fn connect_from(src: &str, to: SocketAddr) -> TcpStream {
    let s = TcpSocket::new_v4().unwrap();
    s.bind(format!("{src}:0").parse().unwrap()).unwrap();
    s.connect(to).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_reject_closes_before_reading_and_counts_denied_conn() {
    let (srv, accepted) = tag_server(b"").await;
    let d = start(&format!(
        "{DEFAULTS}frontend fe\n bind 127.0.0.1:0\n tcp-request connection reject if {{ src 127.0.0.2 }}\n default_backend be\nbackend be\n server s {srv}\n"
    ));
    let mut ok = connect_from("127.0.0.1", d.addr()).await;
    ok.write_all(b"ping").await.unwrap();
    ok.shutdown().await.unwrap();
    assert_eq!(read_all(&mut ok).await, b"ping");
    let mut bad = connect_from("127.0.0.2", d.addr()).await;
    let _ = bad.write_all(b"ping").await;
    assert_eq!(read_all(&mut bad).await, b"", "closed silently");
    let c = &d.counters[0];
    eventually(|| c.denied_conn.load(Ordering::Relaxed) == 1).await;
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        1,
        "no server connection for the rejected one"
    );
    assert_eq!(
        c.sessions_total.load(Ordering::Relaxed),
        1,
        "a rejected connection makes no session"
    );
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn content_rules_wait_for_data_within_inspect_delay() {
    let (srv, accepted) = tag_server(b"").await;
    let d = start(&format!(
        "{DEFAULTS}frontend fe\n bind 127.0.0.1:0\n tcp-request inspect-delay 400ms\n\
         tcp-request content accept if {{ req.len ge 5 }}\n tcp-request content reject\n\
         default_backend be\nbackend be\n server s {srv}\n"
    ));
    // Enough bytes arrive in two pieces, inside the delay: accepted, all bytes forwarded.
    let mut c = TcpStream::connect(d.addr()).await.unwrap();
    c.write_all(b"ab").await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    c.write_all(b"cde").await.unwrap();
    c.shutdown().await.unwrap();
    assert_eq!(read_all(&mut c).await, b"abcde");
    // Too few bytes: rejected when the delay passes, silently, without a server connection.
    let started = Instant::now();
    let mut c = TcpStream::connect(d.addr()).await.unwrap();
    c.write_all(b"ab").await.unwrap();
    assert_eq!(read_all(&mut c).await, b"");
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(350), "{waited:?}");
    assert_eq!(accepted.load(Ordering::SeqCst), 1);
    assert_eq!(d.counters[0].denied_req.load(Ordering::Relaxed), 1);
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn use_backend_routes_on_the_tls_server_name() {
    let (a, _) = tag_server(b"A:").await;
    let (b, _) = tag_server(b"B:").await;
    let d = start(&format!(
        "{DEFAULTS}frontend fe\n bind 127.0.0.1:0\n tcp-request inspect-delay 2s\n\
         tcp-request content accept if {{ req.ssl_sni -m found }}\n\
         use_backend be_a if {{ req.ssl_sni -i a.example }}\n default_backend be_b\n\
         backend be_a\n server s {a}\nbackend be_b\n server s {b}\n"
    ));
    for (name, tag) in [("A.example", &b"A:"[..]), ("b.example", &b"B:"[..])] {
        let hello = client_hello(name);
        let mut c = TcpStream::connect(d.addr()).await.unwrap();
        // The hello arrives in two segments: the rules wait for the whole record.
        c.write_all(&hello[..10]).await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        c.write_all(&hello[10..]).await.unwrap();
        c.shutdown().await.unwrap();
        let got = read_all(&mut c).await;
        assert_eq!(&got[..2], tag, "{name}");
        assert_eq!(&got[2..], &hello[..], "the hello is forwarded intact");
    }
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn content_reject_in_an_http_frontend_closes_without_a_response() {
    let d = start(
        "defaults\n mode http\n timeout connect 2s\n timeout client 5s\n timeout server 5s\n\
         frontend fe\n bind 127.0.0.1:0\n tcp-request content accept if { hdr(x-pass) yes }\n\
         tcp-request content reject if { path /admin }\n\
         http-request return status 200 content-type text/plain string ok\n",
    );
    let mut c = TcpStream::connect(d.addr()).await.unwrap();
    c.write_all(b"GET /admin HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    assert_eq!(read_all(&mut c).await, b"");
    // Per request: a keep-alive connection is cut on its second request.
    let mut c = TcpStream::connect(d.addr()).await.unwrap();
    c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /admin HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let out = String::from_utf8(read_all(&mut c).await).unwrap();
    assert!(
        out.starts_with("HTTP/1.1 200") && out.ends_with("ok"),
        "{out}"
    );
    assert_eq!(out.matches("HTTP/1.1").count(), 1, "{out}");
    // An earlier `accept` ends the content rules.
    let mut c = TcpStream::connect(d.addr()).await.unwrap();
    c.write_all(b"GET /admin HTTP/1.1\r\nHost: x\r\nX-Pass: yes\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let out = String::from_utf8(read_all(&mut c).await).unwrap();
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
    assert_eq!(d.counters[0].denied_req.load(Ordering::Relaxed), 2);
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_rules_see_the_address_from_the_proxy_header() {
    let (srv, _) = tag_server(b"").await;
    let d = start(&format!(
        "{DEFAULTS}frontend fe\n bind 127.0.0.1:0 accept-proxy\n\
         tcp-request connection reject if {{ src 192.0.2.9 }}\n\
         tcp-request session reject if {{ src 192.0.2.9 }}\n\
         default_backend be\nbackend be\n server s {srv}\n"
    ));
    for (src, expect) in [("192.0.2.8", &b"hi"[..]), ("192.0.2.9", &b""[..])] {
        let header = encode_v2(&ProxyHeader::Tcp {
            src: format!("{src}:1000").parse().unwrap(),
            dst: "127.0.0.1:80".parse().unwrap(),
        });
        let mut c = TcpStream::connect(d.addr()).await.unwrap();
        c.write_all(&header).await.unwrap();
        let _ = c.write_all(b"hi").await;
        let _ = c.shutdown().await;
        assert_eq!(read_all(&mut c).await, expect, "{src}");
    }
    let c = &d.counters[0];
    eventually(|| c.denied_sess.load(Ordering::Relaxed) == 1).await;
    assert_eq!(
        c.denied_conn.load(Ordering::Relaxed),
        0,
        "connection rules see the real peer"
    );
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_buffer_ends_the_inspection_at_bufsize_minus_maxrewrite() {
    let (srv, _) = tag_server(b"").await;
    let d = start(&format!(
        "{DEFAULTS}frontend fe\n bind 127.0.0.1:0\n tcp-request inspect-delay 1500ms\n\
         tcp-request content reject unless {{ req.len ge 20000 }}\n default_backend be\nbackend be\n server s {srv}\n"
    ));
    // Measured on HAProxy 2.6.12: 15,359 bytes wait for the delay, 15,360 are decided at once.
    for (n, waits) in [(15359usize, true), (15360, false)] {
        let started = Instant::now();
        let mut c = TcpStream::connect(d.addr()).await.unwrap();
        c.write_all(&vec![b'x'; n]).await.unwrap();
        assert_eq!(read_all(&mut c).await, b"");
        let took = started.elapsed();
        assert_eq!(
            took >= Duration::from_millis(1400),
            waits,
            "{n} bytes: {took:?}"
        );
    }
    d.stop().await;
}

/// An HTTP server answering `H` to every request, one request per connection.
async fn http_server() -> SocketAddr {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut b = [0u8; 512];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tokio::io::AsyncReadExt::read(&mut s, &mut b).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&b[..n]),
                    }
                }
                let _ = s
                    .write_all(
                        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nConnection: close\r\n\r\nH",
                    )
                    .await;
            });
        }
    });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn switch_mode_http_routes_with_the_frontends_http_rules() {
    let h = http_server().await;
    let (t, _) = tag_server(b"T:").await;
    let d = start(&format!(
        "defaults\n timeout connect 2s\n timeout client 5s\n timeout server 5s\n\
         frontend fe\n mode tcp\n bind 127.0.0.1:0\n tcp-request inspect-delay 2s\n\
         tcp-request content switch-mode http proto h1 if HTTP\n\
         http-request return status 200 content-type text/plain string up if {{ path /up }}\n\
         use_backend bh if {{ path /be }}\n default_backend bt\n\
         backend bh\n mode http\n server s {h}\nbackend bt\n mode tcp\n server s {t}\n"
    ));
    let mut out = Vec::new();
    for path in ["/up", "/be", "/other"] {
        let mut c = TcpStream::connect(d.addr()).await.unwrap();
        c.write_all(
            format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await
        .unwrap();
        out.push(String::from_utf8(read_all(&mut c).await).unwrap());
    }
    assert!(
        out[0].starts_with("HTTP/1.1 200 OK\r\n") && out[0].ends_with("up"),
        "{}",
        out[0]
    );
    assert!(
        out[1].starts_with("HTTP/1.1 200 OK\r\n") && out[1].ends_with("H"),
        "{}",
        out[1]
    );
    // HAProxy closes silently when an HTTP stream is routed to a TCP backend; we answer 503
    // (docs/compat.md).
    assert!(out[2].starts_with("HTTP/1.1 503"), "{}", out[2]);
    // Without HTTP, no switch: plain TCP to the default backend.
    let mut c = TcpStream::connect(d.addr()).await.unwrap();
    c.write_all(b"raw").await.unwrap();
    c.shutdown().await.unwrap();
    assert_eq!(read_all(&mut c).await, b"T:raw");
    d.stop().await;
}
