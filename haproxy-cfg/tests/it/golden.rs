//! Golden tests: our `haproxy -c` output against the recordings of the real HAProxy 2.6.12 in
//! `tests/data/haproxy-2.6/` (see its README), for every config of the corpus.

use haproxy_cfg::diag::{CheckOptions, CheckOutput, render_check};
use haproxy_cfg::load::{Env, SystemEnv, expand_paths, load};
use std::path::{Path, PathBuf};

/// The corpus root.
pub(crate) fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

/// Resolves relative paths (errorfiles, `default-path` directories) against the corpus root, as
/// `haproxy` run from there.
struct DataEnv;

impl Env for DataEnv {
    fn read_file(&self, path: &str) -> std::io::Result<Vec<u8>> {
        std::fs::read(data().join(path))
    }
    fn enter_dir(&self, path: &str) -> std::io::Result<()> {
        SystemEnv.enter_dir(&data().join(path).to_string_lossy())
    }
    fn startup_dir(&self) -> String {
        data().to_string_lossy().into_owned()
    }
    fn resolves(&self, host: &str) -> bool {
        SystemEnv.resolves(host)
    }
    fn user_exists(&self, name: &str) -> bool {
        SystemEnv.user_exists(name)
    }
    fn group_exists(&self, name: &str) -> bool {
        SystemEnv.group_exists(name)
    }
}

/// Every case of the corpus: (relative path given to `-f`, recording stem).
pub(crate) fn cases() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for group in ["valid", "warn", "invalid", "keywords"] {
        let mut names: Vec<String> = std::fs::read_dir(data().join(group))
            .expect("corpus group")
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| n.ends_with(".cfg"))
            .collect();
        names.sort();
        for n in names {
            let stem = n.trim_end_matches(".cfg").to_owned();
            out.push((format!("{group}/{n}"), format!("{group}/{stem}")));
        }
    }
    let mut dirs: Vec<String> = std::fs::read_dir(data().join("dirs"))
        .expect("dirs")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .collect();
    dirs.sort();
    out.extend(
        dirs.into_iter()
            .map(|d| (format!("dirs/{d}"), format!("dirs/{d}"))),
    );
    out
}

/// Runs our check on a corpus path, naming files relative to the corpus root.
pub(crate) fn ours(rel: &str) -> CheckOutput {
    let abs = data().join(rel).to_string_lossy().into_owned();
    let root = format!("{}/", data().to_string_lossy());
    let files = expand_paths(&[abs]).expect("corpus paths exist");
    let docs: Vec<_> = files
        .iter()
        .map(|f| {
            let bytes = std::fs::read(f).expect("readable");
            let name = f.strip_prefix(&root).unwrap_or(f);
            haproxy_cfg::parse_bytes(name, &bytes).expect("parsable size")
        })
        .collect();
    let loaded = load(&docs, &DataEnv);
    let opts = CheckOptions {
        quiet: false,
        zero_warning: false,
        pid: 0,
        version: "VERSION",
        exe: "EXE",
    };
    render_check(&loaded, &opts)
}

