//! The rise/fall health state machine of one server, without I/O.
//!
//! Follows HAProxy 2.6 (`set_server_check_status()` in src/check.c, `srv_status` in
//! src/stats.c) and the sequences observed in the reference (§3.3).

use std::time::{Duration, Instant};

use crate::{CheckParams, CheckResult, CheckStatus};

/// Largest `info` (last_chk) text kept from a check, in bytes; longer text is cut.
pub const MAX_INFO_LEN: usize = 256;

/// The operational state HAProxy tracks for a server (`srv_op_state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OpState {
    /// Down (`SRV_ST_STOPPED`, 0).
    Stopped,
    /// Up and taking traffic (`SRV_ST_RUNNING`, 2).
    Running,
    /// Up but taking no new load-balanced traffic: NOLB (`SRV_ST_STOPPING`, 3).
    Stopping,
}

impl OpState {
    /// The number HAProxy writes in `show servers state` `srv_op_state`.
    pub fn number(self) -> u8 {
        match self {
            Self::Stopped => 0,
            Self::Running => 2,
            Self::Stopping => 3,
        }
    }
}

/// A change of operational state worth logging and acting upon.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Transition {
    /// The server went DOWN (leave the rotation).
    Down,
    /// The server came UP (rejoin the rotation).
    Up,
    /// The server entered NOLB (`disable-on-404`): keep sessions, no new balanced traffic.
    NoLb,
    /// The server entered forced maintenance.
    EnterMaint,
    /// The server left forced maintenance (it is UP with health = rise).
    LeaveMaint,
    /// The server entered forced drain.
    EnterDrain,
    /// The server left forced drain.
    LeaveDrain,
}

/// The outcome of one finished check, as a probe reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckOutcome {
    /// The status (`check_status`).
    pub status: CheckStatus,
    /// The code (`check_code`): HTTP status, SMTP code, ... when the status carries one.
    pub code: Option<u32>,
    /// The detail text (`last_chk`), e.g. `Connection refused` or `Service Unavailable`.
    pub info: String,
    /// How long the check took (`check_duration`).
    pub duration: Duration,
}

impl CheckOutcome {
    /// Builds an outcome, cutting `info` to [`MAX_INFO_LEN`] bytes on a character boundary.
    pub fn new(
        status: CheckStatus,
        code: Option<u32>,
        info: impl Into<String>,
        duration: Duration,
    ) -> Self {
        let mut info = info.into();
        if info.len() > MAX_INFO_LEN {
            let mut cut = MAX_INFO_LEN;
            while !info.is_char_boundary(cut) {
                cut = cut.saturating_sub(1);
            }
            info.truncate(cut);
        }
        Self {
            status,
            code,
            info,
            duration,
        }
    }
}

/// The health of one checked server: counter, operational and admin state, counters, last check.
#[derive(Debug, Clone)]
pub struct Health {
    params: CheckParams,
    health: u32,
    op: OpState,
    maint: bool,
    maint_via: Option<String>,
    drain: bool,
    agent_down: bool,
    checking: bool,
    last: CheckOutcome,
    has_result: bool,
    chkfail: u64,
    chkdown: u64,
    last_change: Instant,
    down_time: Duration,
}

impl Health {
    /// A server as HAProxy starts it: UP with health = rise, status INI (`UP 1/3` for rise 2 fall 3).
    pub fn new(params: CheckParams, now: Instant) -> Self {
        Self {
            params,
            health: params.rise(),
            op: OpState::Running,
            maint: false,
            maint_via: None,
            drain: false,
            agent_down: false,
            checking: false,
            last: CheckOutcome::new(CheckStatus::Init, None, "", Duration::ZERO),
            has_result: false,
            chkfail: 0,
            chkdown: 0,
            last_change: now,
            down_time: Duration::ZERO,
        }
    }

