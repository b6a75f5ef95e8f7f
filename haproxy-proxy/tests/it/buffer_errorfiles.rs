//! Which errorfile answers the 408 and the 400 of `option http-buffer-request`, as HAProxy
//! 2.6.12 picks it (recorded in `tests/data/haproxy-2.6/buffer-errorfiles.txt` by
//! `buffer_errorfiles.py`, whose configuration this test builds with its own files): for a body
//! buffered by the chosen backend, the backend's errorfile first, then the frontend's; for one
//! buffered by the frontend, the frontend's.

use std::time::Duration;

use haproxy_cfg::load::{Outcome, SystemEnv, load};
use haproxy_cfg::parse_str;
use haproxy_proxy::build::build;
use haproxy_proxy::runtime::Stop;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;

use crate::daemon::free_port;
use crate::support::{WAIT, serve_each};

/// The recording's configuration (`CONFIG` in `buffer_errorfiles.py`).
const CONFIG: &str = "defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 5s
    timeout http-request 300ms
frontend fe
    bind 127.0.0.1:{PORT}
    errorfile 400 {DIR}/FE400.http
    errorfile 408 {DIR}/FE408.http
    use_backend be if { path_beg /be }
    default_backend plain
frontend febuf
    bind 127.0.0.1:{PORT2}
    option http-buffer-request
    errorfile 400 {DIR}/FEBUF400.http
    errorfile 408 {DIR}/FEBUF408.http
    default_backend be
backend be
    option http-buffer-request
    errorfile 400 {DIR}/BE400.http
    errorfile 408 {DIR}/BE408.http
    server s1 {SERVER}
backend plain
    option http-buffer-request
    server s1 {SERVER}
";

/// The recording's cases: name, which frontend, the head (and body start), a later part.
const CASES: [(&str, usize, &str, &str); 6] = [
    (
        "be-timeout",
        0,
        "POST /be HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc",
        "",
    ),
    (
        "be-bad-chunk",
        0,
        "POST /be HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
        "3\r\nabc\r\nzz\r\n",
    ),
    (
        "plain-timeout",
        0,
        "POST /plain HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc",
        "",
    ),
    (
        "plain-bad-chunk",
        0,
        "POST /plain HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
        "3\r\nabc\r\nzz\r\n",
    ),
    (
        "febuf-timeout",
        1,
        "POST /be HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc",
        "",
    ),
    (
        "febuf-bad-chunk",
        1,
        "POST /be HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
        "3\r\nabc\r\nzz\r\n",
    ),
];

fn write_errorfiles(dir: &std::path::Path) {
    for name in ["FE400", "FE408", "FEBUF400", "FEBUF408", "BE400", "BE408"] {
        let code: u16 = name[name.len() - 3..].parse().unwrap();
        let reason = if code == 400 {
            "Bad Request"
        } else {
            "Request Time-out"
        };
        let body = format!("{name}\n");
        let text = format!(
            "HTTP/1.1 {code} {reason}\r\ncontent-type: text/plain\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        std::fs::write(dir.join(format!("{name}.http")), text).unwrap();
    }
}

#[tokio::test]
async fn a_buffered_body_is_refused_with_the_errorfile_haproxy_picks() {
    let dir = std::env::temp_dir().join(format!(
        "haproxy-rs-buffer-errorfiles-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    write_errorfiles(&dir);
    // No case reaches the server.
    let server = serve_each(|mut s| async move {
        let _ = s
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\norigin")
            .await;
    })
    .await;
    let text = CONFIG
        .replace("{DIR}", &dir.display().to_string())
        .replace("{PORT}", &free_port().to_string())
        .replace("{PORT2}", &free_port().to_string())
        .replace("{SERVER}", &server.to_string());
    let loaded = load(&[parse_str("t.cfg", &text)], &SystemEnv);
    assert_ne!(loaded.outcome, Outcome::Invalid, "{:?}", loaded.diagnostics);
    let running = build(&loaded.config).unwrap().start().unwrap();
    let addrs = running.local_addrs().to_vec();
    assert_eq!(addrs.len(), 2);
    let (stop, rx) = watch::channel(None);
    let task = tokio::spawn(running.serve(rx));
    let recorded = include_str!("../data/haproxy-2.6/buffer-errorfiles.txt");
    let mut lines = recorded.lines();
    for (name, fe, head, later) in CASES {
        let mut c = TcpStream::connect(addrs[fe]).await.unwrap();
        c.write_all(head.as_bytes()).await.unwrap();
        if !later.is_empty() {
            tokio::time::sleep(Duration::from_millis(100)).await;
            c.write_all(later.as_bytes()).await.unwrap();
        }
        let mut got = Vec::new();
        let _ = tokio::time::timeout(WAIT, c.read_to_end(&mut got)).await;
        let got = String::from_utf8_lossy(&got);
        let (head, body) = got.split_once("\r\n\r\n").unwrap_or((&got, ""));
        let status = head.lines().next().unwrap_or_default();
        assert_eq!(
            format!("{name} {status} | {}", body.trim()),
            lines.next().unwrap_or_default()
        );
    }
    assert_eq!(lines.next(), None, "a recorded case was not compared");
    stop.send(Some(Stop::Hard)).unwrap();
    let _ = tokio::time::timeout(WAIT, task).await;
    let _ = std::fs::remove_dir_all(&dir);
}
