//! Helpers several test modules share: finding and starting the real HAProxy, running a built
//! runtime with its state-change lines kept in memory, masking the one field of those lines that
//! varies, loopback peers (one holding connections open, one answering with its name, an HTTP
//! service loop) and the TLS ClientHello the SNI tests send.

use std::future::Future;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use haproxy_proxy::build::Runtime;
use haproxy_proxy::health::MemoryLog;
use haproxy_proxy::http::{HttpService, serve_http};
use haproxy_proxy::proxy_proto::{ProxyHeader, read_header};
use haproxy_proxy::runtime::{Running, Stop};
use haproxy_proxy::{ChooseBackend, PickServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

use crate::ports::{BIND_ATTEMPTS, free_port, is_bind_failure};
use crate::scratch::TempDir;

/// The longest any awaited event of these helpers may take.
pub(crate) const WAIT: Duration = Duration::from_secs(10);

/// Most connections [`hold_accepted`] keeps open.
const MAX_HELD: usize = 8;
/// The longest the real HAProxy may take to accept connections (or create its stats socket).
/// Polled every 20 ms, so a normal start (tens of ms) is not slowed; generous because a daemon
/// started by a test run under `nice -n 19` on a loaded 2-core machine can get 1-2% of a core,
/// and 5 s and 10 s bounds were missed then. A HAProxy that exits is reported at once.
pub(crate) const HAPROXY_START: Duration = Duration::from_secs(60);

/// Where the real HAProxy is installed, or `None` after saying `skip` on stderr. Under
/// `CI=true` a missing HAProxy fails the test instead.
pub(crate) fn haproxy_bin(skip: &str) -> Option<&'static str> {
    let found = [
        "/usr/sbin/haproxy",
        "/usr/bin/haproxy",
        "/usr/local/sbin/haproxy",
    ]
    .into_iter()
    .find(|p| std::path::Path::new(p).exists());
    if found.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "haproxy is required under CI=true"
        );
        eprintln!("{skip}: haproxy is not installed");
    }
    found
}

/// The real HAProxy running a configuration file; killed on drop, then its scratch dir (the
/// configuration and HAProxy's stderr) is removed.
pub(crate) struct Haproxy {
    child: Child,
    /// The address it listens on.
    pub(crate) addr: SocketAddr,
    _dir: TempDir,
}

