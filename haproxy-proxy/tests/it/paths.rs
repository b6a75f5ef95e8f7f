//! Global `unix-bind` and `default-path` through the daemon path, side by side with the real
//! HAProxy 2.6 where it is installed: the socket a prefixed `bind` creates (path, mode, owner)
//! and a request served through it; relative errorfile, `return file` and ACL `-f` paths found
//! next to the configuration file (`default-path config`) whatever the working directory, the
//! errorfile served byte for byte.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use haproxy_cfg::load::{Outcome, SystemEnv, load};
use haproxy_proxy::build::build;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpStream, UnixStream};

use crate::daemon::{WAIT, free_port};
use crate::scratch::TempDir;
use crate::support::{Served, haproxy_bin};

/// Loads the configuration file at `path` (named by its absolute path, as `haproxy -f` would
/// name it), builds and serves it.
fn serve_file(path: &Path) -> Served {
    let doc = haproxy_cfg::parse_file(path).unwrap();
    let loaded = load(&[doc], &SystemEnv);
    assert_ne!(loaded.outcome, Outcome::Invalid, "{:?}", loaded.diagnostics);
    Served::start(build(&loaded.config).unwrap())
}

/// The real HAProxy on a configuration file, started from another working directory (`/`);
/// killed on drop.
struct Real(Child);

