//! Integration tests for the `haproxy` binary: exit codes and output streams of `-c`, `-v`,
//! `-vv` and bad command lines, run on the haproxy-cfg corpus.

use std::path::PathBuf;
use std::process::{Command, Output};

mod health;
mod health_diff;
mod health_support;
mod limits_diff;
mod master_worker;
mod memory;
mod oracle;
mod paths;
mod post_parse;
mod rate_diff;
mod run;
mod sighup;
mod soft_stop;
mod stats_browser;
mod stats_cli;
mod stats_live;
mod stats_page;
mod threads;
mod webdriver;

fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../haproxy-cfg/tests/data")
}

fn haproxy(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_haproxy"))
        .args(args)
        .current_dir(corpus())
        .output()
        .expect("runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn valid_config_prints_valid_on_stdout_and_exits_0() {
    let o = haproxy(&["-c", "-f", "valid/01-minimal-http.cfg"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(text(&o.stdout), "Configuration file is valid\n");
    assert!(o.stderr.is_empty());
}

#[test]
fn errors_go_to_stderr_after_two_notices_naming_us() {
    let o = haproxy(&["-c", "-f", "invalid/01-unknown-keywords.cfg"]);
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    let mut lines = err.lines();
    assert!(lines.next().is_some_and(|l| l.starts_with("[NOTICE]   (")
        && l.ends_with(") : haproxy version is 2.6.12-haproxy-rs-0.1.0")));
    let exe = std::fs::canonicalize(env!("CARGO_BIN_EXE_haproxy")).expect("exe");
    assert!(
        lines
            .next()
            .is_some_and(|l| l.ends_with(&format!("path to executable is {}", exe.display()))),
        "{err}"
    );
    assert!(err.contains("[ALERT]    ("));
    assert!(err.ends_with(": config : Fatal errors found in configuration.\n"));
    assert!(o.stdout.is_empty());
}

#[test]
fn warnings_then_valid_and_dw_makes_them_fatal() {
    let o = haproxy(&["-c", "-f", "warn/04-missing-timeouts.cfg"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        text(&o.stdout),
        "Warnings were found.\nConfiguration file is valid\n"
    );
    let o = haproxy(&["-c", "-dW", "-f", "warn/04-missing-timeouts.cfg"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr)
            .ends_with("Some warnings were found and 'zero-warning' is set. Aborting.\n")
    );
}

#[test]
fn no_listener_exits_2_and_quiet_prints_nothing() {
    let o = haproxy(&["-c", "-f", "valid/16-no-listener.cfg"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        text(&o.stdout),
        "Configuration file has no error but will not start (no listener) => exit(2).\n"
    );
    let o = haproxy(&["-c", "-q", "-f", "invalid/01-unknown-keywords.cfg"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(o.stdout.is_empty() && o.stderr.is_empty());
}

#[test]
fn directories_and_several_files_are_read_in_order() {
    let o = haproxy(&["-c", "-f", "dirs/01-split"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let o = haproxy(&[
        "-c",
        "-f",
        "dirs/01-split/00-global.cfg",
        "-f",
        "dirs/01-split/10-frontend.cfg",
        "-f",
        "dirs/01-split/20-backend.cfg",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let empty = run::TempDir::new("empty");
    let o = haproxy(&["-c", "-f", &empty.to_string_lossy()]);
    drop(empty);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).starts_with("Usage : haproxy"));
    let o = haproxy(&["-c", "-f", "/nonexistent.cfg"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains(
        "Cannot open configuration file/directory /nonexistent.cfg : No such file or directory"
    ));
}

#[test]
fn version_banners_and_usage() {
    let v = haproxy(&["-v"]);
    assert_eq!(v.status.code(), Some(0));
    assert!(text(&v.stdout).starts_with("HAProxy version 2.6.12-haproxy-rs-"));
    let vv = haproxy(&["-vv"]);
    assert!(text(&vv.stdout).contains("Build options :"));
    let bad = haproxy(&["-Z"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(text(&bad.stderr).starts_with("Usage : haproxy"));
    let nofile = haproxy(&["-c"]);
    assert_eq!(nofile.status.code(), Some(1));
    assert!(text(&nofile.stdout).starts_with("HAProxy version"));
}
