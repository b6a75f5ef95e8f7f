//! Server selection through the real daemon path (configuration text, `build`, `Runtime::start`
//! and `serve`) over loopback: server `maxconn` with queueing, `timeout queue`, `maxqueue`,
//! leastconn and first on real connection counts, backups, weight 0, `option abortonclose`,
//! and `retries` + `option redispatch` while a server stops under load.
//!
//! The origin servers are written here: each answers its own name, and a request for `/hold`
//! waits until the test lets it go, so connection counts are observed, not timed.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use haproxy_cfg::load::{Outcome, SystemEnv, load};
use haproxy_cfg::parse_str;
use haproxy_proxy::build::{Service, build};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, Semaphore};
use tokio::task::JoinHandle;

use crate::support::Serving;

/// Every wait in these tests gives up after this long.
const BOUND: Duration = Duration::from_secs(10);

/// HAProxy 2.6's 503 page (reference §6.7), as sent to an HTTP/1.1 client asking to close.
pub(crate) const PAGE_503: &str = "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 107\r\ncache-control: no-cache\r\ncontent-type: text/html\r\nconnection: close\r\n\r\n<html><body><h1>503 Service Unavailable</h1>\nNo server is available to handle this request.\n</body></html>\n";

/// A keep-alive HTTP/1.1 origin that answers its name; `/hold` waits for a [`Origin::let_go`].
pub(crate) struct Origin {
    pub(crate) addr: SocketAddr,
    name: &'static str,
    active: AtomicUsize,
    max_active: AtomicUsize,
    total: AtomicUsize,
    held: Semaphore,
    stop: Notify,
}

impl Origin {
    pub(crate) async fn start(name: &'static str) -> Arc<Origin> {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let me = Arc::new(Origin {
            addr: l.local_addr().unwrap(),
            name,
            active: AtomicUsize::new(0),
            max_active: AtomicUsize::new(0),
            total: AtomicUsize::new(0),
            held: Semaphore::new(0),
            stop: Notify::new(),
        });
        let o = Arc::clone(&me);
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    accepted = l.accept() => {
                        let Ok((s, _)) = accepted else { break };
                        let o = Arc::clone(&o);
                        tokio::spawn(async move { o.serve(s).await });
                    }
                    () = o.stop.notified() => break,
                }
            }
            // Serve what the kernel already accepted, then close: later connections are
            // refused, and none that completed its handshake is reset.
            let l = l.into_std().unwrap();
            while let Ok((s, _)) = l.accept() {
                s.set_nonblocking(true).unwrap();
                let s = TcpStream::from_std(s).unwrap();
                let o = Arc::clone(&o);
                tokio::spawn(async move { o.serve(s).await });
            }
        });
        me
    }

    /// Stops accepting (the port refuses connections); requests in flight finish.
    pub(crate) fn stop(&self) {
        self.stop.notify_one();
    }

    /// Lets `n` held requests answer.
    pub(crate) fn let_go(&self, n: usize) {
        self.held.add_permits(n);
    }

    pub(crate) fn active(&self) -> usize {
        self.active.load(Ordering::SeqCst)
    }

    pub(crate) fn max_active(&self) -> usize {
        self.max_active.load(Ordering::SeqCst)
    }

    pub(crate) fn total(&self) -> usize {
        self.total.load(Ordering::SeqCst)
    }

    async fn serve(&self, mut s: TcpStream) {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            let end = loop {
                if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    break i + 4;
                }
                match s.read(&mut chunk).await {
                    Ok(n) if n > 0 => buf.extend_from_slice(&chunk[..n]),
                    _ => return,
                }
            };
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            buf.drain(..end);
            let now = self.active.fetch_add(1, Ordering::SeqCst) + 1;
            self.max_active.fetch_max(now, Ordering::SeqCst);
            self.total.fetch_add(1, Ordering::SeqCst);
            if head.starts_with("get /hold ") {
                self.held.acquire().await.unwrap().forget();
            }
            self.active.fetch_sub(1, Ordering::SeqCst);
            let close = head.contains("connection: close");
            let answer = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{}",
                self.name.len(),
                self.name
            );
            if s.write_all(answer.as_bytes()).await.is_err() || close {
                return;
            }
        }
    }
}

