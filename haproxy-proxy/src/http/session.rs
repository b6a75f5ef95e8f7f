//! One client connection in HTTP mode: a loop of requests over a kept-alive connection.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::task::Poll;
use std::time::{Duration, Instant};

use haproxy_cfg::model::HttpReuse;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;

use super::body::{
    BodyCursor, BodyError, DropSink, body_arrived, chunked_prefix_valid, fill, relay, take_arrived,
    take_body_prefix, timed,
};
use super::buffer::buffer_request;
use super::pool::ServerPool;
use super::rules::{RequestRule, answer, decide};
use crate::counters::Counters;
use crate::errors::{Reply, raw_h1_page};
use crate::facts::StreamFacts;
use crate::forward::{
    ForwardTimeouts, Hinted, WriteMore, forward, read_append, with_scratch, write_all_more,
};
use crate::h1::{
    BodyFraming, CaseMap, Parsed, RequestHead, ResponseHead, Version, clean_connection_headers,
    connection_header_for, forwarded_response_connection_header, normalize_content_length,
    parse_request, parse_response, push_status_line,
};
use crate::registry::KillPhase;
use crate::route::{ChooseBackend, PickServer, StreamView};
use crate::runtime::SoftStop;
use crate::runtime::idle_timer::{IdleTimer, within, within_queued_since};
use crate::settings::{BackendSettings, ConnMode, FrontendSettings};
use crate::side::{Side, StreamState, Termination};
use crate::tcp::{ClientWatch, ConnectFailed, connect_slot, take_slot, watch_client};

/// Everything an HTTP frontend needs to serve its clients.
#[derive(Debug)]
pub struct HttpService<B, P> {
    /// The frontend.
    pub frontend: FrontendSettings,
    /// The backends, by index.
    pub backends: Vec<BackendSettings>,
    /// The frontend's `http-request` rules, in order.
    pub rules: Vec<RequestRule>,
    /// `use_backend` / `default_backend`.
    pub chooser: B,
    /// The balancer.
    pub picker: P,
    /// Idle server connections.
    pub pool: ServerPool,
    /// The frontend's counters.
    pub counters: Arc<Counters>,
    /// Backend and server counters and state (shared by every frontend).
    pub registry: Arc<crate::registry::Registry>,
}

enum HeadOutcome {
    Head(Box<RequestHead>, usize),
    /// Closed silently: the client left, or an idle keep-alive connection expired.
    Quiet,
    /// No next request within [`DEEP_IDLE_GRACE`]: park the connection.
    Park,
    /// Send this raw page and close.
    Raw(u16, Termination),
}

/// A server connection kept by the session between requests (its own connection, `http-reuse safe`).
struct ServerConn {
    backend: usize,
    server: usize,
    stream: TcpStream,
    /// It has carried a second request (HAProxy's safe list: `http-reuse aggressive` gives it
    /// to a first request).
    proven: bool,
}

/// Serves one client connection until it closes; `on_request` receives the facts of each request
/// as it ends (for the log line), and the frontend's counters are updated. Returns how many
/// requests were handled.
///
/// An async block rather than an async fn: an async fn keeps its arguments twice in its state
/// (as captured and as locals), and this state lives as long as the connection, idle or not.
#[expect(
    clippy::manual_async_fn,
    reason = "an async fn keeps its arguments twice in its state (captured and as locals)"
)]
pub fn serve_http<'a, C, B, P, F>(
    svc: &'a HttpService<B, P>,
    client: C,
    src: SocketAddr,
    dst: SocketAddr,
    on_request: F,
) -> impl std::future::Future<Output = u64> + 'a
where
    C: AsyncRead + WriteMore + 'a,
    B: ChooseBackend,
    P: PickServer,
    F: FnMut(&StreamFacts) + 'a,
{
    async move {
        let addrs = (src, dst);
        serve_http_at(svc, client, &addrs, on_request).await
    }
}

/// [`serve_http`] with the addresses borrowed from the caller, which keeps them anyway: the
/// connection's task holds them once.
#[expect(
    clippy::manual_async_fn,
    reason = "an async fn keeps its arguments twice in its state (captured and as locals)"
)]
pub(crate) fn serve_http_at<'a, C, B, P, F>(
    svc: &'a HttpService<B, P>,
    mut client: C,
    addrs: &'a (SocketAddr, SocketAddr),
    mut on_request: F,
) -> impl std::future::Future<Output = u64> + 'a
where
    C: AsyncRead + WriteMore + 'a,
    B: ChooseBackend,
    P: PickServer,
    F: FnMut(&StreamFacts) + 'a,
{
    async move {
        let mut kept = Kept {
            buf: Vec::new(),
            server: None,
            handled: 0,
            first: true,
        };
        // The parked wait's timer, kept after a wake for its deadline (see `resumed_since`).
        let mut expiry: Option<IdleTimer> = None;
        loop {
            // Boxed per active period: a parked connection does not hold the request machinery.
            // Values are not bound across the waits below unless they must be: every binding in
            // scope at an await takes room in the connection's task for as long as it is open.
            let since = resumed_since(svc, expiry.take());
            let active = serve_active(svc, client, kept, *addrs, since, &mut on_request);
            expiry = {
                let parked;
                (client, kept, parked) = Box::pin(active).await;
                let Some(since) = parked else { break };
                // Deep idle: the server connection leaves the reactor (its socket stays open)
                // and only the keep-alive deadline is kept, in the thread's idle timer rather
                // than a tokio `Sleep` (the task holds a key, not a timer entry: see
                // `runtime::idle_timer`); the start of the wait is found again from it.
                let ka = svc.frontend.timeouts.keep_alive_idle();
                Some(IdleTimer::new(
                    ka.map_or_else(endless_wake, |d| since + d).into(),
                ))
            };
            let server = kept.server.take().and_then(ServerConn::park);
            // No keep-alive timer: the wait has one far off all the same, re-armed when it
            // passes, so that a soft stop's `fire_all` reaches it.
            let endless = svc.frontend.timeouts.keep_alive_idle().is_none();
            let woke = loop {
                if soft_stop_closes(svc, &mut expiry, endless) {
                    break false;
                }
                let woke = park(&mut client, &mut kept.buf, &mut expiry).await;
                let early = expiry.as_ref().is_some_and(IdleTimer::fired_early);
                if woke || !(early || endless) {
                    break woke;
                }
                // Fired early by a soft stop: wait again for the deadline it had.
                expiry = expiry.take().map(|t| {
                    IdleTimer::new(if early {
                        t.deadline()
                    } else {
                        endless_wake().into()
                    })
                });
            };
            kept.server = server.and_then(ParkedServer::resume);
            if !woke {
                break;
            }
        }
        let _ = client.shutdown().await;
        if let Some(conn) = kept.server {
            conn.leave_to(svc);
        }
        kept.handled
    }
}

/// The far deadline of a parked connection without keep-alive timer ([`NO_TIMEOUT_WAKE`] on).
fn endless_wake() -> Instant {
    Instant::now() + NO_TIMEOUT_WAKE
}

/// How far off the timer of a parked connection without `timeout http-keep-alive` or `timeout
/// client` is set (and set again each time it passes): it never closes the connection, it only
/// lets a soft stop wake it.
pub(crate) const NO_TIMEOUT_WAKE: Duration = Duration::from_secs(86_400);

