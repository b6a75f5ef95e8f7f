//! TCP mode through the daemon path: half-close propagation, byte counters, `timeout
//! client-fin/server-fin/tunnel`, `send-proxy` / `send-proxy-v2` toward servers, and the upgrade
//! of a TCP frontend's connection to HTTP when it switches to an HTTP backend.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use haproxy_proxy::proxy_proto::ProxyHeader;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

use crate::daemon::{WAIT, eventually, read_all, start, tag_server};
use crate::support::proxy_header_echo;

fn cfg(timeouts: &str, server: SocketAddr, server_opts: &str) -> String {
    format!(
        "defaults\n mode tcp\n timeout connect 2s\n{timeouts}\
         frontend fe\n bind 127.0.0.1:0\n default_backend be\n\
         backend be\n server s {server}{server_opts}\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_close_reaches_the_server_and_the_answer_still_flows_back() {
    // The server answers only after the client's FIN.
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let srv = l.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut s, _) = l.accept().await.unwrap();
        let mut got = Vec::new();
        s.read_to_end(&mut got).await.unwrap();
        s.write_all(format!("got {} bytes", got.len()).as_bytes())
            .await
            .unwrap();
        s.shutdown().await.unwrap();
    });
    let d = start(&cfg(" timeout client 5s\n timeout server 5s\n", srv, ""));
    let mut c = TcpStream::connect(d.addr()).await.unwrap();
    c.write_all(b"hello").await.unwrap();
    c.shutdown().await.unwrap();
    assert_eq!(read_all(&mut c).await, b"got 5 bytes");
    let k = &d.counters[0];
    eventually(|| k.bytes_out.load(Ordering::Relaxed) == 11).await;
    assert_eq!(k.bytes_in.load(Ordering::Relaxed), 5);
    d.stop().await;
}