/// Loads and builds `text` (its `@name@` words replaced by the origins' addresses), starts it,
/// and returns the first listener's address and its service.
pub(crate) struct Daemon {
    pub(crate) addr: SocketAddr,
    pub(crate) service: Arc<Service>,
    serving: Serving,
    _reserved: Reserved,
}

impl Daemon {
    pub(crate) fn start(text: &str, origins: &[(&str, SocketAddr)]) -> Daemon {
        let reserved = Reserved::new();
        let port = reserved.addr.port();
        let mut text = text.replace("@listen@", &format!("127.0.0.1:{port}"));
        for (name, addr) in origins {
            text = text.replace(&format!("@{name}@"), &addr.to_string());
        }
        let loaded = load(&[parse_str("q.cfg", &text)], &SystemEnv);
        assert_ne!(loaded.outcome, Outcome::Invalid, "{:?}", loaded.diagnostics);
        let rt = build(&loaded.config).unwrap();
        let service = Arc::clone(&rt.frontends.first().unwrap().service);
        let running = rt.start().unwrap();
        let addr = *running.local_addrs().first().unwrap();
        Daemon {
            addr,
            service,
            serving: Serving::spawn(running),
            _reserved: reserved,
        }
    }

    pub(crate) async fn shutdown(self) {
        self.serving.stop().await;
    }
}

