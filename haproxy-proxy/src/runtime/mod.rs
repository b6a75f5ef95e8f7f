//! Running a built [`Runtime`](crate::build::Runtime): open every listener (failing with HAProxy's startup messages),
//! accept under the `maxconn` gates, serve each connection in its mode, and stop softly
//! (stop accepting, let in-flight connections finish) or hard (drop everything).

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinSet;

pub(crate) mod idle_timer;
mod plan;
mod prefixed;
mod soft_stop;

pub use plan::ListenPlan;
pub use soft_stop::{CloseSpread, SoftStop};

use prefixed::Prefixed;

use crate::admin::LimitKeeper;
use crate::build::{HttpUpgrades, Service, TcpAction, TcpRules, with_content};
use crate::listener::{Accepted, BindTarget, ConnGate, Listener, bind};
use crate::proxy_proto::{ProxyHeader, read_header};
use crate::route::StreamView;
use crate::settings::Mode;
use crate::tcp::{Inspected, inspect, inspect_capacity, serve_tcp_watched};

/// How to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// SIGUSR1: stop accepting, finish in-flight connections, then return.
    Soft,
    /// SIGTERM / SIGINT: close everything now.
    Hard,
}

/// Pause after a failed `accept` (EMFILE...) before trying again.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(10);

/// How long an `accept-proxy` connection may take to send its PROXY header when the frontend has
/// no `timeout client`.
pub const PROXY_HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// Why the listeners could not be started; `Display` gives HAProxy's alert lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartupError {
    /// No frontend has a `bind` line.
    NoListener,
    /// Some sockets could not be bound: one `Binding [...]` line per failure.
    Bind(Vec<String>),
}

impl StartupError {
    /// HAProxy's alert texts, one per line, without the `[ALERT] (pid) : ` prefix.
    pub fn alerts(&self) -> Vec<String> {
        match self {
            StartupError::NoListener => vec![
                "[haproxy.main()] No enabled listener found (check for 'bind' directives) ! Exiting."
                    .to_owned(),
            ],
            StartupError::Bind(lines) => {
                let mut out = lines.clone();
                out.push(
                    "[haproxy.main()] Some protocols failed to start their listeners! Exiting."
                        .to_owned(),
                );
                out
            }
        }
    }
}

/// An open listener with its frontend and its gates (bind, frontend, global `maxconn`).
#[derive(Debug)]
struct Bound {
    listener: Listener,
    target: BindTarget,
    options: crate::listener::BindOptions,
    service: Arc<Service>,
    gates: Vec<ConnGate>,
    accept_proxy: bool,
    tcp: Arc<TcpRules>,
    upgrades: Arc<HttpUpgrades>,
}

/// The runtime with every listener open, ready to [`Running::serve`].
#[derive(Debug)]
pub struct Running {
    bound: Vec<Bound>,
    stats: Option<crate::admin::StatsServer>,
    keepers: Vec<LimitKeeper>,
    registry: Arc<crate::registry::Registry>,
    /// The health checks, run by the primary thread only.
    health: Option<crate::health::Plan>,
    state_log: Arc<dyn crate::health::StateLog>,
}

/// The OS error text without Rust's ` (os error N)` suffix, as HAProxy prints it.
fn os_reason(reason: &str) -> &str {
    reason
        .find(" (os error")
        .and_then(|i| reason.get(..i))
        .unwrap_or(reason)
}

impl Running {
    /// Sends server state-change messages to `log` instead of stderr.
    #[must_use]
    pub fn with_state_log(mut self, log: Arc<dyn crate::health::StateLog>) -> Running {
        self.state_log = log;
        self
    }

