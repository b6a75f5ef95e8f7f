//! One client connection in HTTP mode: a loop of requests over a kept-alive connection.

use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use super::body::{BodyError, fill, relay, take_body_prefix, timed};
use super::pool::ServerPool;
use super::rules::{RequestRule, RuleAction};
use crate::counters::Counters;
use crate::errors::{Reply, raw_h1_page, redirect_reply};
use crate::facts::StreamFacts;
use crate::forward::{ForwardTimeouts, forward, read_append};
use crate::h1::{
    BodyFraming, Parsed, RequestHead, ResponseHead, Version, connection_header_for, parse_request,
    parse_response, response_connection_header,
};
use crate::route::{ChooseBackend, PickServer, StreamView};
use crate::settings::{BackendSettings, ConnMode, FrontendSettings};
use crate::side::{Side, StreamState, Termination};
use crate::tcp::connect_server;

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
}

enum HeadOutcome {
    Head(Box<RequestHead>, usize),
    /// Closed silently: the client left, or an idle keep-alive connection expired.
    Quiet,
    /// Send this raw page and close.
    Raw(u16, Termination),
}

/// A server connection kept by the session between requests (its own connection, `http-reuse safe`).
struct ServerConn {
    backend: usize,
    server: usize,
    stream: TcpStream,
}

