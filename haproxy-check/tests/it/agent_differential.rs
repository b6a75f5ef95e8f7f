//! Agent replies and CLI maintenance replayed against tests/data/haproxy-2.6/agent.txt, recorded
//! from real HAProxy 2.6 by record_agent.py.

use std::time::{Duration, Instant};

use haproxy_check::{AgentReply, CheckOutcome, CheckParams, CheckStatus, Health};

const RECORDING: &str = include_str!("../data/haproxy-2.6/agent.txt");
const TICKS_PER_PHASE: usize = 3;

fn row(h: &Health, agent: &CheckOutcome) -> String {
    [
        h.status_text(true),
        h.check_status_text(),
        h.check_health_text(),
        agent.status.name().to_owned(),
        agent.status.description().to_owned(),
        agent.info.clone(),
    ]
    .join("|")
}

#[test]
fn agent_and_cli_effects_match_haproxy() {
    let phases: Vec<(String, String)> = RECORDING
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("# phases: "))
        .expect("phase line")
        .split(" | ")
        .map(|p| match p.split_once(" + ") {
            Some((reply, cmd)) => (reply.to_owned(), cmd.to_owned()),
            None => (p.to_owned(), String::new()),
        })
        .collect();
    // The weight column is the balancer's business (the caller applies `NN%`), so it is left out.
    // Rows that differed only by weight collapse once it is dropped.
    let mut want: Vec<String> = Vec::new();
    for l in RECORDING.lines().filter(|l| !l.starts_with('#')) {
        let r = l.rsplit_once('|').expect("weight column").0;
        let same =
            |a: &str, b: &str| a.split_once('|').map(|x| x.1) == b.split_once('|').map(|x| x.1);
        if !want.last().is_some_and(|w| same(w, r)) {
            want.push(r.to_owned());
        }
    }

    let now = Instant::now();
    let mut h = Health::new(CheckParams::default(), now);
    let mut agent = CheckOutcome::new(CheckStatus::Init, None, "", Duration::ZERO);
    let ok = CheckOutcome::new(CheckStatus::L4Ok, None, "", Duration::ZERO);
    let mut got: Vec<String> = Vec::new();
    let push = |p: usize, r: String, got: &mut Vec<String>| {
        if got
            .last()
            .and_then(|l| l.split_once('|'))
            .map(|(_, rest)| rest)
            != Some(r.as_str())
        {
            got.push(format!("{p}|{r}"));
        }
    };
    for (p, (reply, cmd)) in phases.iter().enumerate() {
        match cmd.as_str() {
            "disable server be_agent/s" => {
                h.set_maint(true, now);
                push(p, row(&h, &agent), &mut got);
            }
            "enable server be_agent/s" => {
                h.set_maint(false, now);
                push(p, row(&h, &agent), &mut got);
            }
            _ => {}
        }
        for _ in 0..TICKS_PER_PHASE {
            if !h.is_maint() {
                h.record(ok.clone(), now);
                push(p, row(&h, &agent), &mut got);
            }
            let r = AgentReply::parse(reply);
            agent = r.outcome(Duration::ZERO);
            r.apply(&mut h, now);
            push(p, row(&h, &agent), &mut got);
        }
    }
    assert_eq!(got, want);
}