    /// The TCP addresses listened on, in configuration order.
    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        self.bound
            .iter()
            .filter_map(|b| b.listener.local_addr())
            .collect()
    }

    /// Serves the stats sockets (the runtime API) alongside the listeners.
    #[must_use]
    pub fn with_stats(mut self, stats: crate::admin::StatsServer) -> Running {
        self.stats = Some(stats);
        self
    }

    /// How many sockets are open: listeners and stats sockets (`Listeners` in `show info`).
    pub fn listener_count(&self) -> usize {
        self.bound.len()
            + self
                .stats
                .as_ref()
                .map_or(0, crate::admin::StatsServer::len)
    }

    /// Serves until `stop` says so: on [`Stop::Soft`] the listeners close and in-flight
    /// connections finish (a later [`Stop::Hard`] cuts them); on [`Stop::Hard`] everything is
    /// dropped at once.
    ///
    /// Dropping the sender of `stop` is a hard stop.
    pub async fn serve(self, stop: watch::Receiver<Option<Stop>>) {
        let (_keep, paused) = watch::channel(false);
        self.serve_pausable(stop, paused).await;
    }

    /// Like [`Running::serve`], and while `paused` holds `true` (SIGTTOU) the listening sockets
    /// are closed, so new connections are refused or go to another process bound to the same
    /// address; on `false` (SIGTTIN) they are opened again (retried every
    /// [`REBIND_RETRY`] while the address is busy). Connections in flight are not affected.
    pub async fn serve_pausable(
        self,
        stop: watch::Receiver<Option<Stop>>,
        paused: watch::Receiver<bool>,
    ) {
        // Health checks run while serving and stop with it; without any check they still carry
        // runtime-API admin changes to the log. Only the primary thread runs them.
        let _checks = self
            .health
            .map(|h| crate::health::HealthChecks::start(h, self.registry, self.state_log));
        let mut loops = JoinSet::new();
        if let Some(stats) = self.stats {
            loops.spawn(stats.serve(stop.clone()));
        }
        let mut keepers = JoinSet::new();
        for k in self.keepers {
            keepers.spawn(k.run());
        }
        for b in self.bound {
            loops.spawn(accept_loop(b, stop.clone(), paused.clone()));
        }
        while loops.join_next().await.is_some() {}
        keepers.abort_all();
    }
}

async fn wait_stop(stop: &mut watch::Receiver<Option<Stop>>, hard_only: bool) {
    let _ = stop
        .wait_for(|s| match s {
            Some(Stop::Hard) => true,
            Some(Stop::Soft) => !hard_only,
            None => false,
        })
        .await;
}

