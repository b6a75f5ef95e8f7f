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
    let running = built.unwrap().start().unwrap();
    let addr = *running.local_addrs().first().unwrap();
    let (tx, rx) = watch::channel(None);
    tokio::spawn(running.serve(rx));
    Ours { addr, _stop: tx }
}

/// A loopback port that refuses connections for as long as the returned socket lives: bound,
/// never listening, so no other test can take it meanwhile.
pub(crate) fn dead_port() -> (socket2::Socket, u16) {
    let s = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    s.bind(&"127.0.0.1:0".parse::<SocketAddr>().unwrap().into())
        .unwrap();
    let port = s.local_addr().unwrap().as_socket().unwrap().port();
    (s, port)
}
