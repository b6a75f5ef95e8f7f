//! Differential test against the live HAProxy binary: random reader-level configs (directives,
//! conditional blocks, quoting, escapes, variables, scopes, stray CRs) must give the same reader
//! output as `haproxy -c`. Skipped when `haproxy` is not on PATH, unless `CI=true`.

use std::path::PathBuf;
use std::process::Command;

use crate::reader_golden::{ours, theirs};

/// Number of generated configs per run.
const CASES: usize = 150;

const PIECES: &[&str] = &[
    "a",
    "b0",
    "x.y",
    "-",
    "/p",
    ":80",
    "é",
    "\\ ",
    "\\#",
    "\\\\",
    "\\'",
    "\\\"",
    "\\t",
    "\\x41",
    "\\x4",
    "\\q",
    "$",
    "$HOST",
    "\"$HOST\"",
    "\"${HOST}\"",
    "\"${NOPE-d f}\"",
    "\"${LIST[*]}\"",
    "\"${LEAD[*]}\"",
    "\"${.LINE}\"",
    "\"${.SECTION}\"",
    "\"\"",
    "''",
    "'a b'",
    "\"a b\"",
    "\"$1\"",
    "\"${HOST\"",
    "\"${X[y]}\"",
    "\"\\$\"",
    "#c",
    " ",
    "\t",
    "\"",
    "'",
    "\"${.FOO}\"",
    "\"${EMPTY-z}\"",
    "(",
    ")",
    "!",
    "&&",
    "||",
    ",",
    "0",
    "1",
    "0x1",
    "defined(HOST)",
    "defined(NOPE)",
    "streq(a,a)",
    "strneq(a,b)",
    "feature(LUA)",
    "version_atleast(2.6)",
    "version_before(2.5)",
    "streq(",
    "streq(\"a b\",'a b')",
    "\u{b}",
    "\r",
    "[*]",
];

/// A small deterministic generator (xorshift64*), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n as u64).unwrap_or(0)
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items.get(self.below(items.len())).copied().unwrap_or("")
    }
}

fn word(r: &mut Rng) -> String {
    (0..1 + r.below(3)).map(|_| r.pick(PIECES)).collect()
}

fn line(r: &mut Rng) -> String {
    match r.below(20) {
        0..=6 => {
            let kw = r.pick(&[
                ".notice", ".warning", ".diag", ".notice", ".if", ".elif", ".else", ".endif",
            ]);
            let n = if kw.starts_with(".if") || kw.starts_with(".elif") {
                r.below(4)
            } else {
                r.below(2)
            };
            let args: Vec<String> = (0..n).map(|_| word(r)).collect();
            let lead = r.pick(&["", "  ", "\t"]);
            let trail = r.pick(&["", "", " ", "\t"]);
            if args.is_empty() {
                format!("{lead}{kw}{trail}")
            } else {
                format!("{lead}{kw} {}{trail}", args.join(" "))
            }
        }
        7..=8 => r
            .pick(&[
                "global",
                "defaults",
                "frontend fe",
                "backend \"b${HOST}\"",
                "listen l",
            ])
            .to_owned(),
        9..=10 => r.pick(&["", "   ", "# c", "\t# x"]).to_owned(),
        11 => r.pick(&["[s]", "[]", "[a b]", "[s] x"]).to_owned(),
        _ => format!("    .notice {}", word(r)),
    }
}

fn config(r: &mut Rng) -> String {
    let lines: Vec<String> = (0..1 + r.below(12)).map(|_| line(r)).collect();
    let opens = lines
        .iter()
        .filter(|l| l.trim_start().starts_with(".if"))
        .count();
    let mut text = lines.join("\n");
    if r.below(5) != 0 {
        for _ in 0..opens {
            text.push_str("\n.endif");
        }
    }
    if r.below(20) != 0 {
        text.push('\n');
    }
    text
}

#[expect(
    clippy::print_stderr,
    reason = "tells the test runner why the test is skipped"
)]
fn haproxy_available() -> bool {
    let found = Command::new("haproxy")
        .arg("-v")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "haproxy is required when CI=true"
        );
        eprintln!("skipping: haproxy not on PATH");
    }
    found
}

/// A scratch dir in the temp dir, removed on drop (also when the test fails).
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn random_configs_read_like_haproxy() {
    if !haproxy_available() {
        return;
    }
    let scratch =
        TempDir(std::env::temp_dir().join(format!("haproxy-cfg-live-{}", std::process::id())));
    let dir: &PathBuf = &scratch.0;
    std::fs::create_dir_all(dir).expect("temp dir");
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut failures = Vec::new();
    for i in 0..CASES {
        let text = config(&mut rng);
        let name = format!("r{i:03}.cfg");
        std::fs::write(dir.join(&name), &text).expect("write");
        let out = Command::new("haproxy")
            .args(["-c", "-f", &name])
            .current_dir(dir)
            .env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/bin")
            .env("HOME", "/root")
            .env("HOST", "example.org")
            .env("EMPTY", "")
            .env("LIST", "a b  c")
            .env("LEAD", " x")
            .output()
            .expect("run haproxy");
        let mut all = out.stderr;
        all.extend_from_slice(&out.stdout);
        let all = String::from_utf8_lossy(&all);
        let normalised: String = all
            .lines()
            .map(|l| match (l.find('('), l.find(") : ")) {
                (Some(a), Some(b)) if l.starts_with('[') && a < b => {
                    format!("{}(PID){}", &l[..a], &l[b + 1..])
                }
                _ => l.to_owned(),
            })
            .collect::<Vec<_>>()
            .join("\n");
        let (a, b) = (ours(&name, text.as_bytes()), theirs(&name, &normalised));
        if a != b {
            failures.push(format!(
                "{name} {text:?}:\n ours:   {a:#?}\n theirs: {b:#?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
