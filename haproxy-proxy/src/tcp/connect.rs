//! Connecting to a server: a connection slot from the balancer (waiting in the queue up to
//! `timeout queue` when servers are at their `maxconn`), `timeout connect`, `retries`,
//! `option redispatch`, `option abortonclose`, `send-proxy`.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::Poll;
use std::time::{Duration, Instant};

use bytes::BufMut;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::counters::Counters;
use crate::proxy_proto::{ProxyHeader, encode_v1, encode_v2};
use crate::registry::BackendEntry;
use crate::route::{PickServer, RetryPolicy, StreamView, Take};
use crate::settings::{BackendSettings, SendProxy};
use crate::side::{Side, StreamState, Termination};
use crate::slot::{Dequeued, QueueTicket, ServerSlot};

/// The pause before retrying the same server (HAProxy waits `min(timeout connect, 1s)`).
pub const TURN_AROUND: Duration = Duration::from_secs(1);

/// A server connection ready for traffic.
#[derive(Debug)]
pub struct Connected {
    /// The connection (the PROXY header, if configured, is already sent).
    pub stream: TcpStream,
    /// The server's index in the backend.
    pub server: usize,
    /// Retries it took.
    pub retries: u32,
    /// True when a retry went to another server.
    pub redispatched: bool,
    /// The server the failed attempts went to, when a retry went to another one.
    pub redispatched_from: Option<usize>,
    /// Time spent in the successful connect (`Tc`).
    pub tc: Duration,
    /// The connection slot on the server, held while the connection serves the stream.
    pub slot: ServerSlot,
}

/// Why no connection could be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectFailed {
    /// `SC` (refused / no server), `sC` (connect timeout), `sQ` (queue timeout), `SQ` (server
    /// queue full), `CQ` (the client left while queued: nothing is sent back) or `KQ` (killed
    /// while queued, see [`ClientWatch::with_kill`]).
    pub termination: Termination,
    /// The last server tried.
    pub server: Option<usize>,
    /// Retries made.
    pub retries: u32,
    /// The server the first failed attempts went to, when a retry went to another one.
    pub redispatched_from: Option<usize>,
}

impl ConnectFailed {
    fn new(side: Side, state: StreamState, server: Option<usize>) -> Self {
        ConnectFailed {
            termination: Termination::new(side, state),
            server,
            retries: 0,
            redispatched_from: None,
        }
    }

    /// True when the client left while queued (`CQ`), or the stream was killed there and left
    /// the queue at once (`KQ`): HAProxy answers nothing.
    pub fn is_client_abort(&self) -> bool {
        matches!(self.termination.side, Side::Client)
            || self.termination == Termination::new(Side::Killed, StreamState::Queue)
    }
}

/// What the client did while its stream waited for a server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientEvent {
    /// The client closed its side (end of stream).
    Closed,
    /// The connection failed (reset).
    Error,
}

/// A kill (`shutdown session`, `hard-stop-after`) as a queued stream sees it: resolves once the
/// stream is killed.
pub type KillSignal<'a> = Pin<&'a mut (dyn Future<Output = ()> + Send + 'a)>;

/// The client side of a stream while it waits for a server slot: the counters that show the
/// queue, the time spent queued (`Tw`), a future that resolves when the client goes away
/// (see [`watch_client`]) and, optionally, the stream's kill ([`ClientWatch::with_kill`]).
pub struct ClientWatch<'a, G> {
    counters: Option<&'a Counters>,
    backend: Option<&'a BackendEntry>,
    /// Where the servers' current addresses are read (`set server addr`).
    live: Option<&'a BackendEntry>,
    gone: Option<Pin<&'a mut G>>,
    queued: Duration,
    /// The stream's kill, while it has not struck.
    kill: Option<KillSignal<'a>>,
    /// Whether request bytes wait to be sent to the server (HAProxy's request buffer is not
    /// empty): a kill then leaves the stream queued.
    request_waiting: Option<&'a AtomicBool>,
    /// A kill struck while queued and the stream stayed in the queue.
    killed: bool,
}

