//! Reader-level output against HAProxy 2.6.12 recordings in `tests/data/haproxy-2.6/lexer/`
//! (see the README there): lexer errors, conditional blocks, `.notice`/`.warning`/`.alert`,
//! scopes, stray NUL and missing final LF.
//!
//! Only the lines the reader owns are compared: `parsing [file:line]: ...` (HAProxy writes
//! section-parser errors as `parsing [file:line] : ...`, except for scope errors, which are the
//! reader's), with the excerpt and caret lines that follow them.

use std::path::Path;

use haproxy_cfg::ast::Level;

/// The environment `record.sh` gives HAProxy.
fn vars(name: &str) -> Option<String> {
    match name {
        "PATH" => Some("/usr/sbin:/usr/bin:/bin".into()),
        "HOME" => Some("/root".into()),
        "HOST" => Some("example.org".into()),
        "EMPTY" => Some(String::new()),
        "LIST" => Some("a b  c".into()),
        "LEAD" => Some(" x".into()),
        _ => None,
    }
}

fn tag(level: Level) -> &'static str {
    match level {
        Level::Diag => "[DIAG]     (PID) : config : ",
        Level::Notice => "[NOTICE]   (PID) : config : ",
        Level::Warning => "[WARNING]  (PID) : config : ",
        Level::Alert => "[ALERT]    (PID) : config : ",
    }
}

/// What we print for the reader's share of `file`, in HAProxy's order.
pub(crate) fn ours(name: &str, bytes: &[u8]) -> Vec<String> {
    let doc = haproxy_cfg::parse_bytes_with(name, bytes, &vars).expect("parse");
    let mut items: Vec<(u32, usize, String)> = Vec::new();
    for line in doc.lines().filter(|l| l.reached) {
        if let Some(e) = &line.error {
            let text = format!("parsing [{name}:{}]: {}", line.number, e.render());
            items.push((line.number, 0, format!("{}{text}", tag(Level::Alert))));
        }
    }
    for (i, m) in doc.messages.iter().enumerate() {
        if m.level == Level::Diag {
            continue; // shown only with -dD
        }
        items.push((m.line, 1 + i, format!("{}{}", tag(m.level), m.render(name))));
    }
    items.sort_by_key(|(l, o, _)| (*l, *o));
    items
        .into_iter()
        .flat_map(|(_, _, t)| t.lines().map(str::to_owned).collect::<Vec<_>>())
        .collect()
}

/// The reader's lines in a recording.
pub(crate) fn theirs(name: &str, out: &str) -> Vec<String> {
    let mut keep = false;
    let mut lines = Vec::new();
    let reader = format!("parsing [{name}:");
    for l in out.lines() {
        if l.starts_with("  ") {
            if keep {
                lines.push(l.to_owned());
            }
            continue;
        }
        keep =
            l.contains(&reader) && (l.contains("]: ") || l.contains("scope")) && l.starts_with('[');
        if keep {
            lines.push(l.to_owned());
        }
    }
    lines
}

#[test]
fn reader_output_matches_haproxy_recordings() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/haproxy-2.6/lexer");
    let mut checked = 0;
    let mut nonempty = 0;
    let mut failures = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .expect("data dir")
        .flatten()
        .collect();
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "cfg") {
            continue;
        }
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .expect("name")
            .to_owned();
        let out = std::fs::read(path.with_extension("out")).expect("recording");
        // HAProxy prints a line's bytes as they are; our values decode Latin-1 lines per byte.
        let out = String::from_utf8(out)
            .unwrap_or_else(|e| e.as_bytes().iter().map(|&b| char::from(b)).collect());
        let bytes = std::fs::read(&path).expect("cfg");
        let (a, b) = (ours(&name, &bytes), theirs(&name, &out));
        nonempty += usize::from(!b.is_empty());
        if a != b {
            failures.push(format!("{name}:\n ours:   {a:#?}\n theirs: {b:#?}"));
        }
        checked += 1;
    }
    assert!(checked >= 40, "only {checked} recordings");
    assert!(
        nonempty >= 35,
        "only {nonempty} recordings with reader output"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
