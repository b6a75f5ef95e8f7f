//! What HAProxy refuses after (or while) parsing and the proxy's build refuses with HAProxy's
//! own alerts: a health-checked server without a port, and `tcp-request` rules only a frontend
//! may have in a `backend` section. `haproxy -c` reports them as startup does; compared with the
//! recordings in `tests/data/haproxy-2.6/portless-check/` and `backend-tcp-request/` and, when
//! `haproxy` is installed, with the live binary (skipped with a message when it is absent,
//! unless `CI=true`).

use std::path::{Path, PathBuf};
use std::process::Command;

/// The recorded configurations of every data directory, in name order.
fn configs() -> Vec<PathBuf> {
    let mut all = Vec::new();
    for dir in ["portless-check", "backend-tcp-request"] {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/haproxy-2.6")
            .join(dir);
        let mut some: Vec<PathBuf> = std::fs::read_dir(dir)
            .expect("data dir")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "cfg"))
            .collect();
        some.sort();
        all.extend(some);
    }
    all
}

/// What `exe args.. -f cfg` prints on stderr as the recordings keep it: NOTICE lines dropped,
/// pids masked, then `rc <code>`.
fn run(exe: &str, args: &[&str], cfg: &Path) -> String {
    // Run from the file's directory with its bare name, as recorded (messages name the file).
    let out = Command::new(exe)
        .args(args)
        .arg("-f")
        .arg(cfg.file_name().expect("file name"))
        .current_dir(cfg.parent().expect("dir"))
        .output()
        .expect("runs");
    as_recorded(&out.stderr, out.status.code())
}

/// `printed` as the recordings keep it: NOTICE and empty lines dropped, pids masked, then
/// `rc <code>`.
pub(crate) fn as_recorded(printed: &[u8], code: Option<i32>) -> String {
    let mut text = String::new();
    for line in String::from_utf8_lossy(printed).lines() {
        if line.contains("[NOTICE]") || line.is_empty() {
            continue;
        }
        let masked = match (line.find(" ("), line.find(") : ")) {
            (Some(a), Some(b)) if a < b => format!("{} (PID{}", &line[..a], &line[b..]),
            _ => line.to_owned(),
        };
        text.push_str(&masked);
        text.push('\n');
    }
    text.push_str(&format!("rc {}\n", code.unwrap_or(-1)));
    text
}

fn recorded(cfg: &Path) -> String {
    std::fs::read_to_string(cfg.with_extension("txt")).expect("recording")
}

#[test]
fn check_mode_reports_what_the_build_refuses_as_haproxy() {
    let cfgs = configs();
    assert!(cfgs.len() >= 14);
    for cfg in &cfgs {
        let ours = run(env!("CARGO_BIN_EXE_haproxy"), &["-c"], cfg);
        assert_eq!(ours, recorded(cfg), "{}", cfg.display());
    }
}

#[test]
fn startup_reports_the_same_alerts_as_check_mode() {
    for cfg in configs() {
        let want = recorded(&cfg);
        if want.ends_with("rc 0\n") {
            continue; // it would start serving
        }
        let ours = run(env!("CARGO_BIN_EXE_haproxy"), &["-db"], &cfg);
        assert_eq!(ours, want, "{}", cfg.display());
    }
}

#[test]
fn the_recordings_match_the_installed_haproxy() {
    let Some(real) = crate::oracle::real_haproxy("the live portless check comparison") else {
        return;
    };
    let real = real.to_str().expect("utf-8 path");
    for cfg in configs() {
        assert_eq!(
            run(real, &["-c"], &cfg),
            recorded(&cfg),
            "{}",
            cfg.display()
        );
    }
}
