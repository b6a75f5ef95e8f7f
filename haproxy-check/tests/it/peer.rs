//! Helpers the test modules share: a scripted loopback peer (accepts one connection and plays
//! send/recv steps), a closed port, the skip rule for external tools, and check-duration masking.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// One step of a peer script.
#[derive(Debug, Clone)]
pub(crate) enum Step {
    /// Write these bytes.
    Send(Vec<u8>),
    /// Read one chunk (bounded wait) and record it.
    Recv,
    /// Wait.
    Sleep(u64),
}

pub(crate) fn send(b: impl AsRef<[u8]>) -> Step {
    Step::Send(b.as_ref().to_vec())
}

/// Starts a peer on 127.0.0.1:0; the handle yields what it read.
pub(crate) async fn peer(script: Vec<Step>) -> (SocketAddr, JoinHandle<Vec<Vec<u8>>>) {
    let l = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = l.local_addr().expect("local addr");
    let h = tokio::spawn(async move {
        let mut seen = Vec::new();
        let Ok(Ok((mut s, _))) = tokio::time::timeout(Duration::from_secs(5), l.accept()).await
        else {
            return seen;
        };
        for step in script {
            match step {
                Step::Send(b) => {
                    let _ = s.write_all(&b).await;
                }
                Step::Recv => {
                    let mut buf = vec![0u8; 8192];
                    if let Ok(Ok(n)) =
                        tokio::time::timeout(Duration::from_secs(2), s.read(&mut buf)).await
                    {
                        buf.truncate(n);
                        seen.push(buf);
                    }
                }
                Step::Sleep(ms) => tokio::time::sleep(Duration::from_millis(ms)).await,
            }
        }
        seen
    });
    (addr, h)
}

/// Most closed ports one test binary holds (each a file descriptor until the process exits).
const MAX_CLOSED: usize = 512;

/// The sockets that keep this process's closed ports bound.
static CLOSED: std::sync::Mutex<Vec<socket2::Socket>> = std::sync::Mutex::new(Vec::new());

/// An address with nothing listening (or a free port for a server the test starts there): a
/// socket stays bound to it (never listening) until the test binary exits, so connections to it
/// are refused and no other test (nor any outgoing connection) is handed the port meanwhile, as
/// could happen to a port bound then released.
pub(crate) async fn closed_port() -> SocketAddr {
    let mut held = CLOSED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    assert!(
        held.len() < MAX_CLOSED,
        "more than {MAX_CLOSED} closed ports"
    );
    let s =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("socket");
    // With SO_REUSEADDR (and SO_REUSEPORT), a server started on the port (as the redis test
    // does) can still bind and listen beside it.
    s.set_reuse_address(true).expect("SO_REUSEADDR");
    s.set_reuse_port(true).expect("SO_REUSEPORT");
    s.bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into())
        .expect("bind loopback");
    let a = s
        .local_addr()
        .ok()
        .and_then(|a| a.as_socket())
        .expect("local addr");
    held.push(s);
    a
}

/// Whether `program` runs (`program <version_arg>` succeeds). When it does not, says on stderr
/// that the test is skipped, or fails under `CI=true`, where every tool must be installed.
#[expect(
    clippy::print_stderr,
    reason = "a skipped test says why; helpers are not exempt like #[test] bodies"
)]
pub(crate) fn tool_present(program: &str, version_arg: &str) -> bool {
    let ok = std::process::Command::new(program)
        .arg(version_arg)
        .stdout(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{program} missing under CI=true"
        );
        eprintln!("skipping: {program} not installed");
    }
    ok
}

/// Replaces the check duration, which depends on the machine, with `Nms`.
pub(crate) fn normalize(line: &str) -> String {
    const KEY: &str = "check duration: ";
    match line.split_once(KEY) {
        Some((head, tail)) => {
            let rest = tail.trim_start_matches(|c: char| c.is_ascii_digit());
            format!("{head}{KEY}N{rest}")
        }
        None => line.to_owned(),
    }
}
