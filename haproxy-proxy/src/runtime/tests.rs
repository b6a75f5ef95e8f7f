//! The size of an accepted connection's task, which an idle connection holds for as long as it
//! stays open (memory per idle connection, issue 5).

use std::net::{Ipv4Addr, SocketAddr};

use haproxy_cfg::load::{Outcome, SystemEnv, load};
use haproxy_cfg::parse_str;

use super::{Conn, Parts, serve_accepted};
use crate::listener::ConnGate;

/// The most bytes the future of an accepted connection's task may take in an optimised build.
/// tokio adds about 104 bytes of header and trailer and rounds the task cell up to 128 bytes:
/// up to 408 bytes the cell is 512 (it was 640 while a parked keep-alive connection held a tokio
/// `Sleep`, 768 before idle keep-alive connections were parked in the task itself).
const ACCEPTED_TASK_FUTURE_BOUND: usize = 408;

/// The same bound for unoptimised builds, which lay the future out less tightly.
const ACCEPTED_TASK_FUTURE_BOUND_DEBUG: usize = 424;

#[tokio::test]
async fn an_accepted_connection_task_stays_small() {
    let text = "defaults\n mode http\n timeout client 5s\nfrontend fe\n bind 127.0.0.1:1\n";
    let loaded = load(&[parse_str("t.cfg", text)], &SystemEnv);
    assert_ne!(loaded.outcome, Outcome::Invalid, "{:?}", loaded.diagnostics);
    let rt = crate::build::build(&loaded.config).unwrap();
    let fe = rt.frontends.into_iter().next().unwrap();
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let client = tokio::net::TcpStream::connect(l.local_addr().unwrap())
        .await
        .unwrap();
    let any = SocketAddr::from((Ipv4Addr::LOCALHOST, 1));
    let permit = ConnGate::acquire_all(&[ConnGate::new(1)]).await;
    let parts = Parts {
        tcp: fe.tcp,
        upgrades: fe.upgrades,
    };
    let task = serve_accepted(
        fe.service,
        parts,
        Conn::Tcp(client),
        (any, any),
        false,
        permit,
    );
    let size = std::mem::size_of_val(&task);
    eprintln!("accepted connection task future: {size} bytes");
    let bound = if cfg!(debug_assertions) {
        ACCEPTED_TASK_FUTURE_BOUND_DEBUG
    } else {
        ACCEPTED_TASK_FUTURE_BOUND
    };
    assert!(size <= bound, "{size} bytes, more than {bound}");
}
