use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::*;

fn tcp(s: &str) -> BindTarget {
    BindTarget::Tcp(s.parse::<SocketAddr>().unwrap())
}

#[test]
fn bind_address_forms() {
    assert_eq!(parse_bind_addr("*:80").unwrap(), vec![tcp("0.0.0.0:80")]);
    assert_eq!(parse_bind_addr(":80").unwrap(), vec![tcp("0.0.0.0:80")]);
    assert_eq!(parse_bind_addr(":::80").unwrap(), vec![tcp("[::]:80")]);
    assert_eq!(parse_bind_addr("ipv6@:80").unwrap(), vec![tcp("[::]:80")]);
    assert_eq!(
        parse_bind_addr("ipv4@127.0.0.1:8080").unwrap(),
        vec![tcp("127.0.0.1:8080")]
    );
    assert_eq!(
        parse_bind_addr("[::1]:443").unwrap(),
        vec![tcp("[::1]:443")]
    );
    assert_eq!(parse_bind_addr("::1:443").unwrap(), vec![tcp("[::1]:443")]);
    assert_eq!(
        parse_bind_addr("10.0.0.1:80-82").unwrap(),
        vec![tcp("10.0.0.1:80"), tcp("10.0.0.1:81"), tcp("10.0.0.1:82")]
    );
    assert_eq!(
        parse_bind_addr("/run/x.sock").unwrap(),
        vec![BindTarget::Unix("/run/x.sock".into())]
    );
    assert_eq!(
        parse_bind_addr("unix@/run/x.sock").unwrap(),
        vec![BindTarget::Unix("/run/x.sock".into())]
    );
    assert_eq!(
        parse_bind_addr("*:1-65535").unwrap().len(),
        MAX_PORTS_PER_BIND
    );
    for (form, want) in [
        ("tcp@127.0.0.1:80", tcp("127.0.0.1:80")),
        ("tcp4@:80", tcp("0.0.0.0:80")),
        ("tcp6@:80", tcp("[::]:80")),
        ("ip@[::1]:80", tcp("[::1]:80")),
        ("stream+ipv4@127.0.0.1:80", tcp("127.0.0.1:80")),
        ("uxst@/run/y.sock", BindTarget::Unix("/run/y.sock".into())),
        ("abns@name", BindTarget::Abstract("name".into())),
        ("fd@3", BindTarget::Fd(3)),
    ] {
        assert_eq!(parse_bind_addr(form).unwrap(), vec![want], "{form}");
    }
    for dgram in [
        "udp@:53",
        "udp4@:53",
        "quic4@:443",
        "uxdg@/x",
        "dgram+ipv4@:1",
    ] {
        let err = parse_bind_addr(dgram).unwrap_err().to_string();
        assert!(err.contains("dgram-type address not acceptable"), "{err}");
    }
    for bad in [
        "abns@",
        "fd@x",
        "fd@-1",
        "sockpair@3",
        "1.2.3.4",
        "1.2.3.4:99999",
        "1.2.3.4:90-80",
        "ipv4@::1:80",
        "unix@",
        "a.b.c.d:80",
    ] {
        assert!(parse_bind_addr(bad).is_err(), "{bad}");
    }
}

#[tokio::test]
async fn tcp_listeners_with_options() {
    let opts = BindOptions {
        backlog: Some(16),
        reuseport: true,
        ..BindOptions::default()
    };
    let l = bind(&tcp("127.0.0.1:0"), &opts).unwrap();
    let addr = l.local_addr().unwrap();
    // SO_REUSEPORT lets a second socket bind the same address.
    let l2 = bind(&BindTarget::Tcp(addr), &opts).unwrap();
    drop(l2);
    let c = tokio::spawn(async move { tokio::net::TcpStream::connect(addr).await.unwrap() });
    assert!(matches!(l.accept().await.unwrap(), Accepted::Tcp(_, _)));
    c.await.unwrap();
    let v6 = bind(
        &tcp("[::1]:0"),
        &BindOptions {
            v6only: Some(true),
            ..BindOptions::default()
        },
    );
    if let Ok(v6) = v6 {
        assert!(v6.local_addr().unwrap().is_ipv6());
    }
}

#[tokio::test]
async fn unix_listener_gets_its_mode() {
    use std::os::unix::fs::PermissionsExt;
    let dir = ScratchDir::new();
    let path = dir.0.join("s.sock");
    let opts = BindOptions {
        unix_mode: Some(0o600),
        ..BindOptions::default()
    };
    let l = bind(&BindTarget::Unix(path.clone()), &opts).unwrap();
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let p2 = path.clone();
    let c = tokio::spawn(async move {
        let mut s = tokio::net::UnixStream::connect(p2).await.unwrap();
        s.write_all(b"hi").await.unwrap();
    });
    let Accepted::Unix(mut s) = l.accept().await.unwrap() else {
        panic!("not unix")
    };
    let mut b = [0u8; 2];
    s.read_exact(&mut b).await.unwrap();
    assert_eq!(&b, b"hi");
    c.await.unwrap();
    drop(l);
    // Rebinding replaces the stale socket file.
    assert!(bind(&BindTarget::Unix(path.clone()), &opts).is_ok());
}

/// A temp dir removed on drop, also when the test using it fails.
struct ScratchDir(std::path::PathBuf);

impl ScratchDir {
    fn new() -> ScratchDir {
        let p = std::env::temp_dir().join(format!("haproxy-rs-listener-{}", std::process::id()));
        std::fs::create_dir_all(&p).unwrap();
        ScratchDir(p)
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[tokio::test]
async fn maxconn_pauses_accepting_until_a_slot_frees() {
    let gate = ConnGate::new(2);
    let a = ConnGate::acquire_all(std::slice::from_ref(&gate)).await;
    let _b = ConnGate::acquire_all(std::slice::from_ref(&gate)).await;
    assert_eq!(gate.available(), Some(0));
    let g2 = gate.clone();
    let third = tokio::spawn(async move { ConnGate::acquire_all(&[g2]).await });
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(
        !third.is_finished(),
        "the third connection waits while full"
    );
    drop(a);
    tokio::time::timeout(Duration::from_secs(1), third)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ConnGate::new(0).available(), None);
}

#[tokio::test]
async fn abstract_sockets_are_padded_like_haproxy() {
    use std::os::linux::net::SocketAddrExt;
    let name = format!("haproxy-rs-unit-{}", std::process::id());
    let l = bind(&BindTarget::Abstract(name.clone()), &BindOptions::default()).unwrap();
    // HAProxy 2.6 pads the name with NULs to the whole sun_path: only that address connects.
    let mut padded = name.clone().into_bytes();
    padded.resize(SUN_PATH_LEN - 1, 0);
    let addr = std::os::unix::net::SocketAddr::from_abstract_name(&padded).unwrap();
    let c = std::os::unix::net::UnixStream::connect_addr(&addr).unwrap();
    assert!(matches!(l.accept().await.unwrap(), Accepted::Unix(_)));
    drop(c);
    let short = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
    assert!(std::os::unix::net::UnixStream::connect_addr(&short).is_err());
    let long = "x".repeat(SUN_PATH_LEN);
    assert!(abstract_addr(&long).is_err());
    assert!(
        abstract_addr(&long[..SUN_PATH_LEN - 1]).is_ok(),
        "the longest name that fits"
    );
}