/// Serves one client connection until it closes; `on_request` receives the facts of each request
/// as it ends (for the log line), and the frontend's counters are updated. Returns how many
/// requests were handled.
pub async fn serve_http<C, B, P, F>(
    svc: &HttpService<B, P>,
    mut client: C,
    src: SocketAddr,
    dst: SocketAddr,
    mut on_request: F,
) -> u64
where
    C: AsyncRead + AsyncWrite + Unpin,
    B: ChooseBackend,
    P: PickServer,
    F: FnMut(&StreamFacts),
{
    let fe = &svc.frontend;
    let mut buf: Vec<u8> = Vec::new();
    let mut server: Option<ServerConn> = None;
    let mut handled = 0u64;
    let mut first = true;
    loop {
        let start = Instant::now();
        let (head, len) = match read_head(&mut client, &mut buf, first, fe).await {
            HeadOutcome::Head(h, len) => (h, len),
            HeadOutcome::Quiet => break,
            HeadOutcome::Raw(code, termination) => {
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
        let reuse_idle = handled > 0;
        // Boxed per request, so that an idle connection's task does not carry the request state.
        let keep = Box::pin(async {
            let mut facts = StreamFacts {
                bytes_in: len as u64,
                ..StreamFacts::default()
            };
            facts.timers.tr_req = Some(start.elapsed());
            let keep = handle_request(
                svc,
                &mut client,
                &mut buf,
                &mut server,
                *head,
                (src, dst),
                reuse_idle,
                &mut facts,
            )
            .await;
            facts.timers.ta = Some(start.elapsed());
            svc.counters.record(&facts);
            on_request(&facts);
            keep
        })
        .await;
        handled += 1;
        if !keep {
            break;
        }
        if buf.is_empty() {
            buf = Vec::new(); // idle: hold no buffer
        }
    }
    let _ = client.shutdown().await;
    if let Some(conn) = server {
        svc.pool.put(conn.backend, conn.server, conn.stream);
    }
    handled
}

async fn read_head<C: AsyncRead + Unpin>(
    client: &mut C,
    buf: &mut Vec<u8>,
    first: bool,
    fe: &FrontendSettings,
) -> HeadOutcome {
    let t = &fe.timeouts;
    // The first request's head must arrive within `timeout http-request` of the accept; a later
    // one within `timeout http-request` of its first byte (after the keep-alive idle wait).
    let entered = Instant::now();
    if buf.is_empty() {
        // Wait for the first bytes in the thread's scratch buffer; the idle connection holds none.
        let idle = if first {
            t.request_head()
        } else {
            t.keep_alive_idle()
        };
        match timed(idle, read_append(client, buf)).await {
            None if first => {
                return HeadOutcome::Raw(
                    408,
                    Termination::new(Side::ClientTimeout, StreamState::Request),
                );
            }
            None | Some(Err(_)) | Some(Ok(0)) => return HeadOutcome::Quiet,
            Some(Ok(_)) => {}
        }
    }
    let from = if first { entered } else { Instant::now() };
    let deadline = t.request_head().map(|d| from + d);
    loop {
        match parse_request(buf, &fe.limits) {
            Ok(Parsed::Complete { head, len }) => return HeadOutcome::Head(Box::new(head), len),
            Ok(Parsed::Partial) => {}
            Err(_) => {
                return HeadOutcome::Raw(400, Termination::new(Side::Proxy, StreamState::Request));
            }
        }
        let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        match fill(client, buf, left).await {
            Ok(0) | Err(BodyError::Source | BodyError::Sink) => return HeadOutcome::Quiet,
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

/// Sends a generated reply; returns whether the client connection stays open.
async fn send_reply<C: AsyncWrite + Unpin>(
    client: &mut C,
    reply: &Reply,
    version: Version,
    keep: bool,
    t: Option<Duration>,
) -> bool {
    let bytes = reply.to_bytes(version, keep);
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
    reuse_idle: bool,
    facts: &mut StreamFacts,
) -> bool
where
    C: AsyncRead + AsyncWrite + Unpin,
    B: ChooseBackend,
    P: PickServer,
{
    let fe = &svc.frontend;
    let ct = fe.timeouts.client;
    let Ok(req_framing) = req.framing() else {
        return false;
    };
    let client_ka = ConnMode::client_keeps_alive(fe.conn_mode) && req.wants_keep_alive();
    // A generated answer keeps the connection only when no request body is left unread.
    let reply_ka = client_ka && req_framing == BodyFraming::None;
    let mut keep_on_error = reply_ka;
    let view = StreamView {
        src,
        dst,
        request: Some(&req),
    };
    // http-request rules run before use_backend.
    // The first rule that applies decides: `allow` ends the evaluation, the others answer.
    let decided = svc
        .rules
        .iter()
        .find(|r| r.applies(&view))
        .and_then(|rule| match &rule.action {
            RuleAction::Allow => None,
            RuleAction::Deny { status } => {
                svc.counters
                    .denied_req
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                Some((fe.errors.get(*status), Side::Proxy))
            }
            RuleAction::Return(r) => Some((Some(r.clone()), Side::Local)),
            RuleAction::Redirect { kind, code } => Some((
                Some(redirect_reply(
                    *code,
                    &kind.location(&req.uri, req.headers.get("host")),
                )),
                Side::Local,
            )),
        });
    if let Some((reply, term)) = decided {
        facts.termination = Termination::new(term, StreamState::Request);
        let Some(r) = reply else { return false };
        facts.status = Some(r.status);
        // Like HAProxy, a local answer keeps the connection; a request body still coming is drained.
        if !send_reply(client, &r, req.version, client_ka, ct).await {
            return false;
        }
        return relay(client, buf, &mut tokio::io::sink(), req_framing, ct, None)
            .await
            .is_ok()
            && client_ka;
    }
    // No backend chosen, or an index the runtime does not know: both are HAProxy's 503 "no server".
    let chosen = svc
        .chooser
        .choose(&view)
        .and_then(|idx| svc.backends.get(idx).map(|be| (idx, be)));
    let Some((be_idx, be)) = chosen else {
        return error_reply(
            svc,
            client,
            &req,
            503,
            Termination::new(Side::Server, StreamState::Connect),
            facts,
            keep_on_error,
        )
        .await;
    };
    facts.backend = Some(be_idx);
    let server_ka = ConnMode::effective(fe.conn_mode, be.conn_mode) == ConnMode::KeepAlive;
    // Reuse the session's own server connection, else an idle one (safe: not for the first request), else connect.
    let mut conn = match server.take() {
        Some(c) if c.backend == be_idx => Some(c),
        Some(c) => {
            svc.pool.put(c.backend, c.server, c.stream);
            None
        }
        None => None,
    };
    // http-reuse safe: only a session's later requests may take another session's idle connection.
    if conn.is_none()
        && reuse_idle
        && let Some(idx) = svc.picker.pick(be_idx, &view, None)
        && let Some(stream) = svc.pool.take(be_idx, idx)
    {
        conn = Some(ServerConn {
            backend: be_idx,
            server: idx,
            stream,
        });
    }
    if conn.is_none() {
        let before = Instant::now();
        match connect_server(be, be_idx, &svc.picker, &view).await {
            Ok(c) => {
                facts.timers.tw = Some(Duration::ZERO);
                facts.timers.tc = Some(before.elapsed());
                facts.retries = c.retries;
                facts.redispatched = c.redispatched;
                conn = Some(ServerConn {
                    backend: be_idx,
                    server: c.server,
                    stream: c.stream,
                });
            }
            Err(f) => {
                facts.retries = f.retries;
                facts.server = f.server;
                return error_reply(svc, client, &req, 503, f.termination, facts, keep_on_error)
                    .await;
            }
        }
    }
    let Some(mut conn) = conn else { return false };
    prepare_request(&mut req, fe, be, src, dst, server_ka);
    let mut head_bytes = Vec::with_capacity(512);
    req.write_to(&mut head_bytes);
    facts.server = Some(conn.server);
    let st = be.timeouts.server;
    let sent = Instant::now();
    if !matches!(
        timed(st, conn.stream.write_all(&head_bytes)).await,
        Some(Ok(()))
    ) {
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
    // Request body (Expect: 100-continue is forwarded; the server's 100 is relayed below).
    if !req.expects_continue() {
        match relay(client, buf, &mut conn.stream, req_framing, ct, st).await {
            Ok(n) => {
                facts.bytes_in += n;
                keep_on_error = client_ka;
            }
            Err(BodyError::Sink) => {
                keep_on_error = false;
                return error_reply(
                    svc,
                    client,
                    &req,
                    502,
                    Termination::new(Side::Server, StreamState::Data),
                    facts,
                    keep_on_error,
                )
                .await;
            }
            Err(BodyError::Source | BodyError::SourceTimeout) => {
                facts.termination = Termination::new(Side::Client, StreamState::Data);
                return false;
            }
        }
    }
    let mut sbuf: Vec<u8> = Vec::new();
    let mut body_sent = !req.expects_continue();
    let resp = loop {
        match read_response(&mut conn.stream, &mut sbuf, fe, st).await {
            Ok(r) if r.status == 100 && !body_sent => {
                let mut out = Vec::new();
                r.write_to(&mut out);
                if !matches!(timed(ct, client.write_all(&out)).await, Some(Ok(()))) {
                    return false;
                }
                body_sent = true;
                if let Err(_e) = relay(client, buf, &mut conn.stream, req_framing, ct, st).await {
                    facts.termination = Termination::new(Side::Client, StreamState::Data);
                    return false;
                }
                keep_on_error = client_ka;
            }
            Ok(r) if (100..200).contains(&r.status) && r.status != 101 => {}
            Ok(r) => break r,
            Err(code) => {
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
        }
    };
    facts.timers.tr_resp = Some(sent.elapsed());
    facts.status = Some(resp.status);
    let tunnel = resp.status == 101 || (req.is_connect() && (200..300).contains(&resp.status));
    if tunnel {
        let mut out = Vec::new();
        resp.write_to(&mut out);
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
        let out = forward(&mut *client, conn.stream, t).await;
        facts.bytes_in += out.client_to_server;
        facts.bytes_out += out.server_to_client;
        facts.termination = out.termination;
        return false;
    }
    let Ok(resp_framing) = resp.framing(req.method.eq_ignore_ascii_case("HEAD")) else {
        return false;
    };
    let server_reusable = server_ka
        && resp.version.is_11_or_later()
        && !resp
            .headers
            .tokens("connection")
            .iter()
            .any(|t| t == "close")
        && resp_framing != BodyFraming::UntilClose;
    let client_keep = client_ka && resp_framing != BodyFraming::UntilClose;
    let mut resp = resp;
    strip_connection(&mut resp.headers);
    if resp_framing == BodyFraming::Chunked {
        resp.headers.remove("content-length");
    }
    let mut out = Vec::with_capacity(512);
    // Written in place: no temporary String per response.
    let _ = write!(out, "HTTP/1.1 {} {}\r\n", resp.status, resp.reason);
    resp.headers.write_to(&mut out);
    if let Some(v) = response_connection_header(req.version, client_keep) {
        out.extend_from_slice(b"connection: ");
        out.extend_from_slice(v.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    // The body bytes already read go out with the head: one write for a small response.
    let rest = take_body_prefix(resp_framing, &mut sbuf, &mut out);
    if !matches!(timed(ct, client.write_all(&out)).await, Some(Ok(()))) {
        facts.termination = Termination::new(Side::Client, StreamState::Data);
        return false;
    }
    facts.bytes_out += out.len() as u64;
    match relay(&mut conn.stream, &mut sbuf, client, rest, st, ct).await {
        Ok(n) => facts.bytes_out += n,
        Err(e) => {
            let side = match e {
                BodyError::Source => Side::Server,
                BodyError::SourceTimeout => Side::ServerTimeout,
                BodyError::Sink => Side::Client,
            };
            facts.termination = Termination::new(side, StreamState::Data);
            return false;
        }
    }
    if server_reusable && sbuf.is_empty() {
        *server = Some(conn);
    }
    client_keep
}

async fn read_response(
    stream: &mut TcpStream,
    sbuf: &mut Vec<u8>,
    fe: &FrontendSettings,
    st: Option<Duration>,
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
        match fill(stream, sbuf, st).await {
            Ok(0) | Err(BodyError::Source | BodyError::Sink) => return Err(502),
            Ok(_) => {}
            Err(BodyError::SourceTimeout) => return Err(504),
        }
    }
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
{
    facts.termination = term;
    facts.status = Some(code);
    match svc.frontend.errors.get(code) {
        // HAProxy keeps the client connection after a 502/503/504 when nothing of the request is left unread.
        Some(r) => send_reply(client, &r, req.version, keep, svc.frontend.timeouts.client).await,
        None => false,
    }
}

/// Removes `connection` fields made only of `close` / `keep-alive` tokens; a field carrying
/// other tokens (such as `Upgrade`) is kept as sent, in place, as HAProxy does.
fn strip_connection(headers: &mut crate::h1::Headers) {
    headers.retain(|name, value| {
        !name.eq_ignore_ascii_case(b"connection")
            || value
                .split(|&b| b == b',')
                .map(<[u8]>::trim_ascii)
                .any(|t| {
                    !t.is_empty()
                        && !t.eq_ignore_ascii_case(b"close")
                        && !t.eq_ignore_ascii_case(b"keep-alive")
                })
    });
}

/// True for a request asking to switch protocols (`Connection: upgrade` + `Upgrade`).
fn is_upgrade(req: &RequestHead) -> bool {
    req.headers.contains("upgrade")
        && req
            .headers
            .tokens("connection")
            .iter()
            .any(|t| t == "upgrade")
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
    strip_connection(&mut req.headers);
    if req.framing() == Ok(BodyFraming::Chunked) {
        req.headers.remove("content-length");
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
