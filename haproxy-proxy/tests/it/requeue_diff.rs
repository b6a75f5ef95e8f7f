//! Queued requests follow their server's state (issue 5, point 7), through real HAProxy 2.6 and
//! through our daemon with the same configuration and steps: `disable server` over the runtime
//! API while a request waits in the disabled server's queue (HAProxy's
//! `pendconn_redistribute()`, which needs `option redispatch`), and `enable server` while a
//! request waits in the backend's queue (`pendconn_grab_from_px()`). The raw answers and which
//! server gave them must be equal.
//!
//! HAProxy's answers are recorded under tests/data/haproxy-2.6/requeue (see its README); without
//! `haproxy` installed (and `CI` not `true`) ours are compared with the recordings alone.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use haproxy_cfg::load::{Outcome, SystemEnv, load};
use haproxy_cfg::parse_str;
use haproxy_proxy::admin::{Admin, ProcessInfo};
use haproxy_proxy::build::build;
use haproxy_proxy::runtime::Stop;
use haproxy_stats::cli::{Cli, Level};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UnixStream};
use tokio::sync::watch;

use crate::queue::{Origin, Reserved, get, until};
use crate::scratch::TempDir;

/// One thread, the stats socket (HAProxy only: ours is driven in-process) and short timeouts.
pub(crate) const HEAD: &str = "global\n nbthread 1\n@socket@defaults\n mode http\n timeout connect 1s\n timeout client 10s\n timeout server 10s\n timeout queue 5s\n";

/// How the test changes a server's state: HAProxy's stats socket, or our runtime API in-process.
pub(crate) enum Ctl {
    Theirs(PathBuf),
    Ours(std::sync::Mutex<Admin>),
}

impl Ctl {
    /// Runs one runtime API command; its answer.
    pub(crate) async fn command(&self, line: &str) -> String {
        match self {
            Ctl::Theirs(path) => {
                let mut s = UnixStream::connect(path).await.unwrap();
                s.write_all(format!("{line}\n").as_bytes()).await.unwrap();
                let mut out = Vec::new();
                tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut out))
                    .await
                    .unwrap()
                    .unwrap();
                String::from_utf8_lossy(&out).into_owned()
            }
            Ctl::Ours(admin) => {
                let mut admin = admin.lock().unwrap();
                let out = Cli::new(Level::Admin).feed(format!("{line}\n").as_bytes(), &mut *admin);
                String::from_utf8(out).unwrap()
            }
        }
    }
}

pub(crate) struct Haproxy(pub(crate) Child);