/// One `GET <path>` with `Connection: close`; the whole raw response (an I/O error is
/// described in the text, so comparisons show it).
pub(crate) async fn get(addr: SocketAddr, path: &str) -> String {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let req = format!("GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    let read = tokio::time::timeout(BOUND, s.read_to_end(&mut out))
        .await
        .expect("response in time");
    let text = String::from_utf8_lossy(&out).into_owned();
    match read {
        Ok(_) => text,
        Err(e) => format!("{text}<read error: {e}>"),
    }
}

/// A loopback port bound but not listening: connections are refused, and no other socket can
/// take the port while this lives (a freed port could be handed to another test).
pub(crate) struct Refused {
    _socket: socket2::Socket,
    pub(crate) addr: SocketAddr,
}

impl Refused {
    pub(crate) fn new() -> Refused {
        let socket =
            socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        socket
            .bind(&"127.0.0.1:0".parse::<SocketAddr>().unwrap().into())
            .unwrap();
        let addr = socket.local_addr().unwrap().as_socket().unwrap();
        Refused {
            _socket: socket,
            addr,
        }
    }
}

/// A loopback port kept for a listener: bound with `SO_REUSEPORT` but not listening, so no
/// other test is handed the same port while the daemon (which binds with `SO_REUSEPORT` too, as
/// HAProxy does) shares it; connections only reach the listening socket.
pub(crate) struct Reserved {
    _socket: socket2::Socket,
    pub(crate) addr: SocketAddr,
}

impl Reserved {
    pub(crate) fn new() -> Reserved {
        let (socket, addr) = crate::ports::reserve();
        Reserved {
            _socket: socket,
            addr,
        }
    }
}

/// The body of a response (after the head).
pub(crate) fn body(resp: &str) -> &str {
    resp.split_once("\r\n\r\n").map_or("", |(_, b)| b)
}

/// Sends a `/hold` request through `addr` and waits until `origin` holds it; the task yields
/// its response once the origin lets it go.
pub(crate) async fn held_at(addr: SocketAddr, origin: &Origin) -> JoinHandle<String> {
    let first = tokio::spawn(get(addr, "/hold"));
    until("the first request at the server", || origin.active() == 1).await;
    first
}

/// Waits (bounded) until `cond` holds.
pub(crate) async fn until(what: &str, cond: impl Fn() -> bool) {
    let started = Instant::now();
    while !cond() {
        assert!(started.elapsed() < BOUND, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

const DEFAULTS: &str =
    "defaults\n mode http\n timeout connect 1s\n timeout client 10s\n timeout server 10s\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn maxconn_1_queues_the_second_request_until_the_first_is_answered() {
    let a = Origin::start("a").await;
    let d = Daemon::start(
        &format!(
            "{DEFAULTS}listen l\n bind @listen@\n timeout queue 10s\n server a @a@ maxconn 1\n"
        ),
        &[("a", a.addr)],
    );
    let first = held_at(d.addr, &a).await;
    let second = tokio::spawn(get(d.addr, "/hold"));
    let counters = Arc::clone(&d.service.counters);
    until("the second request in the queue", || {
        counters.queue_cur.load(Ordering::SeqCst) == 1
    })
    .await;
    assert_eq!(a.total(), 1, "the queued request is not sent yet");
    a.let_go(2);
    for r in [first, second] {
        let resp = r.await.unwrap();
        assert!(resp.starts_with("HTTP/1.1 200 OK\r\n"), "{resp}");
        assert_eq!(body(&resp), "a");
    }
    assert_eq!((a.total(), a.max_active()), (2, 1));
    assert_eq!(counters.queue_cur.load(Ordering::SeqCst), 0);
    assert_eq!(counters.queue_max.load(Ordering::SeqCst), 1);
    // The backend queue shows on the backend's counters, not on the server's.
    let be = d.service.registry.backends.first().unwrap();
    assert_eq!(be.counters.queue_max.load(Ordering::SeqCst), 1);
    assert_eq!(be.counters.queue_cur.load(Ordering::SeqCst), 0);
    let srv = be.servers.first().unwrap();
    assert_eq!(srv.counters.queue_max.load(Ordering::SeqCst), 0);
    d.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queue_timeout_answers_haproxys_503_page_with_sq() {
    let a = Origin::start("a").await;
    let d = Daemon::start(
        &format!(
            "{DEFAULTS}listen l\n bind @listen@\n timeout queue 200ms\n server a @a@ maxconn 1\n"
        ),
        &[("a", a.addr)],
    );
    let first = held_at(d.addr, &a).await;
    // The facts of the timed-out stream, served by the same built service.
    let svc = Arc::clone(&d.service);
    let (mut client, server) = tokio::io::duplex(4096);
    let peer: SocketAddr = "127.0.0.1:40000".parse().unwrap();
    let facts = tokio::spawn(async move {
        let mut seen = Vec::new();
        haproxy_proxy::http::serve_http(&svc, server, peer, peer, |f| seen.push(f.clone())).await;
        seen
    });
    client
        .write_all(b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(BOUND, client.read_to_end(&mut out))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out), PAGE_503);
    let facts = facts.await.unwrap();
    let f = facts.first().unwrap();
    assert_eq!(f.termination.to_string(), "sQ");
    assert_eq!((f.status, f.server), (Some(503), None));
    assert!(f.timers.tw.unwrap() >= Duration::from_millis(200));
    assert_eq!(f.timers.tc, None);
    a.let_go(1);
    assert_eq!(body(&first.await.unwrap()), "a");
    assert_eq!(a.total(), 1);
    d.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_server_queue_is_refused_at_once_but_the_backend_queue_is_not() {
    let a = Origin::start("a").await;
    // A hash sends every request to `a`, which queues on itself up to maxqueue.
    let d = Daemon::start(
        &format!(
            "{DEFAULTS}listen l\n bind @listen@\n balance uri\n timeout queue 10s\n server a @a@ maxconn 1 maxqueue 1\n"
        ),
        &[("a", a.addr)],
    );
    let first = held_at(d.addr, &a).await;
    let second = tokio::spawn(get(d.addr, "/hold"));
    let counters = Arc::clone(&d.service.counters);
    until("the second request queued", || {
        counters.queue_cur.load(Ordering::SeqCst) == 1
    })
    .await;
    assert_eq!(get(d.addr, "/hold").await, PAGE_503);
    // A hash queues on the server itself: its counters show it.
    let be = d.service.registry.backends.first().unwrap();
    let srv = be.servers.first().unwrap();
    assert_eq!(srv.counters.queue_cur.load(Ordering::SeqCst), 1);
    assert_eq!(be.counters.queue_cur.load(Ordering::SeqCst), 0);
    a.let_go(2);
    assert_eq!(body(&first.await.unwrap()), "a");
    assert_eq!(body(&second.await.unwrap()), "a");
    d.shutdown().await;

    // roundrobin queues in the backend, where maxqueue does not apply (as in HAProxy).
    let d = Daemon::start(
        &format!(
            "{DEFAULTS}listen l\n bind @listen@\n timeout queue 10s\n server a @a@ maxconn 1 maxqueue 1\n"
        ),
        &[("a", a.addr)],
    );
    let held: Vec<_> = (0..3).map(|_| tokio::spawn(get(d.addr, "/hold"))).collect();
    let counters = Arc::clone(&d.service.counters);
    until("two requests queued", || {
        counters.queue_cur.load(Ordering::SeqCst) == 2
    })
    .await;
    a.let_go(3);
    for h in held {
        assert_eq!(body(&h.await.unwrap()), "a");
    }
    d.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leastconn_counts_requests_in_flight() {
    let (a, b) = (Origin::start("a").await, Origin::start("b").await);
    let d = Daemon::start(
        &format!(
            "{DEFAULTS}listen l\n bind @listen@\n balance leastconn\n server a @a@\n server b @b@\n"
        ),
        &[("a", a.addr), ("b", b.addr)],
    );
    // One long request sits on one server; every short one then goes to the other.
    let long = tokio::spawn(get(d.addr, "/hold"));
    until("the long request at a server", || {
        a.active() + b.active() == 1
    })
    .await;
    let busy = if a.active() == 1 { "a" } else { "b" };
    for _ in 0..6 {
        let resp = get(d.addr, "/").await;
        assert_ne!(body(&resp), busy, "{resp}");
    }
    a.let_go(1);
    b.let_go(1);
    assert_eq!(body(&long.await.unwrap()), busy);
    // Idle again: equals take turns.
    let names: Vec<String> = [get(d.addr, "/").await, get(d.addr, "/").await]
        .iter()
        .map(|r| body(r).to_owned())
        .collect();
    assert_ne!(names[0], names[1]);
    d.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_fills_the_first_server_up_to_its_maxconn() {
    let (a, b) = (Origin::start("a").await, Origin::start("b").await);
    let d = Daemon::start(
        &format!(
            "{DEFAULTS}listen l\n bind @listen@\n balance first\n server a @a@ maxconn 2\n server b @b@ maxconn 2\n"
        ),
        &[("a", a.addr), ("b", b.addr)],
    );
    let held: Vec<_> = (0..2).map(|_| tokio::spawn(get(d.addr, "/hold"))).collect();
    until("two requests at a", || a.active() == 2).await;
    assert_eq!(body(&get(d.addr, "/").await), "b", "a is full");
    a.let_go(2);
    for h in held {
        assert_eq!(body(&h.await.unwrap()), "a");
    }
    assert_eq!(body(&get(d.addr, "/").await), "a", "a has room again");
    assert_eq!(b.total(), 1);
    d.shutdown().await;
}

/// Reads one response with a `content-length` body from a kept-alive connection.
async fn read_one(s: &mut TcpStream) -> String {
    let mut out = Vec::new();
    let mut chunk = [0u8; 1024];
    loop {
        let text = String::from_utf8_lossy(&out).to_ascii_lowercase();
        if let Some((head, rest)) = text.split_once("\r\n\r\n") {
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length: "))
                .map_or(0, |v| v.trim().parse().unwrap());
            if rest.len() >= len {
                return String::from_utf8_lossy(&out).into_owned();
            }
        }
        let n = tokio::time::timeout(BOUND, s.read(&mut chunk))
            .await
            .unwrap()
            .unwrap();
        assert!(n > 0, "closed early");
        out.extend_from_slice(&chunk[..n]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_tcp_mode_the_slot_is_held_for_the_whole_connection() {
    let a = Origin::start("a").await;
    let d = Daemon::start(
        &format!(
            "{}listen l\n bind @listen@\n timeout queue 10s\n server a @a@ maxconn 1\n",
            DEFAULTS.replace("mode http", "mode tcp")
        ),
        &[("a", a.addr)],
    );
    let mut c1 = TcpStream::connect(d.addr).await.unwrap();
    c1.write_all(b"GET /hold HTTP/1.1\r\nHost: t\r\n\r\n")
        .await
        .unwrap();
    until("the first request at the server", || a.active() == 1).await;
    let mut c2 = TcpStream::connect(d.addr).await.unwrap();
    c2.write_all(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        .await
        .unwrap();
    a.let_go(1);
    assert!(read_one(&mut c1).await.ends_with("\r\n\r\na"));
    // The first connection is still open: the second one waits in the queue.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(a.total(), 1);
    drop(c1);
    assert!(read_one(&mut c2).await.ends_with("\r\n\r\na"));
    assert_eq!(a.total(), 2);
    d.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slots_stay_consistent_when_streams_queue_give_up_and_release_concurrently() {
    use haproxy_lb::{Algorithm, BalanceConfig, Balancer, ServerSpec};
    use haproxy_proxy::build::{BackendBalancer, LbPicker};
    use haproxy_proxy::{PickServer, StreamView, Take};

    const MAXCONN: u32 = 2;
    for algo in [
        Algorithm::RoundRobin,
        Algorithm::LeastConn,
        Algorithm::Source,
    ] {
        let specs = vec![
            ServerSpec::new(1, "a").with_limits(MAXCONN, 0),
            ServerSpec::new(2, "b").with_limits(MAXCONN, 0),
        ];
        let lb = Balancer::new(BalanceConfig::new(algo.clone()), specs).unwrap();
        let picker = LbPicker(Arc::new(vec![Arc::new(BackendBalancer::new(
            Some(lb),
            None,
            false,
        ))]));
        let in_use: Arc<[AtomicUsize; 2]> = Arc::new([AtomicUsize::new(0), AtomicUsize::new(0)]);
        let over = Arc::new(AtomicUsize::new(0));
        // How many takes queued, and how many of those gave up.
        let waits = Arc::new([AtomicUsize::new(0), AtomicUsize::new(0)]);
        let mut tasks = Vec::new();
        for t in 0..16u64 {
            let (picker, in_use, over) = (picker.clone(), Arc::clone(&in_use), Arc::clone(&over));
            let waits = Arc::clone(&waits);
            tasks.push(tokio::spawn(async move {
                let view = StreamView {
                    src: SocketAddr::from(([127, 0, 0, (t % 4) as u8 + 1], 4000)),
                    dst: "127.0.0.1:80".parse().unwrap(),
                    request: None,
                };
                for i in 0..200u64 {
                    let slot = match picker.take(0, &view, None) {
                        Take::Ready(slot) => slot,
                        Take::Queued(mut ticket) => {
                            waits[0].fetch_add(1, Ordering::SeqCst);
                            // Some waiters give up at once, some after a while, most get a slot.
                            let patience = Duration::from_micros((t * 7 + i * 13) % 400);
                            match tokio::time::timeout(patience, ticket.wait()).await {
                                Ok(Some(slot)) => slot,
                                _ => {
                                    waits[1].fetch_add(1, Ordering::SeqCst);
                                    continue;
                                }
                            }
                        }
                        other => panic!("unexpected {other:?}"),
                    };
                    let s = slot.server();
                    if in_use[s].fetch_add(1, Ordering::SeqCst) + 1 > MAXCONN as usize {
                        over.fetch_add(1, Ordering::SeqCst);
                    }
                    tokio::task::yield_now().await;
                    in_use[s].fetch_sub(1, Ordering::SeqCst);
                    drop(slot);
                }
            }));
        }
        for t in tasks {
            tokio::time::timeout(BOUND, t).await.unwrap().unwrap();
        }
        assert_eq!(over.load(Ordering::SeqCst), 0, "{algo:?}: maxconn exceeded");
        let (queued, gave_up) = (
            waits[0].load(Ordering::SeqCst),
            waits[1].load(Ordering::SeqCst),
        );
        assert!(
            queued > gave_up && gave_up > 0,
            "{algo:?}: the run must queue, serve and abandon ({queued} queued, {gave_up} gave up)"
        );
        let lb = picker.0.first().unwrap().balancer.as_ref().unwrap();
        for s in 0..2 {
            assert_eq!(
                (lb.connections(s), lb.queued(s)),
                (0, 0),
                "{algo:?}: server {s} left with slots or waiters"
            );
        }
        // Every slot came back: both servers take MAXCONN streams again.
        let view = StreamView {
            src: "127.0.0.1:4000".parse().unwrap(),
            dst: "127.0.0.1:80".parse().unwrap(),
            request: None,
        };
        let held: Vec<_> = (0..2 * MAXCONN)
            .map(|_| picker.take(0, &view, None))
            .collect();
        assert!(
            held.iter().filter(|t| matches!(t, Take::Ready(_))).count() >= MAXCONN as usize,
            "{algo:?}"
        );
    }
}

#[test]
fn server_limits_slowstart_and_disabled_reach_the_balancer() {
    let loaded = load(
        &[parse_str(
            "q.cfg",
            "defaults\n mode http\nbackend b\n option abortonclose\n\
             server a 127.0.0.1:1 maxconn 7 maxqueue 3 slowstart 1500ms weight 5\n\
             server c 127.0.0.1:2 disabled backup\n\
             frontend f\n bind 127.0.0.1:1\n default_backend b\n",
        )],
        &SystemEnv,
    );
    let rt = build(&loaded.config).unwrap();
    let svc = &rt.frontends.first().unwrap().service;
    let bal = svc.picker.0.first().unwrap();
    assert!(bal.abort_on_close);
    let lb = bal.balancer.as_ref().unwrap();
    let a = lb.servers().first().unwrap();
    // HAProxy keeps slowstart in seconds, rounded up.
    assert_eq!(
        (a.maxconn, a.maxqueue, a.slowstart_secs, a.weight),
        (7, 3, 2, 5)
    );
    let c = lb.servers().get(1).unwrap();
    assert!(c.backup && !lb.is_usable(1));
    assert_eq!(c.initial_state, haproxy_lb::ServerState::Maintenance);
}

#[test]
fn minconn_becomes_a_static_maxconn_as_in_haproxy_and_below_maxconn_a_dynamic_limit() {
    let built = |servers: &str| {
        let text = format!("defaults\n mode http\nlisten l\n bind 127.0.0.1:1\n{servers}");
        let loaded = load(&[parse_str("q.cfg", &text)], &SystemEnv);
        build(&loaded.config)
    };
    // HAProxy 2.6.12's `show stat` gives slim 5 and 9 for these two lines.
    let rt = built(" server a 127.0.0.1:1 minconn 5\n server b 127.0.0.1:2 minconn 9 maxconn 4\n")
        .unwrap();
    let svc = &rt.frontends.first().unwrap().service;
    let lb = svc.picker.0.first().unwrap().balancer.as_ref().unwrap();
    let limits: Vec<u32> = lb.servers().iter().map(|s| s.maxconn).collect();
    assert_eq!(limits, [5, 9]);
    assert!(!lb.has_dynamic_limits());
    // Below maxconn: the dynamic limit (see tests/it/minconn.rs).
    let rt = built(" server c 127.0.0.1:3 minconn 2 maxconn 8\n").unwrap();
    let svc = &rt.frontends.first().unwrap().service;
    let lb = svc.picker.0.first().unwrap().balancer.as_ref().unwrap();
    assert!(lb.has_dynamic_limits());
    assert_eq!((lb.minconn(0), lb.maxconn(0)), (2, 8));
}
