use std::time::{Duration, Instant};

use proptest::prelude::*;

use super::*;

fn ok() -> CheckOutcome {
    CheckOutcome::new(CheckStatus::L4Ok, None, "", Duration::from_millis(1))
}

fn refused() -> CheckOutcome {
    CheckOutcome::new(
        CheckStatus::L4Con,
        None,
        "Connection refused",
        Duration::ZERO,
    )
}

fn row(h: &Health) -> (String, String, u32) {
    (h.status_text(false), h.check_status_text(), h.health())
}

#[test]
fn starts_up_one_of_three_with_ini() {
    let t0 = Instant::now();
    let h = Health::new(CheckParams::default(), t0);
    assert_eq!(row(&h), ("UP 1/3".into(), "INI".into(), 2));
    assert!(h.is_usable());
    assert!(h.is_transitional());
}

#[test]
fn first_failure_takes_it_down_at_once() {
    let t0 = Instant::now();
    let mut h = Health::new(CheckParams::default(), t0);
    assert_eq!(h.record(refused(), t0), Some(Transition::Down));
    assert_eq!(row(&h), ("DOWN".into(), "L4CON".into(), 0));
    assert_eq!((h.chkfail(), h.chkdown()), (1, 1));
    assert_eq!(h.last().info, "Connection refused");
}

#[test]
fn first_success_goes_fully_up() {
    let t0 = Instant::now();
    let mut h = Health::new(CheckParams::default(), t0);
    assert_eq!(h.record(ok(), t0), None);
    assert_eq!(row(&h), ("UP".into(), "L4OK".into(), 4));
}

#[test]
fn observed_fall_sequence_rise2_fall3() {
    // Reference §3.3: UP (4) -> UP 2/3 (3) -> UP 1/3 (2) -> DOWN (0).
    let t0 = Instant::now();
    let mut h = Health::new(CheckParams::default(), t0);
    h.record(ok(), t0);
    let mut seen = vec![(h.status_text(false), h.health())];
    for _ in 0..3 {
        h.record(refused(), t0);
        seen.push((h.status_text(false), h.health()));
    }
    let want: Vec<(String, u32)> = [("UP", 4), ("UP 2/3", 3), ("UP 1/3", 2), ("DOWN", 0)]
        .iter()
        .map(|(s, n)| ((*s).to_owned(), *n))
        .collect();
    assert_eq!(seen, want);
    assert_eq!((h.chkfail(), h.chkdown()), (3, 1));
}

#[test]
fn observed_rise_sequence_rise2_fall3() {
    // Reference §3.3: DOWN (0) -> DOWN 1/2 (1) -> UP (4).
    let t0 = Instant::now();
    let mut h = Health::new(CheckParams::default(), t0);
    h.record(refused(), t0);
    assert_eq!(h.record(ok(), t0), None);
    assert_eq!(row(&h), ("DOWN 1/2".into(), "L4OK".into(), 1));
    assert_eq!(h.record(ok(), t0), Some(Transition::Up));
    assert_eq!(row(&h), ("UP".into(), "L4OK".into(), 4));
}

#[test]
fn failure_while_rising_counts_and_resets() {
    let t0 = Instant::now();
    let mut h = Health::new(CheckParams::default(), t0);
    h.record(refused(), t0);
    h.record(ok(), t0);
    assert_eq!(h.record(refused(), t0), None);
    assert_eq!(h.health(), 0);
    assert_eq!(h.chkfail(), 2);
    // Failures while at 0 are not counted (HAProxy checks health > 0).
    h.record(refused(), t0);
    assert_eq!(h.chkfail(), 2);
}

#[test]
fn disable_on_404_goes_nolb_and_back() {
    let t0 = Instant::now();
    let mut h = Health::new(CheckParams::default(), t0);
    h.record(ok(), t0);
    let c404 = CheckOutcome::new(CheckStatus::L7OkC, Some(404), "Not Found", Duration::ZERO);
    assert_eq!(h.record(c404, t0), Some(Transition::NoLb));
    assert_eq!(row(&h), ("NOLB".into(), "L7OKC".into(), 4));
    assert_eq!(h.check_code_text(), "404");
    assert!(h.is_up() && !h.is_usable());
    let c200 = CheckOutcome::new(CheckStatus::L7Ok, Some(200), "OK", Duration::ZERO);
    assert_eq!(h.record(c200, t0), Some(Transition::Up));
    assert_eq!(h.status_text(false), "UP");
}

#[test]
fn maint_blanks_check_columns_and_leaves_at_rise() {
    let t0 = Instant::now();
    let mut h = Health::new(CheckParams::default(), t0);
    h.record(ok(), t0);
    assert_eq!(h.set_maint(true, t0), Some(Transition::EnterMaint));
    assert_eq!(h.status_text(false), "MAINT");
    assert_eq!(h.check_status_text(), "");
    assert_eq!(h.check_desc_text(), "");
    assert_eq!(h.chkdown(), 1);
    // Checks finishing during maint change nothing.
    assert_eq!(h.record(refused(), t0), None);
    assert_eq!(h.set_maint(false, t0), Some(Transition::LeaveMaint));
    assert_eq!(h.status_text(false), "UP 1/3");
    assert_eq!(h.health(), 2);
}

