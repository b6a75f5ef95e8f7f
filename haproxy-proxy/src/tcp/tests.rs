use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::connect::redispatches;
use super::*;
use crate::proxy_proto::{ProxyHeader, read_header};
use crate::route::RetryPolicy;
use crate::settings::{Mode, ServerSettings};

/// Round robin over the servers, skipping `avoid`.
struct RoundRobin {
    n: usize,
    next: AtomicUsize,
}

impl PickServer for RoundRobin {
    fn pick(&self, _b: usize, _s: &StreamView<'_>, avoid: Option<usize>) -> Option<usize> {
        for _ in 0..self.n {
            let i = self.next.fetch_add(1, Ordering::Relaxed) % self.n;
            if Some(i) != avoid {
                return Some(i);
            }
        }
        None
    }
}

fn server(addr: SocketAddr) -> ServerSettings {
    ServerSettings {
        name: "s".into(),
        addr,
        maxconn: 0,
        maxqueue: 0,
        weight: 1,
        backup: false,
        send_proxy: None,
        port_offset: None,
    }
}

fn backend(servers: Vec<ServerSettings>, retries: u32, redispatch: bool) -> BackendSettings {
    BackendSettings {
        name: "be".into(),
        mode: Mode::Tcp,
        timeouts: Timeouts {
            connect: Some(Duration::from_millis(50)),
            server: Some(Duration::from_secs(5)),
            ..Timeouts::default()
        },
        conn_mode: crate::settings::ConnMode::KeepAlive,
        retries,
        redispatch,
        redispatch_interval: -1,
        forwardfor: None,
        originalto: None,
        servers,
        errors: crate::errors::ErrorPages::new(),
        reuse: haproxy_cfg::model::HttpReuse::Safe,
        no_delay: false,
        buffer_request: false,
        stats: None,
        rules: Default::default(),
        case_adjust: None,
    }
}

async fn echo_server() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            tokio::spawn(async move {
                let (mut r, mut w) = s.split();
                let _ = tokio::io::copy(&mut r, &mut w).await;
                let _ = w.shutdown().await;
            });
        }
    });
    addr
}

/// An address nobody listens on.
async fn dead_addr() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    l.local_addr().unwrap()
}

async fn client_pair() -> (TcpStream, TcpStream) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let a = TcpStream::connect(l.local_addr().unwrap()).await.unwrap();
    (a, l.accept().await.unwrap().0)
}

fn view() -> StreamView<'static> {
    StreamView {
        src: "127.0.0.1:1000".parse().unwrap(),
        dst: "127.0.0.1:80".parse().unwrap(),
        request: None,
    }
}

#[tokio::test]
async fn forwards_to_an_echo_server_and_counts_bytes() {
    let be = backend(vec![server(echo_server().await)], 3, false);
    let (mut client, accepted) = client_pair().await;
    let rr = RoundRobin {
        n: 1,
        next: AtomicUsize::new(0),
    };
    let fe = Timeouts {
        client: Some(Duration::from_secs(5)),
        ..Timeouts::default()
    };
    let task =
        tokio::spawn(async move { serve_tcp(accepted, b"pre-", &view(), &fe, &be, 0, &rr).await });
    client.write_all(b"hello").await.unwrap();
    client.shutdown().await.unwrap();
    let mut got = Vec::new();
    client.read_to_end(&mut got).await.unwrap();
    assert_eq!(got, b"pre-hello");
    let facts = task.await.unwrap();
    assert_eq!((facts.bytes_in, facts.bytes_out), (9, 9));
    assert_eq!(facts.termination.to_string(), "--");
    assert_eq!(facts.server, Some(0));
}

#[tokio::test]
async fn refused_everywhere_is_sc_after_the_retries() {
    let be = backend(vec![server(dead_addr().await)], 2, false);
    let rr = RoundRobin {
        n: 1,
        next: AtomicUsize::new(0),
    };
    let err = connect_server(&be, 0, &rr, &view()).await.unwrap_err();
    assert_eq!(err.termination.to_string(), "SC");
    assert_eq!(err.retries, 2);
}

#[tokio::test]
async fn redispatch_sends_the_last_retry_elsewhere() {
    let be = backend(
        vec![server(dead_addr().await), server(echo_server().await)],
        3,
        true,
    );
    let rr = RoundRobin {
        n: 2,
        next: AtomicUsize::new(0),
    };
    let c = connect_server(&be, 0, &rr, &view()).await.unwrap();
    assert_eq!((c.server, c.retries, c.redispatched), (1, 3, true));
}

/// Retries with `option redispatch <interval>` against a dead first server and a live second one
/// (one usable active server as the picker reports it, so only the interval decides): which
/// retry redispatched, or `None` when all of them stayed on the dead server.
async fn redispatch_retry(retries: u32, interval: i64) -> Option<u32> {
    let mut be = backend(
        vec![server(dead_addr().await), server(echo_server().await)],
        retries,
        true,
    );
    be.redispatch_interval = interval;
    let rr = RoundRobin {
        n: 2,
        next: AtomicUsize::new(0),
    };
    match connect_server(&be, 0, &rr, &view()).await {
        Ok(c) => {
            assert_eq!((c.server, c.redispatched), (1, true));
            Some(c.retries)
        }
        Err(e) => {
            assert_eq!(e.termination.to_string(), "SC");
            assert_eq!(e.retries, retries);
            None
        }
    }
}

