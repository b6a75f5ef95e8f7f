//! Scratch directories in the temp dir that remove themselves when their guard drops, also when
//! the test that made them fails or panics (the guard drops while the panic unwinds). The one
//! place this test binary writes to the temp dir.

use std::path::{Path, PathBuf};
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
