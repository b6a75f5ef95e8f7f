//! Wire formats checked against the live HAProxy 2.6 binary: each check type runs once against a
//! capturing loopback peer, and the captured bytes must equal what our probe sends.
//! Skipped when `haproxy` is not on PATH, unless CI=true.

use std::process::{Command, Stdio};
use std::time::Duration;

use haproxy_check::probe::{
    HttpCheck, MysqlProto, TcpCheck, TcpRule, ldap_check, mysql_check, pgsql_check, redis_check,
    smtp_check, ssl_client_hello,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::peer::tool_present;

/// Runs haproxy with one checked server using `option`, plays `greet`, returns what it sent.
async fn capture(tag: &str, option: &str, greet: &[u8]) -> Vec<u8> {
    let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = l.local_addr().expect("addr").port();
    let scratch = TempDir(
        std::env::temp_dir().join(format!("haproxy-check-live-{}-{tag}", std::process::id())),
    );
    let dir = &scratch.0;
    std::fs::create_dir_all(dir).expect("tmp dir");
    let sock = dir.join("stats.sock");
    let cfg = dir.join("haproxy.cfg");
    std::fs::write(
        &cfg,
        format!(
            "global\n    stats socket {}\ndefaults\n    mode tcp\n    timeout connect 1s\n    timeout client 1s\n    \
             timeout server 1s\nbackend b\n    {option}\n    server s 127.0.0.1:{port} check inter 10s\n",
            sock.display()
        ),
    )
    .expect("write cfg");
    // Declared after the dir: killed (on drop, also when the test fails) before it goes.
    let _child = Killed(
        Command::new("haproxy")
            .arg("-db")
            .arg("-f")
            .arg(&cfg)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn haproxy"),
    );
    let mut data = Vec::new();
    if let Ok(Ok((mut s, _))) = tokio::time::timeout(Duration::from_secs(5), l.accept()).await {
        let _ = s.write_all(greet).await;
        let mut buf = [0u8; 4096];
        for _ in 0..50 {
            match tokio::time::timeout(Duration::from_millis(300), s.read(&mut buf)).await {
                Ok(Ok(n)) if n > 0 => data.extend_from_slice(buf.get(..n).unwrap_or_default()),
                _ => break,
            }
        }
    }
    data
}

/// A scratch dir in the temp dir, removed on drop (also when the test fails).
struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A child process killed and reaped on drop.
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn sends(c: &TcpCheck) -> Vec<u8> {
    c.rules()
        .iter()
        .filter_map(|r| match r {
            TcpRule::Send(b) => Some(b.clone()),
            _ => None,
        })
        .next()
        .unwrap_or_default()
}

fn mysql_greeting() -> Vec<u8> {
    let mut p = vec![11, 0, 0, 0, 10];
    p.extend_from_slice(b"5.7.0\0");
    p.extend_from_slice(&[1, 0, 0, 0]);
    p
}

#[tokio::test]
async fn probe_bytes_match_haproxy() {
    if !tool_present("haproxy", "-v") {
        return;
    }
    let cases: Vec<(&str, &str, Vec<u8>, Vec<u8>)> = vec![
        ("redis", "option redis-check", vec![], sends(&redis_check())),
        (
            "pgsql",
            "option pgsql-check user haproxy",
            vec![],
            sends(&pgsql_check("haproxy").unwrap()),
        ),
        ("ldap", "option ldap-check", vec![], sends(&ldap_check())),
        (
            "smtp",
            "option smtpchk EHLO example.org",
            b"220 mx ESMTP\r\n".to_vec(),
            sends(&smtp_check(Some(("EHLO", "example.org"))).unwrap()),
        ),
        (
            "mysql41",
            "option mysql-check user check post-41",
            mysql_greeting(),
            sends(&mysql_check(Some(("check", MysqlProto::Post41))).unwrap()),
        ),
        (
            "mysql40",
            "option mysql-check user check pre-41",
            mysql_greeting(),
            sends(&mysql_check(Some(("check", MysqlProto::Pre41))).unwrap()),
        ),
        (
            "http",
            "option httpchk POST /s HTTP/1.1\n    http-check send hdr Host x.org body ping",
            vec![],
            HttpCheck::new(Some("POST"), Some("/s"), Some("HTTP/1.1"))
                .unwrap()
                .header("Host", "x.org")
                .unwrap()
                .body("ping")
                .request(None),
        ),
        (
            "httpdef",
            "option httpchk",
            vec![],
            HttpCheck::default().request(None),
        ),
    ];
    for (tag, option, greet, ours) in cases {
        let theirs = capture(tag, option, &greet).await;
        assert_eq!(
            theirs,
            ours,
            "{tag}: {:?} vs {:?}",
            String::from_utf8_lossy(&theirs),
            String::from_utf8_lossy(&ours)
        );
    }
    // ssl-hello-chk: identical except the 4 time bytes of the random.
    let theirs = capture("ssl", "option ssl-hello-chk", &[]).await;
    let mut ours = ssl_client_hello();
    assert_eq!(theirs.len(), ours.len());
    let mut theirs = theirs;
    theirs[11..15].fill(0);
    ours[11..15].fill(0);
    assert_eq!(theirs, ours);
}