/// Waits until `paused` equals `want`; a dropped sender never changes it again.
async fn wait_paused(paused: &mut watch::Receiver<bool>, want: bool) {
    if paused.wait_for(|p| *p == want).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// The pause between two attempts to reopen a listener after SIGTTIN.
pub const REBIND_RETRY: Duration = Duration::from_secs(1);

async fn accept_loop(
    b: Bound,
    mut stop: watch::Receiver<Option<Stop>>,
    mut paused: watch::Receiver<bool>,
) {
    let mut conns = JoinSet::new();
    let mut listener = Some(b.listener);
    loop {
        // Reap finished connections so the set does not grow.
        while conns.try_join_next().is_some() {}
        let Some(open) = &listener else {
            tokio::select! {
                () = wait_paused(&mut paused, false) => {}
                () = wait_stop(&mut stop, false) => break,
            }
            match bind(&b.target, &b.options) {
                Ok(l) => listener = Some(l),
                Err(_) => {
                    tokio::select! {
                        () = tokio::time::sleep(REBIND_RETRY) => {}
                        () = wait_stop(&mut stop, false) => break,
                    }
                }
            }
            continue;
        };
        // Accept first, then wait for a slot under the `maxconn` gates: with one listener per
        // thread (SO_REUSEPORT), a thread holding a free slot may have nothing in its own backlog
        // while another's waits; the accepted connection is not read until it has its slot, so
        // the client sees what it would see in the backlog.
        let accepted = tokio::select! {
            a = open.accept() => a,
            () = wait_paused(&mut paused, true) => { listener = None; continue; }
            () = wait_stop(&mut stop, false) => break,
        };
        let (src, dst, stream) = match accepted {
            Ok(Accepted::Tcp(s, peer)) => {
                let dst = s
                    .local_addr()
                    .unwrap_or_else(|_| (Ipv4Addr::UNSPECIFIED, 0).into());
                (peer, dst, Conn::Tcp(s))
            }
            Ok(Accepted::Unix(s)) => {
                let none = SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0));
                (none, none, Conn::Unix(s))
            }
            Err(_) => {
                tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
                continue;
            }
        };
        let permit = tokio::select! {
            p = ConnGate::acquire_all(&b.gates) => p,
            () = wait_stop(&mut stop, false) => break,
        };
        // The global and frontend rate limits: the accept waits while a rate is at its limit.
        let fe_index = b.service.frontend.index;
        tokio::select! {
            () = crate::admin::admit_connection(&b.service.registry, fe_index) => {}
            () = wait_stop(&mut stop, false) => break,
        }
        // `tcp-request connection` rules run at accept, before anything is read; a reject
        // closes silently and creates no session.
        let verdict = b.tcp.connection_verdict(src, dst);
        if !verdict.accept {
            b.service
                .counters
                .denied_conn
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            drop((stream, permit));
            continue;
        }
        crate::admin::count_session(&b.service.registry, fe_index);
        let parts = Parts {
            tcp: Arc::clone(&b.tcp),
            upgrades: Arc::clone(&b.upgrades),
        };
        let accept_proxy = b.accept_proxy || verdict.expect_proxy;
        conns.spawn(serve_accepted(
            Arc::clone(&b.service),
            parts,
            stream,
            (src, dst),
            accept_proxy,
            permit,
        ));
    }
    drop(listener);
    if *stop.borrow() == Some(Stop::Hard) {
        conns.abort_all();
        return;
    }
    // Soft stop: idle keep-alive connections close (parked ones are fired to see it), in-flight
    // ones finish, unless a hard stop or `hard-stop-after` cuts them.
    let soft_stop = &b.service.registry.soft_stop;
    soft_stop.begin();
    idle_timer::fire_all();
    let hard_at = soft_stop.hard_stop_at();
    tokio::select! {
        () = async { while conns.join_next().await.is_some() {} } => {}
        () = wait_stop(&mut stop, true) => conns.abort_all(),
        () = async {
            match hard_at {
                Some(at) => tokio::time::sleep_until(at.into()).await,
                None => std::future::pending().await,
            }
        } => {
            let registry = &b.service.registry;
            soft_stop.record_hard_stop(|| {
                registry
                    .frontends
                    .iter()
                    .map(|f| {
                        let open = f.counters.sessions_cur.load(std::sync::atomic::Ordering::Relaxed);
                        (f.name.clone(), open)
                    })
                    .collect()
            });
            // As HAProxy's hard stop: every stream is killed (one waiting for its response
            // gets a 502), and what still runs after `HARD_STOP_RESIST` is cut.
            registry.sessions.kill_all();
            let finished = async { while conns.join_next().await.is_some() {} };
            if tokio::time::timeout(HARD_STOP_RESIST, finished).await.is_err() {
                soft_stop.mark_resisted();
                conns.abort_all();
            }
        }
    }
}

/// How long connections may still run after `hard-stop-after` killed their streams before they
/// are cut (HAProxy 2.6 waits one second, then warns `Some tasks resisted to hard-stop, exiting
/// now.`).
pub const HARD_STOP_RESIST: Duration = Duration::from_secs(1);

/// A frontend's rule sets a connection needs besides its service.
struct Parts {
    tcp: Arc<TcpRules>,
    upgrades: Arc<HttpUpgrades>,
}

/// An accepted client stream, TCP or unix; one type so that a connection's task is not
/// instantiated (and sized) once per transport.
#[derive(Debug)]
enum Conn {
    Tcp(tokio::net::TcpStream),
    Unix(tokio::net::UnixStream),
}

impl tokio::io::AsyncRead for Conn {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        match self.get_mut() {
            Conn::Tcp(s) => std::pin::Pin::new(s).poll_read(cx, buf),
            Conn::Unix(s) => std::pin::Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl tokio::io::AsyncWrite for Conn {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        data: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Conn::Tcp(s) => std::pin::Pin::new(s).poll_write(cx, data),
            Conn::Unix(s) => std::pin::Pin::new(s).poll_write(cx, data),
        }
    }