/// A server that sends `x`, shuts its write side and then waits; reports how long until the
/// proxy closed the connection on it.
async fn fin_then_wait() -> (SocketAddr, oneshot::Receiver<Duration>) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let (tx, rx) = oneshot::channel();
    tokio::spawn(async move {
        let (mut s, _) = l.accept().await.unwrap();
        s.write_all(b"x").await.unwrap();
        s.shutdown().await.unwrap();
        let started = Instant::now();
        let mut sink = Vec::new();
        let _ = s.read_to_end(&mut sink).await;
        let _ = tx.send(started.elapsed());
    });
    (addr, rx)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_fin_cuts_an_idle_half_closed_client() {
    for (fin, cut) in [(" timeout client-fin 300ms\n", true), ("", false)] {
        let (srv, closed) = fin_then_wait().await;
        let d = start(&cfg(
            &format!(" timeout client 4s\n timeout server 20s\n{fin}"),
            srv,
            "",
        ));
        let mut c = TcpStream::connect(d.addr()).await.unwrap();
        let mut one = [0u8; 1];
        c.read_exact(&mut one).await.unwrap();
        let mut rest = Vec::new();
        c.read_to_end(&mut rest).await.unwrap(); // the server's FIN reaches the client
        // The client never closes: client-fin (else client) decides when the stream ends.
        let took = tokio::time::timeout(WAIT, closed).await.unwrap().unwrap();
        if cut {
            assert!(took < Duration::from_secs(2), "client-fin: {took:?}");
        } else {
            assert!(took >= Duration::from_secs(3), "timeout client: {took:?}");
        }
        drop(c);
        d.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_fin_cuts_an_idle_half_closed_server() {
    // The server never answers nor closes after the client's FIN.
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let srv = l.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut s, _) = l.accept().await.unwrap();
        let mut sink = Vec::new();
        let _ = s.read_to_end(&mut sink).await;
        tokio::time::sleep(WAIT).await;
    });
    let d = start(&cfg(
        " timeout client 20s\n timeout server 20s\n timeout server-fin 300ms\n",
        srv,
        "",
    ));
    let started = Instant::now();
    let mut c = TcpStream::connect(d.addr()).await.unwrap();
    c.write_all(b"bye").await.unwrap();
    c.shutdown().await.unwrap();
    assert_eq!(read_all(&mut c).await, b"");
    let took = started.elapsed();
    assert!(took < Duration::from_secs(3), "{took:?}");
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeout_tunnel_supersedes_client_and_server() {
    let (srv, _) = tag_server(b"").await;
    for (tunnel, survives) in [(" timeout tunnel 5s\n", true), ("", false)] {
        let d = start(&cfg(
            &format!(" timeout client 200ms\n timeout server 200ms\n{tunnel}"),
            srv,
            "",
        ));
        let mut c = TcpStream::connect(d.addr()).await.unwrap();
        let mut buf = [0u8; 2];
        c.write_all(b"a1").await.unwrap();
        c.read_exact(&mut buf).await.unwrap();
        tokio::time::sleep(Duration::from_millis(700)).await;
        let _ = c.write_all(b"b2").await;
        let second = tokio::time::timeout(WAIT, c.read(&mut buf)).await.unwrap();
        match second {
            Ok(2) => assert!(survives, "cut by timeout client/server"),
            _ => assert!(!survives, "timeout tunnel keeps an idle stream"),
        }
        d.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_proxy_v1_and_v2_tell_the_server_who_the_client_is() {
    for opt in [" send-proxy", " send-proxy-v2"] {
        let (srv, seen) = proxy_header_echo().await;
        let d = start(&cfg(" timeout client 5s\n timeout server 5s\n", srv, opt));
        let mut c = TcpStream::connect(d.addr()).await.unwrap();
        c.write_all(b"data").await.unwrap();
        let mut back = [0u8; 4];
        c.read_exact(&mut back).await.unwrap();
        assert_eq!(
            &back, b"data",
            "{opt}: bytes after the header are the client's"
        );
        let header = tokio::time::timeout(WAIT, seen).await.unwrap().unwrap();
        assert_eq!(
            header,
            ProxyHeader::Tcp {
                src: c.local_addr().unwrap(),
                dst: d.addr(),
            },
            "{opt}"
        );
        d.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tcp_frontend_upgrades_to_an_http_backend() {
    // An HTTP server that records each request head and answers `ok`, keeping the connection.
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let srv = l.local_addr().unwrap();
    let (tx, mut heads) = tokio::sync::mpsc::unbounded_channel::<String>();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                loop {
                    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                        let mut chunk = [0u8; 1024];
                        match s.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    let end = buf.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
                    let head: Vec<u8> = buf.drain(..end).collect();
                    let _ = tx.send(String::from_utf8_lossy(&head).into_owned());
                    if s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    let d = start(&format!(
        "defaults\n timeout connect 2s\n timeout client 5s\n timeout server 5s\n\
         frontend fe\n mode tcp\n bind 127.0.0.1:0\n default_backend be\n\
         backend be\n mode http\n option forwardfor\n server s {srv}\n"
    ));
    let mut c = TcpStream::connect(d.addr()).await.unwrap();
    c.write_all(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let want = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
    let mut first = [0u8; 40];
    tokio::time::timeout(WAIT, c.read_exact(&mut first))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&first, want);
    // Every request of the connection is HTTP-processed, as HAProxy 2.6 does after the upgrade.
    c.write_all(b"GET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let rest = String::from_utf8(read_all(&mut c).await).unwrap();
    assert!(
        rest.starts_with("HTTP/1.1 200 OK\r\n") && rest.ends_with("ok"),
        "{rest}"
    );
    // What HAProxy 2.6.12 sent its server for the first request with this configuration.
    let head = tokio::time::timeout(WAIT, heads.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        head,
        "GET /a HTTP/1.1\r\nhost: x\r\nx-forwarded-for: 127.0.0.1\r\n\r\n"
    );
    let head = tokio::time::timeout(WAIT, heads.recv())
        .await
        .unwrap()
        .unwrap();
    assert!(head.starts_with("GET /b HTTP/1.1\r\n"), "{head}");
    assert!(
        head.contains("\r\nx-forwarded-for: 127.0.0.1\r\n"),
        "{head}"
    );
    d.stop().await;
}