impl Drop for Haproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `bin -db -f` on `text` (written to a scratch dir named after `tag`) and waits until
/// `addr` accepts connections; fails when that takes longer than [`HAPROXY_START`]. Returns
/// HAProxy's stderr when it exits first (for instance when its port was taken).
pub(crate) async fn try_spawn_haproxy(
    bin: &str,
    tag: &str,
    text: &str,
    addr: SocketAddr,
) -> Result<Haproxy, String> {
    let dir = TempDir::new(tag);
    let cfg = dir.write("haproxy.cfg", text);
    let stderr = std::fs::File::create(dir.join("stderr")).unwrap();
    let child = Command::new(bin)
        .args(["-db", "-f"])
        .arg(&cfg)
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .unwrap();
    let mut h = Haproxy {
        child,
        addr,
        _dir: dir,
    };
    let started = std::time::Instant::now();
    loop {
        if h.child.try_wait().unwrap().is_some() {
            let said = std::fs::read_to_string(h._dir.join("stderr")).unwrap_or_default();
            return Err(format!("haproxy exited on port {}: {said}", addr.port()));
        }
        if TcpStream::connect(addr).await.is_ok() {
            return Ok(h);
        }
        assert!(started.elapsed() < HAPROXY_START, "haproxy did not start");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Runs the real HAProxy on `text(port)` for a [`free_port`]; when the port turns out to be
/// taken ("cannot bind"), retries with a fresh one, at most [`BIND_ATTEMPTS`] starts in all.
pub(crate) async fn spawn_haproxy_on_free_port(
    bin: &str,
    tag: &str,
    text: impl Fn(u16) -> String,
) -> Haproxy {
    let mut attempt = 1;
    loop {
        let port = free_port();
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        match try_spawn_haproxy(bin, tag, &text(port), addr).await {
            Ok(h) => return h,
            Err(said) if attempt < BIND_ATTEMPTS && is_bind_failure(&said) => attempt += 1,
            Err(said) => failed_start(&said),
        }
    }
}

#[expect(clippy::panic, reason = "test helper: a failed start fails the test")]
fn failed_start(said: &str) -> ! {
    panic!("{said}")
}

/// A runtime serving in a task until stopped.
pub(crate) struct Serving {
    stop: watch::Sender<Option<Stop>>,
    task: JoinHandle<()>,
}

impl Serving {
    /// Serves `running` in a task.
    pub(crate) fn spawn(running: Running) -> Serving {
        let (stop, rx) = watch::channel(None);
        let task = tokio::spawn(running.serve(rx));
        Serving { stop, task }
    }

    /// Stops it hard and waits (bounded by [`WAIT`]) until serving has ended.
    pub(crate) async fn stop(self) {
        self.stop.send(Some(Stop::Hard)).unwrap();
        tokio::time::timeout(WAIT, self.task)
            .await
            .unwrap()
            .unwrap();
    }
}

/// A started runtime serving in a task, its state-change lines kept in [`Served::log`].
pub(crate) struct Served {
    /// The address of its first listener.
    pub(crate) addr: SocketAddr,
    /// The state-change lines it wrote.
    pub(crate) log: Arc<MemoryLog>,
    serving: Serving,
}

impl Served {
    /// Starts `rt` and serves it.
    pub(crate) fn start(rt: Runtime) -> Served {
        let log = Arc::new(MemoryLog::default());
        let running = rt.start().unwrap().with_state_log(log.clone());
        let addr = running.local_addrs()[0];
        Served {
            addr,
            log,
            serving: Serving::spawn(running),
        }
    }

    /// Stops it hard and waits (bounded by [`WAIT`]) until serving has ended.
    pub(crate) async fn stop(self) {
        self.serving.stop().await;
    }
}

/// `check duration: 12ms` → `check duration: Nms` (the one field of a state-change line that
/// varies between runs).
pub(crate) fn mask_duration(line: &str) -> String {
    let key = "check duration: ";
    let Some(at) = line.find(key) else {
        return line.to_owned();
    };
    let (head, tail) = line.split_at(at + key.len());
    format!(
        "{head}N{}",
        tail.trim_start_matches(|c: char| c.is_ascii_digit())
    )
}

/// Accepts up to [`MAX_HELD`] connections on `origin` and keeps them open, never answering; the
/// task ends when none comes within [`WAIT`].
pub(crate) fn hold_accepted(origin: TcpListener) -> JoinHandle<Vec<TcpStream>> {
    tokio::spawn(async move {
        let mut held = Vec::new();
        for _ in 0..MAX_HELD {
            match tokio::time::timeout(WAIT, origin.accept()).await {
                Ok(Ok((s, _))) => held.push(s),
                _ => break,
            }
        }
        held
    })
}

/// Polls `log` every 20 ms, for at most [`WAIT`], until it holds a line `wanted` accepts;
/// returns that line. `what` names the line in the failure message.
pub(crate) async fn wait_for_line(
    log: &MemoryLog,
    what: &str,
    wanted: impl Fn(&str) -> bool,
) -> String {
    let started = std::time::Instant::now();
    loop {
        if let Some((_, l)) = log.lines().into_iter().find(|(_, l)| wanted(l)) {
            return l;
        }
        assert!(
            started.elapsed() < WAIT,
            "no line {what} in {:#?}",
            log.lines()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A TLS ClientHello record carrying `sni`.
pub(crate) fn client_hello(sni: &str) -> Vec<u8> {
    let n = sni.len() as u16;
    let mut ext = vec![0, 0];
    ext.extend_from_slice(&(n + 5).to_be_bytes());
    ext.extend_from_slice(&(n + 3).to_be_bytes());
    ext.push(0);
    ext.extend_from_slice(&n.to_be_bytes());
    ext.extend_from_slice(sni.as_bytes());
    let mut body = vec![3, 3];
    body.extend_from_slice(&[9u8; 32]);
    body.extend_from_slice(&[0, 0, 2, 0x13, 0x01, 1, 0]);
    body.extend_from_slice(&(ext.len() as u16).to_be_bytes());
    body.extend_from_slice(&ext);
    let mut hs = vec![1];
    hs.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    hs.extend_from_slice(&body);
    let mut rec = vec![0x16, 3, 1];
    rec.extend_from_slice(&(hs.len() as u16).to_be_bytes());
    rec.extend_from_slice(&hs);
    rec
}

/// Serves `svc` on a fresh loopback port, each connection in its own task, for as long as the
/// runtime lives; returns the address.
pub(crate) async fn serve_http_on_loopback<B, P>(svc: Arc<HttpService<B, P>>) -> SocketAddr
where
    B: ChooseBackend + Send + Sync + 'static,
    P: PickServer + Send + Sync + 'static,
{
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((s, peer)) = l.accept().await {
            let svc = Arc::clone(&svc);
            tokio::spawn(async move {
                let local = s.local_addr().unwrap();
                serve_http(&svc, s, peer, local, |_| {}).await;
            });
        }
    });
    addr
}

/// A server (on a thread) answering each request with its name, closing after each response;
/// it serves `count` connections at most.
pub(crate) fn named_server(name: &'static str, count: usize) -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        for conn in l.incoming().take(count) {
            let Ok(mut c) = conn else { continue };
            let _ = c.set_read_timeout(Some(Duration::from_secs(5)));
            let mut buf = [0u8; 4096];
            let mut got = Vec::new();
            while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                match c.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => got.extend_from_slice(&buf[..n]),
                }
            }
            let _ = c.write_all(
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{name}",
                    name.len()
                )
                .as_bytes(),
            );
        }
    });
    addr
}

