//! Global `default-path` and `unix-bind` through the `haproxy` binary, ours and the real
//! HAProxy 2.6 side by side on the same files: `-c` run from `/` finds (or misses, without
//! `default-path`) an errorfile that exists only next to the configuration, with the same
//! output; the daemon serves that errorfile and creates the `unix-bind`-prefixed socket with its
//! mode, and the stats socket without either.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::oracle::real_haproxy;
use crate::run::{Proxy, TempDir, free_port, request};

/// The errorfile, written next to the configuration only.
const ERRORFILE: &str = "HTTP/1.1 503 Service Unavailable\r\ncache-control: no-cache\r\ncontent-type: text/plain\r\n\r\nfound through default-path config\n";

/// `conf/haproxy.cfg` and `conf/errors/503.http` under `dir`; `with_default_path` adds the
/// global `default-path config` line without which the errorfile is not found from elsewhere.
fn tree(dir: &TempDir, port: u16, with_default_path: bool) -> PathBuf {
    std::fs::create_dir_all(dir.join("conf/errors")).expect("dirs");
    dir.write("conf/errors/503.http", ERRORFILE);
    let dp = if with_default_path {
        "    default-path config\n"
    } else {
        ""
    };
    dir.write(
        "conf/haproxy.cfg",
        &format!(
            "global\n{dp}    unix-bind prefix {}/ mode 640\n    stats socket {}/stats.sock\ndefaults\n    mode http\n    timeout connect 2s\n    timeout client 5s\n    timeout server 5s\n    errorfile 503 errors/503.http\nfrontend fe\n    bind 127.0.0.1:{port}\n    bind unix@fe.sock\n    default_backend none\nbackend none\n",
            dir.display(),
            dir.display()
        ),
    )
}

/// `exe -c -f cfg` from `/`: (exit code, stdout, stderr without the NOTICE lines and pids).
fn check_from_root(exe: &Path, cfg: &Path) -> (Option<i32>, String, String) {
    let o = Command::new(exe)
        .current_dir("/")
        .args(["-c", "-f"])
        .arg(cfg)
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&o.stderr)
        .lines()
        .filter(|l| !l.starts_with("[NOTICE]"))
        .map(|l| match l.split_once(") : ") {
            Some((level, rest)) => {
                let level = level.split('(').next().unwrap_or(level);
                format!("{level}(PID) : {rest}")
            }
            None => l.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr,
    )
}

#[test]
fn check_from_another_directory_resolves_like_haproxy() {
    let ours_exe = PathBuf::from(env!("CARGO_BIN_EXE_haproxy"));
    let dir = TempDir::new("default-path-check");
    let found = check_from_root(&ours_exe, &tree(&dir, 8080, true));
    assert_eq!(
        found,
        (
            Some(0),
            "Configuration file is valid\n".to_owned(),
            String::new()
        )
    );
    let cfg = tree(&dir, 8080, false);
    let missing = check_from_root(&ours_exe, &cfg);
    assert_eq!(missing.0, Some(1));
    assert!(
        missing.2.contains(&format!(
            "[ALERT]    (PID) : config : parsing [{}:9] : errorfile : error opening file 'errors/503.http'.",
            cfg.display()
        )),
        "{}",
        missing.2
    );
    let Some(real) = real_haproxy("default-path -c side by side") else {
        return;
    };
    assert_eq!(
        check_from_root(&real, &cfg),
        missing,
        "without default-path"
    );
    let cfg = tree(&dir, 8080, true);
    assert_eq!(
        check_from_root(&real, &cfg),
        found,
        "with default-path config"
    );
}

/// Our daemon and HAProxy on the same tree: the errorfile's bytes and the socket's mode.
#[test]
fn the_daemon_serves_the_errorfile_and_binds_the_prefixed_socket() {
    let serve = |exe: &str, tag: &str| {
        let dir = TempDir::new(tag);
        let port = free_port();
        let cfg = tree(&dir, port, true);
        let proxy = Proxy::start_exe(exe, &cfg, port);
        let response = request(port, "/x", "");
        let mode = |name: &str| {
            std::fs::metadata(dir.join(name))
                .expect("the socket exists")
                .permissions()
                .mode()
                & 0o777
        };
        // The stats socket takes neither the prefix nor the mode (HAProxy's CLI frontend).
        let modes = (mode("fe.sock"), mode("stats.sock"));
        drop(proxy);
        (response, modes)
    };
    let ours = serve(env!("CARGO_BIN_EXE_haproxy"), "default-path-ours");
    assert_eq!(ours.1.0, 0o640);
    assert_ne!(ours.1.1, 0o640);
    assert!(
        ours.0.starts_with("HTTP/1.1 503 Service Unavailable\r\n")
            && ours
                .0
                .ends_with("\r\n\r\nfound through default-path config\n"),
        "{}",
        ours.0
    );
    let Some(real) = real_haproxy("default-path daemon side by side") else {
        return;
    };
    let theirs = serve(&real.to_string_lossy(), "default-path-real");
    assert_eq!(ours, theirs);
}