/// Whether a soft stop closes this idle connection now; otherwise `expiry` may be brought
/// forward to a time of the `close-spread-time` window (the window's start fires parked timers
/// early so that each connection looks here). `endless`: its timer is only there to be woken.
fn soft_stop_closes<B, P>(
    svc: &HttpService<B, P>,
    expiry: &mut Option<IdleTimer>,
    endless: bool,
) -> bool {
    let deadline = expiry
        .as_ref()
        .filter(|_| !endless)
        .map(|t| t.deadline().into_std());
    let stop = &svc.registry.soft_stop;
    match stop.idle_close_at(svc.frontend.index, deadline) {
        Some(at) if at <= Instant::now() => true,
        Some(at) => {
            *expiry = Some(IdleTimer::new(at.into()));
            false
        }
        None => false,
    }
}

/// When the keep-alive wait that `expiry` timed began (its deadline less `timeout
/// http-keep-alive`), so that the next request's timers count as if the connection never parked;
/// `None` before the first park, or with no keep-alive timer.
fn resumed_since<B, P>(svc: &HttpService<B, P>, expiry: Option<IdleTimer>) -> Option<Instant> {
    let deadline = expiry.map(|t| t.deadline().into_std());
    let ka = svc.frontend.timeouts.keep_alive_idle();
    deadline.zip(ka).and_then(|(d, ka)| d.checked_sub(ka))
}

/// How long a kept-alive client connection waits for its next request with its whole session
/// before it is parked (deep idle: the session's state is dropped, the server connection is
/// taken out of the reactor). Busy keep-alive traffic never waits that long between requests.
pub(crate) const DEEP_IDLE_GRACE: Duration = Duration::from_millis(50);

/// What a client connection keeps from one request to the next, parked or not.
struct Kept {
    /// Bytes read and not yet used (pipelined requests); empty when idle.
    buf: Vec<u8>,
    /// The session's own server connection (`http-reuse safe`).
    server: Option<ServerConn>,
    /// Requests handled so far.
    handled: u64,
    /// No request read yet.
    first: bool,
}

/// A session's server connection while its client is parked: registered with no reactor.
struct ParkedServer {
    /// Indexes narrowed to 32 bits: 8 bytes less in a parked connection's task.
    backend: u32,
    /// The server index, and [`PROVEN_BIT`] when the connection is proven.
    server: u32,
    stream: std::net::TcpStream,
}

/// The bit of [`ParkedServer::server`] that keeps [`ServerConn::proven`] (server indexes stay
/// below it; a connection to a server past it is closed when parked).
const PROVEN_BIT: u32 = 1 << 31;

impl ServerConn {
    /// The client connection is done with it: into the thread's idle pool for other clients,
    /// unless its backend has `http-reuse never` (it is then closed).
    fn leave_to<B, P>(self, svc: &HttpService<B, P>) {
        let shares = svc
            .backends
            .get(self.backend)
            .is_none_or(|b| b.reuse != HttpReuse::Never);
        if shares {
            svc.pool
                .put(self.backend, self.server, self.stream, self.proven);
        }
    }

    /// Takes the connection out of the reactor, keeping it open; `None` if that fails or an
    /// index does not fit in 32 bits (it is then closed).
    fn park(self) -> Option<ParkedServer> {
        let backend = u32::try_from(self.backend).ok()?;
        let server = u32::try_from(self.server)
            .ok()
            .filter(|s| s & PROVEN_BIT == 0)?;
        let stream = self.stream.into_std().ok()?;
        Some(ParkedServer {
            backend,
            server: if self.proven {
                server | PROVEN_BIT
            } else {
                server
            },
            stream,
        })
    }
}

impl ParkedServer {
    /// Registers the connection again; `None` if that fails (it is then closed).
    fn resume(self) -> Option<ServerConn> {
        let stream = TcpStream::from_std(self.stream).ok()?;
        Some(ServerConn {
            backend: usize::try_from(self.backend).ok()?,
            server: usize::try_from(self.server & !PROVEN_BIT).ok()?,
            stream,
            proven: self.server & PROVEN_BIT != 0,
        })
    }
}

/// Waits, parked, for the client's next bytes until `expiry`; true when some arrived (in `buf`),
/// false when the client left or the keep-alive timeout expired. The bytes are read through the
/// thread's scratch buffer: nothing is allocated while the wait lasts, and the future holds
/// three pointers.
fn park<'a, C: AsyncRead + Unpin>(
    client: &'a mut C,
    buf: &'a mut Vec<u8>,
    expiry: &'a mut Option<IdleTimer>,
) -> impl std::future::Future<Output = bool> + 'a {
    std::future::poll_fn(move |cx| {
        let read = with_scratch(|scratch| {
            let mut rb = ReadBuf::new(scratch);
            match Pin::new(&mut *client).poll_read(cx, &mut rb) {
                Poll::Ready(Ok(())) => {
                    buf.extend_from_slice(rb.filled());
                    Poll::Ready(!rb.filled().is_empty())
                }
                Poll::Ready(Err(_)) => Poll::Ready(false),
                Poll::Pending => Poll::Pending,
            }
        });
        if read.is_ready() {
            return read;
        }
        match expiry.as_mut().map(|timer| timer.poll_expired(cx)) {
            Some(Poll::Ready(())) => Poll::Ready(false),
            _ => Poll::Pending,
        }
    })
}