    /// A server configured `disabled`: starts in MAINT.
    pub fn new_disabled(params: CheckParams, now: Instant) -> Self {
        let mut h = Self::new(params, now);
        h.maint = true;
        h.op = OpState::Stopped;
        h.health = 0;
        h
    }

    /// The parameters.
    pub fn params(&self) -> &CheckParams {
        &self.params
    }

    /// The health counter (`check_health`), 0..=rise+fall-1.
    pub fn health(&self) -> u32 {
        self.health
    }

    /// The operational state.
    pub fn op_state(&self) -> OpState {
        self.op
    }

    /// Whether the server is in forced maintenance (or tracks one that is).
    pub fn is_maint(&self) -> bool {
        self.maint || self.maint_via.is_some()
    }

    /// Whether the server is draining (CLI/`drain` or agent).
    pub fn is_drain(&self) -> bool {
        self.drain
    }

    /// Whether the server may receive load-balanced traffic (running, not drained, not in maint).
    pub fn is_usable(&self) -> bool {
        !self.is_maint() && self.op == OpState::Running && !self.is_drain()
    }

    /// Whether the server counts as up (running or NOLB, not in maint).
    pub fn is_up(&self) -> bool {
        !self.is_maint() && self.op != OpState::Stopped
    }

    /// The last check's outcome (status INI until a check finishes).
    pub fn last(&self) -> &CheckOutcome {
        &self.last
    }

    /// `chkfail`: failed checks counted by HAProxy (those that lowered a non-zero health).
    pub fn chkfail(&self) -> u64 {
        self.chkfail
    }

    /// `chkdown`: UP to DOWN transitions (entering maintenance counts too).
    pub fn chkdown(&self) -> u64 {
        self.chkdown
    }

    /// `lastchg`: time since the last state change.
    pub fn lastchg(&self, now: Instant) -> Duration {
        now.saturating_duration_since(self.last_change)
    }

    /// `downtime`: total time spent DOWN, including the current DOWN period.
    pub fn downtime(&self, now: Instant) -> Duration {
        if self.op == OpState::Stopped {
            self.down_time.saturating_add(self.lastchg(now))
        } else {
            self.down_time
        }
    }

    /// Marks a check as in flight (the CSV shows `* ` before the status) or finished.
    pub fn set_checking(&mut self, checking: bool) {
        self.checking = checking;
    }

    /// Whether a check is in flight.
    pub fn is_checking(&self) -> bool {
        self.checking
    }

    /// Whether the counter sits between its ends (a transitional or not-yet-checked state that
    /// uses `fastinter`, as HAProxy's `srv_getinter()`).
    pub fn is_transitional(&self) -> bool {
        self.health != 0 && self.health != self.params.max_health()
    }

    /// Feeds a finished check; returns the operational transition it caused, if any.
    pub fn record(&mut self, outcome: CheckOutcome, now: Instant) -> Option<Transition> {
        self.checking = false;
        let result = outcome.status.result();
        if result != CheckResult::Neutral {
            self.has_result = true;
        }
        self.last = outcome;
        if self.is_maint() {
            return None;
        }
        let max = self.params.max_health();
        let rise = self.params.rise();
        match result {
            CheckResult::Neutral => {}
            CheckResult::Failed => {
                if self.health > 0 {
                    self.chkfail = self.chkfail.saturating_add(1);
                    self.health -= 1;
                    if self.health < rise {
                        self.health = 0;
                    }
                }
            }
            CheckResult::Passed | CheckResult::CondPass => {
                if self.health < max {
                    self.health += 1;
                    if self.health >= rise {
                        self.health = max;
                    }
                }
            }
        }
        self.apply_counter(result, now)
    }

    /// Forces the counter to `health` (passive-health `fail-check`/`sudden-death`/`mark-down`
    /// and agent `down`/`up` use it); returns the transition it caused.
    pub fn force_health(&mut self, health: u32, now: Instant) -> Option<Transition> {
        if self.is_maint() {
            return None;
        }
        self.health = health.min(self.params.max_health());
        self.has_result = true;
        self.apply_counter(CheckResult::Neutral, now)
    }