impl Drop for Real {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `bin -db -f cfg` from `/` and waits (bounded) until `port` accepts.
async fn real(bin: &str, cfg: &Path, port: u16) -> Real {
    let child = Command::new(bin)
        .current_dir("/")
        .args(["-db", "-f"])
        .arg(cfg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut r = Real(child);
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).await.is_err() {
        assert!(r.0.try_wait().unwrap().is_none(), "haproxy exited");
        assert!(started.elapsed() < WAIT, "haproxy did not start");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    r
}

/// Sends an HTTP/1.0 request for `path` on `c` and reads the whole response.
async fn get<S: AsyncRead + AsyncWrite + Unpin>(mut c: S, path: &str) -> Vec<u8> {
    c.write_all(format!("GET {path} HTTP/1.0\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(WAIT, c.read_to_end(&mut out))
        .await
        .unwrap()
        .unwrap();
    out
}

/// [`get`] on a new loopback connection to `port`.
async fn get_tcp(port: u16, path: &str) -> Vec<u8> {
    get(TcpStream::connect(("127.0.0.1", port)).await.unwrap(), path).await
}

/// [`get`] on a new connection to the unix socket `sock`.
async fn get_unix(sock: &Path, path: &str) -> Vec<u8> {
    get(UnixStream::connect(sock).await.unwrap(), path).await
}

/// Status line and body of a response (headers differ in order and content between products
/// for `return`; errorfiles are compared whole).
fn status_and_body(r: &[u8]) -> (String, Vec<u8>) {
    let text = String::from_utf8_lossy(r);
    let status = text.lines().next().unwrap_or_default().to_owned();
    let body = r
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(Vec::new(), |i| r[i + 4..].to_vec());
    (status, body)
}

/// `unix-bind prefix <dir>/ mode 600 uid <me> gid <me>`: `bind unix@fe.sock` is created as
/// `<dir>/fe.sock` with that mode and owner; a bind's own `mode` wins.
fn unix_bind_config(dir: &Path, port: u16) -> String {
    let me = std::fs::metadata("/proc/self").unwrap();
    format!(
        "global\n    unix-bind prefix {}/ mode 600 uid {} gid {}\ndefaults\n    mode http\n    timeout connect 2s\n    timeout client 5s\n    timeout server 5s\nfrontend fe\n    bind 127.0.0.1:{port}\n    bind unix@fe.sock\n    bind unix@own.sock mode 640\n    http-request return status 200 content-type text/plain string via-unix\n",
        dir.display(),
        me.uid(),
        me.gid()
    )
}

/// (mode bits, uid, gid) of each socket.
fn sockets(dir: &Path) -> Vec<(u32, u32, u32)> {
    ["fe.sock", "own.sock"]
        .iter()
        .map(|n| {
            let m = std::fs::metadata(dir.join(n)).unwrap();
            (m.permissions().mode() & 0o777, m.uid(), m.gid())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unix_bind_prefix_mode_and_owner_apply_to_binds() {
    let dir = TempDir::new("it-unix-bind");
    let port = free_port();
    let cfg = dir.write("haproxy.cfg", &unix_bind_config(dir.path(), port));
    let me = std::fs::metadata("/proc/self").unwrap();
    let ours = serve_file(&cfg);
    let socks = sockets(dir.path());
    assert_eq!(
        socks,
        [(0o600, me.uid(), me.gid()), (0o640, me.uid(), me.gid())]
    );
    let r = get_unix(&dir.join("fe.sock"), "/").await;
    assert_eq!(
        status_and_body(&r),
        ("HTTP/1.1 200 OK".to_owned(), b"via-unix".to_vec())
    );
    ours.stop().await;

    let Some(bin) = haproxy_bin("unix-bind side by side") else {
        return;
    };
    let theirs_dir = TempDir::new("it-unix-bind-real");
    let port = free_port();
    let cfg = theirs_dir.write("haproxy.cfg", &unix_bind_config(theirs_dir.path(), port));
    let h = real(bin, &cfg, port).await;
    assert_eq!(sockets(theirs_dir.path()), socks, "HAProxy's sockets");
    let theirs = get_unix(&theirs_dir.join("fe.sock"), "/").await;
    assert_eq!(status_and_body(&theirs), status_and_body(&r));
    drop(h);
}

/// Writes the `default-path config` tree under `root`: `conf/haproxy.cfg` and, next to it only,
/// `errors/503.http`, `pages/ok.txt` and `lists/deny.lst`.
fn default_path_tree(root: &TempDir, port: u16) -> std::path::PathBuf {
    std::fs::create_dir_all(root.join("conf/errors")).unwrap();
    std::fs::create_dir_all(root.join("conf/pages")).unwrap();
    std::fs::create_dir_all(root.join("conf/lists")).unwrap();
    root.write("conf/errors/503.http", ERRORFILE);
    root.write("conf/pages/ok.txt", "found next to the configuration\n");
    root.write("conf/lists/deny.lst", "/denied\n/also-denied\n");
    root.write(
        "conf/haproxy.cfg",
        &format!(
            "global\n    default-path config\ndefaults\n    mode http\n    timeout connect 2s\n    timeout client 5s\n    timeout server 5s\n    errorfile 503 errors/503.http\nfrontend fe\n    bind 127.0.0.1:{port}\n    http-request deny if {{ path -f lists/deny.lst }}\n    http-request return status 200 content-type text/plain file pages/ok.txt if {{ path /ok }}\n    default_backend none\nbackend none\n"
        ),
    )
}

const ERRORFILE: &str = "HTTP/1.1 503 Service Unavailable\r\ncache-control: no-cache\r\nconnection: close\r\ncontent-type: text/plain\r\n\r\nfrom conf/errors/503.http\n";

/// What HAProxy 2.6.12 sends for [`ERRORFILE`] to an HTTP/1.0 client: the file, its
/// `connection` header moved last (`haproxy -db` from `/`, answer read with a raw socket).
const WIRE: &str = "HTTP/1.1 503 Service Unavailable\r\ncache-control: no-cache\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\nfrom conf/errors/503.http\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn default_path_config_finds_files_next_to_the_configuration() {
    let root = TempDir::new("it-default-path");
    let port = free_port();
    let cfg = default_path_tree(&root, port);
    assert!(
        !Path::new("errors/503.http").exists(),
        "not from the working directory"
    );
    let ours = serve_file(&cfg);
    let port = ours.addr.port();
    let errorfile = get_tcp(port, "/x").await;
    assert_eq!(String::from_utf8_lossy(&errorfile), WIRE, "byte for byte");
    let ok = get_tcp(port, "/ok").await;
    assert_eq!(
        status_and_body(&ok),
        (
            "HTTP/1.1 200 OK".to_owned(),
            b"found next to the configuration\n".to_vec()
        )
    );
    let denied = get_tcp(port, "/also-denied").await;
    assert!(
        denied.starts_with(b"HTTP/1.1 403 "),
        "{}",
        String::from_utf8_lossy(&denied)
    );
    ours.stop().await;

    let Some(bin) = haproxy_bin("default-path side by side") else {
        return;
    };
    let root = TempDir::new("it-default-path-real");
    let port = free_port();
    let cfg = default_path_tree(&root, port);
    let h = real(bin, &cfg, port).await;
    assert_eq!(get_tcp(port, "/x").await, errorfile, "HAProxy's errorfile");
    assert_eq!(
        status_and_body(&get_tcp(port, "/ok").await),
        status_and_body(&ok)
    );
    let theirs = get_tcp(port, "/also-denied").await;
    assert_eq!(status_and_body(&theirs), status_and_body(&denied));
    drop(h);
}