/// Serves requests until the connection closes (`None`) or has waited [`DEEP_IDLE_GRACE`] for
/// its next request (`Some(since)`, the instant that wait began: the connection is to be
/// parked); gives back the client and what is kept between requests.
#[expect(
    clippy::manual_async_fn,
    reason = "an async fn keeps its arguments twice in its state (captured and as locals)"
)]
fn serve_active<'a, C, B, P, F>(
    svc: &'a HttpService<B, P>,
    mut client: C,
    kept: Kept,
    (src, dst): (SocketAddr, SocketAddr),
    mut idle_since: Option<Instant>,
    on_request: &'a mut F,
) -> impl std::future::Future<Output = (C, Kept, Option<Instant>)> + 'a
where
    C: AsyncRead + WriteMore + 'a,
    B: ChooseBackend,
    P: PickServer,
    F: FnMut(&StreamFacts) + 'a,
{
    async move {
        let fe = &svc.frontend;
        let Kept {
            mut buf,
            mut server,
            mut handled,
            mut first,
        } = kept;
        let mut parked = None;
        let fe_idx = fe.index;
        // The instant the previous request ended (its one clock read): the next wait starts then.
        let mut ended: Option<Instant> = None;
        loop {
            // Read now (or at the previous request's end, in the same poll) unless resumed from a
            // park, which gives the instant the wait began before it: only a fresh instant times
            // the wait for the next head.
            let fresh = idle_since.is_none();
            let start = idle_since
                .take()
                .or(ended.take())
                .unwrap_or_else(Instant::now);
            let since = fresh.then_some(start);
            let stop = &svc.registry.soft_stop;
            let (head, len) = match read_head(&mut client, &mut buf, first, fe, since, stop).await {
                HeadOutcome::Head(h, len) => (h, len),
                HeadOutcome::Quiet => break,
                HeadOutcome::Park => {
                    parked = Some(start);
                    break;
                }
                HeadOutcome::Raw(code, termination) => {
                    // A head the parser refused (not a timeout) is kept for `show errors`.
                    if termination.side == Side::Proxy && !buf.is_empty() {
                        svc.registry.errors.capture(fe_idx, src, &buf);
                    }
                    if let Some(page) = raw_h1_page(code) {
                        let _ = timed(fe.timeouts.client, client.write_all(&page)).await;
                    }
                    svc.counters
                        .errors_req
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let facts = StreamFacts {
                        status: Some(code),
                        termination,
                        ..StreamFacts::default()
                    };
                    svc.counters.record(&facts);
                    on_request(&facts);
                    handled += 1;
                    break;
                }
            };
            first = false;
            buf.drain(..len);
            let not_first = handled > 0;
            // Not boxed per request (no allocation and no copy of the request's state per
            // request): this active period is boxed once, and a connection that goes idle is
            // parked without it. Listed by `show sess` while the request runs; `shutdown
            // session` ends it.
            // The request's future is polled where it is made, not wrapped (a task-local scope
            // moved the whole request state twice per request); its route is written into the
            // session's slot by `handle_request` itself.
            let session = svc.registry.sessions.open(fe_idx, src);
            let mut facts = StreamFacts {
                bytes_in: len as u64,
                ..StreamFacts::default()
            };
            facts.timers.tr_req = Some(start.elapsed());
            // What a kill answers needs it once the request is gone.
            let version = head.version;
            // Made where it is pinned and raced by reference: `select!` would move the whole
            // request state into its own tuple first.
            let done = {
                let request = std::pin::pin!(handle_request(
                    svc,
                    &mut client,
                    &mut buf,
                    &mut server,
                    *head,
                    (src, dst),
                    not_first,
                    &mut facts,
                    &session,
                ));
                tokio::select! {
                    keep = request => Some(keep),
                    // A kill while queued is the queue wait's to handle (`handle_request`).
                    () = session.killed_outside_queue() => None,
                }
            };
            let keep = match done {
                Some(keep) => keep,
                None => answer_kill(svc, &mut client, &session, version, &mut facts).await,
            };
            // One clock read for the total time, every counter the request touches and the start
            // of the wait for the next request.
            let now = Instant::now();
            facts.timers.ta = Some(now.saturating_duration_since(start));
            svc.counters.record_at(&facts, crate::counters::ms_at(now));
            svc.registry.record_at(&facts, now);
            on_request(&facts);
            ended = Some(now);
            drop(session);
            handled += 1;
            if !keep {
                break;
            }
            if buf.is_empty() {
                buf = Vec::new(); // idle: hold no buffer
            }
        }
        let kept = Kept {
            buf,
            server,
            handled,
            first,
        };
        (client, kept, parked)
    }
}

/// Reads and parses the next request head. `since`: the instant the wait began, read by the
/// caller in the same poll (the wait's time limit counts from it, with no clock read here).
async fn read_head<C: AsyncRead + Unpin>(
    client: &mut C,
    buf: &mut Vec<u8>,
    first: bool,
    fe: &FrontendSettings,
    since: Option<Instant>,
    stop: &SoftStop,
) -> HeadOutcome {
    let t = &fe.timeouts;
    // The first request's head must arrive within `timeout http-request` of the accept; a later
    // one within `timeout http-request` of its first byte (after the keep-alive idle wait).
    // Only the first request counts from here (a clock read saved on every later one).
    let entered = first.then(|| since.unwrap_or_else(Instant::now));
    if buf.is_empty() {
        // Wait for the first bytes in the thread's scratch buffer; the idle connection holds none.
        let idle = if first {
            t.request_head()
        } else {
            t.keep_alive_idle()
        };
        // A kept-alive connection waits the grace period here, then is parked.
        let parks = !first && idle.is_none_or(|d| d > DEEP_IDLE_GRACE);
        let wait = if parks { Some(DEEP_IDLE_GRACE) } else { idle };
        // Pending on nearly every request: on the thread's queued timers, not tokio's; a first
        // request under `close-spread-time` also watches the soft stop.
        let read = if first && stop.spreads() {
            let deadline = entered.zip(wait).map(|(e, w)| e + w);
            head_wait(stop, deadline, read_append(client, buf)).await
        } else {
            within_queued_since(since.map(Into::into), wait, read_append(client, buf)).await
        };
        match read {
            None if first => {
                return HeadOutcome::Raw(
                    408,
                    Termination::new(Side::ClientTimeout, StreamState::Request),
                );
            }
            None if parks => return HeadOutcome::Park,
            None | Some(Err(_)) | Some(Ok(0)) => return HeadOutcome::Quiet,
            Some(Ok(_)) => {}
        }
    }
    // For a later request, `timeout http-request` counts from its first bytes: read when the
    // head turns out to be incomplete (the usual whole head in one read needs no deadline).
    let mut deadline = entered.map(|from| t.request_head().map(|d| from + d));
    loop {
        match parse_request(buf, &fe.limits) {
            Ok(Parsed::Complete { head, len }) => {
                // HAProxy's H1 mux also parses the body bytes that came with the head: a bad
                // chunk there is a parse error (400) before anything is forwarded.
                // (Only a Transfer-Encoding makes a chunked body: the full framing is not
                // worked out for every request here.)
                if head.headers.contains("transfer-encoding")
                    && head.framing() == Ok(BodyFraming::Chunked)
                    && !chunked_prefix_valid(buf.get(len..).unwrap_or_default())
                {
                    return HeadOutcome::Raw(
                        400,
                        Termination::new(Side::Proxy, StreamState::Request),
                    );
                }
                return HeadOutcome::Head(Box::new(head), len);
            }
            Ok(Parsed::Partial) => {}
            Err(e) => {
                return HeadOutcome::Raw(
                    e.request_status(),
                    Termination::new(Side::Proxy, StreamState::Request),
                );
            }
        }
        let now = Instant::now();
        let deadline = *deadline.get_or_insert_with(|| t.request_head().map(|d| now + d));
        let filled = if stop.spreads() {
            let read = head_wait(stop, deadline, fill(client, buf, None)).await;
            read.unwrap_or(Err(BodyError::SourceTimeout))
        } else {
            let left = deadline.map(|d| d.saturating_duration_since(now));
            fill(client, buf, left).await
        };
        match filled {
            // A client that closes with part of a head sent gets HAProxy's 400 (2.6.12, first
            // request or a later one, even a lone CRLF).
            Ok(0) => {
                return HeadOutcome::Raw(400, Termination::new(Side::Client, StreamState::Request));
            }
            Err(BodyError::Source | BodyError::Sink | BodyError::Framing) => {
                return HeadOutcome::Quiet;
            }
            Ok(_) => {}
            Err(BodyError::SourceTimeout) => {
                return HeadOutcome::Raw(
                    408,
                    Termination::new(Side::ClientTimeout, StreamState::Request),
                );
            }
        }
    }
}