/// A loopback server that reads a PROXY protocol header from its one connection, hands the
/// header over, then echoes the rest of the stream and closes its side once the client has.
pub(crate) async fn proxy_header_echo() -> (SocketAddr, oneshot::Receiver<ProxyHeader>) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let srv = l.local_addr().unwrap();
    let (tx, seen) = oneshot::channel();
    tokio::spawn(async move {
        let (mut s, _) = l.accept().await.unwrap();
        let (header, rest) = read_header(&mut s, WAIT).await.unwrap();
        let _ = tx.send(header);
        s.write_all(&rest).await.unwrap();
        let (mut r, mut w) = s.split();
        let _ = tokio::io::copy(&mut r, &mut w).await;
        let _ = w.shutdown().await;
    });
    (srv, seen)
}

/// Differences between HAProxy's answers and ours, gathered so that one failure lists them all.
#[derive(Debug, Default)]
pub(crate) struct Diffs(Vec<String>);

impl Diffs {
    /// Notes a difference already described.
    pub(crate) fn push(&mut self, described: String) {
        self.0.push(described);
    }

    /// Notes `theirs` and `mine` under `what` when they differ.
    pub(crate) fn compare<T: PartialEq + std::fmt::Debug>(
        &mut self,
        what: &str,
        theirs: &T,
        mine: &T,
    ) {
        if theirs != mine {
            self.push(format!(
                "--- {what}\nhaproxy: {theirs:?}\nours:    {mine:?}"
            ));
        }
    }

    /// Fails, listing every difference after `summary` (which follows their count), unless
    /// there is none.
    pub(crate) fn assert_none(self, summary: &str) {
        assert!(
            self.0.is_empty(),
            "{} {summary}:\n{}",
            self.0.len(),
            self.0.join("\n")
        );
    }
}

/// Serves every connection accepted on a fresh loopback port with `handler`, each in a task of
/// its own; returns the port's address. The accept loop ends with the test's runtime.
pub(crate) async fn serve_each<F, Fut>(handler: F) -> SocketAddr
where
    F: Fn(TcpStream) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((s, _)) = l.accept().await {
            tokio::spawn(handler(s));
        }
    });
    addr
}

/// Reads from `s` into `buf` until it holds the end of a head (`\r\n\r\n`); false when the peer
/// closed, failed or sent nothing for [`WAIT`] first (at most 1,000 reads).
pub(crate) async fn read_head_into(s: &mut TcpStream, buf: &mut Vec<u8>) -> bool {
    let mut chunk = [0u8; 4096];
    for _ in 0..1000 {
        if buf.windows(4).any(|w| w == b"\r\n\r\n") {
            return true;
        }
        match tokio::time::timeout(WAIT, s.read(&mut chunk)).await {
            Ok(Ok(n)) if n > 0 => buf.extend_from_slice(&chunk[..n]),
            _ => return false,
        }
    }
    false
}
