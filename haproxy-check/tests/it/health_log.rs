//! `option log-health-checks` lines replayed against tests/data/haproxy-2.6/health-log.txt.

use std::time::{Duration, Instant};

use haproxy_check::{
    BackendCounts, CheckOutcome, CheckParams, CheckStatus, Health, Transition, message,
};

use crate::peer::normalize;

const RECORDING: &str = include_str!("../data/haproxy-2.6/health-log.txt");

#[test]
fn health_check_lines_match_haproxy() {
    // record_healthlog.py: listening, then refused long enough for 3+ checks, then listening again.
    let ok = CheckOutcome::new(CheckStatus::L4Ok, None, "", Duration::ZERO);
    let refused = CheckOutcome::new(
        CheckStatus::L4Con,
        None,
        "Connection refused",
        Duration::ZERO,
    );
    let script = [
        &ok, &ok, &refused, &refused, &refused, &refused, &ok, &ok, &ok,
    ];
    let now = Instant::now();
    let mut h = Health::new(CheckParams::default(), now);
    let mut got = Vec::new();
    for o in script {
        let before = h.health();
        let t = h.record(o.clone(), now);
        if h.health() != before {
            let p = h.params();
            got.push(message::health_check_step(
                "be",
                "s",
                false,
                h.last(),
                h.health(),
                p.rise(),
                p.fall(),
                false,
            ));
        }
        let n = BackendCounts {
            active: u32::from(h.is_usable()),
            ..Default::default()
        };
        match t {
            Some(Transition::Down) => {
                got.push(message::server_down_short("be", "s", false, &n));
                got.push(message::backend_no_server("be"));
            }
            Some(Transition::Up) => got.push(message::server_up_short("be", "s", false, &n)),
            _ => {}
        }
    }
    let got: Vec<String> = got.iter().map(|l| normalize(l)).collect();
    let want: Vec<String> = RECORDING.lines().map(normalize).collect();
    assert_eq!(got, want);
}
