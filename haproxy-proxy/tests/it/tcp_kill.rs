//! A TCP-mode stream cut from outside still counts what it moved, as HAProxy 2.6.12 does: after
//! `shutdown session` on a TCP stream that echoed 5 bytes, its `show stat` reads `bin 5`,
//! `bout 5` and `stot 1` on the frontend, the backend and the server (checked by hand on
//! loopback); ours counted nothing for such a stream. The same holds for streams cut by their
//! server's `shutdown-sessions`, which counted only the bytes sent before forwarding began.

use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use haproxy_proxy::Side;
use haproxy_proxy::registry::Registry;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::daemon::{WAIT, eventually, read_all, start, tag_server};

/// Echoes 5 bytes through a TCP frontend, cuts the stream with `cut`, and checks the client
/// was closed and every level counted the stream and its bytes.
async fn cut_stream_counts(server_opts: &str, cut: impl FnOnce(&Registry, u64)) {
    // An empty tag: the server only echoes.
    let (srv, _) = tag_server(b"").await;
    let d = start(&format!(
        "defaults\n mode tcp\n timeout connect 2s\n timeout client 10s\n timeout server 10s\n\
         frontend fe\n bind 127.0.0.1:0\n default_backend be\n\
         backend be\n server s {srv}{server_opts}\n"
    ));
    let mut c = TcpStream::connect(d.addr()).await.unwrap();
    c.write_all(b"hello").await.unwrap();
    let mut got = [0u8; 5];
    tokio::time::timeout(WAIT, c.read_exact(&mut got))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&got, b"hello");
    // Listed with its server once connected.
    let mut id = None;
    for _ in 0..500 {
        id = d
            .registry
            .sessions
            .list()
            .into_iter()
            .find(|s| s.server.is_some())
            .map(|s| s.id);
        if id.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    cut(&d.registry, id.expect("stream listed"));
    assert_eq!(read_all(&mut c).await, b"", "the client is closed");
    let fe = &d.counters[0];
    eventually(|| fe.bytes_in.load(Relaxed) == 5 && fe.bytes_out.load(Relaxed) == 5).await;
    let be = &d.registry.backends[0];
    let sv = &be.servers[0];
    for k in [&be.counters, &sv.counters] {
        assert_eq!(k.sessions_total.load(Relaxed), 1);
        assert_eq!(
            (k.bytes_in.load(Relaxed), k.bytes_out.load(Relaxed)),
            (5, 5)
        );
    }
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_session_counts_the_bytes_a_tcp_stream_moved() {
    cut_stream_counts("", |reg, id| assert!(reg.sessions.kill(id))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_sessions_server_counts_the_bytes_a_tcp_stream_moved() {
    cut_stream_counts("", |reg, _| assert_eq!(reg.sessions.kill_server(0, 0), 1)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_marked_down_shutdown_sessions_counts_the_bytes_a_tcp_stream_moved() {
    // The health checks arm the server's shutdown at start; the check itself (a connect every
    // 10 s) leaves the server up, so the cut is made by hand as a DOWN transition makes it.
    cut_stream_counts(
        " check inter 10s on-marked-down shutdown-sessions",
        |reg, _| {
            reg.backends[0].servers[0].shutdown_sessions(Side::ServerDown);
        },
    )
    .await;
}
