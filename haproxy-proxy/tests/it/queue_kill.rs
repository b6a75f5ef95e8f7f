//! A stream killed (`shutdown session`) while it waits in a queue ends as in HAProxy 2.6.12
//! (`back_may_abort_req()`; recorded in tests/data/haproxy-2.6/queue-kill/kill.txt): with
//! `option abortonclose`, or when no request byte waits to be sent (a TCP client that sent
//! nothing), it leaves the queue at once, closed without an answer (`KQ`); otherwise it stays
//! queued, and once it has its slot it connects, sends the request and ends: the 502 page in
//! HTTP (`KH`; the connection stays open and serves the next request), a close in TCP (`K-`).
//! Should `timeout queue` strike first, HTTP gets the 503 page (the connection stays open) and
//! TCP a close (`KQ`).
//!
//! Side by side with the real HAProxy (its answers recorded under
//! tests/data/haproxy-2.6/queue-kill, `HAPROXY_RS_RECORD=1` rewrites them), then loopback tests
//! of the stream facts and counters.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use haproxy_cfg::load::{Outcome, SystemEnv, load};
use haproxy_cfg::parse_str;
use haproxy_proxy::build::{Service, build};
use haproxy_proxy::tcp::serve_tcp_watched;
use haproxy_proxy::{Side, StreamFacts, StreamState, StreamView, Termination};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};

use crate::kill::{page_502, read_until_close, serve_facts};
use crate::queue::{Origin, get, until};
use crate::requeue_diff::{Ctl, HEAD, both_in};

/// The queued client's second request, after the kill's 502.
const SECOND: &[u8] = b"GET /second HTTP/1.1\r\nHost: t\r\n\r\n";

/// Holds `/hold` on the only server (`maxconn 1`), queues a client that sends `payload`, kills
/// the queued stream over the runtime API (`show sess` finds it by its port), watches the client
/// for 500 ms, then (after `timeout queue` when `queue_timeout`) lets the held request finish;
/// an HTTP client that is still open sends a second request. Reports what the client saw when.
async fn kill_queued(
    addr: SocketAddr,
    o: Vec<Arc<Origin>>,
    ctl: Arc<Ctl>,
    payload: &'static [u8],
    queue_timeout: bool,
) -> Vec<String> {
    let first = tokio::spawn(get(addr, "/hold"));
    until("the held request at the server", || o[0].active() == 1).await;
    let mut c = TcpStream::connect(addr).await.unwrap();
    let port = c.local_addr().unwrap().port();
    if !payload.is_empty() {
        c.write_all(payload).await.unwrap();
    }
    // Being queued is not visible from outside: give the stream time to get there.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let listed = ctl.command("show sess").await;
    let mine = format!("src=127.0.0.1:{port} ");
    let id = listed
        .lines()
        .find(|l| l.contains(&mine))
        .and_then(|l| l.split(':').next())
        .expect("the queued stream is listed")
        .to_owned();
    let said = ctl.command(&format!("shutdown session {id}")).await;
    let (early, closed) = read_until_close(&mut c, Duration::from_millis(500)).await;
    let mut out = vec![
        format!("shutdown session said {said:?}"),
        format!("before the release: {early:?}, closed: {closed}"),
        // Still counted in the queue, or not.
        stats(&ctl).await,
    ];
    if queue_timeout && !closed {
        let (got, closed) = read_until_close(&mut c, Duration::from_secs(3)).await;
        out.push(format!("after timeout queue: {got:?}, closed: {closed}"));
    }
    o[0].let_go(1);
    if !closed && !queue_timeout {
        let (got, closed) = read_until_close(&mut c, Duration::from_secs(1)).await;
        out.push(format!("after the release: {got:?}, closed: {closed}"));
        if !closed && payload.starts_with(b"GET") {
            let sent = c.write_all(SECOND).await.is_ok();
            let (got, closed) = read_until_close(&mut c, Duration::from_secs(1)).await;
            out.push(format!(
                "a second request (sent: {sent}): {got:?}, closed: {closed}"
            ));
        }
    }
    out.push(first.await.unwrap());
    out.push(stats(&ctl).await);
    out
}

