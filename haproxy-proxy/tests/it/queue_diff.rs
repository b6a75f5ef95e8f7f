//! Differential scenarios for server selection: the same configuration and request sequence
//! through real HAProxy 2.6 and through our daemon (`build` + `Runtime`), each with its own fresh
//! origin servers; the raw responses the client sees must be equal.
//!
//! Queue timeout, a full server queue, `option abortonclose`, retries and redispatch to a dead
//! server, refused connections after the retries, backups, `option allbackups` and weight 0.
//! Skipped with a message when `haproxy` is not installed, unless `CI=true` (then they fail).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::queue::{Daemon, Origin, Refused, get, held_at, until};
use crate::queue_failover::load_while_stopping;
use crate::support::{Haproxy, haproxy_bin, spawn_haproxy_on_free_port};

/// One thread: with several, HAProxy's leastconn may miss a concurrent pick's connection count.
pub(crate) const DEFAULTS: &str = "global\n nbthread 1\ndefaults\n mode http\n timeout connect 1s\n timeout client 10s\n timeout server 10s\n";

/// Starts the real HAProxy on a reserved port (fresh ones while taken).
async fn start_haproxy(bin: &str, text: &str, origins: &[(&str, SocketAddr)]) -> Haproxy {
    spawn_haproxy_on_free_port(bin, "queue-diff", |port| {
        let mut text = text.replace("@listen@", &format!("127.0.0.1:{port}"));
        for (name, addr) in origins {
            text = text.replace(&format!("@{name}@"), &addr.to_string());
        }
        text
    })
    .await
}

/// Where HAProxy's answers to these scenarios are recorded (see its README).
fn recording(name: &str) -> std::path::PathBuf {
    let slug: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/haproxy-2.6/queue")
        .join(format!("{slug}.txt"))
}

/// Separates the answers in a recording.
const NEXT: &str = "\n<<<next>>>\n";

