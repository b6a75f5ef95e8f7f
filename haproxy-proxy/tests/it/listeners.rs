//! Listeners through the daemon path: every `bind` form the parser accepts, v4v6/v6only,
//! backlog, unix sockets with mode/user/group, abstract sockets, `maxconn` per bind, frontend and global (accepting
//! pauses while full and resumes when a slot frees), and `accept-proxy` v1/v2 in TCP mode.

use std::net::SocketAddr;
use std::time::Duration;

use haproxy_cfg::load::{SystemEnv, load};
use haproxy_cfg::parse_str;
use haproxy_proxy::build::build;
use haproxy_proxy::proxy_proto::{ProxyHeader, encode_v1, encode_v2};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UnixStream};

use crate::daemon::{WAIT, free_port, read_all, start, tag_server};
use crate::scratch::TempDir;
use crate::support::proxy_header_echo;

const DEFAULTS: &str =
    "defaults\n mode tcp\n timeout connect 2s\n timeout client 5s\n timeout server 5s\n";

/// Sends `ping` through `addr` and expects it echoed.
async fn echoes(addr: SocketAddr) -> bool {
    let Ok(Ok(mut c)) = tokio::time::timeout(WAIT, TcpStream::connect(addr)).await else {
        return false;
    };
    if c.write_all(b"ping").await.is_err() || c.shutdown().await.is_err() {
        return false;
    }
    read_all(&mut c).await == b"ping"
}

/// Sends `msg` over `c`, half-closes, and returns what comes back.
async fn unix_echo(mut c: UnixStream, msg: &[u8]) -> Vec<u8> {
    c.write_all(msg).await.unwrap();
    c.shutdown().await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(WAIT, c.read_to_end(&mut out))
        .await
        .unwrap()
        .unwrap();
    out
}

fn ipv6_available() -> bool {
    std::net::TcpListener::bind("[::1]:0").is_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_inet_bind_form_serves() {
    let (srv, _) = tag_server(b"").await;
    let (p_any, p_colon, base) = (free_port(), free_port(), free_port());
    // A range needs consecutive free ports; the base was free, the next two are checked.
    let range_free = (1..3).all(|i| std::net::TcpListener::bind(("127.0.0.1", base + i)).is_ok());
    let mut binds = format!(" bind *:{p_any}\n bind ipv4@:{p_colon}\n");
    if range_free {
        binds.push_str(&format!(" bind 127.0.0.1:{base}-{}\n", base + 2));
    }
    let v6 = ipv6_available();
    let (p6, p46, p6only) = (free_port(), free_port(), free_port());
    if v6 {
        binds.push_str(&format!(
            " bind [::1]:{p6} backlog 8\n bind :::{p46} v4v6\n bind ipv6@:::{p6only} v6only\n"
        ));
    } else {
        eprintln!("skipping the IPv6 forms: no ::1 on this machine");
    }
    let d = start(&format!(
        "{DEFAULTS}frontend fe\n{binds} default_backend be\nbackend be\n server s {srv}\n"
    ));
    let local = |p: u16| SocketAddr::from(([127, 0, 0, 1], p));
    assert!(echoes(local(p_any)).await, "*:port");
    assert!(echoes(local(p_colon)).await, "ipv4@:port");
    if range_free {
        for p in base..=base + 2 {
            assert!(echoes(local(p)).await, "range port {p}");
        }
        assert!(d.addrs.contains(&local(base + 2)));
    }
    if v6 {
        let six = |p: u16| SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, p));
        assert!(echoes(six(p6)).await, "[::1]:port");
        assert!(echoes(six(p46)).await, ":::port v4v6 over IPv6");
        assert!(echoes(local(p46)).await, ":::port v4v6 over IPv4");
        assert!(echoes(six(p6only)).await, "v6only over IPv6");
        assert!(!echoes(local(p6only)).await, "v6only refuses IPv4");
    }
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unix_sockets_get_mode_user_and_group() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let (srv, _) = tag_server(b"").await;
    let dir = TempDir::new("it-unix");
    let path = dir.join("fe.sock");
    let running_as_root = std::fs::metadata("/proc/self").unwrap().uid() == 0;
    let owner = if running_as_root {
        " user nobody gid 65534"
    } else {
        ""
    };
    let d = start(&format!(
        "{DEFAULTS}frontend fe\n bind 127.0.0.1:0\n bind {} mode 640{owner}\n default_backend be\nbackend be\n server s {srv}\n",
        path.display()
    ));
    let meta = std::fs::metadata(&path).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o640);
    if running_as_root {
        assert_eq!((meta.uid(), meta.gid()), (65534, 65534));
    } else {
        eprintln!("not root: user/group ownership not checked");
    }
    let c = UnixStream::connect(&path).await.unwrap();
    assert_eq!(unix_echo(c, b"over unix").await, b"over unix");
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abstract_unix_sockets_serve_on_haproxys_padded_name() {
    use std::os::linux::net::SocketAddrExt;
    let (srv, _) = tag_server(b"").await;
    let name = format!("haproxy-rs-it-{}", std::process::id());
    let d = start(&format!(
        "{DEFAULTS}frontend fe\n bind 127.0.0.1:0\n bind abns@{name}\n default_backend be\nbackend be\n server s {srv}\n"
    ));
    let mut padded = name.into_bytes();
    padded.resize(haproxy_proxy::listener::SUN_PATH_LEN - 1, 0);
    let addr = std::os::unix::net::SocketAddr::from_abstract_name(&padded).unwrap();
    let c = std::os::unix::net::UnixStream::connect_addr(&addr).unwrap();
    c.set_nonblocking(true).unwrap();
    let c = UnixStream::from_std(c).unwrap();
    assert_eq!(unix_echo(c, b"abstract").await, b"abstract");
    d.stop().await;
}

