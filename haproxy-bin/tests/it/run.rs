//! `haproxy -f FILE`: the binary serves the quickstart configuration over loopback, answers with
//! round robin across two listen sections, reports startup failures with HAProxy's alerts, and
//! stops on SIGTERM and SIGUSR1.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, Once, PoisonError};
use std::time::{Duration, Instant};

use socket2::{Domain, Socket, Type};

/// How long an awaited reply or event of a running proxy may take.
pub(crate) const WAIT: Duration = Duration::from_secs(10);
/// How long a daemon (ours or the real HAProxy) may take to start listening or to exit. Polled
/// every [`STEP`], so a normal start (tens of ms) is not slowed; generous because a daemon started
/// by a test run under `nice -n 19` on a loaded 2-core machine can get 1-2% of a core, and 10 s
/// bounds were missed then. A daemon that exits instead of starting is reported at once.
pub(crate) const PROCESS_WAIT: Duration = Duration::from_secs(60);
const STEP: Duration = Duration::from_millis(20);

/// Most ports this test binary reserves (each holds a file descriptor until the process exits).
pub(crate) const MAX_RESERVED: usize = 2048;
/// How many times a proxy that could not bind its ports is started in all.
pub(crate) const BIND_ATTEMPTS: usize = 3;

/// The sockets holding this process's reserved ports, by port.
static RESERVED: Mutex<Vec<(u16, Socket)>> = Mutex::new(Vec::new());

/// A loopback port reserved for this test binary until it exits; never the same port twice.
///
/// The port is held by a socket bound with `SO_REUSEADDR` and `SO_REUSEPORT` that never
/// listens: the kernel then hands it to no other `bind(:0)` and to no outgoing connection (of
/// any process), so nobody takes it between this call and the proxy's bind. The proxies (ours
/// and HAProxy bind with `SO_REUSEPORT`) bind beside it; with no proxy on it, a connection to
/// it is refused as to a closed port.
pub(crate) fn free_port() -> u16 {
    let mut held = RESERVED.lock().unwrap_or_else(PoisonError::into_inner);
    assert!(
        held.len() < MAX_RESERVED,
        "more than {MAX_RESERVED} reserved ports"
    );
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).expect("socket");
    socket.set_reuse_address(true).expect("SO_REUSEADDR");
    socket.set_reuse_port(true).expect("SO_REUSEPORT");
    socket
        .bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into())
        .expect("bind :0");
    let port = socket
        .local_addr()
        .ok()
        .and_then(|a| a.as_socket())
        .expect("bound address")
        .port();
    // The kernel skips bound ports; checked anyway, as the promise is ours.
    assert!(
        held.iter().all(|(p, _)| *p != port),
        "port {port} handed out twice"
    );
    held.push((port, socket));
    port
}

/// Whether a proxy's stderr says that it could not bind a port.
pub(crate) fn is_bind_failure(stderr: &str) -> bool {
    stderr.contains("cannot bind") || stderr.contains("Address already in use")
}

/// Numbers this process's scratch directories, so two tests with one tag never share one.
static SEQ: AtomicUsize = AtomicUsize::new(0);

/// A fresh directory `haproxy-rs-run-<tag>-<pid>-<n>` under the temp dir, removed with its
/// contents on drop (also when the test fails: the guard drops while the panic unwinds). The one
/// place this test binary writes to the temp dir; derefs to its path.
pub(crate) struct TempDir(PathBuf);

impl TempDir {
    pub(crate) fn new(tag: &str) -> Self {
        static SWEPT: Once = Once::new();
        SWEPT.call_once(sweep_stale);
        let n = SEQ.fetch_add(1, Ordering::Relaxed);
        let p =
            std::env::temp_dir().join(format!("haproxy-rs-run-{tag}-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&p).expect("temp dir");
        TempDir(p)
    }
    pub(crate) fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, text).expect("write cfg");
        p
    }
}

