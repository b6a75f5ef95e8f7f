//! The PROXY protocol bytes a server receives (`send-proxy`, `send-proxy-v2`; issue 5, point 4),
//! byte for byte, through real HAProxy 2.6 and through ours.
//!
//! For a direct client the expected header is built from the client's and the frontend's
//! addresses (each engine's own) and both engines must send exactly that. Behind `accept-proxy`
//! the addresses come from the header the client sends, so the bytes do not depend on the run:
//! HAProxy's are recorded in tests/data/haproxy-2.6/proxy-bytes/ (see its README) and ours must
//! equal them, HAProxy installed or not.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

use crate::differential::start_haproxy_with;
use crate::engines::start_ours_with;

/// Every exchange ends within this.
const DEADLINE: Duration = Duration::from_secs(10);
/// Most bytes an origin keeps before the request.
const MAX_PREFIX: usize = 1024;
const GET: &[u8] = b"GET /p HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
/// The PROXY v2 signature.
const SIG: &[u8] = b"\r\n\r\n\0\r\nQUIT\n";

/// An origin that sends, for each connection carrying a request, the bytes before it (the
/// PROXY header), and answers `ok`. Connections without a request (HAProxy's start-up probe
/// reaches the server in TCP mode) are not reported.
async fn origin() -> (SocketAddr, mpsc::UnboundedReceiver<Vec<u8>>) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 1024];
                // Up to the end of the forwarded head (HTTP mode lowercases header names, so
                // its request line is looked for); a v2 signature starts with a blank line too.
                let at = loop {
                    if let Some(at) = buf.windows(7).position(|w| w == b"GET /p ")
                        && buf[at..].windows(4).any(|w| w == b"\r\n\r\n")
                    {
                        break at;
                    }
                    if buf.len() > MAX_PREFIX {
                        return;
                    }
                    match s.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                };
                let _ = tx.send(buf[..at].to_vec());
                let _ = s
                    .write_all(
                        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
                    )
                    .await;
            });
        }
    });
    (addr, rx)
}

fn config(mode: &str, bind: &str, server: &str) -> String {
    format!(
        "defaults\n  mode {mode}\n  timeout client 5s\n  timeout connect 1s\n  timeout server 5s\n\
         frontend fe\n  bind 127.0.0.1:PORT{bind}\n  default_backend be\n\
         backend be\n  server s1 {server}\n"
    )
}

/// Sends `prefix` and a request through the proxy at `proxy`; the client's own address and
/// the bytes the origin saw before the request.
async fn through(
    proxy: SocketAddr,
    prefix: &[u8],
    seen: &mut mpsc::UnboundedReceiver<Vec<u8>>,
    what: &str,
) -> (SocketAddr, Vec<u8>) {
    let run = async {
        let mut c = TcpStream::connect(proxy).await.unwrap();
        let mut req = prefix.to_vec();
        req.extend_from_slice(GET);
        c.write_all(&req).await.unwrap();
        let mut answer = Vec::new();
        c.read_to_end(&mut answer).await.unwrap();
        assert!(
            answer.ends_with(b"ok"),
            "{what}: {:?}",
            String::from_utf8_lossy(&answer)
        );
        let me = c.local_addr().unwrap();
        (me, seen.recv().await.unwrap())
    };
    tokio::time::timeout(DEADLINE, run).await.unwrap()
}

/// The header a direct IPv4 client at `src` connected to `dst` must produce.
fn expected(v2: bool, src: SocketAddr, dst: SocketAddr) -> Vec<u8> {
    if !v2 {
        return format!(
            "PROXY TCP4 {} {} {} {}\r\n",
            src.ip(),
            dst.ip(),
            src.port(),
            dst.port()
        )
        .into_bytes();
    }
    let octets = |a: SocketAddr| match a.ip() {
        std::net::IpAddr::V4(ip) => ip.octets(),
        std::net::IpAddr::V6(_) => unreachable!("the test runs on 127.0.0.1"),
    };
    let mut out = SIG.to_vec();
    out.extend_from_slice(&[0x21, 0x11, 0, 12]);
    out.extend_from_slice(&octets(src));
    out.extend_from_slice(&octets(dst));
    out.extend_from_slice(&src.port().to_be_bytes());
    out.extend_from_slice(&dst.port().to_be_bytes());
    out
}

