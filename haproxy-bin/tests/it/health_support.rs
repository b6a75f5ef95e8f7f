//! Support for the health-check tests of the binary: loopback HTTP peers that can be stopped
//! (connections refused), restarted on the same port or made to answer 503, and a daemon
//! (ours or the real HAProxy) whose stderr lines are collected as they come.
#![expect(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test helpers: a failed setup or a bad peer index aborts the test"
)]

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::oneshot;
use tokio::task::{JoinHandle, JoinSet};

/// The longest any awaited event may take.
pub(crate) const WAIT: Duration = Duration::from_secs(15);
const STEP: Duration = Duration::from_millis(10);
/// Most bytes a peer reads for one request head.
const MAX_HEAD: usize = 16384;
/// The "status" that makes a peer accept connections and never answer.
pub(crate) const SILENT: u16 = 0;
/// Most stderr lines kept from one daemon.
const MAX_LINES: usize = 10_000;

struct Peer {
    name: &'static str,
    port: u16,
    status: Arc<AtomicU16>,
    task: Option<(JoinHandle<()>, oneshot::Sender<()>)>,
}

/// HTTP peers on their own tokio runtime; each answers any request with its status and its
/// name as the body, then closes. Agents answer every connection with their current reply line.
pub(crate) struct Peers {
    rt: tokio::runtime::Runtime,
    peers: Vec<Peer>,
    agents: Vec<(u16, Arc<Mutex<String>>, JoinHandle<()>)>,
}

async fn agent(l: tokio::net::TcpListener, reply: Arc<Mutex<String>>) {
    loop {
        let Ok((mut s, _)) = l.accept().await else {
            continue;
        };
        let line = format!("{}\n", reply.lock().unwrap());
        let _ = s.write_all(line.as_bytes()).await;
    }
}

async fn serve(
    l: tokio::net::TcpListener,
    name: &'static str,
    status: Arc<AtomicU16>,
    mut close: oneshot::Receiver<()>,
) {
    let mut conns = JoinSet::new();
    loop {
        while conns.try_join_next().is_some() {}
        let accepted = tokio::select! {
            a = l.accept() => a,
            _ = &mut close => {
                // Connections already accepted finish their exchange (no reset mid-check).
                drop(l);
                conns.detach_all();
                return;
            }
        };
        let Ok((mut s, _)) = accepted else {
            continue;
        };
        let status = Arc::clone(&status);
        conns.spawn(async move {
            let mut buf = vec![0u8; MAX_HEAD];
            let mut used = 0;
            loop {
                let Some(free) = buf.get_mut(used..) else {
                    return;
                };
                match s.read(free).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => used += n,
                }
                if buf[..used].windows(4).any(|w| w == b"\r\n\r\n") {
                    break;
                }
            }
            let code = status.load(Ordering::Relaxed);
            if code == SILENT {
                // Accept and never answer: wait until the client gives up.
                while let Ok(n) = s.read(&mut buf).await {
                    if n == 0 {
                        return;
                    }
                }
                return;
            }
            let reason = match code {
                200 => "OK",
                404 => "Not Found",
                _ => "Service Unavailable",
            };
            let resp = format!(
                "HTTP/1.1 {code} {reason}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{name}",
                name.len()
            );
            let _ = s.write_all(resp.as_bytes()).await;
        });
    }
}