#[tokio::test]
async fn the_redispatch_interval_picks_the_retry_that_goes_elsewhere() {
    // -1 is the plain option: the last retry.
    assert_eq!(redispatch_retry(3, -1).await, Some(3));
    assert_eq!(redispatch_retry(3, 1).await, Some(1));
    assert_eq!(redispatch_retry(3, 2).await, Some(2));
    // Negative: a multiple of retries + 1 + N (3 + 1 - 2 = 2).
    assert_eq!(redispatch_retry(3, -2).await, Some(2));
    assert_eq!(redispatch_retry(3, -3).await, Some(1));
    // An interval beyond the retries, 0, or a negative one past them never redispatches.
    assert_eq!(redispatch_retry(3, 4).await, None);
    assert_eq!(redispatch_retry(3, 0).await, None);
    assert_eq!(redispatch_retry(3, -4).await, None);
}

#[test]
fn several_active_servers_redispatch_every_retry_whatever_the_interval() {
    let mut be = backend(Vec::new(), 3, true);
    let rr = RetryPolicy {
        several_active: true,
        hashing: false,
    };
    for interval in [-1, 0, 2, 5] {
        be.redispatch_interval = interval;
        assert!((1..=3).all(|r| redispatches(&be, r, rr)), "{interval}");
    }
    // Hashing algorithms follow the interval.
    let hash = RetryPolicy {
        several_active: true,
        hashing: true,
    };
    be.redispatch_interval = 2;
    let which: Vec<u32> = (1..=3).filter(|r| redispatches(&be, *r, hash)).collect();
    assert_eq!(which, [2]);
    // Without the option, never.
    be.redispatch = false;
    assert!(!(1..=3).any(|r| redispatches(&be, r, rr)));
}

#[tokio::test]
async fn send_proxy_v2_reaches_the_server() {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mut s = server(l.local_addr().unwrap());
    s.send_proxy = Some(crate::settings::SendProxy::V2);
    let be = backend(vec![s], 0, false);
    let rr = RoundRobin {
        n: 1,
        next: AtomicUsize::new(0),
    };
    let _c = connect_server(&be, 0, &rr, &view()).await.unwrap();
    let (mut accepted, _) = l.accept().await.unwrap();
    let (h, _) = read_header(&mut accepted, Duration::from_secs(1))
        .await
        .unwrap();
    assert_eq!(
        h,
        ProxyHeader::Tcp {
            src: view().src,
            dst: view().dst
        }
    );
}

#[tokio::test]
async fn no_usable_server_is_sc_without_server() {
    struct NoServer;
    impl PickServer for NoServer {
        fn pick(&self, _b: usize, _s: &StreamView<'_>, _a: Option<usize>) -> Option<usize> {
            None
        }
    }
    let be = backend(vec![], 3, false);
    let err = connect_server(&be, 0, &NoServer, &view())
        .await
        .unwrap_err();
    assert_eq!(
        (err.termination.to_string(), err.server),
        ("SC".to_owned(), None)
    );
}

/// The most bytes the state of a TCP stream may take once its server is connected: the
/// forwarding state plus the slot and the facts logged at the end, the queue and connect stage
/// being boxed apart and freed (memory per idle TCP pair, issue 5; it was 1,432 bytes).
const CONNECTED_STATE_BUDGET: usize = 448;

#[tokio::test]
async fn a_tcp_stream_keeps_little_state_once_connected() {
    let be = backend(vec![server(echo_server().await)], 3, false);
    let (mut client, accepted) = client_pair().await;
    let rr = RoundRobin {
        n: 1,
        next: AtomicUsize::new(0),
    };
    let fe = Timeouts::default();
    let serving = serve_tcp_watched(
        accepted,
        b"x".to_vec(),
        view(),
        &fe,
        &be,
        0,
        &rr,
        None,
        |_| None,
        std::future::pending(),
    );
    let size = std::mem::size_of_val(&serving);
    assert!(size <= CONNECTED_STATE_BUDGET, "{size} bytes");
    // And it still serves: the pending byte, then the echo of what the client sends.
    let talk = async {
        client.write_all(b"yz").await.unwrap();
        client.shutdown().await.unwrap();
        let mut got = Vec::new();
        client.read_to_end(&mut got).await.unwrap();
        got
    };
    let (facts, got) = tokio::time::timeout(Duration::from_secs(5), async {
        tokio::join!(serving, talk)
    })
    .await
    .unwrap();
    assert_eq!(got, b"xyz");
    assert_eq!((facts.bytes_in, facts.bytes_out), (3, 3));
}