/// The cases whose header carries the real connection's addresses: mode, server option,
/// bind option and what the client sends first. A `PROXY UNKNOWN` header received on
/// `accept-proxy` leaves the connection's own addresses in place (HAProxy 2.6.12 sends them).
const DIRECT: &[(&str, &str, &str, &[u8])] = &[
    ("http", "send-proxy", "", b""),
    ("http", "send-proxy-v2", "", b""),
    ("tcp", "send-proxy", "", b""),
    ("tcp", "send-proxy-v2", "", b""),
    ("http", "send-proxy", " accept-proxy", b"PROXY UNKNOWN\r\n"),
    (
        "http",
        "send-proxy-v2",
        " accept-proxy",
        b"PROXY UNKNOWN\r\n",
    ),
    (
        "tcp",
        "send-proxy-v2",
        " accept-proxy",
        b"PROXY UNKNOWN\r\n",
    ),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn direct_clients_get_the_header_their_addresses_make_in_both_engines() {
    for &(mode, opt, bind, prefix) in DIRECT {
        let v2 = opt.ends_with("v2");
        let what = format!("{mode} {opt}{bind} {:?}", String::from_utf8_lossy(prefix));
        let (srv, mut seen) = origin().await;
        let ours = start_ours_with(&config(mode, bind, &format!("{srv} {opt}")));
        let (me, got) = through(ours.addr, prefix, &mut seen, &format!("ours {what}")).await;
        assert_eq!(got, expected(v2, me, ours.addr), "ours, {what}");
        let (srv, mut seen) = origin().await;
        if let Some(h) = start_haproxy_with(&config(mode, bind, &format!("{srv} {opt}"))).await {
            let (me, got) = through(h.addr, prefix, &mut seen, &format!("haproxy {what}")).await;
            assert_eq!(got, expected(v2, me, h.addr), "haproxy, {what}");
        }
    }
}

/// The `accept-proxy` cases: name, mode, server option, the header the client sends.
fn relayed() -> Vec<(&'static str, &'static str, &'static str, Vec<u8>)> {
    let mut v2_in = SIG.to_vec();
    v2_in.extend_from_slice(&[
        0x21, 0x11, 0, 12, 192, 0, 2, 1, 198, 51, 100, 2, 0x15, 0xb3, 0, 80,
    ]);
    vec![
        (
            "v1 tcp4 to v2",
            "http",
            "send-proxy-v2",
            b"PROXY TCP4 192.0.2.1 198.51.100.2 5555 80\r\n".to_vec(),
        ),
        (
            "v1 tcp6 to v2",
            "http",
            "send-proxy-v2",
            b"PROXY TCP6 2001:db8::1 2001:db8::2 1234 443\r\n".to_vec(),
        ),
        (
            "v1 tcp6 to v1",
            "tcp",
            "send-proxy",
            b"PROXY TCP6 2001:db8::1 2001:db8::2 1234 443\r\n".to_vec(),
        ),
        ("v2 tcp4 to v1", "tcp", "send-proxy", v2_in),
    ]
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn recording(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/haproxy-2.6/proxy-bytes")
        .join(format!("{}.hex", name.replace(' ', "-")))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headers_relayed_from_accept_proxy_match_haproxys_bytes() {
    let record = std::env::var("HAPROXY_RS_RECORD").as_deref() == Ok("1");
    for (name, mode, opt, header) in relayed() {
        let path = recording(name);
        let (srv, mut seen) = origin().await;
        let text = config(mode, " accept-proxy", &format!("{srv} {opt}"));
        let theirs = match start_haproxy_with(&text).await {
            Some(h) => {
                let live = hex(
                    &through(h.addr, &header, &mut seen, &format!("haproxy {name}"))
                        .await
                        .1,
                );
                if record {
                    std::fs::write(&path, format!("{live}\n")).unwrap();
                }
                live
            }
            None => String::new(),
        };
        let recorded = std::fs::read_to_string(&path)
            .unwrap_or_else(|_| panic!("{name}: no recording at {}", path.display()));
        let recorded = recorded.trim_end();
        if !theirs.is_empty() {
            assert_eq!(theirs, recorded, "{name}: haproxy vs its recording");
        }
        let (srv, mut seen) = origin().await;
        let ours = start_ours_with(&config(mode, " accept-proxy", &format!("{srv} {opt}")));
        let mine = hex(
            &through(ours.addr, &header, &mut seen, &format!("ours {name}"))
                .await
                .1,
        );
        assert_eq!(recorded, mine, "{name}: haproxy (left) vs ours (right)");
    }
}
