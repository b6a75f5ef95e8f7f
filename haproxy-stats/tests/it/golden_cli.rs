//! Every recorded runtime-API exchange (tests/data/haproxy-2.6/out/cli), replayed in order on
//! one model, each through a fresh `Cli` session at the recorded socket's level.

use haproxy_stats::cli::{Cli, Level};

use crate::golden_stat::mask_state;
use crate::model::Model;

fn mask(text: &str) -> String {
    // Entry pointers from `show acl <file>` / `show map <file>`.
    let re_ptr = |l: &str| match l.split_once(' ') {
        Some((p, rest)) if p.starts_with("0x") => format!("0x# {rest}"),
        _ => l.to_owned(),
    };
    let lines: Vec<String> = text.split('\n').map(re_ptr).collect();
    mask_state(&lines.join("\n")) + if text.ends_with('\n') { "\n" } else { "" }
}

/// Exchanges taken after real health checks reacted to the earlier commands (the test double
/// does not run checks): only the columns the exchange is about are compared, i.e. names and
/// `addr`, `cookie`, `mode`, `algo`, which a user-level session must not see filled.
const LIVE_HEALTH: &[&str] = &["71-user-show-stat.user"];

fn legend_columns(csv: &str) -> String {
    csv.lines()
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            [0, 1, 73, 74, 75, 76]
                .iter()
                .map(|i| f.get(*i).copied().unwrap_or(""))
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn recorded_exchanges_replay_byte_for_byte() {
    let dir = format!(
        "{}/tests/data/haproxy-2.6/out/cli",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".in"))
        .collect();
    names.sort();
    assert!(names.len() >= 40, "only {} exchanges", names.len());
    let mut model = Model::new();
    let mut failures = Vec::new();
    for name in &names {
        let stem = name.trim_end_matches(".in");
        let level = match stem.rsplit('.').next().unwrap() {
            "admin" => Level::Admin,
            "operator" => Level::Operator,
            _ => Level::User,
        };
        let input = std::fs::read(format!("{dir}/{name}")).unwrap();
        let theirs = std::fs::read_to_string(format!("{dir}/{stem}.out")).unwrap();
        let mut cli = Cli::new(level);
        let ours = String::from_utf8(cli.feed(&input, &mut model)).unwrap();
        let (ours, theirs) = if LIVE_HEALTH.contains(&stem) {
            (legend_columns(&ours), legend_columns(&theirs))
        } else {
            (ours, theirs)
        };
        if mask(&ours) != mask(&theirs) {
            failures.push(format!("--- {stem}\nours:\n{ours:?}\ntheirs:\n{theirs:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} differ:\n{}",
        failures.len(),
        names.len(),
        failures.join("\n")
    );
}
