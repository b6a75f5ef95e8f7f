//! `-W` and `-Ws` (master-worker mode) in `haproxy -c`: the master always listens (its CLI to
//! the workers), so a configuration without listeners is valid there (exit 0), where plain `-c`
//! exits 2. Compared with the recordings in `tests/data/haproxy-2.6/master-worker/` and, when
//! `haproxy` is installed, with the live binary (skipped with a message when it is absent, unless
//! `CI=true`).

use std::path::{Path, PathBuf};
use std::process::Command;

/// The recorded flag sets and the file each recording is in.
const CASES: &[(&[&str], &str)] = &[
    (&["-c"], "check.txt"),
    (&["-W", "-c"], "check-W.txt"),
    (&["-Ws", "-c"], "check-Ws.txt"),
];

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/haproxy-2.6/master-worker")
}

/// What `exe args.. -f no-listener.cfg` prints as `record.sh` keeps it: stdout then stderr,
/// NOTICE and empty lines dropped, pids masked, then `rc <code>`.
fn run(exe: &str, args: &[&str]) -> String {
    let out = Command::new(exe)
        .args(args)
        .args(["-f", "no-listener.cfg"])
        .current_dir(dir())
        .output()
        .expect("runs");
    crate::post_parse::as_recorded(&[out.stdout, out.stderr].concat(), out.status.code())
}

fn recorded(name: &str) -> String {
    std::fs::read_to_string(dir().join(name)).expect("recording")
}

#[test]
fn master_worker_flags_make_a_config_without_listeners_valid() {
    for (args, name) in CASES {
        assert_eq!(
            run(env!("CARGO_BIN_EXE_haproxy"), args),
            recorded(name),
            "{args:?}"
        );
    }
}

#[test]
fn the_master_worker_recordings_match_the_installed_haproxy() {
    let Some(real) = crate::oracle::real_haproxy("the live master-worker check comparison") else {
        return;
    };
    let real = real.to_str().expect("utf-8 path");
    for (args, name) in CASES {
        assert_eq!(run(real, args), recorded(name), "{args:?}");
    }
}