/// Waits for `fut` until `deadline`, which a soft stop's `close-spread-time` window may bring
/// forward ([`SoftStop::head_deadline`]: the stop wakes the wait for it); `None` once the
/// deadline passed.
async fn head_wait<F: std::future::Future>(
    stop: &SoftStop,
    deadline: Option<Instant>,
    fut: F,
) -> Option<F::Output> {
    let mut fut = std::pin::pin!(fut);
    let mut watching = !stop.is_stopping();
    let mut at = if watching {
        deadline
    } else {
        stop.head_deadline(deadline)
    };
    loop {
        let expired = async {
            match at {
                Some(t) => tokio::time::sleep_until(t.into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            out = &mut fut => return Some(out),
            () = expired => return None,
            () = stop.begun(), if watching => {
                watching = false;
                at = stop.head_deadline(deadline);
            }
        }
    }
}

/// Sends a generated reply; returns whether the client connection stays open.
pub(super) async fn send_reply<C: AsyncWrite + Unpin>(
    client: &mut C,
    reply: &Reply,
    version: Version,
    keep: bool,
    t: Option<Duration>,
    case: Option<&CaseMap>,
) -> bool {
    let mut bytes = reply.to_bytes(version, keep);
    if let Some(case) = case {
        case.adjust_head(&mut bytes);
    }
    matches!(timed(t, client.write_all(&bytes)).await, Some(Ok(()))) && keep
}

#[expect(
    clippy::too_many_arguments,
    reason = "one call site; the pieces are the session's state"
)]
async fn handle_request<C, B, P>(
    svc: &HttpService<B, P>,
    client: &mut C,
    buf: &mut Vec<u8>,
    server: &mut Option<ServerConn>,
    mut req: RequestHead,
    (src, dst): (SocketAddr, SocketAddr),
    not_first: bool,
    facts: &mut StreamFacts,
    session: &crate::registry::SessionGuard<'_>,
) -> bool
where
    C: AsyncRead + WriteMore,
    B: ChooseBackend,
    P: PickServer,
{
    let fe = &svc.frontend;
    let ct = fe.timeouts.client;
    let Ok(req_framing) = req.framing() else {
        return false;
    };
    // Transfer-Encoding with Content-Length, or on HTTP/1.0, makes HAProxy close afterwards.
    let client_ka = ConnMode::client_keeps_alive(fe.conn_mode)
        && req.wants_keep_alive()
        && !req.forces_close()
        && !svc.registry.soft_stop.closes_response();
    // A generated answer keeps the connection only when no request body is left unread.
    let reply_ka = client_ka && req_framing == BodyFraming::None;
    let mut keep_on_error = reply_ka;
    // `option http-buffer-request`: the whole body before the frontend's rules.
    let fe_buffers = fe.buffer_request;
    if fe_buffers && !buffer_request(client, buf, &mut req, req_framing, (fe, None), facts).await {
        return false;
    }
    let view = StreamView {
        src,
        dst,
        request: Some(&req),
    };
    // http-request rules run before use_backend.
    let section = Section {
        rules: &svc.rules,
        backend: None,
        counters: None,
        stats: fe.stats.as_deref(),
    };
    if let Some(keep) = section_answers(
        svc,
        section,
        client,
        buf,
        &req,
        req_framing,
        &view,
        client_ka,
        facts,
    )
    .await
    {
        return keep;
    }
    // No backend chosen, or an index the runtime does not know: both are HAProxy's 503 "no server".
    let chosen = svc
        .chooser
        .choose(&view)
        .and_then(|idx| svc.backends.get(idx).map(|be| (idx, be)));
    let Some((be_idx, be)) = chosen else {
        let term = Termination::new(Side::Server, StreamState::Connect);
        return error_then_drain(svc, client, buf, &req, 503, term, facts, client_ka).await;
    };
    facts.backend = Some(be_idx);
    // The stream counts on its backend from now on, queued or not (`scur` as in HAProxy).
    let _be_busy = svc.registry.hold(be_idx, None);
    session.route(be_idx, None);
    if !fe_buffers
        && be.buffer_request
        && !buffer_request(
            client,
            buf,
            &mut req,
            req_framing,
            (fe, Some(&be.errors)),
            facts,
        )
        .await
    {
        return false;
    }
    let view = StreamView {
        src,
        dst,
        request: Some(&req),
    };
    // Then the chosen backend's http-request rules and stats page.
    let section = Section {
        rules: if fe.own_backend == Some(be_idx) {
            &[]
        } else {
            &be.rules
        },
        backend: Some(be_idx),
        counters: svc.registry.backends.get(be_idx).map(|b| &*b.counters),
        stats: be.stats.as_deref(),
    };
    if let Some(keep) = section_answers(
        svc,
        section,
        client,
        buf,
        &req,
        req_framing,
        &view,
        client_ka,
        facts,
    )
    .await
    {
        return keep;
    }
    let server_ka = ConnMode::effective(fe.conn_mode, be.conn_mode) == ConnMode::KeepAlive;
    // A server slot first: the balancer picks (or queues) for every request, as HAProxy does.
    // What the client sends while queued (body, next request) is kept in `buf`. A kill while
    // queued is the queue wait's: the request waits in HAProxy's buffer, so the stream stays
    // queued (unless `option abortonclose`), and once it has its slot it goes on to the server
    // until the kill strikes as it waits for the response (`KH`).
    session.set_phase(KillPhase::Queued);
    let request_waiting = AtomicBool::new(true);
    let (taken, queued, killed_queued) = {
        let gone = std::pin::pin!(watch_client(&mut *client, &mut *buf, fe.limits.bufsize));
        let kill = std::pin::pin!(session.live().killed());
        let mut watch = ClientWatch::new(Some(&*svc.counters), gone)
            .in_backend(svc.registry.backends.get(be_idx))
            .with_kill(kill, &request_waiting);
        let r = take_slot(&svc.picker, be, be_idx, &view, None, &mut watch).await;
        (r, watch.queued(), watch.killed_while_queued())
    };
    if !killed_queued {
        session.set_phase(KillPhase::Other);
    }
    facts.timers.tw = Some(queued);
    let slot = match taken {
        Ok(slot) => slot,
        Err(f) if killed_queued && !f.is_client_abort() => {
            // `timeout queue` struck after the kill: HAProxy's 503, with the kill's `K` (the
            // connection stays open, as after any 503).
            facts.retries = f.retries;
            facts.server = f.server;
            facts.redispatched_from = f.redispatched_from;
            let term = Termination::new(Side::Killed, f.termination.state);
            return error_then_drain(svc, client, buf, &req, 503, term, facts, client_ka).await;
        }
        Err(f) => return connect_failed(svc, client, buf, &req, f, facts, client_ka).await,
    };
    let idx = slot.server();
    // Reuse the session's own connection to that server, else an idle one as `http-reuse`
    // allows, else connect. The slot is held until this request is answered.
    // A server marked down (or in maintenance) since the last request loses the session's
    // connection at once; a server the registry does not know stays usable.
    let usable = |b: usize, s: usize| {
        svc.registry
            .balancer(b)
            .is_none_or(|lb| lb.servers().get(s).is_none() || lb.is_usable(s))
    };
    let mut conn = match server.take() {
        Some(c) if c.backend == be_idx && c.server == idx => Some(ServerConn { proven: true, ..c }),
        Some(c) if usable(c.backend, c.server) => {
            c.leave_to(svc);
            None
        }
        _ => None,
    };
    if conn.is_none()
        && let Some(proven_only) = be.reuse.idle_for(not_first)
        && let Some(stream) = svc.pool.take(be_idx, idx, proven_only)
        && super::pool::goes_to(
            &stream,
            be.servers.get(idx),
            &svc.registry,
            be_idx,
            idx,
            view.dst,
        )
    {
        // Carrying this request proves it, if it was not yet.
        conn = Some(ServerConn {
            backend: be_idx,
            server: idx,
            stream,
            proven: true,
        });
    }
    let _slot = match conn {
        Some(_) => slot,
        None => {
            let before = Instant::now();
            let result = {
                let gone = std::pin::pin!(watch_client(&mut *client, &mut *buf, fe.limits.bufsize));
                let mut watch = ClientWatch::new(Some(&*svc.counters), gone)
                    .in_backend(svc.registry.backends.get(be_idx));
                let r = connect_slot(be, be_idx, &svc.picker, &view, slot, &mut watch).await;
                (r, watch.queued())
            };
            facts.timers.tw = Some(queued + result.1);
            match result.0 {
                Ok(c) => {
                    facts.timers.tc = Some(before.elapsed().saturating_sub(result.1));
                    facts.retries = c.retries;
                    facts.redispatched = c.redispatched;
                    facts.redispatched_from = c.redispatched_from;
                    conn = Some(ServerConn {
                        backend: be_idx,
                        server: c.server,
                        stream: c.stream,
                        proven: false,
                    });
                    c.slot
                }
                Err(f) => {
                    return connect_failed(svc, client, buf, &req, f, facts, client_ka).await;
                }
            }
        }
    };
    let Some(mut conn) = conn else { return false };
    // `on-marked-down shutdown-sessions` / `shutdown-backup-sessions`: only armed servers.
    let mut kill = svc
        .registry
        .backends
        .get(be_idx)
        .and_then(|b| b.servers.get(conn.server))
        .and_then(|sv| sv.armed_shutdown_signal());
    prepare_request(&mut req, fe, be, src, dst, server_ka);
    let mut head_bytes = Vec::with_capacity(512);
    req.write_to(&mut head_bytes);
    if let Some(case) = &be.case_adjust {
        case.adjust_head(&mut head_bytes);
    }
    facts.server = Some(conn.server);
    let _busy = svc.registry.hold_server(be_idx, conn.server);
    session.route(be_idx, Some(conn.server));
    let st = be.timeouts.server;
    // `option http-no-delay`: no piece of either message waits for the next (no MSG_MORE).
    let no_delay = fe.no_delay || be.no_delay;
    let sent = Instant::now();
    // Polled once here, then under its time limit: a head written at once (nearly always) lets
    // the wait for the response head count from `sent`, with no clock read of its own.
    let mut write = std::pin::pin!(conn.stream.write_all(&head_bytes));
    let first = std::future::poll_fn(|cx| Poll::Ready(write.as_mut().poll(cx))).await;
    let wait_since = first.is_ready().then_some(sent);
    let written = match first {
        Poll::Ready(r) => Some(r),
        Poll::Pending => within(st, write).await,
    };
    if !matches!(written, Some(Ok(()))) {
        return error_reply(
            svc,
            client,
            &req,
            502,
            Termination::new(Side::Server, StreamState::Headers),
            facts,
            keep_on_error,
        )
        .await;
    }
    if killed_queued {
        // Killed while queued: the request went to the server, and the kill strikes now, before
        // any response is read (`KH`, as HAProxy 2.6). Leaving the queued phase wakes the kill
        // waiting in `serve_active`, which ends this future; it never completes by itself.
        session.set_phase(KillPhase::AwaitingResponse(reply_ka));
        return std::future::pending().await;
    }
    // Request body and response head. HAProxy forwards the body whenever it comes, Expect:
    // 100-continue or not; with Expect the server's 100 must reach the client while the body
    // waits, so both directions run together. While the body flows HAProxy does not expire the
    // client side: a stalled body ends with the server timeout (504), as observed on 2.6.12.
    let body_wait = st.or(ct);
    let mut sbuf: Vec<u8> = Vec::new();
    // With a body, the response head is awaited while the body flows: the server may answer
    // (100 Continue, or a final status such as 417 or 413) before it has read it all. The
    // body's relay then stops where it stands and goes on once the response has been sent.
    let mut body_abandoned = false;
    let mut cursor = BodyCursor::new(req_framing).with_case(be.case_adjust.clone());
    let (body, head) = if req.expects_continue() || req_framing != BodyFraming::None {
        let (mut cr, mut cw) = tokio::io::split(&mut *client);
        let (mut sr, mut sw) = conn.stream.split();
        let mut sw = Hinted::new(&mut sw, no_delay);
        let body_fut = cursor.run(&mut cr, buf, &mut sw, body_wait, st);
        let head_fut = final_response(&mut sr, &mut sbuf, &mut cw, fe, (st, ct), wait_since);
        tokio::pin!(body_fut, head_fut);
        tokio::select! {
            biased;
            body = &mut body_fut => {
                if body.is_ok() {
                    session.set_phase(KillPhase::AwaitingResponse(client_ka));
                }
                (body, head_fut.await)
            }
            head = &mut head_fut => {
                // A final answer before the whole body: forwarded as HAProxy does; the rest of
                // the body follows it (`finish_early_body`) once the response has been sent.
                body_abandoned = true;
                // The response wait and a stalled body both count `timeout server`: whichever
                // fires first, the stream ends as a stalled body does (504, client closed).
                let stalled = st.is_some() && matches!(head, Err(HeadError::Status(504)));
                let body = if stalled { Err(BodyError::SourceTimeout) } else { Ok(0) };
                (body, head)
            }
        }
    } else {
        session.set_phase(KillPhase::AwaitingResponse(client_ka));
        let head = final_response(
            &mut conn.stream,
            &mut sbuf,
            client,
            fe,
            (st, ct),
            wait_since,
        )
        .await;
        (Ok(0), head)
    };
    let failed = match body {
        Ok(n) => {
            facts.bytes_in += n;
            keep_on_error = client_ka && !body_abandoned;
            None
        }
        Err(BodyError::Sink) => Some((502, Termination::new(Side::Server, StreamState::Data))),
        // A bad chunk after the head went out: HAProxy's stream answers 400 and closes.
        Err(BodyError::Framing) => Some((400, Termination::new(Side::Client, StreamState::Data))),
        Err(BodyError::SourceTimeout) if st.is_some() => Some((
            504,
            Termination::new(Side::ServerTimeout, StreamState::Data),
        )),
        Err(BodyError::Source | BodyError::SourceTimeout) => {
            facts.termination = Termination::new(Side::Client, StreamState::Data);
            return false;
        }
    };
    if let Some((code, term)) = failed {
        return error_reply(svc, client, &req, code, term, facts, false).await;
    }
    let resp = match head {
        Ok(r) => r,
        Err(HeadError::ClientGone) => return false,
        Err(HeadError::Status(code)) => {
            let side = if code == 504 {
                Side::ServerTimeout
            } else if sbuf.is_empty() {
                Side::Server
            } else {
                Side::Proxy
            };
            return error_reply(
                svc,
                client,
                &req,
                code,
                Termination::new(side, StreamState::Headers),
                facts,
                keep_on_error,
            )
            .await;
        }
    };
    facts.timers.tr_resp = Some(sent.elapsed());
    facts.status = Some(resp.status);
    session.set_phase(KillPhase::Responding);
    let tunnel = resp.status == 101 || (req.is_connect() && (200..300).contains(&resp.status));
    if tunnel {
        let mut out = Vec::new();
        resp.write_to(&mut out);
        if let Some(case) = &fe.case_adjust {
            case.adjust_head(&mut out);
        }
        let _ = timed(ct, client.write_all(&out)).await;
        if !buf.is_empty() {
            let _ = conn.stream.write_all(buf).await;
        }
        if !sbuf.is_empty() {
            let _ = client.write_all(&sbuf).await;
        }
        let t = ForwardTimeouts {
            client: ct,
            server: st,
            client_fin: fe.timeouts.client_fin,
            server_fin: be.timeouts.server_fin,
        }
        .tunnel(fe.timeouts.tunnel.or(be.timeouts.tunnel));
        let out = tokio::select! {
            out = forward(&mut *client, conn.stream, t) => out,
            side = killed(&mut kill) => {
                facts.termination = Termination::new(side, StreamState::Data);
                return false;
            }
        };
        facts.bytes_in += out.client_to_server;
        facts.bytes_out += out.server_to_client;
        facts.termination = out.termination;
        return false;
    }
    let Ok(resp_framing) = resp.framing(req.method.eq_ignore_ascii_case("HEAD")) else {
        return false;
    };
    // A bad chunk that came with the head is found before the head goes out: 502.
    if resp_framing == BodyFraming::Chunked && !chunked_prefix_valid(&sbuf) {
        return error_reply(
            svc,
            client,
            &req,
            502,
            Termination::new(Side::Proxy, StreamState::Headers),
            facts,
            keep_on_error,
        )
        .await;
    }
    // The server keeps the connection: HTTP/1.1 without `close`, HTTP/1.0 with `keep-alive`.
    let server_keeps = if resp.version.is_11_or_later() {
        !resp.headers.has_token("connection", "close")
    } else {
        resp.headers.has_token("connection", "keep-alive")
    };
    let server_may_keep = server_ka
        && server_keeps
        && !resp.forces_close()
        && resp_framing != BodyFraming::UntilClose;
    let mut server_reusable = server_may_keep && !body_abandoned;
    let client_keep = client_ka
        && resp_framing != BodyFraming::UntilClose
        && !svc.registry.soft_stop.closes_response();
    let mut resp = resp;
    clean_connection_headers(&mut resp.headers);
    if resp.status == 204 {
        // HAProxy's H1 mux drops the framing headers of a 204 on output.
        resp.headers.remove("content-length");
        resp.headers.remove("transfer-encoding");
    } else if resp_framing == BodyFraming::Chunked {
        resp.headers.remove("content-length");
    } else {
        normalize_content_length(&mut resp.headers);
    }
    // The request head's buffer, written already, holds the response head: one allocation less.
    let mut out = head_bytes;
    out.clear();
    // Written in place: no temporary String and no formatter per response.
    push_status_line(&mut out, resp.version.on_wire(), resp.status, &resp.reason);
    resp.headers.write_to(&mut out);
    if let Some(v) = forwarded_response_connection_header(req.version, resp.version, client_keep) {
        out.extend_from_slice(b"connection: ");
        out.extend_from_slice(v.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    if let Some(case) = &fe.case_adjust {
        case.adjust_head(&mut out);
    }
    // The body bytes already read go out with the head: one write for a small response.
    let rest = take_body_prefix(resp_framing, &mut sbuf, &mut out);
    // Flagged "more follows" when body bytes are known to follow at once (HAProxy's MSG_MORE on
    // a head whose message goes on); a close-delimited body only if some are already read.
    let body_follows = match rest {
        BodyFraming::Length(n) => n > 0,
        BodyFraming::Chunked => true,
        BodyFraming::UntilClose => !sbuf.is_empty(),
        BodyFraming::None => false,
    };
    if !matches!(
        within(ct, write_all_more(client, &out, body_follows && !no_delay)).await,
        Some(Ok(()))
    ) {
        facts.termination = Termination::new(Side::Client, StreamState::Data);
        return false;
    }
    facts.bytes_out += out.len() as u64;
    let mut cw = Hinted::new(&mut *client, no_delay);
    // Its own cursor: the request body's may still have to finish after an early answer.
    let mut resp_cursor = BodyCursor::new(rest).with_case(fe.case_adjust.clone());
    let relayed = tokio::select! {
        r = resp_cursor.run(&mut conn.stream, &mut sbuf, &mut cw, st, ct) => r,
        side = killed(&mut kill) => {
            facts.termination = Termination::new(side, StreamState::Data);
            return false;
        }
    };
    match relayed {
        Ok(n) => facts.bytes_out += n,
        Err(e) => {
            let side = match e {
                BodyError::Source | BodyError::Framing => Side::Server,
                BodyError::SourceTimeout => Side::ServerTimeout,
                BodyError::Sink => Side::Client,
            };
            facts.termination = Termination::new(side, StreamState::Data);
            return false;
        }
    }
    // The rest of a body the server answered early: to the server, or dropped once it is gone
    // (not when neither connection is kept: both close).
    if body_abandoned && (client_keep || server_may_keep) {
        let t = (body_wait, st, ct);
        let finished = tokio::select! {
            r = finish_early_body(&mut cursor, client, buf, &mut conn.stream, t, no_delay) => r,
            side = killed(&mut kill) => {
                facts.termination = Termination::new(side, StreamState::Data);
                return false;
            }
        };
        match finished {
            Ok((n, forwarded)) => {
                facts.bytes_in += n;
                body_abandoned = false;
                server_reusable = server_may_keep && forwarded;
                if !forwarded {
                    facts.termination = Termination::new(Side::Server, StreamState::Data);
                }
            }
            Err(_) => {
                facts.termination = Termination::new(Side::Client, StreamState::Data);
            }
        }
    }
    if server_reusable && sbuf.is_empty() {
        *server = Some(conn);
    } else {
        // The exchange is complete and the server connection is not kept: closed with a reset,
        // as HAProxy 2.6 does (SO_LINGER 0 before close), so neither side keeps a TIME_WAIT
        // socket or exchanges FINs for a connection that carries nothing more.
        let _ = conn.stream.set_zero_linger();
    }
    client_keep && !body_abandoned
}

/// The most bytes of a request body read and dropped after the server answered early and went
/// away (the body then has nowhere to go), re-encoded bytes for a chunked body. HAProxy 2.6.12
/// keeps the client in that case only while the rest of the body comes in a few reads (it was
/// seen closing the connection on a later read, and at once on a 1 MiB read): beyond this bound
/// ours closes the client connection too.
pub(crate) const EARLY_ANSWER_DRAIN_LIMIT: u64 = 1 << 20;

/// Relays the rest of a request body the server answered before it had it all, once that answer
/// has been sent: as HAProxy 2.6.12 does, to the server while it takes it (a server that keeps
/// its connection reads it, and the connection is reused), then, once writing to the server
/// fails, read from the client and dropped, at most [`EARLY_ANSWER_DRAIN_LIMIT`] bytes, each
/// read within `timeout client`. Returns the body bytes relayed or dropped and whether all of
/// them reached the server; an error when the client side failed or the bound was passed (the
/// client connection then closes).
async fn finish_early_body<C: AsyncRead + Unpin>(
    cursor: &mut BodyCursor,
    client: &mut C,
    buf: &mut Vec<u8>,
    server: &mut TcpStream,
    (body_wait, st, ct): (Option<Duration>, Option<Duration>, Option<Duration>),
    no_delay: bool,
) -> Result<(u64, bool), BodyError> {
    let mut sw = Hinted::new(&mut *server, no_delay);
    match cursor.run(client, buf, &mut sw, body_wait, st).await {
        Ok(n) => return Ok((n, true)),
        Err(BodyError::Sink) => {}
        Err(e) => return Err(e),
    }
    let mut sink = DropSink::new(EARLY_ANSWER_DRAIN_LIMIT);
    let n = cursor.run(client, buf, &mut sink, ct, None).await?;
    Ok((n, false))
}

/// What one section (the frontend, then the chosen backend) may answer from: its http-request
/// rules, the counters a deny also counts on (a backend's), and its stats page.
struct Section<'a> {
    rules: &'a [RequestRule],
    /// The backend whose section this is (`None`: the frontend).
    backend: Option<usize>,
    counters: Option<&'a crate::counters::Counters>,
    stats: Option<&'a crate::statspage::StatsPage>,
}

/// Runs a section's http-request rules, then serves its stats page if the URI is the page's:
/// `Some(keep)` when the section answered the request itself, `None` to go on.
#[expect(
    clippy::too_many_arguments,
    reason = "two call sites; the pieces are the request's state"
)]
async fn section_answers<C, B, P>(
    svc: &HttpService<B, P>,
    section: Section<'_>,
    client: &mut C,
    buf: &mut Vec<u8>,
    req: &RequestHead,
    req_framing: BodyFraming,
    view: &StreamView<'_>,
    client_ka: bool,
    facts: &mut StreamFacts,
) -> Option<bool>
where
    C: AsyncRead + AsyncWrite + Unpin,
    B: ChooseBackend,
    P: PickServer,
{
    let ct = svc.frontend.timeouts.client;
    let (rules, be) = (section.rules, section.backend);
    if let Some(d) = decide(svc, rules, view, req, be, section.counters) {
        let case = svc.frontend.case_adjust.as_deref();
        let wait = (ct, case);
        return Some(answer(d, client, buf, req, req_framing, client_ka, wait, facts).await);
    }
    let page = section.stats.filter(|p| p.matches(&req.uri))?;
    Some(
        super::stats::serve_stats(
            svc,
            page,
            client,
            buf,
            req,
            req_framing,
            view,
            client_ka,
            facts,
        )
        .await,
    )
}

