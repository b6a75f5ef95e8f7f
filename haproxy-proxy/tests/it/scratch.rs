//! Scratch directories in the temp dir that remove themselves when their guard drops, also when
//! the test that made them fails or panics (the guard drops while the panic unwinds). The one
//! place this test binary writes to the temp dir.

use std::path::{Path, PathBuf};
use std::sync::Once;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Numbers the directories of this process, so two tests with the same tag never share one.
static SEQ: AtomicUsize = AtomicUsize::new(0);

/// A fresh directory `haproxy-rs-<tag>-<pid>-<n>` under the temp dir; removed with its
/// contents on drop.
#[derive(Debug)]
pub(crate) struct TempDir(PathBuf);

impl TempDir {
    /// Creates the directory.
    pub(crate) fn new(tag: &str) -> TempDir {
        static SWEPT: Once = Once::new();
        SWEPT.call_once(sweep_stale);
        let n = SEQ.fetch_add(1, Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!("haproxy-rs-{tag}-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }

    /// The directory.
    pub(crate) fn path(&self) -> &Path {
        &self.0
    }

    /// A path inside the directory.
    pub(crate) fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    /// Writes `text` to `name` inside the directory and returns its path.
    pub(crate) fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Removes the scratch dirs (`haproxy-rs-<tag>-<pid>-<n>`) that earlier runs left because they
/// were killed before their guards could drop: those whose process is gone. Runs once per test
/// binary, on its first [`TempDir::new`]; dirs of live processes are never touched.
fn sweep_stale() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for e in entries.flatten() {
        if e.file_type().is_ok_and(|t| t.is_dir()) && stale(&e.file_name().to_string_lossy()) {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// Whether `name` is a scratch dir of a process that no longer runs.
fn stale(name: &str) -> bool {
    let Some(rest) = name.strip_prefix("haproxy-rs-") else {
        return false;
    };
    let mut parts = rest.rsplitn(3, '-');
    let (Some(n), Some(pid), Some(_tag)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let (Ok(_), Ok(pid)) = (n.parse::<u64>(), pid.parse::<u32>()) else {
        return false;
    };
    pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists()
}

#[test]
fn a_scratch_dir_is_removed_on_drop_and_on_panic() {
    let dir = TempDir::new("scratch-drop");
    let kept = dir.path().to_owned();
    dir.write("a.cfg", "x");
    std::fs::create_dir(dir.join("sub")).unwrap();
    std::fs::write(dir.join("sub/b"), "y").unwrap();
    let again = TempDir::new("scratch-drop");
    assert_ne!(again.path(), kept, "two guards with one tag share a dir");
    assert!(kept.join("sub/b").exists());
    drop(dir);
    assert!(!kept.exists());
    assert!(
        again.path().exists(),
        "dropping one guard removed another's dir"
    );

    let (tx, rx) = std::sync::mpsc::channel();
    let failed = std::thread::spawn(move || {
        let dir = TempDir::new("scratch-panic");
        dir.write("c.cfg", "z");
        tx.send(dir.path().to_owned()).unwrap();
        panic!("a failing test");
    })
    .join();
    assert!(failed.is_err());
    let made = rx.recv().unwrap();
    assert!(made.starts_with(std::env::temp_dir()));
    assert!(!made.exists(), "{} left behind by a panic", made.display());
}

#[test]
fn scratch_dirs_of_dead_processes_are_swept_and_live_ones_kept() {
    // No process ever has the pid `pid_max`: pids stay below it.
    let dead: u32 = std::fs::read_to_string("/proc/sys/kernel/pid_max")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let me = std::process::id();
    assert!(stale(&format!("haproxy-rs-diff-{dead}-0")));
    assert!(!stale(&format!("haproxy-rs-diff-{me}-0")));
    assert!(!stale("haproxy-rs-init-1-0"), "pid 1 runs");
    for other in [
        format!("haproxy-rs-diff-{dead}-215.cfg"),
        format!("haproxy-rs-run-browser-{dead}"),
        "haproxy-rs-bench-czpv9w2u".to_owned(),
        format!("haproxy-acl-diff-{dead}"),
    ] {
        assert!(!stale(&other), "{other}");
    }
    let left = std::env::temp_dir().join(format!("haproxy-rs-sweep-{dead}-0"));
    let live = TempDir::new("sweep");
    std::fs::create_dir_all(left.join("sub")).unwrap();
    sweep_stale();
    assert!(!left.exists());
    assert!(live.path().exists());
}
