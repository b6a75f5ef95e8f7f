//! Differential test: the live `haproxy` binary and our check over the whole corpus, compared
//! with the same rules as the golden test (`golden::compare`, allow list included).
//!
//! Skipped with a message when `haproxy` is not on PATH, unless `CI=true`, where it fails.

use crate::golden::{cases, compare, data, ours};
use std::process::Command;

/// Runs the real `haproxy -c -f <rel>` from the corpus root; `None` when it is not installed.
fn theirs(rel: &str) -> Option<(String, String, i32)> {
    let out = Command::new("haproxy")
        .args(["-c", "-f", rel])
        .current_dir(data())
        .output()
        .ok()?;
    Some((
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().unwrap_or(-1),
    ))
}

#[test]
fn live_haproxy_and_ours_agree_on_the_whole_corpus() {
    if theirs("valid/01-minimal-http.cfg").is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but the real haproxy is not on PATH"
        );
        eprintln!("skipped: the real haproxy is not on PATH");
        return;
    }
    let mut failures = Vec::new();
    let all = cases();
    for (rel, _) in &all {
        let Some((stdout, stderr, rc)) = theirs(rel) else {
            continue;
        };
        if let Some(m) = compare(rel, &ours(rel), &stdout, &stderr, rc) {
            failures.push(m);
        }
    }
    assert!(all.len() >= 40);
    assert!(
        failures.is_empty(),
        "{} unlisted mismatches:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
