//! `show stat` (CSV, typed, JSON), `show info` and `show servers state` against the recording.

use haproxy_stats::{Row, RowOptions, StatFilter, csv, info, rows, servers_state, typed};

use crate::model::{data, recorded_info, recorded_snapshot};

/// CSV columns whose values depend on timing (ages, durations, averages, health-check
/// connection counts, per-second rate maxima, `smax`: a closing connection is sometimes still
/// counted when the next one arrives); see tests/data/haproxy-2.6/README.md.
const VOLATILE_CSV: &[usize] = &[
    5, 23, 24, 35, 38, 47, 55, 58, 59, 60, 61, 78, 90, 91, 92, 93, 120, 121, 122, 123, 124, 125,
    126, 127,
];

fn mask_csv(text: &str) -> String {
    text.lines()
        .map(|l| {
            if l.starts_with('#') {
                return l.to_owned();
            }
            l.split(',')
                .enumerate()
                .map(|(i, f)| {
                    if VOLATILE_CSV.contains(&i) && !f.is_empty() {
                        "#"
                    } else {
                        f
                    }
                })
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every row of the recorded snapshot, unfiltered.
fn recorded_rows() -> Vec<Row> {
    rows(
        &recorded_snapshot(),
        &StatFilter::default(),
        RowOptions::default(),
    )
}

#[test]
fn show_stat_csv_matches_haproxy() {
    let theirs = data("show-stat.txt");
    let ours = csv::render(&recorded_rows(), true) + "\n";
    assert_eq!(mask_csv(&ours), mask_csv(&theirs));
}

#[test]
fn csv_header_matches_haproxy_byte_for_byte() {
    let theirs = data("show-stat.txt");
    assert_eq!(
        csv::header(true),
        format!("{}\n", theirs.lines().next().unwrap())
    );
}

fn mask_typed(text: &str) -> String {
    text.lines()
        .map(|l| {
            let pos: Option<usize> = l.split('.').nth(3).and_then(|p| p.parse().ok());
            match pos {
                Some(p)
                    if VOLATILE_CSV
                        .iter()
                        .any(|v| (*v < 103 && *v == p) || (*v > 103 && *v - 1 == p)) =>
                {
                    l.rsplit_once(':')
                        .map_or(l.to_owned(), |(h, _)| format!("{h}:#"))
                }
                _ => l.to_owned(),
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn show_stat_typed_matches_haproxy() {
    let theirs = data("show-stat-typed.txt");
    let ours = typed::render_typed(&recorded_rows(), true) + "\n";
    assert_eq!(mask_typed(&ours), mask_typed(&theirs));
}

#[test]
fn show_stat_json_has_haproxy_shape() {
    let theirs = data("show-stat-json.txt");
    let ours = typed::render_json(&recorded_rows(), true) + "\n";
    // Same objects in the same order: compare with every value masked.
    let strip = |s: &str| {
        s.split("\"value\":{")
            .map(|part| {
                part.split_once("\"value\":")
                    .map_or(part.to_owned(), |(a, _)| a.to_owned())
            })
            .collect::<Vec<_>>()
            .join("|")
    };
    assert_eq!(strip(&ours), strip(&theirs));
}

const VOLATILE_INFO: &[&str] = &[
    "Pid",
    "Uptime",
    "Uptime_sec",
    "PoolAlloc_MB",
    "PoolUsed_MB",
    "Ulimit-n",
    "Maxsock",
    "Maxconn",
    "Hard_maxconn",
    "CumConns",
    "CumReq",
    "MaxConnRate",
    "MaxSessRate",
    "Tasks",
    "Run_queue",
    "Idle_pct",
    "Jobs",
    "TotalBytesOut",
    "BytesOutRate",
    "PoolAlloc_bytes",
    "PoolUsed_bytes",
    "Start_time_sec",
];

fn mask_info(text: &str) -> String {
    text.lines()
        .map(|l| match l.split_once(": ") {
            Some((k, _)) if VOLATILE_INFO.contains(&k) => format!("{k}: #"),
            _ => l.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn show_info_matches_haproxy() {
    assert_eq!(
        mask_info(&(recorded_info().render() + "\n")),
        mask_info(&data("show-info.txt"))
    );
}

#[test]
fn show_info_typed_matches_haproxy() {
    let mask = |t: &str| {
        t.lines()
            .map(|l| {
                let name = l.split('.').nth(1).unwrap_or("");
                if VOLATILE_INFO.contains(&name) {
                    l.rsplit_once(':')
                        .map_or(l.to_owned(), |(h, _)| h.to_owned())
                } else {
                    l.to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(
        mask(&(recorded_info().render_typed() + "\n")),
        mask(&data("show-info-typed.txt"))
    );
    let _ = info::Info::default();
}

/// Masks `srv_time_since_last_change` (column 9).
pub(crate) fn mask_state(text: &str) -> String {
    text.lines()
        .map(|l| {
            if l.starts_with('#') || !l.contains(' ') {
                return l.to_owned();
            }
            l.split(' ')
                .enumerate()
                .map(|(i, f)| if i == 9 { "#" } else { f })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn show_servers_state_matches_haproxy() {
    let snap = recorded_snapshot();
    let ours = servers_state::render(&snap, None).unwrap() + "\n";
    assert_eq!(
        mask_state(&ours),
        mask_state(&data("show-servers-state.txt"))
    );
    let ours = servers_state::render(&snap, Some("be_rr")).unwrap() + "\n";
    assert_eq!(
        mask_state(&ours),
        mask_state(&data("show-servers-state-be_rr.txt"))
    );
    assert!(servers_state::render(&snap, Some("nosuch")).is_none());
}

#[test]
fn show_stat_filters_match_haproxy() {
    let snap = recorded_snapshot();
    let cases = [
        ("show-stat-filter-be_rr-servers.txt", "be_rr 4 -1"),
        ("show-stat-filter-backends.txt", "-1 2 -1"),
        ("show-stat-up.txt", "up"),
        ("show-stat-no-maint.txt", "no-maint"),
    ];
    for (file, args) in cases {
        let mut cli = haproxy_stats::cli::Cli::new(haproxy_stats::cli::Level::Admin);
        let mut model = crate::model::Model::new();
        model.snap = snap.clone();
        let out = cli.feed(format!("show stat {args}\n").as_bytes(), &mut model);
        assert_eq!(
            mask_csv(&String::from_utf8(out).unwrap()),
            mask_csv(&data(file)),
            "{file}"
        );
    }
}

#[test]
fn show_info_json_matches_haproxy() {
    let mask = |t: &str| {
        let mut out = String::new();
        for obj in t.split("{\"field\"") {
            let name = obj
                .split("\"name\":\"")
                .nth(1)
                .and_then(|s| s.split('"').next())
                .unwrap_or("");
            if VOLATILE_INFO.contains(&name) {
                out.push_str(obj.rsplit_once("\"value\":").map_or(obj, |(h, _)| h));
            } else {
                out.push_str(obj);
            }
            out.push('|');
        }
        out
    };
    assert_eq!(
        mask(&(recorded_info().render_json() + "\n")),
        mask(&data("show-info-json.txt"))
    );
}