/// Runs `steps` with fresh origins named `names` (plus `dead`, a refused port) behind `text`,
/// through real HAProxy when `ours` is false, else through our daemon.
async fn run<F, Fut>(
    ours: bool,
    bin: &str,
    text: &str,
    names: &[&'static str],
    steps: &F,
) -> Vec<String>
where
    F: Fn(SocketAddr, Vec<Arc<Origin>>) -> Fut,
    Fut: Future<Output = Vec<String>>,
{
    let mut origins = Vec::new();
    for n in names {
        origins.push(Origin::start(n).await);
    }
    let dead = Refused::new();
    let mut addrs: Vec<(&str, SocketAddr)> = names
        .iter()
        .zip(&origins)
        .map(|(n, o)| (*n, o.addr))
        .collect();
    addrs.push(("dead", dead.addr));
    if ours {
        let d = Daemon::start(text, &addrs);
        let out = steps(d.addr, origins).await;
        d.shutdown().await;
        out
    } else {
        let h = start_haproxy(bin, text, &addrs).await;
        steps(h.addr, origins).await
    }
}

/// Runs `steps` against real HAProxy and against our daemon and compares what the client saw.
/// HAProxy's answers must also match their recording (`HAPROXY_RS_RECORD=1` rewrites it);
/// without haproxy installed, ours are compared with the recording alone.
pub(crate) async fn both<F, Fut>(name: &str, text: &str, names: &[&'static str], steps: F)
where
    F: Fn(SocketAddr, Vec<Arc<Origin>>) -> Fut,
    Fut: Future<Output = Vec<String>>,
{
    both_attempts(name, text, names, steps, 1).await;
}

/// [`both`] for a scenario whose outcome depends on scheduling under load: a proxy whose answers
/// differ (HAProxy's from its recording, ours from HAProxy's) runs the scenario again, up to
/// `attempts` runs in all, and only the last run is asserted. A behaviour that differs every
/// time still fails.
pub(crate) async fn both_attempts<F, Fut>(
    name: &str,
    text: &str,
    names: &[&'static str],
    steps: F,
    attempts: usize,
) where
    F: Fn(SocketAddr, Vec<Arc<Origin>>) -> Fut,
    Fut: Future<Output = Vec<String>>,
{
    let path = recording(name);
    let recorded = std::fs::read_to_string(&path)
        .ok()
        .map(|t| t.split(NEXT).map(str::to_owned).collect::<Vec<_>>());
    let theirs = match haproxy_bin("queue differential test, using its recordings") {
        Some(bin) => {
            let mut live = run(false, bin, text, names, &steps).await;
            if std::env::var("HAPROXY_RS_RECORD").as_deref() == Ok("1") {
                std::fs::write(&path, live.join(NEXT)).unwrap();
            } else if let Some(rec) = &recorded {
                for _ in 1..attempts {
                    if &live == rec {
                        break;
                    }
                    eprintln!("scenario {name}: haproxy differs from its recording; again");
                    live = run(false, bin, text, names, &steps).await;
                }
                assert_eq!(
                    &live, rec,
                    "scenario {name}: haproxy (left) vs its recording"
                );
            }
            live
        }
        None => match recorded {
            Some(rec) => rec,
            None => return,
        },
    };
    let mut ours = run(true, "", text, names, &steps).await;
    for _ in 1..attempts {
        if ours == theirs {
            break;
        }
        eprintln!("scenario {name}: ours differs from haproxy; again");
        ours = run(true, "", text, names, &steps).await;
    }
    assert_eq!(
        theirs, ours,
        "scenario {name}: haproxy (left) vs ours (right)"
    );
}

/// Holds one request on `a`, then sends `path` and returns its response.
async fn behind_a_held_request(addr: SocketAddr, a: &Arc<Origin>, path: &str) -> Vec<String> {
    let first = held_at(addr, a).await;
    let second = get(addr, path).await;
    a.let_go(1);
    vec![first.await.unwrap(), second]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queue_timeout_and_full_queue_match_haproxy() {
    both(
        "timeout queue",
        &format!(
            "{DEFAULTS}listen l\n bind @listen@\n timeout queue 150ms\n server a @a@ maxconn 1\n"
        ),
        &["a"],
        |addr, o| async move { behind_a_held_request(addr, &o[0], "/").await },
    )
    .await;
    both(
        "timeout queue falls back to timeout connect",
        &format!(
            "{}listen l\n bind @listen@\n server a @a@ maxconn 1\n",
            DEFAULTS.replace("connect 1s", "connect 150ms")
        ),
        &["a"],
        |addr, o| async move { behind_a_held_request(addr, &o[0], "/").await },
    )
    .await;
    both(
        "maxqueue 1 on a hashed server",
        &format!(
            "{DEFAULTS}listen l\n bind @listen@\n balance uri\n timeout queue 10s\n server a @a@ maxconn 1 maxqueue 1\n"
        ),
        &["a"],
        |addr, o| async move {
            let a = &o[0];
            let first = held_at(addr, a).await;
            let queued = tokio::spawn(get(addr, "/hold"));
            // The queued request is not observable from outside: give it time to queue.
            tokio::time::sleep(Duration::from_millis(200)).await;
            let refused = get(addr, "/hold").await;
            a.let_go(2);
            vec![first.await.unwrap(), queued.await.unwrap(), refused]
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abortonclose_answers_nothing_like_haproxy() {
    both(
        "abortonclose",
        &format!(
            "{DEFAULTS}listen l\n bind @listen@\n option abortonclose\n timeout queue 10s\n server a @a@ maxconn 1\n"
        ),
        &["a"],
        |addr, o| async move {
            let a = &o[0];
            let first = held_at(addr, a).await;
            let mut s = TcpStream::connect(addr).await.unwrap();
            s.write_all(b"GET /hold HTTP/1.1\r\nHost: t\r\n\r\n")
                .await
                .unwrap();
            tokio::time::sleep(Duration::from_millis(200)).await;
            s.shutdown().await.unwrap();
            let mut out = Vec::new();
            tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut out))
                .await
                .unwrap()
                .unwrap();
            a.let_go(1);
            let first = first.await.unwrap();
            let after = get(addr, "/").await;
            vec![
                first,
                String::from_utf8_lossy(&out).into_owned(),
                after,
                a.total().to_string(),
            ]
        },
    )
    .await;
}

async fn sequence(addr: SocketAddr, n: usize) -> Vec<String> {
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(get(addr, "/").await);
    }
    out
}

/// `n` requests over one keep-alive client connection; the raw responses.
async fn keep_alive(addr: SocketAddr, n: usize) -> Vec<String> {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(request_on(&mut s).await);
    }
    out
}

/// One keep-alive `GET /` on `s`; the raw response (read by its `content-length`), or what
/// came before the connection closed.
async fn request_on(s: &mut TcpStream) -> String {
    s.write_all(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        .await
        .unwrap();
    let (mut buf, mut chunk) = (Vec::new(), [0u8; 1024]);
    loop {
        let text = String::from_utf8_lossy(&buf).into_owned();
        if let Some((head, rest)) = text.split_once("\r\n\r\n") {
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length: "))
                .map_or(0, |v| v.parse().unwrap());
            if rest.len() >= len {
                return text;
            }
        }
        let k = tokio::time::timeout(Duration::from_secs(5), s.read(&mut chunk))
            .await
            .unwrap()
            .unwrap_or(0);
        if k == 0 {
            return format!("{text}<closed>");
        }
        buf.extend_from_slice(&chunk[..k]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queue_timeout_keeps_the_keep_alive_connection_like_haproxy() {
    both(
        "timeout queue on a keep-alive connection",
        &format!(
            "{DEFAULTS}listen l\n bind @listen@\n timeout queue 150ms\n server a @a@ maxconn 1\n"
        ),
        &["a"],
        |addr, o| async move {
            let a = &o[0];
            let first = held_at(addr, a).await;
            let mut s = TcpStream::connect(addr).await.unwrap();
            let mut out = vec![request_on(&mut s).await];
            a.let_go(1);
            out.push(first.await.unwrap());
            out.push(request_on(&mut s).await);
            out
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_keep_alive_request_is_balanced_like_haproxy() {
    both(
        "roundrobin over one keep-alive connection",
        &format!("{DEFAULTS}listen l\n bind @listen@\n server a @a@\n server b @b@\n"),
        &["a", "b"],
        |addr, _| keep_alive(addr, 4),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_redispatch_and_backups_match_haproxy() {
    // (scenario, timeout connect, the listen section's lines after `bind`, origins, requests)
    let cases: [(&str, &str, &str, &[&'static str], usize); 7] = [
        (
            "redispatch from a dead server",
            "1s",
            " retries 3\n option redispatch\n server dead @dead@\n server b @b@\n",
            &["b"],
            4,
        ),
        (
            "leastconn redispatch from a dead server",
            "1s",
            " balance leastconn\n retries 2\n option redispatch\n server dead @dead@\n server b @b@\n",
            &["b"],
            3,
        ),
        (
            "refused after the retries",
            "50ms",
            " retries 2\n server dead @dead@\n",
            &[],
            1,
        ),
        (
            "first backup only",
            "1s",
            " server a @dead@ disabled\n server b1 @b1@ backup\n server b2 @b2@ backup\n",
            &["b1", "b2"],
            3,
        ),
        (
            "allbackups",
            "1s",
            " option allbackups\n server a @dead@ disabled\n server b1 @b1@ backup\n server b2 @b2@ backup\n",
            &["b1", "b2"],
            4,
        ),
        (
            "weight 0",
            "1s",
            " server a @a@ weight 0\n server b1 @b1@ backup\n",
            &["a", "b1"],
            2,
        ),
        (
            "every server at weight 0",
            "1s",
            " server a @a@ weight 0\n server b @b@ weight 0\n",
            &["a", "b"],
            1,
        ),
    ];
    for (name, connect, listen, names, n) in cases {
        let defaults = DEFAULTS.replace("connect 1s", &format!("connect {connect}"));
        both(
            name,
            &format!("{defaults}listen l\n bind @listen@\n{listen}"),
            names,
            |addr, _| sequence(addr, n),
        )
        .await;
    }
}

/// Holds `held` requests for `/hold`, then sends `n` short ones; the short answers, then the
/// held ones once let go.
async fn short_behind_held(
    addr: SocketAddr,
    origins: &[Arc<Origin>],
    held: usize,
    n: usize,
) -> Vec<String> {
    let mut waiting = Vec::new();
    for k in 1..=held {
        waiting.push(tokio::spawn(get(addr, "/hold")));
        until("the held request at a server", || {
            origins.iter().map(|o| o.active()).sum::<usize>() == k
        })
        .await;
    }
    let mut out = sequence(addr, n).await;
    for o in origins {
        o.let_go(held);
    }
    for w in waiting {
        out.push(w.await.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leastconn_and_first_choose_like_haproxy_under_load() {
    both(
        "leastconn with one request in flight",
        &format!(
            "{DEFAULTS}listen l\n bind @listen@\n balance leastconn\n server a @a@\n server b @b@\n server c @c@\n"
        ),
        &["a", "b", "c"],
        |addr, o| async move { short_behind_held(addr, &o, 2, 4).await },
    )
    .await;
    both(
        "first with maxconn 2",
        &format!(
            "{DEFAULTS}listen l\n bind @listen@\n balance first\n server a @a@ maxconn 2\n server b @b@ maxconn 2\n"
        ),
        &["a", "b"],
        |addr, o| async move { short_behind_held(addr, &o, 2, 2).await },
    )
    .await;
    both(
        "TCP mode redispatch from a dead server",
        &format!(
            "{}listen l\n bind @listen@\n retries 3\n option redispatch\n server dead @dead@\n server b @b@\n",
            DEFAULTS.replace("mode http", "mode tcp")
        ),
        &["b"],
        |addr, _| sequence(addr, 3),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_a_server_under_load_loses_nothing_in_either() {
    // A connection that completes its handshake just as the stopped server closes its listener
    // is reset after the request was sent, which neither proxy may retry: rare, and a matter of
    // scheduling (seen with HAProxy on a loaded machine, up to 8 of 600), so a differing run is
    // repeated, up to three runs.
    both_attempts(
        "retries 3 + redispatch, one of two servers stopped under load",
        &format!(
            "{DEFAULTS}listen l\n bind @listen@\n option http-server-close\n retries 3\n option redispatch\n server a @a@\n server b @b@\n"
        ),
        &["a", "b"],
        |addr, o| async move {
            let failed = load_while_stopping(addr, &o[0], 600, 8, 150).await;
            let served = o.iter().map(|x| x.total()).sum::<usize>();
            vec![format!("{} failed", failed.len()), format!("{served} served")]
        },
        3,
    )
    .await;
}