impl std::ops::Deref for TempDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for TempDir {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Removes the scratch dirs (`haproxy-rs-<tag>-<pid>-<n>`) that earlier runs left because they
/// were killed before their guards could drop: those whose process is gone. Runs once per test
/// binary, on its first [`TempDir::new`]; dirs of live processes are never touched.
fn sweep_stale() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for e in entries.flatten() {
        if e.file_type().is_ok_and(|t| t.is_dir()) && stale(&e.file_name().to_string_lossy()) {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// Whether `name` is a scratch dir of a process that no longer runs.
fn stale(name: &str) -> bool {
    let Some(rest) = name.strip_prefix("haproxy-rs-") else {
        return false;
    };
    let mut parts = rest.rsplitn(3, '-');
    let (Some(n), Some(pid), Some(_tag)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let (Ok(_), Ok(pid)) = (n.parse::<u64>(), pid.parse::<u32>()) else {
        return false;
    };
    pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists()
}

/// The running proxy; killed on drop if a test failed before stopping it.
pub(crate) struct Proxy(Child);

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Proxy {
    pub(crate) fn start(cfg: &Path, port: u16) -> Proxy {
        Proxy::start_exe(env!("CARGO_BIN_EXE_haproxy"), cfg, port)
    }

    /// Starts `exe` (ours or the real HAProxy) in the foreground on `cfg`, once `port` listens.
    /// A proxy that exits first because it could not bind is started again (at most
    /// [`BIND_ATTEMPTS`] starts: its ports are reserved by [`free_port`], so whoever held one
    /// briefly is gone); any other early exit fails the test with the proxy's stderr.
    pub(crate) fn start_exe(exe: &str, cfg: &Path, port: u16) -> Proxy {
        let mut attempt = 1;
        loop {
            match Proxy::try_start(exe, cfg, port) {
                Ok(p) => return p,
                Err(stderr) => {
                    assert!(
                        attempt < BIND_ATTEMPTS && is_bind_failure(&stderr),
                        "{exe} exited before listening on {port} (start {attempt}): {stderr}"
                    );
                    attempt += 1;
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
        }
    }

    fn try_start(exe: &str, cfg: &Path, port: u16) -> Result<Proxy, String> {
        let child = Command::new(exe)
            .args(["-db", "-f"])
            .arg(cfg)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn haproxy");
        let mut proxy = Proxy(child);
        let start = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if proxy.0.try_wait().expect("try_wait").is_some() {
                let mut said = String::new();
                if let Some(mut e) = proxy.take_stderr() {
                    let _ = e.read_to_string(&mut said);
                }
                return Err(said);
            }
            assert!(
                start.elapsed() < PROCESS_WAIT,
                "proxy did not start listening"
            );
            std::thread::sleep(STEP);
        }
        Ok(proxy)
    }

    pub(crate) fn pid(&self) -> u32 {
        self.0.id()
    }

    pub(crate) fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([sig, &self.0.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(ok.success());
    }

    /// The proxy's stderr pipe, to read once it has exited.
    pub(crate) fn take_stderr(&mut self) -> Option<std::process::ChildStderr> {
        self.0.stderr.take()
    }

    pub(crate) fn wait_exit(&mut self) -> ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(st) = self.0.try_wait().expect("try_wait") {
                return st;
            }
            assert!(start.elapsed() < PROCESS_WAIT, "proxy did not exit");
            std::thread::sleep(STEP);
        }
    }
}

/// Sends one request on a fresh connection (`Connection: close`) and returns the raw response.
pub(crate) fn request(port: u16, path: &str, extra: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(WAIT)).expect("timeout");
    write!(
        s,
        "GET {path} HTTP/1.1\r\n{host}{extra}Connection: close\r\n\r\n",
        host = if extra.contains("Host:") {
            ""
        } else {
            "Host: test\r\n"
        }
    )
    .expect("send");
    let mut out = String::new();
    s.read_to_string(&mut out).expect("read response");
    out
}

pub(crate) fn body(resp: &str) -> &str {
    resp.split_once("\r\n\r\n").map_or("", |(_, b)| b)
}

/// The quickstart config on free ports: (file, frontend, app1, app2).
fn quickstart(dir: &TempDir) -> (PathBuf, u16, u16, u16) {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/quickstart.cfg"),
    )
    .expect("quickstart.cfg");
    let (fe, a1, a2, st) = (free_port(), free_port(), free_port(), free_port());
    assert!(text.contains("127.0.0.1:8080") && text.contains("127.0.0.1:8404"));
    let text = text
        .replace("127.0.0.1:8404", &format!("127.0.0.1:{st}"))
        .replace("127.0.0.1:8080", &format!("127.0.0.1:{fe}"))
        .replace("127.0.0.1:8081", &format!("127.0.0.1:{a1}"))
        .replace("127.0.0.1:8082", &format!("127.0.0.1:{a2}"));
    (dir.write("quickstart.cfg", &text), fe, a1, a2)
}

#[test]
fn quickstart_round_robins_across_the_two_listen_sections_and_stops_on_sigterm() {
    let dir = TempDir::new("qs");
    let (cfg, fe, app1, _) = quickstart(&dir);
    let mut proxy = Proxy::start(&cfg, fe);
    let bodies: Vec<String> = (0..6)
        .map(|_| {
            let r = request(fe, "/", "");
            assert!(r.starts_with("HTTP/1.1 200 OK\r\n"), "{r}");
            body(&r).to_owned()
        })
        .collect();
    for pair in bodies.windows(2) {
        assert_ne!(pair.first(), pair.get(1), "{bodies:?}");
    }
    for b in &bodies {
        assert!(b == "hello from app1" || b == "hello from app2", "{b}");
    }
    // The listen section answers its health path itself, with HAProxy's `return` reply.
    let health = request(app1, "/health", "");
    assert_eq!(
        health,
        "HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\nok"
    );
    proxy.signal("-TERM");
    let st = proxy.wait_exit();
    assert_eq!(st.code(), Some(0), "{st:?}");
    assert!(TcpStream::connect(("127.0.0.1", fe)).is_err());
}

#[test]
fn acl_rules_route_deny_and_redirect() {
    let dir = TempDir::new("acl");
    let (fe, a, b) = (free_port(), free_port(), free_port());
    let cfg = dir.write(
        "acl.cfg",
        &format!(
            "defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\n\n\
             frontend fe\n    bind 127.0.0.1:{fe}\n    acl is_api path_beg /api\n    acl from_lo src 127.0.0.0/8\n\
             \x20   http-request deny deny_status 403 if {{ path_beg /admin }}\n\
             \x20   http-request redirect location /new code 301 if {{ path /old }}\n\
             \x20   use_backend api if is_api from_lo\n    use_backend web if {{ hdr(host) -i web.example }}\n    default_backend api\n\n\
             backend api\n    server s1 127.0.0.1:{a}\n\nbackend web\n    server s1 127.0.0.1:{b}\n\n\
             listen api_app\n    bind 127.0.0.1:{a}\n    http-request return status 200 content-type text/plain string api\n\n\
             listen web_app\n    bind 127.0.0.1:{b}\n    http-request return status 200 content-type text/plain string web\n"
        ),
    );
    let mut proxy = Proxy::start(&cfg, fe);
    assert_eq!(body(&request(fe, "/api/x", "")), "api");
    assert_eq!(body(&request(fe, "/", "X-Dummy: 1\r\n")), "api");
    let web = request(fe, "/page", "Host: WEB.example\r\n");
    assert_eq!(body(&web), "web", "{web}");
    let denied = request(fe, "/admin/x", "");
    assert!(denied.starts_with("HTTP/1.1 403 Forbidden\r\n"), "{denied}");
    let moved = request(fe, "/old", "");
    assert!(
        moved.starts_with("HTTP/1.1 301 Moved Permanently\r\n"),
        "{moved}"
    );
    assert!(moved.contains("\r\nlocation: /new\r\n"), "{moved}");
    proxy.signal("-INT");
    assert_eq!(proxy.wait_exit().code(), Some(0));
}

/// A one-shot HTTP server: answers the first request it reads, then closes.
fn one_shot_server() -> (u16, std::thread::JoinHandle<()>) {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    let h = std::thread::spawn(move || {
        let Ok((mut s, _)) = l.accept() else { return };
        let _ = s.set_read_timeout(Some(WAIT));
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") && head.len() < 16384 {
            match s.read(&mut byte) {
                Ok(1) => head.extend_from_slice(&byte),
                _ => return,
            }
        }
        let _ = s.write_all(
            b"HTTP/1.1 200 OK\r\ncontent-length: 8\r\nconnection: close\r\n\r\nfinished",
        );
    });
    (port, h)
}

/// Whether the loopback connection from `client_port` to `server_port` has been accepted: its
/// server end in `/proc/net/tcp` has an inode once a process holds it (0 while it waits in the
/// listener's backlog).
fn accepted(server_port: u16, client_port: u16) -> bool {
    let Ok(table) = std::fs::read_to_string("/proc/net/tcp") else {
        return false;
    };
    let (local, remote) = (format!(":{server_port:04X}"), format!(":{client_port:04X}"));
    table.lines().skip(1).any(|line| {
        let mut fields = line.split_whitespace();
        let (Some(l), Some(r), Some(inode)) = (fields.nth(1), fields.next(), fields.nth(6)) else {
            return false;
        };
        l.ends_with(&local) && r.ends_with(&remote) && inode != "0"
    })
}

#[test]
fn sigusr1_stops_accepting_and_lets_the_request_in_flight_finish() {
    let dir = TempDir::new("soft");
    let (srv, server) = one_shot_server();
    let fe = free_port();
    let cfg = dir.write(
        "soft.cfg",
        &format!(
            "defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\n\
             frontend fe\n    bind 127.0.0.1:{fe}\n    default_backend be\n\
             backend be\n    server s1 127.0.0.1:{srv}\n"
        ),
    );
    let mut proxy = Proxy::start(&cfg, fe);
    let mut inflight = TcpStream::connect(("127.0.0.1", fe)).expect("connect");
    let client_port = inflight.local_addr().expect("addr").port();
    inflight.set_read_timeout(Some(WAIT)).expect("timeout");
    inflight
        .write_all(b"GET / HTTP/1.1\r\nHost: t\r\n")
        .expect("half a head");
    // The proxy must have accepted it before the soft stop: one still in the listener's
    // backlog is reset when the listener closes (a fixed 200 ms pause was too short for a
    // starved proxy; counting the proxy's descriptors missed the accept when a startup
    // descriptor closed meanwhile).
    let start = Instant::now();
    while !accepted(fe, client_port) {
        assert!(start.elapsed() < PROCESS_WAIT, "the proxy did not accept");
        std::thread::sleep(STEP);
    }
    proxy.signal("-USR1");
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", fe)).is_ok() {
        assert!(start.elapsed() < WAIT, "listener still open after SIGUSR1");
        std::thread::sleep(STEP);
    }
    assert!(
        proxy.0.try_wait().expect("try_wait").is_none(),
        "exited with a request in flight"
    );
    inflight
        .write_all(b"Connection: close\r\n\r\n")
        .expect("rest of the head");
    let mut resp = String::new();
    inflight.read_to_string(&mut resp).expect("response");
    assert!(resp.starts_with("HTTP/1.1 200 OK\r\n"), "{resp}");
    assert_eq!(body(&resp), "finished", "{resp}");
    assert_eq!(proxy.wait_exit().code(), Some(0));
    server.join().expect("server thread");
}