impl<G> std::fmt::Debug for ClientWatch<'_, G> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientWatch")
            .field("watching", &self.gone.is_some())
            .field("queued", &self.queued)
            .field("killed", &self.killed)
            .finish_non_exhaustive()
    }
}

impl ClientWatch<'static, std::future::Pending<ClientEvent>> {
    /// Nobody to watch and no counters.
    pub fn none() -> Self {
        ClientWatch {
            counters: None,
            backend: None,
            live: None,
            gone: None,
            queued: Duration::ZERO,
            kill: None,
            request_waiting: None,
            killed: false,
        }
    }
}

impl<'a, G: Future<Output = ClientEvent>> ClientWatch<'a, G> {
    /// Watches `gone` while queued and counts queue entries in `counters`.
    pub fn new(counters: Option<&'a Counters>, gone: Pin<&'a mut G>) -> Self {
        ClientWatch {
            counters,
            backend: None,
            live: None,
            gone: Some(gone),
            queued: Duration::ZERO,
            kill: None,
            request_waiting: None,
            killed: false,
        }
    }

    /// Watches the stream's kill while it is queued, as HAProxy 2.6's `back_may_abort_req()`
    /// decides: with `option abortonclose`, or when no request byte waits to be sent
    /// (`request_waiting` false), the stream leaves the queue at once (`KQ`, nothing is sent
    /// back); otherwise it stays queued ([`ClientWatch::killed_while_queued`]) until it gets a
    /// slot or `timeout queue` strikes (then `KQ` too).
    #[must_use]
    pub fn with_kill(mut self, kill: KillSignal<'a>, request_waiting: &'a AtomicBool) -> Self {
        self.kill = Some(kill);
        self.request_waiting = Some(request_waiting);
        self
    }

    /// Whether a kill struck while the stream was queued and left it there: once it has its
    /// slot the stream connects and then ends as a killed stream does.
    pub fn killed_while_queued(&self) -> bool {
        self.killed
    }

    /// Also counts the queue where HAProxy shows it: the backend's counters for its queue, a
    /// server's for its own queue.
    #[must_use]
    pub fn in_backend(mut self, entry: Option<&'a BackendEntry>) -> Self {
        self.backend = entry;
        self.live = entry;
        self
    }

    /// Connects to the servers' current addresses in `entry` (`set server addr` moves them)
    /// rather than the configured ones.
    #[must_use]
    pub fn with_live_addresses(mut self, entry: Option<&'a BackendEntry>) -> Self {
        self.live = entry;
        self
    }

    /// The total time spent in queues so far (`Tw`).
    pub fn queued(&self) -> Duration {
        self.queued
    }

    /// Resolves with the client's event or the stream's kill, whichever comes first; never once
    /// both are over (the caller drops what resolved).
    async fn next_event_or_kill(&mut self) -> Option<ClientEvent> {
        let (gone, kill) = (&mut self.gone, &mut self.kill);
        std::future::poll_fn(|cx| {
            if let Some(Poll::Ready(ev)) = gone.as_mut().map(|g| g.as_mut().poll(cx)) {
                return Poll::Ready(Some(ev));
            }
            match kill.as_mut().map(|k| k.as_mut().poll(cx)) {
                Some(Poll::Ready(())) => Poll::Ready(None),
                _ => Poll::Pending,
            }
        })
        .await
    }
}

/// The most bytes one read of a queued client takes.
const WATCH_READ: usize = 4096;

/// Reads from a queued client until it goes away, keeping what it sends (a request body, the
/// next request) at the end of `buf`; stops reading once `buf` holds `limit` bytes.
///
/// HAProxy leaves the queue on a client error, and on a clean close with `option abortonclose`.
pub async fn watch_client<C>(client: &mut C, buf: &mut Vec<u8>, limit: usize) -> ClientEvent
where
    C: AsyncRead + Unpin + ?Sized,
{
    watch_client_noting(client, buf, limit, None).await
}

