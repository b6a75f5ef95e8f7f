//! What the health and agent checks of a server last reported, published by the check wiring and
//! read by `show stat`, `show servers state`, the stats page and Prometheus. Never touched by the
//! request path: a short lock per check result and per stats read is all it costs.

use std::net::SocketAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};

use haproxy_stats::CheckStats;

type LiveFn = dyn Fn() -> bool + Send + Sync;

/// Tells, at each read, whether the server's check is running now, so a read made meanwhile
/// shows it in progress (`* L7OK`, code 0), as HAProxy's `show stat` does.
pub struct LiveCheck(Box<LiveFn>);

impl std::fmt::Debug for LiveCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LiveCheck")
    }
}

impl LiveCheck {
    /// A reader calling `f` (true while a check runs).
    pub fn new(f: impl Fn() -> bool + Send + Sync + 'static) -> LiveCheck {
        LiveCheck(Box::new(f))
    }
}

/// What the runtime API asks of a server's running checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckCommand {
    /// `enable|disable health` (`agent` false) or `agent` (true).
    Enable {
        /// The agent check rather than the health check.
        agent: bool,
        /// Run (true) or stop.
        on: bool,
    },
    /// Send the health check to this address from its next run.
    Target(SocketAddr),
}

type ControlFn = dyn Fn(CheckCommand) + Send + Sync;

/// Reaches the running checks of one server ([`CheckSlot::set_enabled`],
/// [`CheckSlot::set_target`]).
pub struct CheckControl(Box<ControlFn>);

impl std::fmt::Debug for CheckControl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CheckControl")
    }
}

impl CheckControl {
    /// A control calling `f` with each command.
    pub fn new(f: impl Fn(CheckCommand) + Send + Sync + 'static) -> CheckControl {
        CheckControl(Box::new(f))
    }
}

/// The check figures of one server.
#[derive(Debug, Default)]
pub struct CheckSlot {
    health: Mutex<Option<CheckStats>>,
    live: arc_swap::ArcSwapOption<LiveCheck>,
    agent: Mutex<Option<CheckStats>>,
    /// True after `disable health` (until `enable health`).
    health_off: AtomicBool,
    /// True after `disable agent` (until `enable agent`).
    agent_off: AtomicBool,
    control: arc_swap::ArcSwapOption<CheckControl>,
    /// Where the health check goes (set by the check wiring, moved by the runtime API).
    target: Mutex<Option<SocketAddr>>,
    /// Failed checks (`chkfail`).
    pub chkfail: AtomicU64,
    /// UP to DOWN transitions (`chkdown`).
    pub chkdown: AtomicU64,
    /// Seconds spent down before the current state (`downtime`, without the running period).
    pub downtime: AtomicU64,
}

impl CheckSlot {
    /// Publishes the health check's figures (`None`: the server has no health check).
    pub fn set_health(&self, stats: Option<CheckStats>) {
        if let Ok(mut h) = self.health.lock() {
            *h = stats;
        }
    }

    /// Publishes the agent check's figures (`None`: no agent check).
    pub fn set_agent(&self, stats: Option<CheckStats>) {
        if let Ok(mut a) = self.agent.lock() {
            *a = stats;
        }
    }

    /// Asks the running checks whether a check is in progress at each read (`None`: no more).
    pub fn set_live(&self, live: Option<std::sync::Arc<LiveCheck>>) {
        self.live.store(live);
    }

    /// Lets [`CheckSlot::set_enabled`] reach the running checks (`None`: no more).
    pub fn set_control(&self, control: Option<std::sync::Arc<CheckControl>>) {
        self.control.store(control);
    }

    /// `enable|disable health` (`agent` false) or `agent` (true): records it, so the check's
    /// columns are blank while disabled, and starts or stops the running check.
    pub fn set_enabled(&self, agent: bool, on: bool) {
        let flag = if agent {
            &self.agent_off
        } else {
            &self.health_off
        };
        flag.store(!on, Relaxed);
        if let Some(c) = &*self.control.load() {
            (c.0)(CheckCommand::Enable { agent, on });
        }
    }

    /// Where the health check goes, when the server has one running.
    pub fn target(&self) -> Option<SocketAddr> {
        self.target.lock().ok().and_then(|t| *t)
    }

    /// Records where the health check goes; with `apply`, the running check moves there
    /// (`set server addr`, `set server check-port`).
    pub fn set_target(&self, addr: SocketAddr, apply: bool) {
        if let Ok(mut t) = self.target.lock() {
            *t = Some(addr);
        }
        if apply && let Some(c) = &*self.control.load() {
            (c.0)(CheckCommand::Target(addr));
        }
    }

    /// False after `disable health`.
    pub fn health_enabled(&self) -> bool {
        !self.health_off.load(Relaxed)
    }

    /// False after `disable agent`.
    pub fn agent_enabled(&self) -> bool {
        !self.agent_off.load(Relaxed)
    }

    /// The health check's figures, if the server has a health check: the last published ones,
    /// marked in progress (code 0, as HAProxy resets it) while a check runs, paused while
    /// disabled.
    pub fn health(&self) -> Option<CheckStats> {
        let mut stats = self.health.lock().ok().and_then(|h| h.clone())?;
        stats.paused |= !self.health_enabled();
        if let Some(live) = &*self.live.load()
            && !stats.paused
            && (live.0)()
        {
            stats.in_progress = true;
            if stats.code.is_some() {
                stats.code = Some(0);
            }
        }
        Some(stats)
    }

    /// The agent check's figures, if the server has an agent check (paused while disabled).
    pub fn agent(&self) -> Option<CheckStats> {
        let mut stats = self.agent.lock().ok().and_then(|a| a.clone())?;
        stats.paused |= !self.agent_enabled();
        Some(stats)
    }

    /// Counts one failed check.
    pub fn count_failure(&self) {
        self.chkfail.fetch_add(1, Relaxed);
    }
}