/// A stream killed by `shutdown session` or `hard-stop-after`, as HAProxy 2.6 ends it: waiting
/// for its response head, it gets the 502 page (`KH`; the connection stays open as after any
/// 502, unless the soft stop closes it); otherwise it is closed (`KD` once the response began,
/// `K-` before). `version` is the request's. Returns whether the client connection stays open.
async fn answer_kill<C, B, P>(
    svc: &HttpService<B, P>,
    client: &mut C,
    session: &crate::registry::SessionGuard<'_>,
    version: Version,
    facts: &mut StreamFacts,
) -> bool
where
    C: AsyncWrite + Unpin,
    B: ChooseBackend,
{
    let (state, keep) = match session.phase() {
        KillPhase::AwaitingResponse(keep) => (StreamState::Headers, keep),
        KillPhase::Responding => (StreamState::Data, false),
        KillPhase::Other => (StreamState::Normal, false),
        KillPhase::Queued => (StreamState::Queue, false),
    };
    facts.termination = Termination::new(Side::Killed, state);
    if state != StreamState::Headers {
        return false;
    }
    facts.status = Some(502);
    // The response never read counts as a response error on the backend and the server, as in
    // HAProxy 2.6 (`eresp`).
    if let Some(be) = facts.backend.and_then(|b| svc.registry.backends.get(b)) {
        be.counters
            .errors_resp
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if let Some(sv) = facts.server.and_then(|s| be.servers.get(s)) {
            sv.counters
                .errors_resp
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    }
    // A soft stop begun since the request came closes the connection too.
    let keep = keep && !svc.registry.soft_stop.closes_response();
    let Some(reply) = error_page(svc, facts.backend, 502) else {
        return false;
    };
    let mut bytes = reply.to_bytes(version, keep);
    if let Some(case) = &svc.frontend.case_adjust {
        case.adjust_head(&mut bytes);
    }
    let sent = timed(svc.frontend.timeouts.client, client.write_all(&bytes)).await;
    facts.bytes_out += bytes.len() as u64;
    matches!(sent, Some(Ok(()))) && keep
}

/// Resolves when the server's sessions are shut down, with the side to blame; never without a
/// signal.
async fn killed(kill: &mut Option<tokio::sync::watch::Receiver<(u64, Side)>>) -> Side {
    if let Some(rx) = kill
        && rx.changed().await.is_ok()
    {
        return rx.borrow().1;
    }
    std::future::pending().await
}

/// Why no final response head was read.
enum HeadError {
    /// Answer the client with this status.
    Status(u16),
    /// The client could not be written to (an interim response was being forwarded).
    ClientGone,
}

/// Reads response heads until a final one (or a 101), forwarding interim responses (100
/// Continue, 103 Early Hints...) to the client as they come, as HAProxy does. `since`: when the
/// wait for the first head began, if read by the caller in the same poll.
async fn final_response<R, W>(
    stream: &mut R,
    sbuf: &mut Vec<u8>,
    client: &mut W,
    fe: &FrontendSettings,
    (st, ct): (Option<Duration>, Option<Duration>),
    mut since: Option<Instant>,
) -> Result<ResponseHead, HeadError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    loop {
        let r = read_response(stream, sbuf, fe, st, since.take())
            .await
            .map_err(HeadError::Status)?;
        if !(100..200).contains(&r.status) || r.status == 101 {
            return Ok(r);
        }
        let mut out = Vec::new();
        r.write_to(&mut out);
        if let Some(case) = &fe.case_adjust {
            case.adjust_head(&mut out);
        }
        if !matches!(timed(ct, client.write_all(&out)).await, Some(Ok(()))) {
            return Err(HeadError::ClientGone);
        }
    }
}