/// [`watch_client`], also setting `sent` once the client sent a byte (what a kill while queued
/// looks at, [`ClientWatch::with_kill`]).
pub async fn watch_client_noting<C>(
    client: &mut C,
    buf: &mut Vec<u8>,
    limit: usize,
    sent: Option<&AtomicBool>,
) -> ClientEvent
where
    C: AsyncRead + Unpin + ?Sized,
{
    // Reads straight into `buf`: the future holds no buffer of its own (it lives inside every
    // stream's state).
    loop {
        let room = limit.saturating_sub(buf.len()).min(WATCH_READ);
        if room == 0 {
            return std::future::pending().await;
        }
        let mut part = BufMut::limit(&mut *buf, room);
        match client.read_buf(&mut part).await {
            Ok(0) => return ClientEvent::Closed,
            Ok(_) => {
                if let Some(s) = sent {
                    s.store(true, Ordering::Relaxed);
                }
            }
            Err(_) => return ClientEvent::Error,
        }
    }
}

/// Counts a stream in the queue for as long as it lives.
struct InQueue<'a>([Option<&'a Counters>; 2]);

impl<'a> InQueue<'a> {
    fn enter(counters: [Option<&'a Counters>; 2]) -> Self {
        for c in counters.iter().flatten() {
            c.enqueue();
        }
        InQueue(counters)
    }
}

impl Drop for InQueue<'_> {
    fn drop(&mut self) {
        for c in self.0.iter().flatten() {
            c.dequeue();
        }
    }
}

/// Takes a connection slot on a server of `backend`: at once, or after waiting in the queue up
/// to `timeout queue` (which falls back to `timeout connect`, as in HAProxy).
///
/// A server that stops being usable may send the stream back to load balancing while it waits
/// (`pendconn_redistribute()`): it picks again, and a new wait in a queue starts a new `timeout
/// queue`, as HAProxy's does. A server that becomes usable hands its slot over directly
/// (`pendconn_grab_from_px()`), as a release does.
///
/// # Errors
/// [`ConnectFailed`] with `SC` when no server is usable, `SQ` when the server's queue is at its
/// `maxqueue`, `sQ` when the queue timeout struck (the caller makes it `KQ` when
/// [`ClientWatch::killed_while_queued`]), `CQ` when the client left while queued, `KQ` when a
/// kill took it out of the queue.
pub async fn take_slot<P, G>(
    picker: &P,
    backend: &BackendSettings,
    backend_idx: usize,
    view: &StreamView<'_>,
    avoid: Option<usize>,
    watch: &mut ClientWatch<'_, G>,
) -> Result<ServerSlot, ConnectFailed>
where
    P: PickServer + ?Sized,
    G: Future<Output = ClientEvent>,
{
    let mut started = None;
    let result = loop {
        let ticket = match picker.take(backend_idx, view, avoid) {
            Take::Ready(slot) => break Ok(slot),
            Take::NoServer => {
                break Err(ConnectFailed::new(Side::Server, StreamState::Connect, None));
            }
            Take::QueueFull { server } => {
                break Err(ConnectFailed::new(Side::Server, StreamState::Queue, server));
            }
            Take::Queued(ticket) => ticket,
        };
        started.get_or_insert_with(Instant::now);
        match wait_in_queue(backend, ticket, watch).await {
            Ok(Some(slot)) => break Ok(slot),
            // Sent back to load balancing: pick again.
            Ok(None) => {}
            Err(e) => break Err(e),
        }
    };
    if let Some(t) = started {
        watch.queued += t.elapsed();
    }
    result
}

