//! Redispatch away from a dead server (`retries` + `option redispatch`) per balancing
//! algorithm, through real HAProxy 2.6 and through our daemon: HAProxy's lookups take the
//! failed server as a server to avoid (`srvtoavoid`), except map-based hashing, whose key
//! keeps its server. Each hashing scenario has a companion "placement" scenario with a live
//! server in the dead one's place (same server id, so the same keys go there), which shows
//! that some keys do land on the dead server.
//!
//! Recorded in `tests/data/haproxy-2.6/queue/` (see its README); skipped with a message when
//! `haproxy` is not installed and nothing is recorded, unless `CI=true`.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpSocket;

use crate::queue::{PAGE_503, get};
use crate::queue_diff::{DEFAULTS, both};

/// How many keys (URIs or client addresses) each scenario sends.
const KEYS: u8 = 8;

/// A short connect timeout: HAProxy pauses `min(timeout connect, 1s)` before retrying a
/// refused connection on the same server.
fn defaults() -> String {
    DEFAULTS.replace("connect 1s", "connect 100ms")
}

/// The recorded answers of scenario `name`, in order.
fn recorded(name: &str) -> Option<Vec<String>> {
    let slug: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/haproxy-2.6/queue")
        .join(format!("{slug}.txt"));
    let text = std::fs::read_to_string(path).ok()?;
    Some(text.split("\n<<<next>>>\n").map(str::to_owned).collect())
}

/// The body of each recorded answer (`503` for HAProxy's 503 page).
fn bodies(name: &str) -> Option<Vec<String>> {
    Some(
        recorded(name)?
            .iter()
            .map(|r| {
                if r == PAGE_503 {
                    "503".to_owned()
                } else {
                    r.split_once("\r\n\r\n")
                        .map_or(String::new(), |(_, b)| b.to_owned())
                }
            })
            .collect(),
    )
}

/// `GET <prefix>0` to `GET <prefix><KEYS - 1>`, each on its own connection.
async fn uris(addr: SocketAddr, prefix: &str) -> Vec<String> {
    let mut out = Vec::new();
    for k in 0..KEYS {
        out.push(get(addr, &format!("{prefix}{k}")).await);
    }
    out
}

/// One `GET /` from client address `src` (any 127.0.0.0/8 address is local).
async fn get_from(addr: SocketAddr, src: Ipv4Addr) -> String {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::new(IpAddr::V4(src), 0)).unwrap();
    let mut s = socket.connect(addr).await.unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut out = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut out))
        .await
        .expect("response in time");
    let text = String::from_utf8_lossy(&out).into_owned();
    match read {
        Ok(_) => text,
        Err(e) => format!("{text}<read error: {e}>"),
    }
}

/// `GET /` from the client addresses 127.0.0.1 to 127.0.0.<KEYS>.
async fn sources(addr: SocketAddr) -> Vec<String> {
    let mut out = Vec::new();
    for k in 1..=KEYS {
        out.push(get_from(addr, Ipv4Addr::new(127, 0, 0, k)).await);
    }
    out
}

/// The listen section: `balance` lines, then the first server (`first`, an origin name or
/// `dead`) and `b`.
fn listen(balance: &str, first: &str) -> String {
    format!(
        "{}listen l\n bind @listen@\n{balance} retries 2\n option redispatch\n server {first} @{first}@\n server b @b@\n",
        defaults()
    )
}

/// Which keys the placement scenario `name` sent to server `a` (the dead server's place).
fn to_a(name: &str) -> Option<Vec<bool>> {
    Some(bodies(name)?.iter().map(|b| b == "a").collect())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consistent_hash_redispatches_to_the_live_server_like_haproxy() {
    for (what, balance) in [
        ("uri", " balance uri\n hash-type consistent\n"),
        (
            "url_param",
            " balance url_param id\n hash-type consistent\n",
        ),
        ("source", " balance source\n hash-type consistent\n"),
    ] {
        let placement = format!("{what} consistent: placement");
        let redispatch = format!("{what} consistent: redispatch from a dead server");
        let keys = |addr| async move {
            match what {
                "uri" => uris(addr, "/").await,
                "url_param" => uris(addr, "/?id=").await,
                _ => sources(addr).await,
            }
        };
        both(&placement, &listen(balance, "a"), &["a", "b"], |addr, _| {
            keys(addr)
        })
        .await;
        both(&redispatch, &listen(balance, "dead"), &["b"], |addr, _| {
            keys(addr)
        })
        .await;
        // What HAProxy did: some keys live on the dead server's place, and all of them are
        // answered by `b` once it is dead.
        if let (Some(placed), Some(answers)) = (to_a(&placement), bodies(&redispatch)) {
            assert!(placed.iter().any(|&a| a), "{placement}: no key on a");
            assert!(placed.iter().any(|&a| !a), "{placement}: no key on b");
            assert!(
                answers.iter().all(|b| b == "b"),
                "{redispatch}: {answers:?}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn map_based_hashing_returns_to_the_dead_server_like_haproxy() {
    let balance = " balance uri\n";
    let placement = "uri map-based: placement";
    let redispatch = "uri map-based: redispatch stays on a dead server";
    both(placement, &listen(balance, "a"), &["a", "b"], |addr, _| {
        uris(addr, "/")
    })
    .await;
    both(redispatch, &listen(balance, "dead"), &["b"], |addr, _| {
        uris(addr, "/")
    })
    .await;
    // What HAProxy did: the keys of the dead server's place get a 503, the others `b`.
    if let (Some(placed), Some(answers)) = (to_a(placement), bodies(redispatch)) {
        assert!(placed.iter().any(|&a| a), "{placement}: no key on a");
        let expected: Vec<&str> = placed
            .iter()
            .map(|&a| if a { "503" } else { "b" })
            .collect();
        assert_eq!(answers, expected, "{redispatch}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_and_static_rr_redispatch_past_the_dead_server_like_haproxy() {
    for (name, balance) in [
        (
            "first: redispatch from a dead first server",
            " balance first\n",
        ),
        (
            "static-rr: redispatch from a dead server",
            " balance static-rr\n",
        ),
    ] {
        both(
            name,
            &listen(balance, "dead"),
            &["b"],
            |addr, _| async move {
                let mut out = Vec::new();
                for _ in 0..3 {
                    out.push(get(addr, "/").await);
                }
                out
            },
        )
        .await;
        if let Some(answers) = bodies(name) {
            assert_eq!(answers, ["b", "b", "b"], "{name}");
        }
    }
}