impl Drop for Haproxy {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn fill(text: &str, port: u16, origins: &[Arc<Origin>], names: &[&str], socket: &str) -> String {
    let mut text = text
        .replace("@listen@", &format!("127.0.0.1:{port}"))
        .replace("@socket@", socket);
    for (n, o) in names.iter().zip(origins) {
        text = text.replace(&format!("@{n}@"), &o.addr.to_string());
    }
    text
}

/// Runs `steps` against `text` with fresh origins named `names`, through HAProxy (`bin`) or
/// through ours (`bin` = `None`).
async fn run<F, Fut>(
    bin: Option<&str>,
    text: &str,
    names: &[&'static str],
    steps: &F,
) -> Vec<String>
where
    F: Fn(SocketAddr, Vec<Arc<Origin>>, Arc<Ctl>) -> Fut,
    Fut: Future<Output = Vec<String>>,
{
    let mut origins = Vec::new();
    for n in names {
        origins.push(Origin::start(n).await);
    }
    let reserved = Reserved::new();
    let port = reserved.addr.port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    if let Some(bin) = bin {
        let dir = TempDir::new("requeue");
        let sock = dir.join("stats.sock");
        let socket = format!(" stats socket {} level admin\n", sock.display());
        let cfg = dir.write("haproxy.cfg", &fill(text, port, &origins, names, &socket));
        // Wrapped at once: killed on drop, also when the start below fails the test.
        let mut h = Haproxy(
            Command::new(bin)
                .args(["-db", "-f"])
                .arg(&cfg)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        );
        let started = Instant::now();
        while TcpStream::connect(addr).await.is_err() || !sock.exists() {
            assert!(
                started.elapsed() < crate::support::HAPROXY_START,
                "haproxy did not start"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(h.0.try_wait().unwrap().is_none(), "haproxy exited");
        steps(addr, origins, Arc::new(Ctl::Theirs(sock.clone()))).await
    } else {
        let text = fill(text, port, &origins, names, "");
        let loaded = load(&[parse_str("r.cfg", &text)], &SystemEnv);
        assert_ne!(loaded.outcome, Outcome::Invalid, "{:?}", loaded.diagnostics);
        let rt = build(&loaded.config).unwrap();
        let admin = Admin::new(Arc::clone(&rt.registry), ProcessInfo::default());
        let running = rt.start().unwrap();
        let (stop, rx) = watch::channel(None);
        let task = tokio::spawn(running.serve(rx));
        let out = steps(
            addr,
            origins,
            Arc::new(Ctl::Ours(std::sync::Mutex::new(admin))),
        )
        .await;
        stop.send(Some(Stop::Hard)).unwrap();
        tokio::time::timeout(Duration::from_secs(10), task)
            .await
            .unwrap()
            .unwrap();
        out
    }
}

const NEXT: &str = "\n<<<next>>>\n";

fn recording(dir: &str, name: &str) -> PathBuf {
    let slug: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/haproxy-2.6")
        .join(dir)
        .join(format!("{slug}.txt"))
}

/// HAProxy (live, checked against its recording; `HAPROXY_RS_RECORD=1` rewrites it) vs ours.
async fn both<F, Fut>(name: &str, text: &str, names: &[&'static str], steps: F)
where
    F: Fn(SocketAddr, Vec<Arc<Origin>>, Arc<Ctl>) -> Fut,
    Fut: Future<Output = Vec<String>>,
{
    both_in("requeue", name, text, names, steps).await;
}

/// [`both`] with the recordings in `tests/data/haproxy-2.6/<dir>`.
pub(crate) async fn both_in<F, Fut>(
    dir: &str,
    name: &str,
    text: &str,
    names: &[&'static str],
    steps: F,
) where
    F: Fn(SocketAddr, Vec<Arc<Origin>>, Arc<Ctl>) -> Fut,
    Fut: Future<Output = Vec<String>>,
{
    let path = recording(dir, name);
    let recorded = std::fs::read_to_string(&path)
        .ok()
        .map(|t| t.split(NEXT).map(str::to_owned).collect::<Vec<_>>());
    let theirs =
        match crate::support::haproxy_bin("requeue differential test (using its recordings)") {
            Some(bin) => {
                let live = run(Some(bin), text, names, &steps).await;
                if std::env::var("HAPROXY_RS_RECORD").as_deref() == Ok("1") {
                    std::fs::write(&path, live.join(NEXT)).unwrap();
                } else {
                    let rec = recorded.expect("a recording (HAPROXY_RS_RECORD=1 writes it)");
                    assert_eq!(
                        live, rec,
                        "scenario {name}: haproxy (left) vs its recording"
                    );
                }
                live
            }
            None => recorded.expect("a recording of haproxy's answers"),
        };
    let ours = run(None, text, names, &steps).await;
    assert_eq!(
        theirs, ours,
        "scenario {name}: haproxy (left) vs ours (right)"
    );
}

/// Holds a `/hold` request on one of `o`, then queues a `/` request behind it on the same
/// server (`balance source`: one client address, one server); returns the busy server's index
/// and the queued request.
async fn hold_and_queue(
    addr: SocketAddr,
    o: &[Arc<Origin>],
) -> (
    usize,
    tokio::task::JoinHandle<String>,
    tokio::task::JoinHandle<String>,
) {
    let first = tokio::spawn(get(addr, "/hold"));
    until("the held request at a server", || {
        o.iter().map(|x| x.active()).sum::<usize>() == 1
    })
    .await;
    let busy = o.iter().position(|x| x.active() == 1).unwrap();
    let queued = tokio::spawn(get(addr, "/"));
    // Being queued is not visible from outside: give the request time to get there.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !queued.is_finished(),
        "the second request waits in the queue"
    );
    (busy, first, queued)
}

/// The origins of every scenario, in order.
const AB: [&str; 2] = ["a", "b"];

/// The name of origin `i`.
fn name(i: usize) -> String {
    AB[i].to_owned()
}

/// Holds one request on a server, queues a second behind it, disables the busy server and
/// reports where the queued request went (within 3 s) before letting the first one finish.
async fn disable_the_busy_server(
    addr: SocketAddr,
    o: Vec<Arc<Origin>>,
    ctl: Arc<Ctl>,
) -> Vec<String> {
    let (busy, first, queued) = hold_and_queue(addr, &o).await;
    let busy_name = name(busy);
    let said = ctl.command(&format!("disable server l/{busy_name}")).await;
    // Answered by another server (or refused) while the first is still held.
    let second = tokio::time::timeout(Duration::from_secs(3), queued)
        .await
        .map_or_else(|_| "<still queued>".to_owned(), Result::unwrap);
    o[busy].let_go(1);
    vec![busy_name, said, second, first.await.unwrap()]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disabling_a_server_sends_its_queue_to_another_with_redispatch_like_haproxy() {
    both(
        "disable server with redispatch",
        &format!(
            "{HEAD}listen l\n bind @listen@\n balance source\n option redispatch\n server a @a@ maxconn 1\n server b @b@ maxconn 1\n"
        ),
        &AB,
        disable_the_busy_server,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_redispatch_the_queue_stays_on_the_disabled_server_like_haproxy() {
    both(
        "disable server without redispatch",
        &format!(
            "{HEAD}listen l\n bind @listen@\n balance source\n server a @a@ maxconn 1\n server b @b@ maxconn 1\n"
        ),
        &AB,
        |addr, o, ctl| async move {
            let (busy, first, queued) = hold_and_queue(addr, &o).await;
            let busy_name = name(busy);
            let said = ctl.command(&format!("disable server l/{busy_name}")).await;
            tokio::time::sleep(Duration::from_millis(300)).await;
            let waiting = if queued.is_finished() { "answered" } else { "still queued" };
            // The release hands the slot to the server's own queue even in maintenance.
            o[busy].let_go(1);
            vec![
                busy_name,
                said,
                waiting.to_owned(),
                first.await.unwrap(),
                queued.await.unwrap(),
            ]
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queued_request_with_no_server_left_gets_503_like_haproxy() {
    both(
        "disable the last server with redispatch",
        &format!(
            "{HEAD}listen l\n bind @listen@\n balance source\n option redispatch\n server a @a@ maxconn 1\n server b @b@ maxconn 1 disabled\n"
        ),
        &AB,
        disable_the_busy_server,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enabling_a_server_takes_the_backend_queue_like_haproxy() {
    both(
        "enable server takes the backend queue",
        &format!(
            "{HEAD}listen l\n bind @listen@\n balance roundrobin\n server a @a@ maxconn 1\n server b @b@ maxconn 1 disabled\n"
        ),
        &AB,
        |addr, o, ctl| async move {
            let (busy, first, queued) = hold_and_queue(addr, &o).await;
            let said = ctl.command("enable server l/b").await;
            let second = tokio::time::timeout(Duration::from_secs(3), queued)
                .await
                .map_or_else(|_| "<still queued>".to_owned(), Result::unwrap);
            o[busy].let_go(1);
            vec![name(busy), said, second, first.await.unwrap()]
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_tcp_mode_a_disabled_servers_queue_moves_too_like_haproxy() {
    both(
        "TCP mode disable server with redispatch",
        &format!(
            "{}listen l\n bind @listen@\n balance source\n option redispatch\n server a @a@ maxconn 1\n server b @b@ maxconn 1\n",
            HEAD.replace("mode http", "mode tcp")
        ),
        &AB,
        |addr, o, ctl| async move {
            let (busy, first, queued) = hold_and_queue(addr, &o).await;
            let busy_name = name(busy);
            let said = ctl.command(&format!("disable server l/{busy_name}")).await;
            let second = tokio::time::timeout(Duration::from_secs(3), queued)
                .await
                .map_or_else(|_| "<still queued>".to_owned(), Result::unwrap);
            o[busy].let_go(1);
            vec![busy_name, said, second, first.await.unwrap()]
        },
    )
    .await;
}