pub(crate) fn run_to_exit(cfg: &Path) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_haproxy"))
        .args(["-db", "-f"])
        .arg(cfg)
        .output()
        .expect("runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A configuration (`busy.cfg` in `dir`) whose only listener is on a port held by the returned
/// socket, and that port.
fn busy_config(dir: &TempDir) -> (TcpListener, u16, PathBuf) {
    let held = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = held.local_addr().expect("addr").port();
    let cfg = dir.write(
        "busy.cfg",
        &format!(
            "defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\n\
             frontend f\n    bind 127.0.0.1:{port}\n    http-request return status 200\n"
        ),
    );
    (held, port, cfg)
}

#[test]
fn startup_failures_use_haproxy_alerts() {
    let dir = TempDir::new("fail");
    let (held, port, cfg) = busy_config(&dir);
    let (code, err) = run_to_exit(&cfg);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains(&format!(
            ": Binding [{}:7] for frontend f: cannot bind socket (Address already in use) for [127.0.0.1:{port}]\n",
            cfg.display()
        )),
        "{err}"
    );
    // HAProxy names the command as it was run there.
    let main = format!("[{}.main()]", env!("CARGO_BIN_EXE_haproxy"));
    assert!(err.ends_with(&format!(
        ": {main} Some protocols failed to start their listeners! Exiting.\n"
    )));
    drop(held);
    let cfg = dir.write(
        "none.cfg",
        "defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\n\
         backend b\n    server s1 127.0.0.1:9\n",
    );
    let (code, err) = run_to_exit(&cfg);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.ends_with(&format!(
            ": {main} No enabled listener found (check for 'bind' directives) ! Exiting.\n"
        )),
        "{err}"
    );
    let cfg = dir.write("bad.cfg", "global\n    frobnicate\n");
    let (code, err) = run_to_exit(&cfg);
    assert_eq!(code, Some(1));
    assert!(
        err.contains("unknown keyword 'frobnicate' in 'global' section"),
        "{err}"
    );
}