/// Reads one response head; `since` (the instant the wait began, read by the caller) times the
/// first read, each later read of a partial head counts from itself.
async fn read_response<R: AsyncRead + Unpin>(
    stream: &mut R,
    sbuf: &mut Vec<u8>,
    fe: &FrontendSettings,
    st: Option<Duration>,
    mut since: Option<Instant>,
) -> Result<ResponseHead, u16> {
    loop {
        match parse_response(sbuf, &fe.limits) {
            Ok(Parsed::Complete { head, len }) => {
                sbuf.drain(..len);
                return Ok(head);
            }
            Ok(Parsed::Partial) => {}
            Err(_) => return Err(502),
        }
        match fill_queued(stream, sbuf, st, since.take()).await {
            Ok(0) | Err(BodyError::Source | BodyError::Sink | BodyError::Framing) => {
                return Err(502);
            }
            Ok(_) => {}
            Err(BodyError::SourceTimeout) => return Err(504),
        }
    }
}

/// [`fill`] with its time limit on the thread's queued timers ([`within_queued_since`]): the wait for
/// a response head is pending on nearly every request. The bytes are read through the thread's
/// scratch buffer (as many as one read of `fill` takes at most) and appended: a small response
/// head costs a small allocation, not a 16 KiB one per request.
async fn fill_queued<R: AsyncRead + Unpin>(
    r: &mut R,
    buf: &mut Vec<u8>,
    t: Option<Duration>,
    since: Option<Instant>,
) -> Result<usize, BodyError> {
    match within_queued_since(since.map(Into::into), t, read_append(r, buf)).await {
        None => Err(BodyError::SourceTimeout),
        Some(Err(_)) => Err(BodyError::Source),
        Some(Ok(n)) => Ok(n),
    }
}

