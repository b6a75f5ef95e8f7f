//! The daemon path for integration tests: configuration text loaded by haproxy-cfg, built,
//! started and served in-process, with loopback test servers.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use haproxy_cfg::load::{Outcome, SystemEnv, load};
use haproxy_cfg::parse_str;
use haproxy_proxy::Counters;
use haproxy_proxy::build::build;
use haproxy_proxy::registry::Registry;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::ports::{BIND_ATTEMPTS, is_bind_failure};
use crate::support::Serving;

/// Bound on every wait in these tests.
pub(crate) const WAIT: Duration = Duration::from_secs(10);

/// A running configuration.
pub(crate) struct Daemon {
    /// The TCP addresses listened on, in configuration order.
    pub(crate) addrs: Vec<SocketAddr>,
    /// Each frontend's counters, in configuration order.
    pub(crate) counters: Vec<Arc<Counters>>,
    /// The running configuration's registry (backends, servers, listed streams).
    pub(crate) registry: Arc<Registry>,
    serving: Serving,
}

pub(crate) use crate::ports::free_port;

/// Loads, builds and starts `text`; must run inside a tokio runtime. Each `bind 127.0.0.1:0`
/// (refused by HAProxy) gets its own free port; should one be taken after all, the start is
/// retried with fresh ports (at most [`BIND_ATTEMPTS`] starts).
pub(crate) fn start(text: &str) -> Daemon {
    let mut attempt = 1;
    loop {
        match try_start(text) {
            Ok(d) => return d,
            Err(e) => {
                assert!(
                    attempt < BIND_ATTEMPTS && is_bind_failure(&e),
                    "start failed (attempt {attempt}): {e}"
                );
                attempt += 1;
            }
        }
    }
}

fn try_start(text: &str) -> Result<Daemon, String> {
    let mut text = text.to_owned();
    while text.contains("bind 127.0.0.1:0\n") || text.contains("bind 127.0.0.1:0 ") {
        let at = text
            .find("bind 127.0.0.1:0\n")
            .or_else(|| text.find("bind 127.0.0.1:0 "))
            .unwrap();
        text.replace_range(at..at + 16, &format!("bind 127.0.0.1:{}", free_port()));
    }
    let loaded = load(&[parse_str("t.cfg", &text)], &SystemEnv);
    assert_ne!(loaded.outcome, Outcome::Invalid, "{:?}", loaded.diagnostics);
    let rt = build(&loaded.config).unwrap();
    let counters = rt
        .frontends
        .iter()
        .map(|f| Arc::clone(&f.service.counters))
        .collect();
    let registry = Arc::clone(&rt.registry);
    let running = rt.start().map_err(|e| e.alerts().join("\n"))?;
    let addrs = running.local_addrs();
    Ok(Daemon {
        addrs,
        counters,
        registry,
        serving: Serving::spawn(running),
    })
}

impl Daemon {
    /// The first listening address.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addrs[0]
    }

    /// Hard stop, waited for.
    pub(crate) async fn stop(self) {
        self.serving.stop().await;
    }
}

/// A loopback server: sends `tag` on each connection, then echoes until the client's FIN, then
/// closes. Returns its address and how many connections it accepted.
pub(crate) async fn tag_server(tag: &'static [u8]) -> (SocketAddr, Arc<AtomicUsize>) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&accepted);
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                if !tag.is_empty() {
                    let _ = s.write_all(tag).await;
                }
                let (mut r, mut w) = s.split();
                let _ = tokio::io::copy(&mut r, &mut w).await;
                let _ = w.shutdown().await;
            });
        }
    });
    (addr, accepted)
}

/// Reads until EOF (bounded by [`WAIT`]); a reset counts as EOF.
pub(crate) async fn read_all(s: &mut TcpStream) -> Vec<u8> {
    let mut out = Vec::new();
    let _ = tokio::time::timeout(WAIT, s.read_to_end(&mut out))
        .await
        .unwrap();
    out
}

/// Polls `f` until it holds (bounded by [`WAIT`]).
pub(crate) async fn eventually(mut f: impl FnMut() -> bool) {
    let until = tokio::time::Instant::now() + WAIT;
    while !f() {
        assert!(tokio::time::Instant::now() < until, "condition never held");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
