//! Running a built [`Runtime`](crate::build::Runtime): open every listener (failing with HAProxy's startup messages),
//! accept under the `maxconn` gates, serve each connection in its mode, and stop softly
//! (stop accepting, let in-flight connections finish) or hard (drop everything).

use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinSet;

mod plan;
mod prefixed;

pub use plan::ListenPlan;

use prefixed::Prefixed;

use crate::build::Service;
use crate::listener::{Accepted, BindTarget, ConnGate, Listener, bind};
use crate::proxy_proto::{ProxyHeader, read_header};
use crate::route::{ChooseBackend, StreamView};
use crate::settings::Mode;
use crate::tcp::serve_tcp;

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
}

/// The runtime with every listener open, ready to [`Running::serve`].
#[derive(Debug)]
pub struct Running {
    bound: Vec<Bound>,
}

/// The OS error text without Rust's ` (os error N)` suffix, as HAProxy prints it.
fn os_reason(reason: &str) -> &str {
    reason
        .find(" (os error")
        .and_then(|i| reason.get(..i))
        .unwrap_or(reason)
}

impl Running {
    /// The TCP addresses listened on, in configuration order.
    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        self.bound
            .iter()
            .filter_map(|b| b.listener.local_addr())
            .collect()
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
        let mut loops = JoinSet::new();
        for b in self.bound {
            loops.spawn(accept_loop(b, stop.clone(), paused.clone()));
        }
        while loops.join_next().await.is_some() {}
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
        let permit = tokio::select! {
            p = ConnGate::acquire_all(&b.gates) => p,
            () = wait_paused(&mut paused, true) => { listener = None; continue; }
            () = wait_stop(&mut stop, false) => break,
        };
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
        let svc = Arc::clone(&b.service);
        let accept_proxy = b.accept_proxy;
        conns.spawn(async move {
            let _permit = permit;
            let _slot = svc.counters.open_session();
            // The task holds one pointer to the session, whatever its kind.
            let session = match stream {
                Conn::Tcp(s) => serve_accepted(&svc, s, src, dst, accept_proxy),
                Conn::Unix(s) => serve_accepted(&svc, s, src, dst, accept_proxy),
            };
            session.await;
        });
    }
    drop(listener);
    if *stop.borrow() == Some(Stop::Hard) {
        conns.abort_all();
        return;
    }
    // Soft stop: in-flight connections finish, unless a hard stop follows.
    tokio::select! {
        () = async { while conns.join_next().await.is_some() {} } => {}
        () = wait_stop(&mut stop, true) => conns.abort_all(),
    }
}

/// A connection's session, boxed; it gives the number of requests (HTTP) or streams (TCP) served.
type Session<'a> = Pin<Box<dyn Future<Output = u64> + Send + 'a>>;

enum Conn {
    Tcp(tokio::net::TcpStream),
    Unix(tokio::net::UnixStream),
}

/// Reads the PROXY header first on `accept-proxy` binds (a bad or missing one closes the
/// connection silently, as HAProxy does), then serves the stream.
fn serve_accepted<'a, C>(
    svc: &'a Service,
    mut stream: C,
    src: SocketAddr,
    dst: SocketAddr,
    accept_proxy: bool,
) -> Session<'a>
where
    C: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'a,
{
    if !accept_proxy {
        return serve_conn(svc, stream, src, dst, Vec::new());
    }
    Box::pin(async move {
        let wait = svc.frontend.timeouts.client.unwrap_or(PROXY_HEADER_TIMEOUT);
        let Ok((header, rest)) = Box::pin(read_header(&mut stream, wait)).await else {
            svc.counters
                .errors_req
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            return 0;
        };
        let (src, dst) = match header {
            ProxyHeader::Tcp { src, dst } => (src, dst),
            ProxyHeader::Unknown => (src, dst),
        };
        serve_conn(svc, stream, src, dst, rest).await
    })
}

/// The session of one connection in its frontend's mode, boxed: the connection's task then
/// holds only a pointer while the session's own state is sized for the running mode. The
/// future gives the number of requests (HTTP) or streams (TCP) served.
fn serve_conn<'a, C>(
    svc: &'a Service,
    stream: C,
    src: SocketAddr,
    dst: SocketAddr,
    pending: Vec<u8>,
) -> Session<'a>
where
    C: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'a,
{
    match svc.frontend.mode {
        // The session future itself is boxed (not wrapped): no second copy of its arguments.
        Mode::Http => Box::pin(crate::http::serve_http(
            svc,
            Prefixed::new(pending, stream),
            src,
            dst,
            |_| {},
        )),
        Mode::Tcp => Box::pin(async move {
            let view = StreamView {
                src,
                dst,
                request: None,
            };
            let Some(idx) = svc.chooser.choose(&view) else {
                return 0;
            };
            let Some(be) = svc.backends.get(idx) else {
                return 0;
            };
            let facts = serve_tcp(
                stream,
                &pending,
                &view,
                &svc.frontend.timeouts,
                be,
                idx,
                &svc.picker,
            )
            .await;
            svc.counters.record(&facts);
            1
        }),
    }
}