/// Waits in a queue with `ticket`: `Ok(Some(slot))` when a release hands a slot over,
/// `Ok(None)` when a server state change sends the stream back to load balancing.
async fn wait_in_queue<G>(
    backend: &BackendSettings,
    mut ticket: QueueTicket,
    watch: &mut ClientWatch<'_, G>,
) -> Result<Option<ServerSlot>, ConnectFailed>
where
    G: Future<Output = ClientEvent>,
{
    let queue = match ticket.server() {
        Some(s) => watch
            .backend
            .and_then(|b| b.servers.get(s))
            .map(|e| &*e.counters),
        None => watch.backend.map(|b| &*b.counters),
    };
    let _in_queue = InQueue::enter([watch.counters, queue]);
    let limit = backend.timeouts.queue.or(backend.timeouts.connect);
    let expiry = async {
        match limit {
            Some(t) => tokio::time::sleep(t).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(expiry);
    let server = ticket.server();
    let result = loop {
        tokio::select! {
            got = ticket.dequeued() => {
                break match got {
                    Dequeued::Slot(slot) => Ok(Some(slot)),
                    Dequeued::Requeue => Ok(None),
                    Dequeued::Gone => {
                        Err(ConnectFailed::new(Side::Server, StreamState::Queue, server))
                    }
                };
            }
            () = &mut expiry => {
                break Err(ConnectFailed::new(Side::ServerTimeout, StreamState::Queue, server));
            }
            watched = watch.next_event_or_kill() => match watched {
                Some(ev) => {
                    watch.gone = None;
                    if ev == ClientEvent::Error || ticket.abort_on_close() {
                        break Err(ConnectFailed::new(Side::Client, StreamState::Queue, server));
                    }
                }
                None => {
                    watch.kill = None;
                    let waiting = watch.request_waiting.is_some_and(|w| w.load(Ordering::Relaxed));
                    if ticket.abort_on_close() || !waiting {
                        break Err(ConnectFailed::new(Side::Killed, StreamState::Queue, server));
                    }
                    watch.killed = true;
                }
            },
        }
    };
    // Leaving the queue without a slot: dropping the ticket takes it out.
    drop(ticket);
    result
}

/// Connects to a server of `backend` chosen by `picker`, retrying `retries` times; with
/// `option redispatch` the last retry (every retry when the backend has several usable active
/// servers and does not hash) asks the picker for another server.
///
/// # Errors
/// [`ConnectFailed`] when no server is usable or every attempt failed.
pub async fn connect_server<P: PickServer + ?Sized>(
    backend: &BackendSettings,
    backend_idx: usize,
    picker: &P,
    view: &StreamView<'_>,
) -> Result<Connected, ConnectFailed> {
    let mut watch = ClientWatch::none();
    connect_server_watched(backend, backend_idx, picker, view, &mut watch).await
}

/// [`connect_server`] for a stream whose client is watched while queued (`option abortonclose`).
///
/// # Errors
/// As [`take_slot`] and [`connect_slot`].
pub async fn connect_server_watched<P, G>(
    backend: &BackendSettings,
    backend_idx: usize,
    picker: &P,
    view: &StreamView<'_>,
    watch: &mut ClientWatch<'_, G>,
) -> Result<Connected, ConnectFailed>
where
    P: PickServer + ?Sized,
    G: Future<Output = ClientEvent>,
{
    let slot = take_slot(picker, backend, backend_idx, view, None, watch).await?;
    connect_slot(backend, backend_idx, picker, view, slot, watch).await
}

/// One connection attempt: connect within `timeout connect`, then send the PROXY header.
/// `live` is the server's current address when the registry is known (else the configured one).
async fn attempt(
    backend: &BackendSettings,
    idx: usize,
    live: Option<std::net::SocketAddr>,
    view: &StreamView<'_>,
) -> Result<TcpStream, Side> {
    let Some(server) = backend.servers.get(idx) else {
        return Err(Side::Server);
    };
    let attempt = async {
        let mut s = TcpStream::connect(server.target(live, view.dst)).await?;
        s.set_nodelay(true)?;
        if let Some(v) = server.send_proxy {
            let header = ProxyHeader::Tcp {
                src: view.src,
                dst: view.dst,
            };
            let bytes = match v {
                SendProxy::V1 => encode_v1(&header),
                SendProxy::V2 => encode_v2(&header),
            };
            s.write_all(&bytes).await?;
        }
        Ok::<_, std::io::Error>(s)
    };
    match backend.timeouts.connect {
        Some(t) => match tokio::time::timeout(t, attempt).await {
            Ok(r) => r.map_err(|_| Side::Server),
            Err(_) => Err(Side::ServerTimeout),
        },
        None => attempt.await.map_err(|_| Side::Server),
    }
}

/// Whether retry number `retry` (from 1) goes back to the balancer (HAProxy 2.6's
/// `stream_choose_redispatch()`): with `option redispatch`, every retry when the backend has
/// several usable active servers and does not hash, else the retries the interval names (-1, the
/// plain option: the last one; N > 0: every Nth; N < 0: each multiple of `retries + 1 + N`; 0:
/// none).
pub(crate) fn redispatches(backend: &BackendSettings, retry: u32, policy: RetryPolicy) -> bool {
    if !backend.redispatch {
        return false;
    }
    if policy.redispatch_every_retry() {
        return true;
    }
    let n = backend.redispatch_interval;
    let every = if n > 0 {
        n
    } else if n < 0 {
        i64::from(backend.retries) + 1 + n
    } else {
        0
    };
    every > 0 && i64::from(retry) % every == 0
}

/// Connects to the server `slot` holds, retrying as [`connect_server`] says; a redispatch
/// releases the slot and takes another one (which may queue again).
///
/// # Errors
/// [`ConnectFailed`] when every attempt failed, or a redispatch found no slot.
pub async fn connect_slot<P, G>(
    backend: &BackendSettings,
    backend_idx: usize,
    picker: &P,
    view: &StreamView<'_>,
    mut slot: ServerSlot,
    watch: &mut ClientWatch<'_, G>,
) -> Result<Connected, ConnectFailed>
where
    P: PickServer + ?Sized,
    G: Future<Output = ClientEvent>,
{
    let (mut retries, mut redispatched) = (0u32, false);
    let mut redispatched_from = None;
    loop {
        let idx = slot.server();
        let started = Instant::now();
        let live = watch
            .live
            .and_then(|be| be.servers.get(idx))
            .map(crate::registry::ServerEntry::current_addr);
        let tried = match watch.kill.as_mut() {
            // A kill while connecting ends the stream (`KC`); one that struck while it was
            // queued does not (HAProxy connects it, then ends it).
            Some(kill) => tokio::select! {
                r = attempt(backend, idx, live, view) => r,
                () = kill.as_mut() => {
                    return Err(ConnectFailed {
                        termination: Termination::new(Side::Killed, StreamState::Connect),
                        server: Some(idx),
                        retries,
                        redispatched_from,
                    });
                }
            },
            None => attempt(backend, idx, live, view).await,
        };
        let side = match tried {
            Ok(stream) => {
                return Ok(Connected {
                    stream,
                    server: idx,
                    retries,
                    redispatched,
                    redispatched_from,
                    tc: started.elapsed(),
                    slot,
                });
            }
            Err(side) => side,
        };
        if retries >= backend.retries {
            return Err(ConnectFailed {
                termination: Termination::new(side, StreamState::Connect),
                server: Some(idx),
                retries,
                redispatched_from,
            });
        }
        retries += 1;
        let policy = picker.retry_policy(backend_idx);
        let redispatch = redispatches(backend, retries, policy);
        // HAProxy pauses after a refused connection unless it goes to another server of a
        // backend with several active ones; a connect timeout is retried at once.
        let mut pause = side == Side::Server;
        if redispatch {
            drop(slot);
            slot = take_slot(picker, backend, backend_idx, view, Some(idx), watch)
                .await
                .map_err(|f| ConnectFailed { retries, ..f })?;
            if slot.server() != idx {
                redispatched_from.get_or_insert(idx);
                redispatched = true;
                pause &= !policy.several_active;
            }
        }
        if pause {
            let t = backend
                .timeouts
                .connect
                .map_or(TURN_AROUND, |t| t.min(TURN_AROUND));
            tokio::time::sleep(t).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use tokio::io::AsyncWriteExt;

    use super::*;
    use crate::route::RetryPolicy;
    use crate::settings::{Mode, ServerSettings, Timeouts};

    /// Round robin over two servers, as a balancer with several active servers reports it.
    struct Two(AtomicUsize);
    impl PickServer for Two {
        fn pick(&self, _b: usize, _s: &StreamView<'_>, avoid: Option<usize>) -> Option<usize> {
            let i = self.0.fetch_add(1, Ordering::Relaxed) % 2;
            Some(if Some(i) == avoid { 1 - i } else { i })
        }
        fn retry_policy(&self, _backend: usize) -> RetryPolicy {
            RetryPolicy {
                several_active: true,
                hashing: false,
            }
        }
    }

    #[tokio::test]
    async fn with_several_active_servers_every_retry_redispatches_without_a_pause() {
        // Bound, never listening: refused, and no other test can take the port meanwhile.
        let dead =
            socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        dead.bind(
            &"127.0.0.1:0"
                .parse::<std::net::SocketAddr>()
                .unwrap()
                .into(),
        )
        .unwrap();
        let dead_addr = dead.local_addr().unwrap().as_socket().unwrap();
        let live = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let server = |addr| ServerSettings {
            name: "s".into(),
            addr,
            maxconn: 0,
            maxqueue: 0,
            weight: 1,
            backup: false,
            send_proxy: None,
            port_offset: None,
        };
        let be = BackendSettings {
            name: "be".into(),
            mode: Mode::Tcp,
            timeouts: Timeouts {
                connect: Some(Duration::from_secs(5)),
                ..Timeouts::default()
            },
            conn_mode: crate::settings::ConnMode::KeepAlive,
            retries: 3,
            redispatch: true,
            redispatch_interval: -1,
            forwardfor: None,
            originalto: None,
            servers: vec![server(dead_addr), server(live.local_addr().unwrap())],
            errors: crate::errors::ErrorPages::new(),
            reuse: haproxy_cfg::model::HttpReuse::Safe,
            no_delay: false,
            buffer_request: false,
            stats: None,
            rules: Default::default(),
            case_adjust: None,
        };
        let view = StreamView {
            src: "127.0.0.1:4000".parse().unwrap(),
            dst: "127.0.0.1:80".parse().unwrap(),
            request: None,
        };
        let started = Instant::now();
        let c = connect_server(&be, 0, &Two(AtomicUsize::new(0)), &view)
            .await
            .unwrap();
        // The first retry already went to the other server, with no turn-around pause.
        assert_eq!((c.server, c.retries, c.redispatched), (1, 1, true));
        assert!(started.elapsed() < TURN_AROUND);
    }

    #[tokio::test]
    async fn a_watched_client_keeps_what_it_sends_up_to_the_limit() {
        let (mut client, mut proxy_side) = tokio::io::duplex(64);
        client.write_all(b"0123456789").await.unwrap();
        let mut buf = b"head".to_vec();
        let watched = watch_client(&mut proxy_side, &mut buf, 8);
        // At the limit it stops reading and never resolves.
        assert!(
            tokio::time::timeout(Duration::from_millis(50), watched)
                .await
                .is_err()
        );
        assert_eq!(buf, b"head0123");
        let mut buf = Vec::new();
        let rest = watch_client(&mut proxy_side, &mut buf, 8);
        drop(client);
        assert_eq!(rest.await, ClientEvent::Closed);
        assert_eq!(buf, b"456789");
    }
}
