//! Agent checks (`agent-check`): the reply grammar and how it changes a server (reference §3.4).
//!
//! The agent answers one line, ended by CR or LF; words are separated by spaces, tabs or commas.

use std::time::{Duration, Instant};

use crate::{CheckOutcome, CheckStatus, Health, Transition};

/// Largest agent reply line kept, in bytes (HAProxy reads at most one buffer; the line is cut here).
pub const MAX_AGENT_LINE: usize = 1024;

/// The operational verdict words of an agent reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentOp {
    /// `up`.
    Up,
    /// `down`, `fail` or `stopped`; the word as written.
    Down(String),
}

/// The administrative words of an agent reply. They stick until changed (`ready` undoes them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgentAdmin {
    /// `ready`: leave drain and maintenance.
    Ready,
    /// `drain`.
    Drain,
    /// `maint`.
    Maint,
}

/// A parsed agent reply.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgentReply {
    /// `up` / `down` / `fail` / `stopped`.
    pub op: Option<AgentOp>,
    /// `ready` / `drain` / `maint`.
    pub admin: Option<AgentAdmin>,
    /// `NN%`: weight relative to the initial weight (0..=256 in HAProxy's range, capped there).
    pub weight_pct: Option<u32>,
    /// `maxconn:N`.
    pub maxconn: Option<u32>,
    /// The text after `#`, if any.
    pub reason: Option<String>,
}

/// Highest weight percentage accepted from an agent (HAProxy caps the weight at 256 times 100%).
pub const MAX_AGENT_WEIGHT_PCT: u32 = 25600;

impl AgentReply {
    /// Parses one reply line (anything after the first CR or LF is ignored; unknown words are skipped).
    pub fn parse(line: &str) -> Self {
        let line = line.split(['\r', '\n']).next().unwrap_or_default();
        let (words, reason) = match line.split_once('#') {
            Some((w, r)) => (w, Some(r.trim().to_owned())),
            None => (line, None),
        };
        let mut out = Self {
            reason: reason.filter(|r| !r.is_empty()),
            ..Self::default()
        };
        for w in words.split([' ', '\t', ',']).filter(|w| !w.is_empty()) {
            let lw = w.to_ascii_lowercase();
            match lw.as_str() {
                "up" => out.op = Some(AgentOp::Up),
                "down" | "fail" | "stopped" => out.op = Some(AgentOp::Down(lw.clone())),
                "ready" => out.admin = Some(AgentAdmin::Ready),
                "drain" => out.admin = Some(AgentAdmin::Drain),
                "maint" => out.admin = Some(AgentAdmin::Maint),
                _ => {
                    if let Some(v) = lw.strip_suffix('%').and_then(|p| p.parse::<u32>().ok()) {
                        out.weight_pct = Some(v.min(MAX_AGENT_WEIGHT_PCT));
                    } else if let Some(v) = lw
                        .strip_prefix("maxconn:")
                        .and_then(|n| n.parse::<u32>().ok())
                    {
                        out.maxconn = Some(v);
                    }
                }
            }
        }
        out
    }

    /// The agent check's own outcome: `L7OK` for `up`, `L7STS` for a down word, otherwise
    /// `CHECKED` ("No status change"); the info is the `last_agt` text (`via agent : up`).
    pub fn outcome(&self, duration: Duration) -> CheckOutcome {
        let (status, word) = match &self.op {
            Some(AgentOp::Up) => (CheckStatus::L7Ok, Some("up".to_owned())),
            Some(AgentOp::Down(w)) => (CheckStatus::L7Sts, Some(w.clone())),
            None => (CheckStatus::Checked, None),
        };
        let info = match (word, &self.reason) {
            (Some(w), Some(r)) => format!("via agent : {w} ({r})"),
            (Some(w), None) => format!("via agent : {w}"),
            (None, _) => String::new(),
        };
        CheckOutcome::new(status, None, info, duration)
    }