/// The `show stat` columns a killed queued stream touches, for the section's frontend, backend
/// and server. Not `stot` (HAProxy's count includes the connection that saw it start), `scur`
/// (streams end at slightly different instants), `qmax` (ours shows none for a server), `econ`
/// (ours counts no connection error on `timeout queue`) nor `hrsp_5xx` (a generated 502 counts
/// on the server too in ours).
async fn stats(ctl: &Ctl) -> String {
    const COLUMNS: [&str; 3] = ["qcur", "eresp", "cli_abrt"];
    let csv = ctl.command("show stat").await;
    let mut lines = csv.lines();
    let header: Vec<&str> = lines
        .next()
        .unwrap_or_default()
        .trim_start_matches("# ")
        .split(',')
        .collect();
    let at: Vec<usize> = COLUMNS
        .iter()
        .map(|c| {
            header
                .iter()
                .position(|h| h == c)
                .expect("a show stat column")
        })
        .collect();
    lines
        .filter(|l| l.starts_with("l,"))
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            let picked: Vec<String> = COLUMNS
                .iter()
                .zip(&at)
                .map(|(c, i)| format!("{c}={}", f.get(*i).copied().unwrap_or("?")))
                .collect();
            format!("{} {}", f[1], picked.join(" "))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Runs [`kill_queued`] through HAProxy and ours on a `listen` section with `extra` lines.
async fn case(name: &str, mode: &str, extra: &str, payload: &'static [u8], queue_timeout: bool) {
    let head = HEAD.replace("mode http", &format!("mode {mode}"));
    let text = format!("{head}listen l\n bind @listen@\n{extra} server a @a@ maxconn 1\n");
    both_in("queue-kill", name, &text, &["a"], |addr, o, ctl| {
        kill_queued(addr, o, ctl, payload, queue_timeout)
    })
    .await;
}

const GET: &[u8] = b"GET / HTTP/1.1\r\nHost: t\r\n\r\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_queued_http_request_stays_queued_then_gets_502_like_haproxy() {
    case("http", "http", "", GET, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_servers_own_queue_too_like_haproxy() {
    case(
        "http balance source",
        "http",
        " balance source\n",
        GET,
        false,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_abortonclose_a_killed_queued_request_is_closed_at_once_like_haproxy() {
    case(
        "http abortonclose",
        "http",
        " option abortonclose\n",
        GET,
        false,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeout_queue_after_the_kill_gets_503_like_haproxy() {
    case(
        "http timeout queue",
        "http",
        " timeout queue 1s\n",
        GET,
        true,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_queued_tcp_stream_that_sent_data_is_closed_after_its_slot_like_haproxy() {
    case("tcp sent data", "tcp", "", b"PING\r\n", false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_queued_tcp_stream_that_sent_nothing_is_closed_at_once_like_haproxy() {
    case("tcp sent nothing", "tcp", "", b"", false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_queued_tcp_stream_closes_on_timeout_queue_like_haproxy() {
    case(
        "tcp timeout queue",
        "tcp",
        " timeout queue 1s\n",
        b"PING\r\n",
        true,
    )
    .await;
}

/// Builds `listen l` (mode `mode`, `extra` lines, one server `maxconn 1` on `origin`).
fn service(mode: &str, extra: &str, origin: SocketAddr) -> Arc<Service> {
    let text = format!(
        "defaults\n mode {mode}\n timeout connect 1s\n timeout client 10s\n timeout server 10s\n timeout queue 5s\nlisten l\n bind 127.0.0.1:1\n{extra} server a {origin} maxconn 1\n"
    );
    let loaded = load(&[parse_str("t.cfg", &text)], &SystemEnv);
    assert_ne!(loaded.outcome, Outcome::Invalid, "{:?}", loaded.diagnostics);
    let rt = build(&loaded.config).unwrap();
    Arc::clone(&rt.frontends[0].service)
}

/// The backend's current queue.
fn qcur(svc: &Service) -> u64 {
    svc.registry.backends[0].counters.queue_cur.load(Relaxed)
}

/// Holds `/hold`, queues a `GET /`, kills the queued stream; gives the client, the held
/// request's task and the facts channel.
async fn http_killed_in_queue(
    extra: &str,
) -> (
    Arc<Service>,
    Arc<Origin>,
    TcpStream,
    tokio::task::JoinHandle<String>,
    mpsc::UnboundedReceiver<StreamFacts>,
) {
    let o = Origin::start("a").await;
    let svc = service("http", extra, o.addr);
    let (addr, rx) = serve_facts(&svc).await;
    let first = tokio::spawn(get(addr, "/hold"));
    until("the held request at the server", || o.active() == 1).await;
    let mut c = TcpStream::connect(addr).await.unwrap();
    c.write_all(GET).await.unwrap();
    until("the second request queued", || qcur(&svc) == 1).await;
    let queued = svc
        .registry
        .sessions
        .list()
        .into_iter()
        .find(|s| s.server.is_none())
        .expect("the queued stream is listed");
    assert!(svc.registry.sessions.kill(queued.id));
    (svc, o, c, first, rx)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_queued_http_request_keeps_its_place_and_ends_kh_at_the_server() {
    let (svc, o, mut c, first, mut rx) = http_killed_in_queue("").await;
    let (got, closed) = read_until_close(&mut c, Duration::from_millis(300)).await;
    assert_eq!((got.as_str(), closed), ("", false), "still queued");
    assert_eq!(qcur(&svc), 1, "still counted in the queue");
    o.let_go(1);
    let (got, closed) = read_until_close(&mut c, Duration::from_millis(500)).await;
    assert_eq!(got, page_502(false));
    assert!(!closed, "HAProxy leaves the connection open after the 502");
    // The held request ends first, then the killed one.
    assert_eq!(first.await.unwrap().lines().next(), Some("HTTP/1.1 200 OK"));
    let held = rx.recv().await.unwrap();
    assert_eq!(held.status, Some(200));
    let killed = tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        killed.termination,
        Termination::new(Side::Killed, StreamState::Headers)
    );
    assert_eq!(killed.status, Some(502));
    assert_eq!(killed.server, Some(0), "it reached the server");
    assert!(killed.timers.tw.unwrap() >= Duration::from_millis(300));
    assert!(killed.timers.tc.is_some());
    assert_eq!(qcur(&svc), 0);
    // Both streams reached the server and count there; the request went to the server too.
    let be = &svc.registry.backends[0];
    let sv = &be.servers[0].counters;
    assert_eq!(sv.sessions_total.load(Relaxed), 2);
    assert_eq!(o.total(), 2);
    // The response never read is a response error on the backend and the server (`eresp`).
    assert_eq!(be.counters.errors_resp.load(Relaxed), 1);
    assert_eq!(sv.errors_resp.load(Relaxed), 1);
    // The connection serves the next request.
    c.write_all(SECOND).await.unwrap();
    let (got, closed) = read_until_close(&mut c, Duration::from_millis(500)).await;
    assert_eq!(
        (got.as_str(), closed),
        ("HTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r\na", false)
    );
    assert_eq!(o.total(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_abortonclose_a_killed_queued_request_ends_kq_and_leaves_the_queue() {
    let (svc, o, mut c, first, mut rx) = http_killed_in_queue(" option abortonclose\n").await;
    let (got, closed) = read_until_close(&mut c, Duration::from_secs(2)).await;
    assert_eq!(
        (got.as_str(), closed),
        ("", true),
        "closed at once, unanswered"
    );
    let killed = rx.recv().await.unwrap();
    assert_eq!(
        killed.termination,
        Termination::new(Side::Killed, StreamState::Queue)
    );
    assert_eq!(killed.status, None);
    assert_eq!(killed.server, None);
    assert!(killed.timers.tw.is_some());
    assert_eq!(qcur(&svc), 0, "it left the queue");
    o.let_go(1);
    assert_eq!(first.await.unwrap().lines().next(), Some("HTTP/1.1 200 OK"));
    assert_eq!(o.total(), 1, "the killed request never reached the server");
    let sv = &svc.registry.backends[0].servers[0].counters;
    until("the held request counted", || {
        sv.sessions_total.load(Relaxed) == 1
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeout_queue_after_the_kill_ends_kq_with_503() {
    let (svc, o, mut c, first, mut rx) = http_killed_in_queue(" timeout queue 1s\n").await;
    let (got, closed) = read_until_close(&mut c, Duration::from_millis(1500)).await;
    assert!(
        got.starts_with("HTTP/1.1 503 Service Unavailable\r\n"),
        "{got}"
    );
    assert!(!got.contains("connection: close"), "{got}");
    assert!(!closed, "kept open after the 503, as HAProxy does");
    let killed = rx.recv().await.unwrap();
    assert_eq!(
        killed.termination,
        Termination::new(Side::Killed, StreamState::Queue)
    );
    assert_eq!(killed.status, Some(503));
    assert_eq!(qcur(&svc), 0);
    o.let_go(1);
    first.await.unwrap();
    assert_eq!(o.total(), 1);
}

/// Serves one TCP stream of `svc` from a fresh loopback client; the client and the stream's
/// facts. `kill` ends the stream.
async fn tcp_stream(
    svc: &Arc<Service>,
    kill: oneshot::Receiver<()>,
) -> (TcpStream, tokio::task::JoinHandle<StreamFacts>) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let c = TcpStream::connect(l.local_addr().unwrap()).await.unwrap();
    let (s, peer) = l.accept().await.unwrap();
    let svc = Arc::clone(svc);
    let task = tokio::spawn(async move {
        let local = s.local_addr().unwrap();
        let view = StreamView {
            src: peer,
            dst: local,
            request: None,
        };
        let killed = Box::pin(async move {
            let _ = kill.await;
        });
        serve_tcp_watched(
            s,
            Vec::new(),
            view,
            &svc.frontend.timeouts,
            &svc.backends[0],
            0,
            &svc.picker,
            svc.registry.backends.first(),
            |_| None,
            killed,
        )
        .await
    });
    (c, task)
}

/// A TCP stream queued behind a held one, sending `payload`, killed; what it saw within
/// 500 ms, the facts it ended with once the held stream was let go, and the origin.
async fn tcp_killed_in_queue(payload: &[u8], extra: &str) -> (String, bool, StreamFacts, u64) {
    let o = Origin::start("a").await;
    let svc = service("tcp", extra, o.addr);
    let (_keep, never) = oneshot::channel();
    let (mut held, held_task) = tcp_stream(&svc, never).await;
    // Closed by the origin once answered: a TCP stream holds its slot while it lasts.
    held.write_all(b"GET /hold HTTP/1.1\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    until("the held stream at the server", || o.active() == 1).await;
    let (kill, rx) = oneshot::channel();
    let (mut c, task) = tcp_stream(&svc, rx).await;
    if !payload.is_empty() {
        c.write_all(payload).await.unwrap();
    }
    until("the second stream queued", || qcur(&svc) == 1).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    kill.send(()).unwrap();
    let (got, closed) = read_until_close(&mut c, Duration::from_millis(500)).await;
    let qcur_after_kill = qcur(&svc);
    o.let_go(1);
    // The held stream ends (its slot goes to the queued one) once both sides closed.
    let (answer, _) = read_until_close(&mut held, Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
    drop(held);
    let facts = tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .unwrap()
        .unwrap();
    let _ = tokio::time::timeout(Duration::from_secs(5), held_task).await;
    (got, closed, facts, qcur_after_kill)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_queued_tcp_stream_that_sent_nothing_ends_kq_at_once() {
    let (got, closed, facts, qcur) = tcp_killed_in_queue(b"", "").await;
    assert_eq!((got.as_str(), closed), ("", true));
    assert_eq!(qcur, 0, "it left the queue");
    assert_eq!(
        facts.termination,
        Termination::new(Side::Killed, StreamState::Queue)
    );
    assert_eq!(facts.server, None);
    assert!(facts.timers.tw.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_queued_tcp_stream_that_sent_data_connects_then_ends_k_dash() {
    let (got, closed, facts, qcur) = tcp_killed_in_queue(b"PING\r\n", "").await;
    assert_eq!((got.as_str(), closed), ("", false), "still queued");
    assert_eq!(qcur, 1, "still counted in the queue");
    assert_eq!(
        facts.termination,
        Termination::new(Side::Killed, StreamState::Normal)
    );
    assert_eq!(facts.server, Some(0), "it reached the server");
    assert!(facts.timers.tc.is_some());
    assert_eq!(facts.bytes_in, 6, "what it sent went to the server");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_queued_tcp_stream_ends_kq_on_timeout_queue() {
    let (got, closed, facts, _) = tcp_killed_in_queue(b"PING\r\n", " timeout queue 300ms\n").await;
    // Killed ~50 ms into the queue; the queue timeout strikes within the 500 ms watch.
    assert_eq!((got.as_str(), closed), ("", true));
    assert_eq!(
        facts.termination,
        Termination::new(Side::Killed, StreamState::Queue)
    );
    assert_eq!(facts.server, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_sessions_server_spares_a_queued_stream() {
    // As in 2.6 (`srv_shutdown_streams()` walks the streams a server was assigned, which a
    // queued stream is not yet): the held stream is killed, the queued one then takes its slot.
    let o = Origin::start("a").await;
    let svc = service("http", "", o.addr);
    let (addr, mut rx) = serve_facts(&svc).await;
    let first = tokio::spawn(get(addr, "/hold"));
    until("the held request at the server", || o.active() == 1).await;
    let queued = tokio::spawn(get(addr, "/"));
    until("the second request queued", || qcur(&svc) == 1).await;
    assert_eq!(svc.registry.sessions.kill_server(0, 0), 1);
    let held = first.await.unwrap();
    assert!(held.starts_with("HTTP/1.1 502 Bad Gateway\r\n"), "{held}");
    let answer = queued.await.unwrap();
    assert!(answer.ends_with("\r\n\r\na"), "served: {answer}");
    let mut ends = Vec::new();
    for _ in 0..2 {
        let f = rx.recv().await.unwrap();
        ends.push((f.termination.to_string(), f.status));
    }
    ends.sort();
    assert_eq!(
        ends,
        [("--".to_owned(), Some(200)), ("KH".to_owned(), Some(502))]
    );
}