/// Puts an output in comparable form: pid masked, the two NOTICE lines (which name the product
/// and its path) replaced by a marker.
pub(crate) fn normalise(stderr: &str) -> String {
    stderr
        .lines()
        .map(|l| {
            let l = mask_pid(l);
            if l.starts_with("[NOTICE]   (PID) : haproxy version is ") {
                "[NOTICE] version".to_owned()
            } else if l.starts_with("[NOTICE]   (PID) : path to executable is ") {
                "[NOTICE] path".to_owned()
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn mask_pid(line: &str) -> String {
    for tag in ["[NOTICE]   (", "[WARNING]  (", "[ALERT]    ("] {
        let split = line.strip_prefix(tag).and_then(|rest| rest.split_once(')'));
        if let Some((pid, tail)) = split.filter(|(pid, _)| pid.bytes().all(|b| b.is_ascii_digit()))
        {
            let _ = pid;
            return format!("{tag}PID){tail}");
        }
    }
    line.to_owned()
}

/// The allow list: path -> kind.
pub(crate) fn allowed() -> Vec<(String, String)> {
    std::fs::read_to_string(data().join("compat-allow.tsv"))
        .expect("allow list")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let mut f = l.split('\t');
            Some((f.next()?.to_owned(), f.next()?.to_owned()))
        })
        .collect()
}

/// The `[file:line]` places of HAProxy's alert lines (summary lines excluded, and the
/// "'listen' or 'defaults' expected." lines that only follow a refused section header).
pub(crate) fn alert_places(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter(|l| l.starts_with("[ALERT]") && !l.ends_with("'listen' or 'defaults' expected."))
        .filter_map(|l| {
            let start = l
                .find('[')
                .and_then(|_| l.get(7..))
                .and_then(|r| r.find('[').map(|i| i + 7))?;
            let rest = l.get(start..)?;
            let end = rest.find(']')?;
            rest.get(..=end).map(str::to_owned)
        })
        .collect()
}

/// Compares ours with a recording; returns a description of the mismatch, if any.
pub(crate) fn compare(
    rel: &str,
    ours: &CheckOutput,
    stdout: &str,
    stderr: &str,
    rc: i32,
) -> Option<String> {
    let kind = allowed()
        .into_iter()
        .find(|(p, _)| p == rel)
        .map(|(_, k)| k);
    let (ours_err, theirs_err) = (normalise(&ours.stderr), normalise(stderr));
    match kind.as_deref() {
        Some("legacy-accepted") => {
            if ours.code == 1 {
                return Some(format!("{rel}: legacy forms must be accepted, got rc 1:\n{ours_err}"));
            }
            for place in alert_places(stderr) {
                let warned = ours_err.lines().any(|l| l.starts_with("[WARNING]") && l.contains(&place));
                if !warned && !place.is_empty() {
                    return Some(format!("{rel}: no warning of ours at {place}:\n{ours_err}"));
                }
            }
            None
        }
        Some("clean-error") => {
            let extra: Vec<&str> = ours_err.lines().filter(|l| !theirs_err.lines().any(|t| t == *l)).collect();
            let missing: Vec<&str> = theirs_err.lines().filter(|l| !ours_err.lines().any(|o| o == *l)).collect();
            (ours.code != rc || extra.len() != 1 || !missing.is_empty())
                .then(|| format!("{rel}: expected exactly one extra alert; extra {extra:?}, missing {missing:?}"))
        }
        _ => (ours.code != rc || ours_err != theirs_err || ours.stdout != stdout).then(|| {
            format!(
                "{rel}: rc ours {} theirs {rc}\n--- ours stderr\n{ours_err}\n--- theirs stderr\n{theirs_err}\n--- ours stdout\n{}--- theirs stdout\n{stdout}",
                ours.code, ours.stdout
            )
        }),
    }
}

#[test]
fn corpus_has_at_least_forty_configs_with_recordings() {
    let cases = cases();
    assert!(cases.len() >= 40, "{} cases", cases.len());
    for (_, stem) in &cases {
        let rc = data().join("haproxy-2.6").join(format!("{stem}.rc"));
        assert!(rc.exists(), "missing recording {}", rc.display());
    }
}

#[test]
fn every_config_matches_the_recorded_haproxy_output() {
    let mut failures = Vec::new();
    let skipped: Vec<String> = allowed()
        .into_iter()
        .filter(|(_, k)| k == "skip")
        .map(|(p, _)| p)
        .collect();
    for (rel, stem) in cases() {
        if skipped.contains(&rel) {
            continue;
        }
        // Stems may hold dots (`g-129-tune.pipesize-1`): append the extension, never replace.
        let rec = data().join("haproxy-2.6");
        let read = |ext: &str| {
            std::fs::read_to_string(rec.join(format!("{stem}.{ext}"))).expect("recording")
        };
        let rc: i32 = read("rc").trim().parse().expect("rc");
        if let Some(m) = compare(&rel, &ours(&rel), &read("stdout"), &read("stderr"), rc) {
            failures.push(m);
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
