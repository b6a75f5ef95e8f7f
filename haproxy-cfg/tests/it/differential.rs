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

/// The example configurations the Debian package installs next to the binary, when present
/// (read in place, never copied into the repository).
fn system_examples() -> Vec<String> {
    let dir = std::path::Path::new("/usr/share/doc/haproxy/examples");
    let mut out: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "cfg"))
                .map(|p| p.to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
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
    let mut all = cases();
    all.extend(system_examples().into_iter().map(|p| (p, String::new())));
    for (rel, _) in &all {
        if crate::golden::allowed()
            .iter()
            .any(|(p, k)| p == rel && k == "skip")
        {
            continue;
        }
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