    /// Applies the reply to the server: op verdicts, then admin words (which stick until
    /// `ready`). Weight and maxconn are left to the caller (they belong to the balancer).
    pub fn apply(&self, health: &mut Health, now: Instant) -> Vec<Transition> {
        let mut out = Vec::new();
        match self.admin {
            Some(AgentAdmin::Ready) => {
                out.extend(health.set_maint(false, now));
                out.extend(health.set_drain(false, now));
            }
            Some(AgentAdmin::Drain) => out.extend(health.set_drain(true, now)),
            Some(AgentAdmin::Maint) => out.extend(health.set_maint(true, now)),
            None => {}
        }
        match self.op {
            Some(AgentOp::Up) => out.extend(health.set_agent_down(false, now)),
            Some(AgentOp::Down(_)) => out.extend(health.set_agent_down(true, now)),
            None => {}
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CheckParams;

    proptest::proptest! {
        #[test]
        fn parser_never_panics(line in "\\PC{0,200}") {
            let r = AgentReply::parse(&line);
            proptest::prop_assert!(r.weight_pct.is_none_or(|w| w <= MAX_AGENT_WEIGHT_PCT));
        }
    }

    #[test]
    fn grammar() {
        let r = AgentReply::parse("75%, maxconn:30\tdrain\r\nignored");
        assert_eq!(r.weight_pct, Some(75));
        assert_eq!(r.maxconn, Some(30));
        assert_eq!(r.admin, Some(AgentAdmin::Drain));
        let r = AgentReply::parse("DOWN #disk full\n");
        assert_eq!(r.op, Some(AgentOp::Down("down".into())));
        assert_eq!(r.reason.as_deref(), Some("disk full"));
        assert_eq!(
            r.outcome(Duration::ZERO).info,
            "via agent : down (disk full)"
        );
        let r = AgentReply::parse("up");
        assert_eq!(r.outcome(Duration::ZERO).info, "via agent : up");
        assert_eq!(r.outcome(Duration::ZERO).status, CheckStatus::L7Ok);
        assert_eq!(
            AgentReply::parse("50%").outcome(Duration::ZERO).status,
            CheckStatus::Checked
        );
        assert_eq!(
            AgentReply::parse("99999%").weight_pct,
            Some(MAX_AGENT_WEIGHT_PCT)
        );
        assert_eq!(AgentReply::parse("xyz"), AgentReply::default());
    }

    #[test]
    fn drain_sticks_until_ready() {
        // Reference §3.4: `75%` after `drain` stays `DRAIN (agent)`.
        let t0 = Instant::now();
        let mut h = Health::new(CheckParams::default(), t0);
        h.record(
            CheckOutcome::new(CheckStatus::L4Ok, None, "", Duration::ZERO),
            t0,
        );
        AgentReply::parse("drain").apply(&mut h, t0);
        assert_eq!(h.status_text(true), "DRAIN (agent)");
        AgentReply::parse("75%").apply(&mut h, t0);
        assert_eq!(h.status_text(true), "DRAIN (agent)");
        AgentReply::parse("up").apply(&mut h, t0);
        assert_eq!(h.status_text(true), "DRAIN (agent)");
        AgentReply::parse("ready").apply(&mut h, t0);
        assert_eq!(h.status_text(true), "UP");
    }

    #[test]
    fn maint_sticks_and_down_holds() {
        let t0 = Instant::now();
        let mut h = Health::new(CheckParams::default(), t0);
        assert_eq!(
            AgentReply::parse("maint").apply(&mut h, t0),
            vec![Transition::EnterMaint]
        );
        assert_eq!(AgentReply::parse("up 100%").apply(&mut h, t0), vec![]);
        assert_eq!(h.status_text(true), "MAINT");
        assert_eq!(
            AgentReply::parse("ready").apply(&mut h, t0),
            vec![Transition::LeaveMaint]
        );
        assert_eq!(
            AgentReply::parse("stopped").apply(&mut h, t0),
            vec![Transition::Down]
        );
        assert_eq!(h.status_text(true), "DOWN (agent)");
    }
}
