//! Which errorfile answers each generated response of a frontend+backend pair, as HAProxy 2.6.12
//! picks it (recorded in `tests/data/haproxy-2.6/errorfile-sets.txt` by `errorfile_sets.py`, whose
//! configuration this test builds with its own files): the backend's errorfiles (its own or its
//! defaults') first, then the frontend's, then the built-in page; a frontend deny, and a 503 with
//! no backend, use the frontend's.

use std::net::SocketAddr;
use std::time::Duration;

use haproxy_cfg::load::{Outcome, SystemEnv, load};
use haproxy_cfg::parse_str;
use haproxy_proxy::build::build;
use haproxy_proxy::runtime::Stop;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;

use crate::daemon::free_port;
use crate::scratch::TempDir;
use crate::support::{WAIT, read_head_into, serve_each};

/// The recording's configuration (`CONFIG` in `errorfile_sets.py`).
const CONFIG: &str = "defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 1s
    errorfile 502 {DIR}/DEF502.http
frontend fe
    bind 127.0.0.1:{PORT}
    errorfile 403 {DIR}/FE403.http
    errorfile 502 {DIR}/FE502.http
    errorfile 503 {DIR}/FE503.http
    errorfile 504 {DIR}/FE504.http
    http-request deny if { path_beg /fdeny }
    use_backend plain if { path_beg /plain }
    use_backend empty if { path_beg /empty }
    use_backend be if { path_beg /be }
backend be
    errorfile 403 {DIR}/BE403.http
    errorfile 502 {DIR}/BE502.http
    errorfile 503 {DIR}/BE503.http
    errorfile 504 {DIR}/BE504.http
    http-request deny if { path_beg /be/deny }
    server s1 {SERVER}
backend plain
    http-request deny if { path_beg /plain/deny }
    server s1 {SERVER}
backend empty
    errorfile 503 {DIR}/EMPTY503.http
";

/// `/…/bad`: an invalid response; `/…/wait`: no answer for 3 s; else 200.
async fn origin() -> SocketAddr {
    serve_each(|mut s| async move {
        let mut buf = Vec::new();
        if !read_head_into(&mut s, &mut buf).await {
            return;
        }
        let head = String::from_utf8_lossy(&buf).into_owned();
        if head.contains("/bad") {
            let _ = s.write_all(b"garbage\r\n\r\n").await;
        } else if head.contains("/wait") {
            tokio::time::sleep(Duration::from_secs(3)).await;
        } else {
            let _ = s
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                .await;
        }
    })
    .await
}

fn write_errorfiles(dir: &std::path::Path) {
    let reason = |code: u16| match code {
        403 => "Forbidden",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Gateway Time-out",
    };
    for name in [
        "DEF502", "FE403", "FE502", "FE503", "FE504", "BE403", "BE502", "BE503", "BE504",
        "EMPTY503",
    ] {
        let code: u16 = name[name.len() - 3..].parse().unwrap();
        let body = format!("{name}\n");
        let text = format!(
            "HTTP/1.1 {code} {}\r\ncontent-type: text/plain\r\ncontent-length: {}\r\n\r\n{body}",
            reason(code),
            body.len()
        );
        std::fs::write(dir.join(format!("{name}.http")), text).unwrap();
    }
}

#[tokio::test]
async fn each_generated_response_uses_the_errorfile_haproxy_picks() {
    let dir = TempDir::new("errorfile-sets");
    write_errorfiles(dir.path());
    let server = origin().await;
    let text = CONFIG
        .replace("{DIR}", &dir.path().display().to_string())
        .replace("{PORT}", &free_port().to_string())
        .replace("{SERVER}", &server.to_string());
    let loaded = load(&[parse_str("t.cfg", &text)], &SystemEnv);
    assert_ne!(loaded.outcome, Outcome::Invalid, "{:?}", loaded.diagnostics);
    let running = build(&loaded.config).unwrap().start().unwrap();
    let addr = running.local_addrs()[0];
    let (stop, rx) = watch::channel(None);
    let task = tokio::spawn(running.serve(rx));
    let recorded = include_str!("../data/haproxy-2.6/errorfile-sets.txt");
    let mut compared = 0;
    for line in recorded.lines() {
        let (path, _) = line.split_once(' ').unwrap();
        let mut c = TcpStream::connect(addr).await.unwrap();
        c.write_all(
            format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await
        .unwrap();
        let mut got = Vec::new();
        tokio::time::timeout(WAIT, c.read_to_end(&mut got))
            .await
            .unwrap()
            .unwrap();
        let got = String::from_utf8_lossy(&got);
        let (head, body) = got.split_once("\r\n\r\n").unwrap_or((&got, ""));
        let status = head.lines().next().unwrap_or_default();
        assert_eq!(format!("{path} {status} | {}", body.trim()), line);
        compared += 1;
    }
    assert_eq!(compared, 9);
    stop.send(Some(Stop::Hard)).unwrap();
    let _ = tokio::time::timeout(WAIT, task).await;
}