    fn poll_write_vectored(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> std::task::Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Conn::Tcp(s) => std::pin::Pin::new(s).poll_write_vectored(cx, bufs),
            Conn::Unix(s) => std::pin::Pin::new(s).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Conn::Tcp(s) => s.is_write_vectored(),
            Conn::Unix(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        match self.get_mut() {
            Conn::Tcp(s) => std::pin::Pin::new(s).poll_flush(cx),
            Conn::Unix(s) => std::pin::Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        match self.get_mut() {
            Conn::Tcp(s) => std::pin::Pin::new(s).poll_shutdown(cx),
            Conn::Unix(s) => std::pin::Pin::new(s).poll_shutdown(cx),
        }
    }
}

impl crate::forward::WriteMore for Conn {
    fn poll_write_more(
        &mut self,
        cx: &mut std::task::Context<'_>,
        data: &[u8],
        more: bool,
    ) -> std::task::Poll<std::io::Result<usize>> {
        match self {
            Conn::Tcp(s) => s.poll_write_more(cx, data, more),
            Conn::Unix(s) => s.poll_write_more(cx, data, more),
        }
    }
}

/// One accepted connection's task, start to end: waits while its frontend is disabled, reads
/// the PROXY header first on `accept-proxy` binds (a bad or missing one closes the connection
/// silently, as HAProxy does), runs the `tcp-request session` rules (on the addresses the header
/// gave), then serves the stream in its mode.
///
/// Kept in one flat function whose stages are boxed: the task of an idle connection holds its
/// arguments once and a pointer to the running stage, not a copy of the stream and addresses per
/// nested call (memory per idle connection, issue 5).
#[expect(
    clippy::manual_async_fn,
    reason = "an async fn keeps its arguments twice in its state (captured and as locals)"
)]
fn serve_accepted(
    svc: Arc<Service>,
    parts: Parts,
    mut stream: Conn,
    mut addrs: (SocketAddr, SocketAddr),
    accept_proxy: bool,
    permit: crate::listener::ConnPermit,
) -> impl std::future::Future<Output = ()> + Send {
    // An async block, not an async fn: an async fn keeps its arguments twice (as captured and as
    // locals), 160 bytes more per connection here. The permit lives as long as the task.
    async move {
        let _permit = &permit;
        // A connection accepted just as `disable frontend` arrived waits like the backlog; the
        // common case (enabled) allocates nothing.
        if !svc
            .registry
            .frontends
            .get(svc.frontend.index)
            .is_none_or(|f| f.enabled.load(std::sync::atomic::Ordering::Relaxed))
        {
            Box::pin(crate::admin::wait_frontend_enabled(
                &svc.registry,
                svc.frontend.index,
            ))
            .await;
        }
        let _slot = svc.counters.open_session();
        let mut pending = Vec::new();
        if accept_proxy {
            let wait = svc.frontend.timeouts.client.unwrap_or(PROXY_HEADER_TIMEOUT);
            let Ok((header, rest)) = Box::pin(read_header(&mut stream, wait)).await else {
                svc.counters
                    .errors_req
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                return;
            };
            if let ProxyHeader::Tcp { src, dst } = header {
                addrs = (src, dst);
            }
            pending = rest;
        }
        // No binding of the addresses here: one in scope at the awaits below would keep a second
        // copy of them in the task for as long as the connection is open.
        if !parts.tcp.accepts_session(addrs.0, addrs.1) {
            svc.counters
                .denied_sess
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            return;
        }
        // The TCP session is boxed: the connection's task holds one pointer to it. The HTTP one is
        // not: what an HTTP connection keeps while it waits for its next request (parked) is small
        // and lives in the task itself; its request machinery is boxed per active period inside.
        match svc.frontend.mode {
            Mode::Http => {
                let client = Prefixed::new(pending, &mut stream);
                crate::http::serve_http_at(&svc, client, &addrs, |_| {}).await;
            }
            Mode::Tcp => {
                Box::pin(serve_tcp_mode(&svc, &parts, &mut stream, &addrs, pending)).await;
            }
        }
    }
}

