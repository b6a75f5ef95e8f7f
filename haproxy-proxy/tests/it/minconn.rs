//! `minconn` below `maxconn`: HAProxy 2.6's dynamic server limit over the backend's `fullconn`.
//!
//! The derived `fullconn` is compared with what HAProxy 2.6.12 showed for the same file
//! (`tests/data/haproxy-2.6/minconn/fullconn.txt`), and live scenarios run through real HAProxy
//! and through our daemon: requests arrive one by one at a slow server, then the server answers
//! them one by one; after each step, which requests the server holds must agree. Skipped with a
//! message when `haproxy` is not installed, unless `CI=true` (then they fail); without it, ours
//! are compared with the recordings alone.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use haproxy_cfg::load::{SystemEnv, load};
use haproxy_cfg::parse_str;
use haproxy_proxy::build::build;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::queue::{Daemon, get, until};
use crate::queue_diff::DEFAULTS;
use crate::support::{haproxy_bin, spawn_haproxy_on_free_port};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/haproxy-2.6/minconn")
        .join(name)
}

#[test]
fn fullconn_is_derived_as_haproxy_derives_it() {
    let text = std::fs::read_to_string(data("fullconn.cfg")).unwrap();
    let mut port = 30_000;
    let text: String = text
        .lines()
        .map(|l| {
            port += 1;
            format!("{}\n", l.replace("@bind@", &format!("127.0.0.1:{port}")))
        })
        .collect();
    let loaded = load(&[parse_str("fullconn.cfg", &text)], &SystemEnv);
    let rt = build(&loaded.config).unwrap();
    let ours: BTreeMap<String, u32> = rt
        .registry
        .backends
        .iter()
        .map(|b| b.name.clone())
        .zip(rt.registry.fullconn.get().unwrap().iter().copied())
        .collect();
    let recorded = std::fs::read_to_string(data("fullconn.txt")).unwrap();
    let (mut theirs, mut their_servers) = (BTreeMap::new(), BTreeMap::new());
    for l in recorded.lines() {
        let (name, v) = l.split_once(' ').unwrap();
        match name.split_once('/') {
            // A server's `slim`: its settled `maxconn` (empty when unlimited).
            Some(_) => their_servers.insert(name.to_owned(), v.parse().unwrap_or(0u32)),
            None => theirs.insert(name.to_owned(), v.parse::<u32>().unwrap()),
        };
    }
    assert_eq!(ours, theirs);
    let settings = &rt.frontends.first().unwrap().service.backends;
    let our_servers: BTreeMap<String, u32> = rt
        .registry
        .backends
        .iter()
        .zip(settings.iter())
        .flat_map(|(b, s)| {
            s.servers
                .iter()
                .map(move |sv| (format!("{}/{}", b.name, sv.name), sv.maxconn))
        })
        .collect();
    assert_eq!(our_servers, their_servers);
    // The balancers use the same value.
    let picker = &rt.frontends.first().unwrap().service.picker;
    assert_eq!(picker.0.len(), rt.registry.backends.len());
    for (b, bal) in rt.registry.backends.iter().zip(picker.0.iter()) {
        // (l2 has no server, hence no balancer.)
        if let Some(lb) = bal.balancer.as_ref() {
            assert_eq!(Some(&lb.fullconn()), theirs.get(&b.name), "{}", b.name);
        }
    }
}

/// The most requests a scenario sends.
const MAX_REQUESTS: usize = 16;
/// How long a step waits for a request to reach the server before taking it as queued, and
/// how long the server's set must stay the same to count as settled.
const SETTLE: Duration = Duration::from_millis(300);
/// The longest a step may take to settle.
const STEP_BOUND: Duration = Duration::from_secs(5);

/// The longest the origin holds a request that the test never lets go.
const HOLD_BOUND: Duration = Duration::from_secs(60);

/// An origin that holds every request (`GET /r/<id>`) until the test lets that id go, and
/// records which ids it holds.
#[derive(Debug)]
struct Slow {
    addr: SocketAddr,
    holding: Mutex<Vec<u32>>,
    released: Mutex<Vec<u32>>,
}

impl Slow {
    async fn start() -> Arc<Slow> {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let me = Arc::new(Slow {
            addr: l.local_addr().unwrap(),
            holding: Mutex::new(Vec::new()),
            released: Mutex::new(Vec::new()),
        });
        let o = Arc::clone(&me);
        tokio::spawn(async move {
            while let Ok((s, _)) = l.accept().await {
                let o = Arc::clone(&o);
                tokio::spawn(async move { o.serve(s).await });
            }
        });
        me
    }

    fn holding(&self) -> Vec<u32> {
        self.holding.lock().unwrap().clone()
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
            let head = String::from_utf8_lossy(&buf[..end]).into_owned();
            buf.drain(..end);
            let id: u32 = head
                .strip_prefix("GET /r/")
                .and_then(|r| r.split(' ').next())
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            self.holding.lock().unwrap().push(id);
            let held = Instant::now();
            while !self.released.lock().unwrap().contains(&id) && held.elapsed() < HOLD_BOUND {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            self.holding.lock().unwrap().retain(|&h| h != id);
            let answer = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{id}",
                id.to_string().len()
            );
            if s.write_all(answer.as_bytes()).await.is_err() {
                return;
            }
        }
    }
}

