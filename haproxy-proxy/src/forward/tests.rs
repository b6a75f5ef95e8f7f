use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::*;

/// A connected loopback pair.
async fn pair() -> (TcpStream, TcpStream) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let a = TcpStream::connect(l.local_addr().unwrap()).await.unwrap();
    let (b, _) = l.accept().await.unwrap();
    (a, b)
}

const T: Option<Duration> = Some(Duration::from_secs(5));

#[tokio::test]
async fn copies_both_ways_and_propagates_half_close() {
    let (mut client, proxy_c) = pair().await;
    let (proxy_s, mut server) = pair().await;
    let timeouts = ForwardTimeouts {
        client: T,
        server: T,
        ..ForwardTimeouts::default()
    };
    let task = tokio::spawn(forward(proxy_c, proxy_s, timeouts));
    let big = vec![7u8; 200_000];
    client.write_all(&big).await.unwrap();
    client.shutdown().await.unwrap();
    let mut got = Vec::new();
    server.read_to_end(&mut got).await.unwrap(); // sees the FIN after the data
    assert_eq!(got.len(), big.len());
    // The other direction still flows after the client's half-close.
    server.write_all(b"reply after fin").await.unwrap();
    server.shutdown().await.unwrap();
    let mut back = Vec::new();
    client.read_to_end(&mut back).await.unwrap();
    assert_eq!(back, b"reply after fin");
    let out = task.await.unwrap();
    assert_eq!(out.client_to_server, 200_000);
    assert_eq!(out.server_to_client, 15);
    assert_eq!(out.termination.to_string(), "--");
}

#[tokio::test]
async fn idle_client_times_out_as_cd() {
    let (_client, proxy_c) = pair().await;
    let (proxy_s, _server) = pair().await;
    let t = ForwardTimeouts {
        client: Some(Duration::from_millis(100)),
        server: T,
        ..ForwardTimeouts::default()
    };
    let out = tokio::time::timeout(Duration::from_secs(3), forward(proxy_c, proxy_s, t))
        .await
        .unwrap();
    assert_eq!(out.termination.to_string(), "cD");
}

#[tokio::test]
async fn idle_server_times_out_as_sd() {
    let (_client, proxy_c) = pair().await;
    let (proxy_s, _server) = pair().await;
    let t = ForwardTimeouts {
        client: T,
        server: Some(Duration::from_millis(100)),
        ..ForwardTimeouts::default()
    };
    let out = tokio::time::timeout(Duration::from_secs(3), forward(proxy_c, proxy_s, t))
        .await
        .unwrap();
    assert_eq!(out.termination.to_string(), "sD");
}

#[tokio::test]
async fn a_one_way_download_keeps_the_client_side_active() {
    let (mut client, proxy_c) = pair().await;
    let (proxy_s, mut server) = pair().await;
    let short = Some(Duration::from_millis(150));
    let t = ForwardTimeouts {
        client: short,
        server: T,
        ..ForwardTimeouts::default()
    };
    let task = tokio::spawn(forward(proxy_c, proxy_s, t));
    for _ in 0..6 {
        server.write_all(b"tick").await.unwrap();
        tokio::time::sleep(Duration::from_millis(60)).await;
    }
    server.shutdown().await.unwrap();
    client.shutdown().await.unwrap();
    let mut got = Vec::new();
    client.read_to_end(&mut got).await.unwrap();
    assert_eq!(got.len(), 24);
    assert_eq!(task.await.unwrap().termination.to_string(), "--");
}

#[tokio::test]
async fn client_fin_timeout_applies_after_half_close() {
    let (mut client, proxy_c) = pair().await;
    let (proxy_s, _server) = pair().await;
    let t = ForwardTimeouts {
        client: T,
        server: T,
        client_fin: Some(Duration::from_millis(100)),
        server_fin: None,
    };
    let task = tokio::spawn(forward(proxy_c, proxy_s, t));
    client.shutdown().await.unwrap();
    let out = tokio::time::timeout(Duration::from_secs(3), task)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(out.termination.to_string(), "cD");
}

#[tokio::test]
async fn server_reset_is_blamed_on_the_server() {
    let (mut client, proxy_c) = pair().await;
    let (proxy_s, server) = pair().await;
    let task = tokio::spawn(forward(
        proxy_c,
        proxy_s,
        ForwardTimeouts {
            client: T,
            server: T,
            ..Default::default()
        },
    ));
    socket2::SockRef::from(&server)
        .set_linger(Some(Duration::ZERO))
        .unwrap();
    drop(server); // RST
    tokio::time::sleep(Duration::from_millis(50)).await;
    let _ = client.write_all(b"x").await;
    let out = tokio::time::timeout(Duration::from_secs(3), task)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(out.termination.side.code(), 'S');
}

#[tokio::test]
async fn a_slow_receiver_gets_every_byte_in_order() {
    let (mut client, proxy_c) = pair().await;
    let (proxy_s, mut server) = pair().await;
    let task = tokio::spawn(forward(proxy_c, proxy_s, ForwardTimeouts::default()));
    // More than the socket buffers hold, so writes block and bytes wait in the direction's buffer.
    let data: Vec<u8> = (0..4_000_000u32).map(|i| (i % 251) as u8).collect();
    let sent = data.clone();
    let writer = tokio::spawn(async move {
        client.write_all(&sent).await.unwrap();
        client.shutdown().await.unwrap();
        client
    });
    let mut got = Vec::new();
    let mut chunk = vec![0u8; 1000];
    for _ in 0..100_000 {
        let n = server.read(&mut chunk).await.unwrap();
        if n == 0 {
            break;
        }
        got.extend_from_slice(&chunk[..n]);
        if got.len() % 50_000 < 1000 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    assert_eq!(got.len(), data.len());
    assert!(got == data, "bytes reordered or altered");
    let _client = writer.await.unwrap();
    server.shutdown().await.unwrap();
    let out = tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(out.client_to_server, data.len() as u64);
}

#[test]
fn tunnel_timeout_replaces_both_sides() {
    let t = ForwardTimeouts {
        client: T,
        server: T,
        ..Default::default()
    }
    .tunnel(Some(Duration::from_secs(60)));
    assert_eq!(
        (t.client, t.server),
        (Some(Duration::from_secs(60)), Some(Duration::from_secs(60)))
    );
}

#[test]
fn timeouts_keep_their_exact_value_and_unset_or_huge_ones_never_strike() {
    let d = Duration::new(3, 123_456_789);
    assert_eq!(from_nanos(to_nanos(Some(d))), Some(d));
    assert_eq!(from_nanos(to_nanos(None)), None);
    // Past what 64 bits of nanoseconds hold (584 years): no timeout.
    assert_eq!(from_nanos(to_nanos(Some(Duration::MAX))), None);
    // The longest timeout kept, at the limit.
    let longest = Duration::from_nanos(NO_TIMEOUT - 1);
    assert_eq!(from_nanos(to_nanos(Some(longest))), Some(longest));
}

/// The most bytes the state of a stream forwarded between two TCP sockets may take: it is what an
/// idle TCP pair keeps (memory per idle TCP pair, issue 5).
const FORWARD_STATE_BUDGET: usize = 256;

#[tokio::test]
async fn the_forwarding_state_of_an_idle_stream_is_small() {
    let (_client, proxy_c) = pair().await;
    let (proxy_s, _server) = pair().await;
    let f = forward(proxy_c, proxy_s, ForwardTimeouts::default());
    let size = std::mem::size_of_val(&f);
    assert!(size <= FORWARD_STATE_BUDGET, "{size} bytes");
}
