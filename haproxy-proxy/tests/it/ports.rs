//! Free loopback ports for configurations that need a port number before anything listens.
//!
//! A port is reserved, not just looked up: [`free_port`] keeps a socket bound to it (with
//! `SO_REUSEADDR` and `SO_REUSEPORT`, never listening) until the test binary exits. While it
//! is bound, the kernel gives the port to no other `bind(:0)` and to no outgoing connection, so
//! no test (of this binary or another) can take it between the lookup and the proxy's bind; the
//! proxies (ours and HAProxy bind with `SO_REUSEPORT` too) bind beside it, and a connection to a
//! reserved port with no proxy on it is refused, as to a closed port.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Mutex, PoisonError};

use socket2::{Domain, Socket, Type};

/// Most ports one test binary reserves (each holds a file descriptor until the process exits).
pub(crate) const MAX_RESERVED: usize = 2048;

/// How many times a start whose port was taken after all is retried with fresh ports.
pub(crate) const BIND_ATTEMPTS: usize = 3;

/// The sockets holding this process's reserved ports, by port.
static RESERVED: Mutex<Vec<(u16, Socket)>> = Mutex::new(Vec::new());

/// A socket bound to a fresh loopback port with `SO_REUSEADDR` and `SO_REUSEPORT`, not listening.
pub(crate) fn reserve() -> (Socket, SocketAddr) {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    socket.set_reuse_address(true).unwrap();
    socket.set_reuse_port(true).unwrap();
    socket
        .bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into())
        .unwrap();
    let addr = socket.local_addr().unwrap().as_socket().unwrap();
    (socket, addr)
}

/// A loopback port reserved for this test binary until it exits; never the same port twice.
pub(crate) fn free_port() -> u16 {
    let mut held = RESERVED.lock().unwrap_or_else(PoisonError::into_inner);
    assert!(
        held.len() < MAX_RESERVED,
        "more than {MAX_RESERVED} reserved ports"
    );
    let (socket, addr) = reserve();
    // The kernel skips bound ports; checked anyway, as the promise is ours.
    assert!(
        held.iter().all(|(p, _)| *p != addr.port()),
        "port {} handed out twice",
        addr.port()
    );
    held.push((addr.port(), socket));
    addr.port()
}

/// Whether a proxy's startup error (HAProxy's stderr or our `StartupError` lines) says that a
/// port was taken, which a retry with fresh ports can cure.
pub(crate) fn is_bind_failure(text: &str) -> bool {
    text.contains("cannot bind") || text.contains("Address already in use")
}

#[test]
fn reserved_ports_are_distinct_held_and_usable_by_reuseport_listeners() {
    let ports: Vec<u16> = (0..200).map(|_| free_port()).collect();
    let distinct: HashSet<u16> = ports.iter().copied().collect();
    assert_eq!(distinct.len(), ports.len());
    for &p in &ports[..5] {
        let addr = SocketAddr::from(([127, 0, 0, 1], p));
        // Held: a socket without SO_REUSEADDR/SO_REUSEPORT cannot bind it.
        let plain = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
        let err = plain.bind(&addr.into()).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::AddrInUse);
        // Nothing listens there yet: refused, like a closed port.
        assert!(std::net::TcpStream::connect(addr).is_err());
        // A proxy's listener (SO_REUSEPORT, as HAProxy and ours bind) takes it and serves.
        let l = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
        l.set_reuse_address(true).unwrap();
        l.set_reuse_port(true).unwrap();
        l.bind(&addr.into()).unwrap();
        l.listen(4).unwrap();
        let l = std::net::TcpListener::from(l);
        let _c = std::net::TcpStream::connect(addr).unwrap();
        assert!(l.accept().is_ok());
    }
    for s in [
        "[ALERT]    (1) : Binding [t.cfg:3] for frontend fe: cannot bind socket (Address already in use) [127.0.0.1:80]",
        "Address already in use (os error 98)",
    ] {
        assert!(is_bind_failure(s));
    }
    assert!(!is_bind_failure(
        "[ALERT]    (1) : config : parsing [t.cfg:3] : unknown keyword"
    ));
}