/// The origins of a scenario, by name (`@<name>@` in its configuration).
type Origins = Vec<(&'static str, Arc<Slow>)>;

/// What each origin holds, e.g. `a [1, 5] b [2]`.
fn holding(origins: &Origins) -> String {
    let mut out = Vec::new();
    for (name, o) in origins {
        let mut held = o.holding();
        held.sort_unstable();
        out.push(format!("{name} {held:?}"));
    }
    out.join(" ")
}

/// Waits until what the origins hold has not changed for [`SETTLE`] (bounded).
async fn settled(origins: &Origins) -> String {
    let started = Instant::now();
    let (mut last, mut since) = (holding(origins), Instant::now());
    while since.elapsed() < SETTLE {
        assert!(
            started.elapsed() < STEP_BOUND,
            "the servers' requests never settled"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
        let now = holding(origins);
        if now != last {
            (last, since) = (now, Instant::now());
        }
    }
    last
}

/// Lets the held request with the smallest id (the oldest request) go, wherever it is held.
fn let_oldest_go(origins: &Origins) -> Option<u32> {
    let (o, id) = origins
        .iter()
        .filter_map(|(_, o)| o.holding().into_iter().min().map(|id| (o, id)))
        .min_by_key(|&(_, id)| id)?;
    o.released.lock().unwrap().push(id);
    Some(id)
}

/// `n` requests arrive one by one, then the servers answer them one by one (the oldest request
/// held first, whatever the order they reached the servers in); one line per step: the requests
/// each server holds, then each answer's status and body.
async fn arrive_then_answer(addr: SocketAddr, origins: Origins, n: usize) -> Vec<String> {
    assert!(n <= MAX_REQUESTS);
    let mut out = Vec::new();
    let done = Arc::new(AtomicUsize::new(0));
    let mut clients = Vec::new();
    for id in 1..=n {
        let done = Arc::clone(&done);
        clients.push(tokio::spawn(async move {
            let r = get(addr, &format!("/r/{id}")).await;
            done.fetch_add(1, Ordering::SeqCst);
            r
        }));
        out.push(format!("arrived {id}: {}", settled(&origins).await));
    }
    for k in 1..=n {
        let Some(id) = let_oldest_go(&origins) else {
            out.push(format!("answer {k}: the servers hold nothing"));
            break;
        };
        until("an answer", || done.load(Ordering::SeqCst) >= k).await;
        out.push(format!("answered {id}: {}", settled(&origins).await));
    }
    for c in clients {
        let r = c.await.unwrap();
        let status = r.lines().next().unwrap_or_default().to_owned();
        let body = r.split_once("\r\n\r\n").map_or("", |(_, b)| b).to_owned();
        out.push(format!("{status} {body}"));
    }
    out
}

/// Runs a scenario through real HAProxy (`ours` false) or our daemon, with fresh servers
/// `names`.
async fn run(ours: bool, bin: &str, text: &str, names: &[&'static str], n: usize) -> Vec<String> {
    let mut origins = Origins::new();
    let mut text = text.to_owned();
    for name in names {
        let o = Slow::start().await;
        text = text.replace(&format!("@{name}@"), &o.addr.to_string());
        origins.push((name, o));
    }
    if ours {
        let d = Daemon::start(&text, &[]);
        let out = arrive_then_answer(d.addr, origins, n).await;
        d.shutdown().await;
        return out;
    }
    let h = spawn_haproxy_on_free_port(bin, "minconn", |port| {
        text.replace("@listen@", &format!("127.0.0.1:{port}"))
    })
    .await;
    let out = arrive_then_answer(h.addr, origins, n).await;
    drop(h);
    out
}

/// Compares one scenario between HAProxy, its recording and ours (`HAPROXY_RS_RECORD=1`
/// rewrites the recording).
async fn both(name: &str, text: &str, names: &[&'static str], n: usize) {
    let path = data(&format!("{name}.txt"));
    let recorded: Option<Vec<String>> = std::fs::read_to_string(&path)
        .ok()
        .map(|t| t.lines().map(str::to_owned).collect());
    let theirs = match haproxy_bin("minconn differential test, using its recordings") {
        Some(bin) => {
            let live = run(false, bin, text, names, n).await;
            if std::env::var("HAPROXY_RS_RECORD").as_deref() == Ok("1") {
                std::fs::write(&path, live.join("\n") + "\n").unwrap();
            } else if let Some(rec) = &recorded {
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
    let ours = run(true, "", text, names, n).await;
    assert_eq!(
        theirs, ours,
        "scenario {name}: haproxy (left) vs ours (right)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn arrivals_take_slots_as_the_limit_grows_like_haproxy() {
    // Roundrobin: waiters in the backend's queue; a later arrival that raises the limit
    // (max(1, load x 4 / 10)) still queues behind them, and each answer lets in as many as
    // the limit over the current load allows.
    both(
        "roundrobin-fullconn-10",
        &format!(
            "{DEFAULTS}listen l\n bind @listen@\n fullconn 10\n timeout queue 30s\n server a @a@ minconn 1 maxconn 4\n"
        ),
        &["a"],
        12,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_answer_lets_several_waiters_in_like_haproxy() {
    // Hashed to one server, every waiter queues on it; the first answer sees 12 streams
    // (>= fullconn, derived from the listen's maxconn 100) and lets four in at once.
    both(
        "uri-derived-fullconn",
        &format!(
            "{DEFAULTS}listen l\n bind @listen@\n maxconn 100\n balance uri\n timeout queue 30s\n server a @a@ minconn 1 maxconn 4\n"
        ),
        &["a"],
        12,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_fills_the_dynamic_limit_as_the_load_grows_like_haproxy() {
    // `first` over a (minconn 1, maxconn 4) and b: a's limit is 1 until the backend holds 5
    // streams, so 2-4 go to b, and arrivals 5, 8 and 10 find a's limit raised.
    both(
        "first-fullconn-10",
        &format!(
            "{DEFAULTS}listen l\n bind @listen@\n balance first\n fullconn 10\n timeout queue 30s\n server a @a@ minconn 1 maxconn 4\n server b @b@\n"
        ),
        &["a", "b"],
        12,
    )
    .await;
}