/// Runs one section's `tcp-request content` rules (the frontend's, then the chosen backend's)
/// on the stream's first bytes, waiting up to the section's `inspect-delay`. `None` when the
/// stream ends here: a `reject` (counted as denied on the frontend, and on `backend` when
/// given) or a client error or timeout; otherwise whether a rule switched the stream to HTTP.
async fn content_rules<C: tokio::io::AsyncRead + Unpin>(
    svc: &Service,
    rules: &TcpRules,
    stream: &mut C,
    pending: &mut Vec<u8>,
    (src, dst): (SocketAddr, SocketAddr),
    backend: Option<&crate::counters::Counters>,
) -> Option<bool> {
    let limits = &svc.frontend.limits;
    let mut switch_http = false;
    let decided = inspect(
        stream,
        pending,
        rules.inspect_delay,
        svc.frontend.timeouts.client,
        inspect_capacity(limits),
        |data, last| {
            let action = with_content(src, dst, data, limits, |s| rules.decide_content(s, last))?;
            switch_http = action == TcpAction::SwitchHttp;
            Some(action != TcpAction::Reject)
        },
    )
    .await;
    match decided {
        Inspected::Accept => Some(switch_http),
        Inspected::Reject => {
            let denied = std::iter::once(&*svc.counters).chain(backend);
            for c in denied {
                c.denied_req
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            None
        }
        Inspected::ClientError | Inspected::ClientTimeout => None,
    }
}

/// TCP mode: content inspection, the backend switch on what was read, then forwarding (or the
/// HTTP upgrade when the chosen backend is in HTTP mode).
///
/// An async block holding the client by reference, with the inspection and HTTP stages boxed:
/// this state is what an idle TCP pair keeps, so it carries only the forwarding stage
/// (memory per idle TCP pair, issue 5).
#[expect(
    clippy::manual_async_fn,
    reason = "an async fn keeps its arguments twice in its state (captured and as locals)"
)]
fn serve_tcp_mode<'a, C>(
    svc: &'a Service,
    parts: &'a Parts,
    stream: &'a mut C,
    addrs: &'a (SocketAddr, SocketAddr),
    mut pending: Vec<u8>,
) -> impl std::future::Future<Output = ()> + 'a
where
    C: tokio::io::AsyncRead + tokio::io::AsyncWrite + crate::forward::WriteMore + Unpin,
{
    async move {
        // The stages before forwarding, in a block: what they use is not kept by an idle stream.
        let idx = {
            let (src, dst) = *addrs;
            let limits = &svc.frontend.limits;
            let tcp = &parts.tcp;
            let switch_http = if tcp.content.is_empty() {
                false
            } else {
                let decided = content_rules(svc, tcp, &mut *stream, &mut pending, *addrs, None);
                let Some(switch) = Box::pin(decided).await else {
                    return;
                };
                switch
            };
            if let Some(http) = parts.upgrades.switched().filter(|_| switch_http) {
                let client = Prefixed::new(pending, stream);
                Box::pin(crate::http::serve_http(http, client, src, dst, |_| {})).await;
                return;
            }
            let chosen = with_content(src, dst, &pending, limits, |s| svc.chooser.choose_sample(s));
            let Some(idx) = chosen else {
                return;
            };
            if let Some(http) = parts.upgrades.get(idx) {
                let client = Prefixed::new(pending, stream);
                Box::pin(crate::http::serve_http(http, client, src, dst, |_| {})).await;
                return;
            }
            // The backend's own content rules, once the stream reaches it (its inspect-delay
            // counts from there).
            if let Some(be_tcp) = tcp
                .backend_content
                .get(idx)
                .filter(|r| !r.content.is_empty())
            {
                let be = svc.registry.backends.get(idx).map(|b| &*b.counters);
                let decided = content_rules(svc, be_tcp, &mut *stream, &mut pending, *addrs, be);
                if Box::pin(decided).await.is_none() {
                    return;
                }
            }
            idx
        };
        let Some(be) = svc.backends.get(idx) else {
            return;
        };
        // TCP streams count on their backend while they last (the server is chosen inside).
        let _busy = svc.registry.hold(idx, None);
        // Listed by `show sess` while it lasts; `shutdown session` ends it.
        let session = svc.registry.sessions.open(svc.frontend.index, addrs.0);
        session.live().route(idx, None);
        // A kill (`shutdown session`, `hard-stop-after`) ends the stream with its facts: HAProxy
        // counts what a killed stream moved.
        let killed = std::pin::pin!(session.live().killed());
        // Made in the call: a `StreamView` local would be kept for the stream's whole life.
        let facts = serve_tcp_watched(
            stream,
            pending,
            StreamView {
                src: addrs.0,
                dst: addrs.1,
                request: None,
            },
            &svc.frontend.timeouts,
            be,
            idx,
            &svc.picker,
            svc.registry.backends.get(idx),
            |s| {
                session.live().route(idx, Some(s));
                let sv = svc.registry.backends.get(idx)?.servers.get(s)?;
                sv.armed_shutdown_signal()
            },
            killed,
        )
        .await;
        svc.counters.record(&facts);
        svc.registry.record(&facts);
    }
}

#[cfg(test)]
mod tests;