#[test]
fn lua_scripts_are_refused_at_startup_naming_the_directive() {
    let dir = TempDir::new("lua");
    let script = dir.write("hello.lua", "local greeting = \"hello\"\n");
    let port = free_port();
    let cfg = dir.write(
        "lua.cfg",
        &format!(
            "global\n    lua-load {}\n\
             defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\n\
             frontend f\n    bind 127.0.0.1:{port}\n    http-request return status 200\n",
            script.display()
        ),
    );
    let (code, err) = run_to_exit(&cfg);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.ends_with(&format!(
            " : config : [{}:2] : 'lua-load' : Lua scripts are not supported yet\n",
            cfg.display()
        )),
        "{err}"
    );
}

/// A daemonised proxy (not our child) killed by pid on drop, should a test fail while it runs.
struct KilledOnDrop(u32);

impl Drop for KilledOnDrop {
    fn drop(&mut self) {
        if Path::new(&format!("/proc/{}", self.0)).exists() {
            let _ = Command::new("kill")
                .args(["-KILL", &self.0.to_string()])
                .status();
        }
    }
}

#[test]
fn daemon_mode_writes_the_pidfile_and_stops_on_sigterm() {
    let dir = TempDir::new("daemon");
    let (cfg, fe, _, _) = quickstart(&dir);
    let pidfile = dir.0.join("haproxy.pid");
    let out = Command::new(env!("CARGO_BIN_EXE_haproxy"))
        .args(["-D", "-p"])
        .arg(&pidfile)
        .arg("-f")
        .arg(&cfg)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let pid: u32 = std::fs::read_to_string(&pidfile)
        .expect("pidfile")
        .trim()
        .parse()
        .expect("a pid");
    let _reaped = KilledOnDrop(pid);
    // As with HAProxy, which binds before it goes to the background, the command returns once
    // the daemon listens.
    assert!(
        TcpStream::connect(("127.0.0.1", fe)).is_ok(),
        "-D returned before the daemon listened"
    );
    let kill = |sig: &str| {
        Command::new("kill")
            .args([sig, &pid.to_string()])
            .status()
            .expect("kill runs")
    };
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", fe)).is_err() {
        if start.elapsed() > PROCESS_WAIT {
            let _ = kill("-KILL");
            panic!("daemon did not start listening");
        }
        std::thread::sleep(STEP);
    }
    assert!(body(&request(fe, "/", "")).starts_with("hello from app"));
    assert!(kill("-TERM").success());
    let proc_dir = PathBuf::from(format!("/proc/{pid}"));
    let start = Instant::now();
    while proc_dir.exists() {
        if start.elapsed() > PROCESS_WAIT {
            let _ = kill("-KILL");
            panic!("daemon still running after SIGTERM");
        }
        std::thread::sleep(STEP);
    }
    assert!(TcpStream::connect(("127.0.0.1", fe)).is_err());
}

