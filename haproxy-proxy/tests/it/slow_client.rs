//! `timeout http-request` (issue 5 acceptance): one client trickling its head a byte per second
//! gets HAProxy's raw 408 page once the timeout expires, while 100 other clients are served
//! normally during that time.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::engines::start_ours_with;
use crate::origin::Origin;

/// The other clients served while the slow one trickles.
const OTHER_CLIENTS: usize = 100;
/// The most bytes the slow client sends (a byte per second) before the test gives up.
const MAX_TRICKLE: usize = 12;
/// How long any one normal request may take before it counts as failed.
const REQUEST_DEADLINE: Duration = Duration::from_secs(5);

async fn one_request(addr: std::net::SocketAddr, i: usize) -> bool {
    let request = async {
        let mut s = TcpStream::connect(addr).await.ok()?;
        s.write_all(
            format!("GET /n{i} HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await
        .ok()?;
        let mut out = Vec::new();
        s.read_to_end(&mut out).await.ok()?;
        Some(out)
    };
    matches!(
        tokio::time::timeout(REQUEST_DEADLINE, request).await,
        Ok(Some(out)) if out.starts_with(b"HTTP/1.1 200 OK\r\n") && out.ends_with(b"ok")
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trickling_client_gets_408_while_100_others_are_served() {
    let origin = Origin::default();
    let server = origin.start().await;
    let ours = start_ours_with(&format!(
        "defaults\n  mode http\n  timeout client 10s\n  timeout connect 1s\n  timeout server 5s\n  timeout http-request 2s\n\
         frontend fe\n  bind 127.0.0.1:PORT\n  default_backend be\nbackend be\n  server s1 {server}\n"
    ));
    let addr = ours.addr;

    let slow = tokio::spawn(async move {
        let head = b"GET /slow-client HTTP/1.1\r\nHost: h\r\n\r\n";
        let mut s = TcpStream::connect(addr).await.unwrap();
        let mut sent = 0usize;
        let mut out = Vec::new();
        let mut chunk = [0u8; 512];
        while sent < MAX_TRICKLE {
            if s.write_all(&head[sent..=sent]).await.is_err() {
                break;
            }
            sent += 1;
            // Wait a second for the next byte, reading whatever the proxy says meanwhile.
            match tokio::time::timeout(Duration::from_secs(1), s.read(&mut chunk)).await {
                Ok(Ok(0)) | Ok(Err(_)) => break,
                Ok(Ok(n)) => out.extend_from_slice(&chunk[..n]),
                Err(_) => {}
            }
        }
        let _ = tokio::time::timeout(Duration::from_secs(2), s.read_to_end(&mut out)).await;
        (sent, out)
    });

    // The others start while the slow client is still trickling.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let others: Vec<_> = (0..OTHER_CLIENTS)
        .map(|i| tokio::spawn(one_request(addr, i)))
        .collect();
    let mut served = 0usize;
    for o in others {
        served += usize::from(o.await.unwrap());
    }
    let (sent, out) = slow.await.unwrap();

    assert_eq!(served, OTHER_CLIENTS, "every other client is served");
    assert_eq!(
        out,
        haproxy_proxy::errors::raw_h1_page(408).unwrap(),
        "the slow client gets the raw 408 page"
    );
    assert!(
        sent < MAX_TRICKLE,
        "the 408 came before the head was complete ({sent} bytes sent)"
    );
    let seen = origin.take();
    assert_eq!(
        seen.len(),
        OTHER_CLIENTS,
        "only the others reached the server"
    );
    assert!(seen.iter().all(|s| !s.head.contains("/slow-client")));
}
