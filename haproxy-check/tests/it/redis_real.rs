//! `option redis-check` against a real redis-server, compared with HAProxy 2.6.12's recording
//! (`tests/data/haproxy-2.6/redis-real.txt`, `record_redis.py`). Skipped when redis-server is not
//! installed, unless CI=true.

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use haproxy_check::probe::{CheckTimeouts, redis_check};
use haproxy_check::{CheckParams, CheckStatus, Health};

use crate::peer::tool_present;

const RECORDING: &str = include_str!("../data/haproxy-2.6/redis-real.txt");

/// A redis-server on a free loopback port; killed when dropped.
struct Redis(Child, SocketAddr);

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn start(extra: &[&str]) -> Redis {
    let port = crate::peer::closed_port().await.port();
    let child = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no"])
        .args(extra)
        .stdout(Stdio::null())
        .spawn()
        .expect("start redis-server");
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    // Bounded wait until it listens.
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Redis(child, addr)
}

fn recorded(case: &str) -> Option<&'static str> {
    RECORDING
        .lines()
        .find_map(|l| l.strip_prefix(case)?.strip_prefix('|'))
}

#[tokio::test]
async fn real_redis_server_matches_haproxy() {
    if !tool_present("redis-server", "--version") {
        return;
    }
    // As recorded: `timeout connect 1s`, `timeout check 300ms`, `inter 5s`, first check's row.
    let ms = Duration::from_millis;
    let timeouts = CheckTimeouts::new(ms(5000), Some(ms(1000)), Some(ms(300)));
    for (case, extra) in [
        ("plain", &[][..]),
        ("requirepass", &["--requirepass", "s3cret"][..]),
    ] {
        let redis = start(extra).await;
        let o = redis_check().run(redis.1, timeouts).await;
        if case == "requirepass" {
            // redis answers -NOAUTH but keeps the connection open: `expect string +PONG` is not
            // final before the timeout, so HAProxy (and we) report L7TOUT, not L7STS.
            assert_eq!(o.status, CheckStatus::L7Timeout, "{o:?}");
        }
        let mut h = Health::new(CheckParams::default(), Instant::now());
        h.record(o, Instant::now());
        let row = [
            h.status_text(false),
            h.check_status_text(),
            h.check_code_text(),
            h.check_desc_text().to_owned(),
            h.last().info.clone(),
        ]
        .join("|");
        assert_eq!(Some(row.as_str()), recorded(case), "case {case}");
    }
}