    fn apply_counter(&mut self, result: CheckResult, now: Instant) -> Option<Transition> {
        let rise = self.params.rise();
        if self.health < rise || self.agent_down {
            if self.op != OpState::Stopped {
                self.chkdown = self.chkdown.saturating_add(1);
                self.set_op(OpState::Stopped, now);
                return Some(Transition::Down);
            }
            return None;
        }
        match (self.op, result) {
            (OpState::Stopped, CheckResult::CondPass)
            | (OpState::Running, CheckResult::CondPass) => {
                let was_down = self.op == OpState::Stopped;
                self.set_op(OpState::Stopping, now);
                Some(if was_down {
                    Transition::Up
                } else {
                    Transition::NoLb
                })
            }
            (OpState::Stopped, _) => {
                self.set_op(OpState::Running, now);
                Some(Transition::Up)
            }
            (OpState::Stopping, CheckResult::Passed) => {
                self.set_op(OpState::Running, now);
                Some(Transition::Up)
            }
            _ => None,
        }
    }

    fn set_op(&mut self, op: OpState, now: Instant) {
        if self.op == OpState::Stopped && op != OpState::Stopped {
            self.down_time = self.down_time.saturating_add(self.lastchg(now));
        }
        self.op = op;
        self.last_change = now;
    }

    /// Enters (`true`) or leaves (`false`) forced maintenance (`disable server`, `set server state maint`).
    ///
    /// Leaving puts the server UP with health = rise, as HAProxy does.
    pub fn set_maint(&mut self, on: bool, now: Instant) -> Option<Transition> {
        if on == self.maint {
            return None;
        }
        self.maint = on;
        if on {
            if self.op != OpState::Stopped {
                self.chkdown = self.chkdown.saturating_add(1);
            }
            self.set_op(OpState::Stopped, now);
            Some(Transition::EnterMaint)
        } else {
            if self.maint_via.is_none() {
                self.health = self.params.rise();
                self.set_op(OpState::Running, now);
            }
            Some(Transition::LeaveMaint)
        }
    }

    /// Enters or leaves forced drain (`set server state drain|ready`).
    pub fn set_drain(&mut self, on: bool, now: Instant) -> Option<Transition> {
        if on == self.drain {
            return None;
        }
        self.drain = on;
        if self.maint {
            // `state maint` then `state drain`: leaving maint to drain, health = rise.
            return None;
        }
        self.last_change = now;
        Some(if on {
            Transition::EnterDrain
        } else {
            Transition::LeaveDrain
        })
    }

    /// Applies an agent's `down`/`fail`/`stopped` (`true`) or `up` (`false`) verdict.
    ///
    /// While the agent says down, passing checks cannot bring the server up.
    pub fn set_agent_down(&mut self, down: bool, now: Instant) -> Option<Transition> {
        if down == self.agent_down {
            return None;
        }
        self.agent_down = down;
        if self.is_maint() {
            return None;
        }
        if down {
            if self.op != OpState::Stopped {
                self.chkdown = self.chkdown.saturating_add(1);
                self.set_op(OpState::Stopped, now);
                return Some(Transition::Down);
            }
            None
        } else if self.health >= self.params.rise() && self.op == OpState::Stopped {
            self.set_op(OpState::Running, now);
            Some(Transition::Up)
        } else {
            None
        }
    }

    /// Whether the agent last said the server is down.
    pub fn is_agent_down(&self) -> bool {
        self.agent_down
    }

