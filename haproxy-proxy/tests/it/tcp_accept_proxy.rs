//! TCP mode end to end through the public API: a listener gated by maxconn, `accept-proxy` on
//! input, `send-proxy-v2` toward the server, forwarding and the stream's facts.

use std::net::SocketAddr;
use std::time::Duration;

use haproxy_proxy::listener::{Accepted, BindOptions, BindTarget, ConnGate, bind};
use haproxy_proxy::proxy_proto::{ProxyHeader, encode_v1, read_header};
use haproxy_proxy::tcp::serve_tcp;
use haproxy_proxy::{
    BackendSettings, ConnMode, Mode, PickServer, SendProxy, ServerSettings, StreamView, Timeouts,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

struct First;
impl PickServer for First {
    fn pick(&self, _b: usize, _s: &StreamView<'_>, _a: Option<usize>) -> Option<usize> {
        Some(0)
    }
}

#[tokio::test]
async fn accept_proxy_in_send_proxy_v2_out() {
    // The server reads the PROXY v2 header, then echoes.
    let server = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server_addr = server.local_addr().unwrap();
    let seen = tokio::spawn(async move {
        let (mut s, _) = server.accept().await.unwrap();
        let (header, rest) = read_header(&mut s, Duration::from_secs(2)).await.unwrap();
        s.write_all(&rest).await.unwrap();
        let (mut r, mut w) = s.split();
        tokio::io::copy(&mut r, &mut w).await.unwrap();
        header
    });
    let backend = BackendSettings {
        name: "be".into(),
        mode: Mode::Tcp,
        timeouts: Timeouts {
            connect: Some(Duration::from_secs(1)),
            server: Some(Duration::from_secs(2)),
            ..Timeouts::default()
        },
        conn_mode: ConnMode::KeepAlive,
        retries: 0,
        redispatch: false,
        redispatch_interval: -1,
        forwardfor: None,
        originalto: None,
        servers: vec![ServerSettings {
            name: "s1".into(),
            addr: server_addr,
            maxconn: 0,
            maxqueue: 0,
            weight: 1,
            backup: false,
            send_proxy: Some(SendProxy::V2),
            port_offset: None,
        }],
        errors: haproxy_proxy::errors::ErrorPages::new(),
        reuse: haproxy_cfg::model::HttpReuse::Safe,
        no_delay: false,
        buffer_request: false,
        stats: None,
        rules: Default::default(),
        case_adjust: None,
    };
    let listener = bind(
        &BindTarget::Tcp("127.0.0.1:0".parse().unwrap()),
        &BindOptions::default(),
    )
    .unwrap();
    let front_addr = listener.local_addr().unwrap();
    let gate = ConnGate::new(10);
    let proxy = tokio::spawn(async move {
        let _permit = ConnGate::acquire_all(std::slice::from_ref(&gate)).await;
        let Accepted::Tcp(mut client, _peer) = listener.accept().await.unwrap() else {
            panic!("tcp expected")
        };
        let (header, pending) = read_header(&mut client, Duration::from_secs(2))
            .await
            .unwrap();
        let ProxyHeader::Tcp { src, dst } = header else {
            panic!("addresses expected")
        };
        let view = StreamView {
            src,
            dst,
            request: None,
        };
        let fe = Timeouts {
            client: Some(Duration::from_secs(2)),
            ..Timeouts::default()
        };
        serve_tcp(client, &pending, &view, &fe, &backend, 0, &First).await
    });
    let original = ProxyHeader::Tcp {
        src: "192.0.2.7:4321".parse::<SocketAddr>().unwrap(),
        dst: "198.51.100.1:443".parse().unwrap(),
    };
    let mut c = TcpStream::connect(front_addr).await.unwrap();
    let mut first = encode_v1(&original);
    first.extend_from_slice(b"hello ");
    c.write_all(&first).await.unwrap();
    c.write_all(b"world").await.unwrap();
    c.shutdown().await.unwrap();
    let mut echoed = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), c.read_to_end(&mut echoed))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(echoed, b"hello world");
    assert_eq!(
        seen.await.unwrap(),
        original,
        "the server learns the original client from PROXY v2"
    );
    let facts = proxy.await.unwrap();
    assert_eq!((facts.bytes_in, facts.bytes_out), (11, 11));
    assert_eq!(facts.termination.to_string(), "--");
    assert!(facts.timers.tc.is_some() && facts.timers.tt.is_some());
}
