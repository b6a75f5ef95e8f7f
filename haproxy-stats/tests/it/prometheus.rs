//! The exporter text against the recording, and through a real Prometheus text parser.

use haproxy_stats::prometheus::{Scopes, render};

use crate::model::{http_body, recorded_info, recorded_snapshot};

fn recorded_body() -> String {
    http_body("prometheus.http").1
}

/// Sample values are masked: the exporter was queried later than `show stat`, after the stats
/// pages had been fetched, so counters of the stats proxies and timings moved.
fn mask_values(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| {
            if l.starts_with('#') {
                l.to_owned()
            } else {
                l.rsplit_once(' ').map_or(l, |(k, _)| k).to_owned()
            }
        })
        .collect()
}

#[test]
fn exporter_families_labels_and_order_match_haproxy() {
    let ours = render(&recorded_snapshot(), &recorded_info(), Scopes::default());
    let theirs = recorded_body();
    let (ours, theirs) = (mask_values(&ours), mask_values(&theirs));
    for (i, (a, b)) in ours.iter().zip(theirs.iter()).enumerate() {
        assert_eq!(a, b, "line {}", i + 1);
    }
    assert_eq!(ours.len(), theirs.len());
}

#[test]
fn exporter_values_that_did_not_move_match_haproxy() {
    let ours = render(&recorded_snapshot(), &recorded_info(), Scopes::default());
    let theirs = recorded_body();
    for line in [
        "haproxy_frontend_http_responses_total{proxy=\"fe_http\",code=\"5xx\"} 2",
        "haproxy_backend_agg_server_status{proxy=\"be_rr\",state=\"MAINT\"} 1",
        "haproxy_backend_agg_check_status{proxy=\"be_rr\",state=\"L4CON\"} 1",
        "haproxy_server_check_status{proxy=\"be_rr\",server=\"s1\",state=\"L7OK\"} 1",
        "haproxy_server_check_code{proxy=\"be_rr\",server=\"s3\"} 0",
        "haproxy_server_limit_sessions{proxy=\"be_rr\",server=\"bk\"} 50",
        "haproxy_server_status{proxy=\"be_rr\",server=\"s2\",state=\"MAINT\"} 1",
        "haproxy_backend_http_responses_total{proxy=\"be_empty\",code=\"5xx\"} 2",
        "haproxy_process_build_info{version=\"2.6.12-1+deb12u4\"} 1",
        "haproxy_process_current_zlib_memory NaN",
    ] {
        assert!(theirs.lines().any(|l| l == line), "recording lacks {line}");
        assert!(ours.lines().any(|l| l == line), "we lack {line}");
    }
}

#[test]
fn scope_query_selects_families() {
    let s = Scopes::from_query("scope=server&no-maint");
    assert!(s.server && !s.global && !s.frontend && !s.backend && s.no_maint);
    let text = render(&recorded_snapshot(), &recorded_info(), s);
    assert!(
        text.lines()
            .all(|l| l.starts_with("haproxy_server_") || l.starts_with("# "))
    );
    assert!(!text.contains("server=\"s2\""), "no-maint hides s2");
    assert_eq!(Scopes::from_query(""), Scopes::default());
}

/// Parses our output with the `prometheus_client` Python package's text parser. Skipped with a
/// message when python3 or the package is missing, unless CI=true.
#[test]
fn exporter_output_parses_with_prometheus_client() {
    let probe = std::process::Command::new("python3")
        .args(["-c", "import prometheus_client"])
        .output();
    let available = probe.as_ref().is_ok_and(|o| o.status.success());
    if !available {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but python3 with prometheus_client is missing (pip install prometheus-client)"
        );
        eprintln!("skipped: python3 with prometheus_client not available");
        return;
    }
    let text = render(&recorded_snapshot(), &recorded_info(), Scopes::default());
    let script = "import sys\nfrom prometheus_client.parser import text_string_to_metric_families as p\n\
fams = list(p(sys.stdin.read()))\nprint(len(fams), sum(len(f.samples) for f in fams))\n";
    let mut child = std::process::Command::new("python3")
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "parser failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let families = text.lines().filter(|l| l.starts_with("# TYPE ")).count();
    let samples = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .count();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("{families} {samples}")
    );
}