    /// Copies the state of the tracked server `source` (`track [px/]srv`), named `via` for display.
    pub fn follow(&mut self, source: &Health, via: &str, now: Instant) -> Option<Transition> {
        let was_up = self.is_up();
        let was_maint = self.is_maint();
        self.maint_via = if source.is_maint() {
            Some(via.to_owned())
        } else {
            None
        };
        self.health = source.health;
        self.last = source.last.clone();
        self.has_result = source.has_result;
        if self.op != source.op {
            if source.op == OpState::Stopped && self.op != OpState::Stopped {
                self.chkdown = self.chkdown.saturating_add(1);
            }
            self.set_op(source.op, now);
        }
        match (was_maint, self.is_maint(), was_up, self.is_up()) {
            (false, true, _, _) => Some(Transition::EnterMaint),
            (true, false, _, _) => Some(Transition::LeaveMaint),
            (_, _, true, false) => Some(Transition::Down),
            (_, _, false, true) => Some(Transition::Up),
            _ => None,
        }
    }

    /// The CSV `status` column: `UP`, `UP 2/3`, `DOWN 1/2`, `NOLB`, `DRAIN`, `MAINT (via b/s)`, ...
    ///
    /// `agent_enabled` selects `DRAIN (agent)` as HAProxy's `srv_status` does.
    pub fn status_text(&self, agent_enabled: bool) -> String {
        if let Some(via) = &self.maint_via {
            return format!("MAINT (via {via})");
        }
        if self.maint {
            return "MAINT".to_owned();
        }
        let rise = self.params.rise();
        let fall = self.params.fall();
        let going_down = self.health < self.params.max_health();
        match self.op {
            OpState::Running => {
                let x = self.health.saturating_sub(rise).saturating_add(1);
                if self.is_drain() {
                    if agent_enabled {
                        "DRAIN (agent)".to_owned()
                    } else if going_down {
                        format!("DRAIN {x}/{fall}")
                    } else {
                        "DRAIN".to_owned()
                    }
                } else if going_down {
                    format!("UP {x}/{fall}")
                } else {
                    "UP".to_owned()
                }
            }
            OpState::Stopping => {
                if going_down {
                    let x = self.health.saturating_sub(rise).saturating_add(1);
                    format!("NOLB {x}/{fall}")
                } else {
                    "NOLB".to_owned()
                }
            }
            OpState::Stopped => {
                if agent_enabled && self.agent_down {
                    "DOWN (agent)".to_owned()
                } else if self.health == 0 {
                    "DOWN".to_owned()
                } else {
                    format!("DOWN {}/{rise}", self.health)
                }
            }
        }
    }

    /// The CSV `check_status` column: the status name, `* `-prefixed while a check runs;
    /// empty in maintenance.
    pub fn check_status_text(&self) -> String {
        if self.is_maint() {
            return String::new();
        }
        let prefix = if self.checking { "* " } else { "" };
        format!("{prefix}{}", self.last.status.name())
    }

    /// The CSV `check_code` column (empty unless the status carries a code).
    pub fn check_code_text(&self) -> String {
        if self.last.status.has_code() && !self.is_maint() {
            // HAProxy prints 0 when a coded status has no code (redis-check, tcp-check L7OK), and
            // while a check runs (it resets the code when the check starts; observed on 2.6.12).
            if self.checking {
                return "0".to_owned();
            }
            self.last.code.unwrap_or(0).to_string()
        } else {
            String::new()
        }
    }

    /// The CSV `check_desc` column.
    pub fn check_desc_text(&self) -> &'static str {
        if self.is_maint() {
            return "";
        }
        self.last.status.description()
    }

    /// The CSV `check_health` column (empty in maintenance).
    pub fn check_health_text(&self) -> String {
        if self.is_maint() {
            return String::new();
        }
        self.health.to_string()
    }

    /// The CSV `check_duration` column in ms (`None` before the first finished check).
    pub fn check_duration_ms(&self) -> Option<u128> {
        if self.is_maint() || self.last.status <= CheckStatus::Init {
            return None;
        }
        Some(self.last.duration.as_millis())
    }
}

#[cfg(test)]
mod tests;
