//! The rate limits through the daemon path, in TCP mode: `maxconnrate`, `maxsessrate` and a
//! frontend's `rate-limit sessions` pause accepting (the clients wait in the backlog, none is
//! refused) and let the rest in as the sliding one-second counter allows; a frontend's limit
//! leaves the other frontend alone; the registry holds what `show info` / `show stat` show and
//! what `set rate-limit` changes. (Side by side with HAProxy: haproxy-bin's `rate_diff`.)

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

use crate::daemon::{WAIT, start, tag_server};

/// Connections in one burst, against a limit of 5 per second.
const BURST: usize = 15;
/// HAProxy serves the first 5 at once and the sixth just after the first second.
const FIRST: Duration = Duration::from_millis(900);

const DEFAULTS: &str =
    "defaults\n mode tcp\n timeout connect 2s\n timeout client 10s\n timeout server 10s\n";

/// One client: connects and waits for the server's tag through the proxy; returns when it
/// came (after `start`), or `None` when refused, reset or not answered.
async fn client(addr: SocketAddr, start: Instant) -> Option<Duration> {
    let mut c = tokio::time::timeout(WAIT, TcpStream::connect(addr))
        .await
        .ok()?
        .ok()?;
    let mut tag = [0_u8; 3];
    tokio::time::timeout(WAIT, c.read_exact(&mut tag))
        .await
        .ok()?
        .ok()?;
    (&tag == b"tag").then(|| start.elapsed())
}

/// Opens `BURST` connections at once to each address; per address, when each was served.
async fn burst(addrs: &[SocketAddr]) -> Vec<Vec<Option<Duration>>> {
    let start = Instant::now();
    let tasks: Vec<Vec<_>> = addrs
        .iter()
        .map(|&a| (0..BURST).map(|_| tokio::spawn(client(a, start))).collect())
        .collect();
    let mut out = Vec::new();
    for per_addr in tasks {
        let mut times = Vec::new();
        for t in per_addr {
            times.push(t.await.unwrap());
        }
        out.push(times);
    }
    out
}

fn within(times: &[Option<Duration>], d: Duration) -> usize {
    times.iter().flatten().filter(|t| **t <= d).count()
}

/// Every connection served, about 5 in the first 900 ms, the rest within 6 s.
fn assert_limited(times: &[Option<Duration>]) {
    assert_eq!(times.iter().flatten().count(), BURST, "refused: {times:?}");
    let first = within(times, FIRST);
    assert!(
        (3..=8).contains(&first),
        "{first} in the first 900 ms: {times:?}"
    );
    assert_eq!(within(times, Duration::from_secs(6)), BURST, "{times:?}");
}

async fn limited_by(global: &str, frontend: &str) {
    let (server, _) = tag_server(b"tag").await;
    let d = start(&format!(
        "global\n {global}\n{DEFAULTS}frontend fe\n bind 127.0.0.1:0\n {frontend}\n \
         default_backend be\nbackend be\n server s {server}\n"
    ));
    let times = burst(&[d.addr()]).await;
    assert_limited(times.first().unwrap());
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn maxconnrate_spreads_a_burst_over_seconds() {
    limited_by("maxconnrate 5", "").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn maxsessrate_spreads_a_burst_over_seconds() {
    limited_by("maxsessrate 5", "").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frontend_rate_limit_leaves_the_other_frontend_alone() {
    let (server, _) = tag_server(b"tag").await;
    let d = start(&format!(
        "{DEFAULTS}frontend slow\n bind 127.0.0.1:0\n rate-limit sessions 5\n \
         default_backend be\nfrontend fast\n bind 127.0.0.1:0\n default_backend be\n\
         backend be\n server s {server}\n"
    ));
    let fes = &d.registry.frontends;
    assert_eq!(
        fes.iter().map(|f| f.sess_rate.limit()).collect::<Vec<_>>(),
        [5, 0]
    );
    let times = burst(&d.addrs).await;
    assert_limited(times.first().unwrap());
    let fast = times.get(1).unwrap();
    assert_eq!(
        within(fast, Duration::from_millis(1900)),
        BURST,
        "the other frontend waited: {fast:?}"
    );
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lifted_limit_lets_the_next_burst_through_at_once() {
    let (server, _) = tag_server(b"tag").await;
    let d = start(&format!(
        "global\n maxconnrate 5\n maxsessrate 7\n{DEFAULTS}frontend fe\n bind 127.0.0.1:0\n \
         default_backend be\nbackend be\n server s {server}\n"
    ));
    let limits = &d.registry.limits;
    assert_eq!((limits.conn_rate.limit(), limits.sess_rate.limit()), (5, 7));
    let times = burst(&[d.addr()]).await;
    assert_limited(times.first().unwrap());
    // What `set rate-limit connections|sessions global 0` does.
    limits.conn_rate.set_limit(0);
    limits.sess_rate.set_limit(0);
    d.registry.limits_changed();
    let times = burst(&[d.addr()]).await;
    let times = times.first().unwrap();
    assert_eq!(
        within(times, Duration::from_millis(1900)),
        BURST,
        "{times:?}"
    );
    d.stop().await;
}