/// `-D` with a port taken: the alert reaches the terminal (after the version notices), the exit
/// code is 1 and no pidfile is written, as with HAProxy 2.6 (which binds before it goes to the
/// background); ours used to exit 0 and leave a pidfile naming a process that had already
/// failed. Under `-q` nothing is printed.
#[test]
fn a_bind_failure_is_reported_by_dash_d_and_silenced_by_dash_q_as_haproxy() {
    let dir = TempDir::new("daemon-busy");
    let (held, port, cfg) = busy_config(&dir);
    let binding = format!(
        ": Binding [{}:7] for frontend f: cannot bind socket (Address already in use) for [127.0.0.1:{port}]\n",
        cfg.display()
    );
    let mut exes = vec![PathBuf::from(env!("CARGO_BIN_EXE_haproxy"))];
    exes.extend(crate::oracle::real_haproxy(
        "the -D bind failure comparison",
    ));
    for exe in exes {
        let pidfile = dir.0.join("busy.pid");
        let out = Command::new(&exe)
            .args(["-D", "-p"])
            .arg(&pidfile)
            .arg("-f")
            .arg(&cfg)
            .stdin(Stdio::null())
            .output()
            .expect("runs");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{}: {err}", exe.display());
        assert!(err.contains(&binding), "{}: {err}", exe.display());
        // Named as it was run, by the background copy too.
        assert!(
            err.contains(&format!(
                "[{}.main()] Some protocols failed to start their listeners! Exiting.\n",
                exe.display()
            )),
            "{}: {err}",
            exe.display()
        );
        assert!(!pidfile.exists(), "{}", exe.display());
        // Named once, before the first alert.
        assert!(
            err.starts_with("[NOTICE]   (")
                && err
                    .lines()
                    .nth(1)
                    .is_some_and(|l| l.contains("path to executable is")),
            "{}: {err}",
            exe.display()
        );
        assert_eq!(err.matches("haproxy version is").count(), 1, "{err}");
        // `-q` silences start-up alerts too; the exit code tells.
        let quiet = Command::new(&exe)
            .args(["-q", "-db", "-f"])
            .arg(&cfg)
            .stdin(Stdio::null())
            .output()
            .expect("runs");
        assert_eq!(quiet.status.code(), Some(1), "{}", exe.display());
        assert_eq!(
            String::from_utf8_lossy(&quiet.stderr),
            "",
            "{}",
            exe.display()
        );
    }
    drop(held);
}