/// No server connection: 503 with the termination state (`SC`, `sC`, `sQ`, `SQ`), or nothing
/// at all when the client left while queued (`CQ`, as HAProxy).
async fn connect_failed<C, B, P>(
    svc: &HttpService<B, P>,
    client: &mut C,
    buf: &mut Vec<u8>,
    req: &RequestHead,
    f: ConnectFailed,
    facts: &mut StreamFacts,
    client_ka: bool,
) -> bool
where
    C: AsyncRead + AsyncWrite + Unpin,
    B: ChooseBackend,
{
    facts.retries = f.retries;
    facts.server = f.server;
    facts.redispatched_from = f.redispatched_from;
    if f.is_client_abort() {
        facts.termination = f.termination;
        return false;
    }
    // Like HAProxy, the 503 keeps the client when the whole request body has arrived.
    error_then_drain(svc, client, buf, req, 503, f.termination, facts, client_ka).await
}

async fn error_reply<C, B, P>(
    svc: &HttpService<B, P>,
    client: &mut C,
    req: &RequestHead,
    code: u16,
    term: Termination,
    facts: &mut StreamFacts,
    keep: bool,
) -> bool
where
    C: AsyncWrite + Unpin,
    B: ChooseBackend,
{
    facts.termination = term;
    facts.status = Some(code);
    match error_page(svc, facts.backend, code) {
        // HAProxy keeps the client connection after a 502/503/504 when nothing of the request is left unread.
        Some(r) => {
            let case = svc.frontend.case_adjust.as_deref();
            send_reply(
                client,
                &r,
                req.version,
                keep,
                svc.frontend.timeouts.client,
                case,
            )
            .await
        }
        None => false,
    }
}