#[test]
fn unknown_owners_and_socket_pairs_are_refused() {
    for (bind, needle) in [
        (
            "/tmp/x.sock user no-such-user-x",
            "'user' : unknown user name 'no-such-user-x'",
        ),
        (
            "/tmp/x.sock group no-such-group-x",
            "'group' : unknown group name 'no-such-group-x'",
        ),
        (
            "sockpair@3",
            "'sockpair@' (sockets received over a socket pair) is not supported",
        ),
    ] {
        let text = format!("{DEFAULTS}frontend fe\n bind {bind}\n");
        let loaded = load(&[parse_str("t.cfg", &text)], &SystemEnv);
        let err = build(&loaded.config).unwrap_err().to_string();
        assert!(err.contains(needle), "{bind}: {err}");
    }
}

/// With two slots, a third connection waits (not accepted, no echo) until one frees.
async fn maxconn_two_pauses_then_resumes(text: &str) {
    let (srv, _) = tag_server(b"").await;
    let d = start(&text.replace("SRV", &srv.to_string()));
    let mut held = Vec::new();
    for i in 0..2u8 {
        let mut c = TcpStream::connect(d.addr()).await.unwrap();
        c.write_all(&[i]).await.unwrap();
        let mut b = [0u8; 1];
        c.read_exact(&mut b).await.unwrap();
        held.push(c);
    }
    let mut third = TcpStream::connect(d.addr()).await.unwrap(); // the kernel backlog takes it
    third.write_all(b"3").await.unwrap();
    let mut b = [0u8; 1];
    let early = tokio::time::timeout(Duration::from_millis(300), third.read_exact(&mut b)).await;
    assert!(early.is_err(), "{text}: served while full");
    drop(held.remove(0));
    tokio::time::timeout(WAIT, third.read_exact(&mut b))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&b, b"3");
    let max = d.counters[0]
        .sessions_max
        .load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!(max, 2, "{text}");
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn maxconn_global_frontend_and_bind_pause_accepting() {
    let tail = " default_backend be\nbackend be\n server s SRV\n";
    maxconn_two_pauses_then_resumes(&format!(
        "global\n maxconn 2\n{DEFAULTS}frontend fe\n bind 127.0.0.1:0\n{tail}"
    ))
    .await;
    maxconn_two_pauses_then_resumes(&format!(
        "{DEFAULTS}frontend fe\n maxconn 2\n bind 127.0.0.1:0\n{tail}"
    ))
    .await;
    maxconn_two_pauses_then_resumes(&format!(
        "{DEFAULTS}frontend fe\n bind 127.0.0.1:0 maxconn 2\n{tail}"
    ))
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accept_proxy_v1_and_v2_in_tcp_mode() {
    for v2 in [false, true] {
        let (srv, seen) = proxy_header_echo().await;
        let d = start(&format!(
            "{DEFAULTS}frontend fe\n bind 127.0.0.1:0 accept-proxy\n default_backend be\nbackend be\n server s {srv} send-proxy-v2\n"
        ));
        let original = ProxyHeader::Tcp {
            src: "192.0.2.44:5555".parse().unwrap(),
            dst: "198.51.100.2:8443".parse().unwrap(),
        };
        let mut first = if v2 {
            encode_v2(&original)
        } else {
            encode_v1(&original)
        };
        first.extend_from_slice(b"payload");
        let mut c = TcpStream::connect(d.addr()).await.unwrap();
        c.write_all(&first).await.unwrap();
        c.shutdown().await.unwrap();
        assert_eq!(read_all(&mut c).await, b"payload", "v2={v2}");
        let header = tokio::time::timeout(WAIT, seen).await.unwrap().unwrap();
        assert_eq!(header, original, "v2={v2}");
        d.stop().await;
    }
}

#[test]
fn backlog_follows_haproxys_order() {
    let data = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/haproxy-2.6/");
    let text = std::fs::read_to_string(format!("{data}backlog.cfg")).unwrap();
    let recorded = std::fs::read_to_string(format!("{data}backlog.txt")).unwrap();
    let mut text = text;
    for (i, name) in ["P1", "P2", "P3", "P4", "P5"].iter().enumerate() {
        text = text.replacen(name, &(20001 + i).to_string(), 1);
    }
    let loaded = load(&[parse_str("backlog.cfg", &text)], &SystemEnv);
    let rt = build(&loaded.config).unwrap();
    let ours: Vec<String> = rt
        .frontends
        .iter()
        .flat_map(|f| f.binds.iter())
        .enumerate()
        .map(|(i, b)| format!("P{} {}", i + 1, b.options.backlog.unwrap()))
        .collect();
    assert_eq!(ours, recorded.lines().collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inherited_sockets_are_served() {
    use std::os::fd::AsRawFd;
    let (srv, _) = tag_server(b"").await;
    // Sockets this process holds stand for the ones a parent would pass down.
    let tcp = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    if let Err(e) = haproxy_proxy::listener::inherited_fd(tcp.as_raw_fd()) {
        // A container's seccomp profile may forbid pidfd_getfd without CAP_SYS_PTRACE.
        assert!(matches!(e.raw_os_error(), Some(1 | 38)), "{e}");
        eprintln!("skipping: pidfd_getfd is not permitted here ({e})");
        return;
    }
    let dir = TempDir::new("it-fd");
    let path = dir.join("inherited.sock");
    let _ = std::fs::remove_file(&path);
    let unix = std::os::unix::net::UnixListener::bind(&path).unwrap();
    let d = start(&format!(
        // `fd@${VAR}` as a parent passes it; the variable is unset here, so its default applies.
        "{DEFAULTS}frontend fe\n bind \"fd@${{HAPROXY_RS_IT_UNSET_FD-{}}}\"\n bind fd@{}\n default_backend be\nbackend be\n server s {srv}\n",
        tcp.as_raw_fd(),
        unix.as_raw_fd()
    ));
    assert_eq!(d.addrs, [tcp.local_addr().unwrap()]);
    assert!(echoes(tcp.local_addr().unwrap()).await, "fd@ TCP");
    let c = UnixStream::connect(&path).await.unwrap();
    assert_eq!(unix_echo(c, b"via fd").await, b"via fd");
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_inherited_descriptor_that_is_not_a_socket_fails_at_startup() {
    use std::os::fd::AsRawFd;
    let file = std::fs::File::open("/proc/self/stat").unwrap();
    if let Err(e) = haproxy_proxy::listener::inherited_fd(file.as_raw_fd()) {
        assert!(matches!(e.raw_os_error(), Some(1 | 38)), "{e}");
        eprintln!("skipping: pidfd_getfd is not permitted here ({e})");
        return;
    }
    let text = format!("{DEFAULTS}frontend fe\n bind fd@{}\n", file.as_raw_fd());
    let loaded = load(&[parse_str("t.cfg", &text)], &SystemEnv);
    let Err(haproxy_proxy::runtime::StartupError::Bind(lines)) =
        build(&loaded.config).unwrap().start()
    else {
        panic!("a file is not a listener");
    };
    assert!(
        lines[0].contains("Socket operation on non-socket"),
        "{lines:?}"
    );
}