#[test]
fn sigttou_closes_the_listeners_and_sigttin_reopens_them() {
    let dir = TempDir::new("pause");
    let (cfg, fe, app1, app2) = quickstart(&dir);
    let mut proxy = Proxy::start(&cfg, fe);
    proxy.signal("-TTOU");
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", fe)).is_ok() {
        assert!(start.elapsed() < WAIT, "listener still open after SIGTTOU");
        std::thread::sleep(STEP);
    }
    proxy.signal("-TTIN");
    let start = Instant::now();
    for port in [fe, app1, app2] {
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                start.elapsed() < WAIT,
                "listener not reopened after SIGTTIN"
            );
            std::thread::sleep(STEP);
        }
    }
    assert!(body(&request(fe, "/", "")).starts_with("hello from app"));
    assert!(body(&request(fe, "/", "")).starts_with("hello from app"));
    proxy.signal("-TERM");
    assert_eq!(proxy.wait_exit().code(), Some(0));
}

/// The signals whose handler bits `/proc/<pid>/status` shows in `SigCgt` (a hex mask, bit
/// `n - 1` for signal `n`).
fn caught_signals(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    let mask = status
        .lines()
        .find_map(|l| l.strip_prefix("SigCgt:"))
        .expect("SigCgt line");
    u64::from_str_radix(mask.trim(), 16).expect("hex mask")
}

