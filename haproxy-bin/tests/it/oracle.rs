//! The real HAProxy 2.6 the differential tests compare with.
#![expect(
    clippy::print_stderr,
    reason = "a skipped live part is reported on stderr"
)]

use std::path::PathBuf;

/// Where the installed `haproxy` is, or `None` (with a message naming `what` is skipped) when it
/// is not installed; under `CI=true` a missing binary fails the test instead.
pub(crate) fn real_haproxy(what: &str) -> Option<PathBuf> {
    let found = [
        "/usr/sbin/haproxy",
        "/usr/bin/haproxy",
        "/usr/local/sbin/haproxy",
    ]
    .into_iter()
    .map(PathBuf::from)
    .find(|p| p.exists());
    if found.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "haproxy is required under CI=true"
        );
        eprintln!("skipping {what}: haproxy is not installed");
    }
    found
}
