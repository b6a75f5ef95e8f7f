//! Our proxy started from configuration text, the same text real HAProxy runs: parsed and loaded
//! by haproxy-cfg, built by `haproxy_proxy::build`, served in-process on loopback.

use std::net::SocketAddr;

use haproxy_cfg::load::{Outcome, SystemEnv, load};
use haproxy_cfg::parse_str;
use haproxy_proxy::build::build;
use haproxy_proxy::runtime::Stop;
use tokio::sync::watch;

use crate::daemon::free_port;

/// Our running proxy; dropping it stops it hard.
pub(crate) struct Ours {
    /// The first listening address.
    pub(crate) addr: SocketAddr,
    _stop: watch::Sender<Option<Stop>>,
}

/// Starts our proxy with `config`, its `PORT` replaced by a free loopback port.
pub(crate) fn start_ours_with(config: &str) -> Ours {
    let text = config.replace("PORT", &free_port().to_string());
    let docs = vec![parse_str("scenario.cfg", &text)];
    let loaded = load(&docs, &SystemEnv);
    assert_ne!(
        loaded.outcome,
        Outcome::Invalid,
        "{:?}\n{text}",
        loaded.diagnostics
    );
    let built = build(&loaded.config);
    assert!(built.is_ok(), "build failed: {built:?}\n{text}");
    let runtime = built.unwrap();
    let (tx, rx) = watch::channel(None);
    // Served as the daemon serves one thread: its own single-threaded runtime, so a later client
    // finds the idle server connections an earlier one left (they are kept per thread).
    let (started, addr) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let running = runtime.start().unwrap();
            started
                .send(*running.local_addrs().first().unwrap())
                .unwrap();
            running.serve(rx).await;
        });
    });
    let addr = addr
        .recv_timeout(START_WAIT)
        .expect("our proxy did not start");
    Ours { addr, _stop: tx }
}

/// The longest our proxy may take to build its listeners on its thread.
const START_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// A loopback port that refuses connections for as long as the returned socket lives: bound,
/// never listening, so no other test can take it meanwhile.
pub(crate) fn dead_port() -> (socket2::Socket, u16) {
    let s = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    s.bind(&"127.0.0.1:0".parse::<SocketAddr>().unwrap().into())
        .unwrap();
    let port = s.local_addr().unwrap().as_socket().unwrap().port();
    (s, port)
}