/// The handlers are in place before the first listener answers: a signal sent the moment a
/// port accepts is handled, not met by its default action (SIGTTOU would stop the process,
/// SIGUSR1/SIGTERM kill it). HAProxy 2.6 registers SIGUSR1 before it binds (checked on the real
/// binary below) and SIGTTOU/SIGTTIN a few statements after, in the same thread; ours registers
/// all of them, SIGTERM and SIGINT included (a stop with status 0), before it binds.
#[test]
fn signal_handlers_are_installed_before_a_listener_answers() {
    let bits = |sigs: &[u32]| -> u64 { sigs.iter().map(|s| 1u64 << (s - 1)).sum() };
    // SIGINT 2, SIGUSR1 10, SIGTERM 15, SIGTTIN 21, SIGTTOU 22.
    let shared = bits(&[10]);
    let dir = TempDir::new("sigcgt");
    let (cfg, fe, _, _) = quickstart(&dir);
    let mut ours = Proxy::start(&cfg, fe);
    let caught = caught_signals(ours.pid());
    let wanted = shared | bits(&[2, 15, 21, 22]);
    assert_eq!(
        caught & wanted,
        wanted,
        "handlers missing once the port answers (SigCgt {caught:x})"
    );
    ours.signal("-TERM");
    assert_eq!(ours.wait_exit().code(), Some(0));
    if Command::new("haproxy").arg("-v").output().is_ok() {
        let theirs = Proxy::start_exe("haproxy", &cfg, fe);
        let caught = caught_signals(theirs.pid());
        assert_eq!(caught & shared, shared, "haproxy: SigCgt {caught:x}");
    }
}

#[test]
fn scratch_dirs_go_on_drop_and_on_panic_and_ports_are_held() {
    let dir = TempDir::new("guard");
    let again = TempDir::new("guard");
    assert_ne!(dir.to_path_buf(), again.to_path_buf());
    dir.write("a.cfg", "x");
    let kept = dir.to_path_buf();
    drop(dir);
    assert!(!kept.exists());
    assert!(again.exists());
    let (tx, rx) = std::sync::mpsc::channel();
    let failed = std::thread::spawn(move || {
        let dir = TempDir::new("guard-panic");
        dir.write("b.cfg", "y");
        tx.send(dir.to_path_buf()).expect("send");
        panic!("expected: a test failing while its scratch dir exists");
    })
    .join();
    assert!(failed.is_err());
    let made = rx.recv().expect("path");
    assert!(!made.exists(), "{} left behind by a panic", made.display());

    // A dir of a run killed before its guards dropped (no process has the pid `pid_max`) is
    // swept; a live process's is kept.
    let dead: u32 = std::fs::read_to_string("/proc/sys/kernel/pid_max")
        .expect("pid_max")
        .trim()
        .parse()
        .expect("a number");
    let left = std::env::temp_dir().join(format!("haproxy-rs-run-killed-{dead}-0"));
    std::fs::create_dir_all(left.join("sub")).expect("dir");
    assert!(stale(&format!("haproxy-rs-run-killed-{dead}-0")));
    assert!(!stale(&format!("haproxy-rs-run-browser-{dead}")));
    sweep_stale();
    assert!(!left.exists());
    assert!(again.exists());

    let ports: Vec<u16> = (0..100).map(|_| free_port()).collect();
    let distinct: std::collections::HashSet<u16> = ports.iter().copied().collect();
    assert_eq!(distinct.len(), ports.len());
    // Held: a socket without SO_REUSEADDR/SO_REUSEPORT cannot bind it; nothing listens there.
    let addr = SocketAddr::from(([127, 0, 0, 1], ports[0]));
    let plain = Socket::new(Domain::IPV4, Type::STREAM, None).expect("socket");
    let err = plain.bind(&addr.into()).expect_err("reserved port bound");
    assert_eq!(err.kind(), std::io::ErrorKind::AddrInUse);
    assert!(TcpStream::connect(addr).is_err());
    // Our proxy binds beside the reservation and serves.
    let cfg = again.write(
        "held.cfg",
        &format!(
            "defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\n\
             frontend f\n    bind 127.0.0.1:{}\n    http-request return status 200 content-type text/plain string held\n",
            ports[0]
        ),
    );
    let _proxy = Proxy::start(&cfg, ports[0]);
    assert_eq!(body(&request(ports[0], "/", "")), "held");
}