#[test]
fn maint_then_drain_shows_drain_one_of_three() {
    // Reference §3.3: `state maint` then `state drain` showed `DRAIN 1/3`, then full health.
    let t0 = Instant::now();
    let mut h = Health::new(CheckParams::default(), t0);
    h.record(ok(), t0);
    h.set_maint(true, t0);
    h.set_drain(true, t0);
    h.set_maint(false, t0);
    assert_eq!(h.status_text(false), "DRAIN 1/3");
    h.record(ok(), t0);
    assert_eq!(h.status_text(false), "DRAIN");
    assert_eq!(h.status_text(true), "DRAIN (agent)");
}

#[test]
fn lastchg_and_downtime_follow_the_clock() {
    let t0 = Instant::now();
    let mut h = Health::new(CheckParams::default(), t0);
    let t1 = t0 + Duration::from_secs(10);
    h.record(refused(), t1);
    let t2 = t1 + Duration::from_secs(5);
    assert_eq!(h.lastchg(t2), Duration::from_secs(5));
    assert_eq!(h.downtime(t2), Duration::from_secs(5));
    h.record(ok(), t2);
    h.record(ok(), t2);
    let t3 = t2 + Duration::from_secs(7);
    assert_eq!(h.downtime(t3), Duration::from_secs(5));
    assert_eq!(h.lastchg(t3), Duration::from_secs(7));
}

#[test]
fn star_prefix_while_checking() {
    let t0 = Instant::now();
    let mut h = Health::new(CheckParams::default(), t0);
    h.set_checking(true);
    assert_eq!(h.check_status_text(), "* INI");
    h.record(ok(), t0);
    assert_eq!(h.check_status_text(), "L4OK");
    // Recorded on 2.6.12: a running HTTP check shows `* L7STS` with check_code 0.
    let c503 = CheckOutcome::new(
        CheckStatus::L7Sts,
        Some(503),
        "Service Unavailable",
        Duration::ZERO,
    );
    h.record(c503, t0);
    assert_eq!(h.check_code_text(), "503");
    h.set_checking(true);
    assert_eq!(
        (h.check_status_text().as_str(), h.check_code_text().as_str()),
        ("* L7STS", "0")
    );
}

#[test]
fn tracking_copies_state_and_maint_via() {
    let t0 = Instant::now();
    let mut src = Health::new(CheckParams::default(), t0);
    let mut me = Health::new(CheckParams::default(), t0);
    src.record(ok(), t0);
    assert_eq!(me.follow(&src, "b1/s", t0), None);
    src.record(refused(), t0);
    src.record(refused(), t0);
    src.record(refused(), t0);
    assert_eq!(me.follow(&src, "b1/s", t0), Some(Transition::Down));
    src.set_maint(true, t0);
    assert_eq!(me.follow(&src, "b1/s", t0), Some(Transition::EnterMaint));
    assert_eq!(me.status_text(false), "MAINT (via b1/s)");
}

#[test]
fn disabled_server_starts_in_maint() {
    let h = Health::new_disabled(CheckParams::default(), Instant::now());
    assert_eq!(h.status_text(false), "MAINT");
    assert!(!h.is_up());
}

#[test]
fn info_is_cut_at_the_limit() {
    let long = "é".repeat(MAX_INFO_LEN);
    let o = CheckOutcome::new(CheckStatus::L7Rsp, None, long, Duration::ZERO);
    assert!(o.info.len() <= MAX_INFO_LEN);
    let exact = "a".repeat(MAX_INFO_LEN);
    let o = CheckOutcome::new(CheckStatus::L7Rsp, None, exact.clone(), Duration::ZERO);
    assert_eq!(o.info, exact);
}

proptest! {
    #[test]
    fn health_stays_in_range_and_never_flips_early(
        rise in 1u32..6, fall in 1u32..6, steps in prop::collection::vec(any::<bool>(), 0..60)
    ) {
        let t0 = Instant::now();
        let p = CheckParams::new(rise, fall).unwrap();
        let mut h = Health::new(p, t0);
        h.record(ok(), t0);
        let mut run_ok = 0u32;
        let mut run_bad = 0u32;
        for good in steps {
            let was_up = h.is_up();
            let t = h.record(if good { ok() } else { refused() }, t0);
            if good { run_ok += 1; run_bad = 0; } else { run_bad += 1; run_ok = 0; }
            prop_assert!(h.health() <= p.max_health());
            match t {
                Some(Transition::Down) => {
                    prop_assert!(was_up);
                    prop_assert!(run_bad >= fall);
                }
                Some(Transition::Up) => {
                    prop_assert!(!was_up);
                    prop_assert!(run_ok >= rise);
                }
                None => prop_assert_eq!(was_up, h.is_up()),
                Some(other) => prop_assert!(false, "unexpected {:?}", other),
            }
            prop_assert_eq!(h.is_up(), h.health() >= rise);
        }
    }
}

#[test]
fn agent_down_holds_the_server_down() {
    let t0 = Instant::now();
    let mut h = Health::new(CheckParams::default(), t0);
    h.record(ok(), t0);
    assert_eq!(h.set_agent_down(true, t0), Some(Transition::Down));
    assert_eq!(h.status_text(true), "DOWN (agent)");
    assert_eq!(h.record(ok(), t0), None);
    assert!(!h.is_up());
    assert_eq!(h.set_agent_down(false, t0), Some(Transition::Up));
    assert_eq!(h.status_text(true), "UP");
}