/// The page HAProxy sends for `code` in a stream that reached `backend` (if any): the backend's
/// errorfile, else the frontend's, else the built-in page; `None` for an empty errorfile.
pub(super) fn error_page<B: ChooseBackend, P>(
    svc: &HttpService<B, P>,
    backend: Option<usize>,
    code: u16,
) -> Option<crate::errors::Reply> {
    let be = backend.and_then(|b| svc.backends.get(b)).map(|b| &b.errors);
    crate::errors::ErrorPages::resolve(be, &svc.frontend.errors, code)
}

/// An error answered before the request body was forwarded (no backend, no server): as in
/// HAProxy 2.6.12, the reply keeps the connection only when the whole body has already arrived,
/// with the head or while the stream waited (it is then dropped); with some of it still to come (a later packet, `Expect:
/// 100-continue`) the reply says `connection: close` and the connection closes.
#[expect(
    clippy::too_many_arguments,
    reason = "the session's state, as for error_reply"
)]
async fn error_then_drain<C, B, P>(
    svc: &HttpService<B, P>,
    client: &mut C,
    buf: &mut Vec<u8>,
    req: &RequestHead,
    code: u16,
    term: Termination,
    facts: &mut StreamFacts,
    client_ka: bool,
) -> bool
where
    C: AsyncRead + AsyncWrite + Unpin,
    B: ChooseBackend,
{
    let Ok(framing) = req.framing() else {
        return false;
    };
    take_arrived(client, buf, svc.frontend.limits.bufsize).await;
    let whole = body_arrived(framing, buf);
    let keep = error_reply(svc, client, req, code, term, facts, client_ka && whole).await;
    let ct = svc.frontend.timeouts.client;
    keep && relay(client, buf, &mut tokio::io::sink(), framing, ct, None)
        .await
        .is_ok()
}

/// True for a request asking to switch protocols (`Connection: upgrade` + `Upgrade`).
fn is_upgrade(req: &RequestHead) -> bool {
    req.headers.contains("upgrade") && req.headers.has_token("connection", "upgrade")
}

/// Applies forwardfor / originalto and the server-side Connection rule (reference §6.1, §6.2).
fn prepare_request(
    req: &mut RequestHead,
    fe: &FrontendSettings,
    be: &BackendSettings,
    src: SocketAddr,
    dst: SocketAddr,
    server_ka: bool,
) {
    clean_connection_headers(&mut req.headers);
    // An upgrade request with a body is not an upgrade: HAProxy drops its Upgrade header.
    // Read once: removing an Upgrade header does not change it.
    let framing = req.framing();
    let has_body = matches!(framing, Ok(BodyFraming::Chunked | BodyFraming::Length(1..)));
    if has_body && req.headers.has_token("connection", "upgrade") {
        req.headers.remove("upgrade");
    }
    match framing {
        Ok(BodyFraming::Chunked) => {
            req.headers.remove("content-length");
        }
        // Repeated or listed lengths go out as one field (HAProxy keeps the first one).
        Ok(BodyFraming::Length(_)) => {
            normalize_content_length(&mut req.headers);
        }
        _ => {}
    }
    let ff = match (&fe.forwardfor, &be.forwardfor) {
        (None, None) => None,
        (Some(f), None) => Some((f.header.clone(), f.if_none, f.is_excepted(src.ip()))),
        (None, Some(b)) => Some((b.header.clone(), b.if_none, b.is_excepted(src.ip()))),
        (Some(f), Some(b)) => Some((
            b.header.clone(),
            f.if_none && b.if_none,
            f.is_excepted(src.ip()) || b.is_excepted(src.ip()),
        )),
    };
    if let Some((name, if_none, excepted)) = ff
        && !excepted
        && !(if_none && req.headers.contains(&name))
    {
        req.headers
            .push(name.as_bytes(), src.ip().to_string().as_bytes());
    }
    if let Some(name) = be.originalto.as_ref().or(fe.originalto.as_ref()) {
        req.headers
            .push(name.as_bytes(), dst.ip().to_string().as_bytes());
    }
    if !is_upgrade(req)
        && let Some(v) = connection_header_for(req.version, server_ka)
    {
        req.headers.push(b"connection", v.as_bytes());
    }
}