impl Peers {
    pub(crate) fn new(names: &[&'static str]) -> Peers {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let peers = names
            .iter()
            .map(|name| {
                let status = Arc::new(AtomicU16::new(200));
                let l = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"));
                let l = l.unwrap();
                let port = l.local_addr().unwrap().port();
                let (tx, rx) = oneshot::channel();
                let task = Some((rt.spawn(serve(l, name, Arc::clone(&status), rx)), tx));
                Peer {
                    name,
                    port,
                    status,
                    task,
                }
            })
            .collect();
        Peers {
            rt,
            peers,
            agents: Vec::new(),
        }
    }

    /// Adds an agent answering `reply`; returns its index for [`Peers::set_reply`].
    pub(crate) fn add_agent(&mut self, reply: &str) -> usize {
        let l = self
            .rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let port = l.local_addr().unwrap().port();
        let cell = Arc::new(Mutex::new(reply.to_owned()));
        let task = self.rt.spawn(agent(l, Arc::clone(&cell)));
        self.agents.push((port, cell, task));
        self.agents.len() - 1
    }

    pub(crate) fn agent_port(&self, i: usize) -> u16 {
        self.agents[i].0
    }

    /// Changes what agent `i` answers from now on.
    pub(crate) fn set_reply(&self, i: usize, reply: &str) {
        reply.clone_into(&mut self.agents[i].1.lock().unwrap());
    }

    pub(crate) fn port(&self, i: usize) -> u16 {
        self.peers[i].port
    }

    /// Closes the peer's listener and connections: connections are refused from now on.
    pub(crate) fn stop(&mut self, i: usize) {
        if let Some((t, close)) = self.peers[i].task.take() {
            let _ = close.send(());
            // Wait until the listener is closed.
            let _ = self.rt.block_on(t);
        }
    }

    /// Listens again on the same port.
    pub(crate) fn start(&mut self, i: usize) {
        let p = &mut self.peers[i];
        let (port, name, status) = (p.port, p.name, Arc::clone(&p.status));
        let l = self.rt.block_on(async move {
            let started = Instant::now();
            loop {
                match tokio::net::TcpListener::bind(("127.0.0.1", port)).await {
                    Ok(l) => break l,
                    Err(e) => {
                        assert!(started.elapsed() < WAIT, "rebind {port}: {e}");
                        tokio::time::sleep(STEP).await;
                    }
                }
            }
        });
        let (tx, rx) = oneshot::channel();
        p.task = Some((self.rt.spawn(serve(l, name, status, rx)), tx));
    }

    /// Sets the status the peer answers with ([`SILENT`]: no answer at all).
    pub(crate) fn set_status(&self, i: usize, code: u16) {
        self.peers[i].status.store(code, Ordering::Relaxed);
    }
}

/// A running daemon with its stderr collected line by line.
pub(crate) struct Daemon {
    child: Child,
    lines: Arc<Mutex<Vec<(Instant, String)>>>,
}

impl Daemon {
    /// Starts `exe -db -f cfg` and waits until `port` accepts connections.
    pub(crate) fn start(exe: &Path, cfg: &Path, port: u16) -> Daemon {
        let mut child = Command::new(exe)
            .args(["-db", "-f"])
            .arg(cfg)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn daemon");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let err = child.stderr.take().expect("stderr");
        let sink = Arc::clone(&lines);
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines() {
                let Ok(line) = line else { return };
                let mut v = sink.lock().unwrap();
                if v.len() < MAX_LINES {
                    v.push((Instant::now(), line));
                }
            }
        });
        let d = Daemon { child, lines };
        let start = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                start.elapsed() < crate::run::PROCESS_WAIT,
                "daemon did not start listening: {:?}",
                d.lines()
            );
            std::thread::sleep(STEP);
        }
        d
    }

    /// Every stderr line so far.
    pub(crate) fn lines(&self) -> Vec<String> {
        self.lines
            .lock()
            .unwrap()
            .iter()
            .map(|(_, l)| l.clone())
            .collect()
    }

    /// Waits for a stderr line containing `needle`; returns it and when it was read.
    pub(crate) fn wait_line(&self, needle: &str) -> (String, Instant) {
        let start = Instant::now();
        loop {
            if let Some((t, l)) = self
                .lines
                .lock()
                .unwrap()
                .iter()
                .find(|(_, l)| l.contains(needle))
            {
                return (l.clone(), *t);
            }
            assert!(
                start.elapsed() < WAIT,
                "no stderr line with {needle:?}: {:#?}",
                self.lines()
            );
            std::thread::sleep(STEP);
        }
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Peers {
    fn drop(&mut self) {
        for (_, _, t) in &self.agents {
            t.abort();
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One request on a fresh connection: (status code, body); `(0, "")` when the connection fails.
pub(crate) fn get(port: u16) -> (u16, String) {
    use std::io::{Read, Write};
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return (0, String::new());
    };
    let _ = s.set_read_timeout(Some(WAIT));
    if s.write_all(b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .is_err()
    {
        return (0, String::new());
    }
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    let code = out.get(9..12).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = out
        .split_once("\r\n\r\n")
        .map_or(String::new(), |(_, b)| b.to_owned());
    (code, body)
}
