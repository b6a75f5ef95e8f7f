//! The check scheduler: one task per server, HAProxy's intervals, reports through a channel.
//!
//! Intervals follow `srv_getinter()`: `inter` when fully UP, `downinter` when fully DOWN,
//! `fastinter` in between (and before the first check). `spread-checks <p>` adds up to ±p% of
//! jitter; the first checks (and agents) are spread as [`crate::spread`] says, within the global
//! `max-spread-checks`. Each server has at most one
//! check in flight, and no check runs while the server is in MAINT (its agent keeps running).
//! The next deadline is advanced from the previous one, so intervals do not drift.

use std::fmt;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::passive::{Event, Passive, Verdict};
use crate::probe::{AgentResult, CheckConn, CheckKind, CheckTimeouts, ProxyHeader, run_agent};
use crate::spread::first_check_delays;
use crate::{AgentReply, CheckOutcome, CheckParams, CheckResult, Health, Transition};

/// Largest `spread-checks` percentage HAProxy accepts.
pub const MAX_SPREAD_CHECKS: u8 = 50;

/// Capacity of the report channel; a full channel slows the checks down rather than losing reports.
pub const REPORT_QUEUE: usize = 4096;

/// Builds the `x-haproxy-server-state` value for `http-check send-state`.
pub type StateHeader = Arc<dyn Fn(&Health) -> String + Send + Sync>;

/// The agent-check part of a server line.
#[derive(Debug, Clone)]
pub struct AgentSpec {
    /// `agent-addr` / `agent-port`.
    pub addr: SocketAddr,
    /// `agent-send`.
    pub send: Vec<u8>,
    /// `agent-inter`.
    pub inter: Duration,
    /// Deadlines of one agent check.
    pub timeouts: CheckTimeouts,
}

/// One server to check.
#[derive(Clone)]
pub struct ServerSpec {
    /// Where checks connect: the server address, or `addr`/`port` when set.
    pub addr: SocketAddr,
    /// What to check.
    pub kind: CheckKind,
    /// rise/fall/intervals.
    pub params: CheckParams,
    /// Deadlines of one check.
    pub timeouts: CheckTimeouts,
    /// `disabled`: start in MAINT.
    pub disabled: bool,
    /// Passive health, when `observe` is set.
    pub passive: Option<Passive>,
    /// The agent, when `agent-check` is set.
    pub agent: Option<AgentSpec>,
    /// `http-check send-state` header builder.
    pub state_header: Option<StateHeader>,
    /// PROXY header on check connections (`send-proxy` without `port`/`addr`, or `check-send-proxy`).
    pub send_proxy: Option<ProxyHeader>,
    /// TLS on check connections (`check-ssl`, `check-sni`).
    #[cfg(feature = "tls")]
    pub tls: Option<crate::probe::TlsCheck>,
}

impl fmt::Debug for ServerSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerSpec")
            .field("addr", &self.addr)
            .field("kind", &self.kind)
            .field("params", &self.params)
            .field("timeouts", &self.timeouts)
            .field("disabled", &self.disabled)
            .field("agent", &self.agent)
            .field("send_proxy", &self.send_proxy)
            .finish_non_exhaustive()
    }
}

impl ServerSpec {
    /// A server with the given check and defaults elsewhere (timeouts = `inter`).
    pub fn new(addr: SocketAddr, kind: CheckKind, params: CheckParams) -> Self {
        Self {
            addr,
            kind,
            params,
            timeouts: CheckTimeouts::uniform(params.inter()),
            disabled: false,
            passive: None,
            agent: None,
            state_header: None,
            send_proxy: None,
            #[cfg(feature = "tls")]
            tls: None,
        }
    }
}

/// What the scheduler tells the caller.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Report {
    /// An active check finished.
    Check {
        /// Index of the server in the list given to [`Scheduler::start`].
        server: usize,
        /// The check's outcome.
        outcome: CheckOutcome,
        /// The operational change it caused.
        transition: Option<Transition>,
        /// Health after the check (for stats and logs).
        health: Box<Health>,
    },
    /// An agent check finished.
    Agent {
        /// Server index.
        server: usize,
        /// The agent's own outcome and reply (weight and maxconn are for the caller to apply).
        result: AgentResult,
        /// The changes the reply caused.
        transitions: Vec<Transition>,
    },
}

#[derive(Debug)]
struct Slot {
    health: Health,
    passive: Option<Passive>,
    agent_last: Option<CheckOutcome>,
    /// `disable health`: the health check does not run.
    check_off: bool,
    /// `disable agent`: the agent check does not run.
    agent_off: bool,
    /// Where the health check goes instead of its spec's address (`set server addr`,
    /// `check-port`).
    addr: Option<SocketAddr>,
}

#[derive(Debug)]
struct Shared {
    slots: Vec<Mutex<Slot>>,
    wake: Vec<Notify>,
}

fn lock(m: &Mutex<Slot>) -> std::sync::MutexGuard<'_, Slot> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Runs the checks of a set of servers on the current tokio runtime.
#[derive(Debug)]
pub struct Scheduler {
    shared: Arc<Shared>,
    tasks: Vec<JoinHandle<()>>,
}

/// A small xorshift generator for jitter (no need for cryptographic quality).
#[derive(Debug, Clone, Copy)]
struct Jitter(u64);

impl Jitter {
    fn next_unit(&mut self) -> f64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        (x >> 11) as f64 / (1u64 << 53) as f64
    }

    /// `inter` ± `spread`% as HAProxy's `spread-checks`.
    fn apply(&mut self, inter: Duration, spread: u8) -> Duration {
        if spread == 0 {
            return inter;
        }
        let rv = inter.as_secs_f64() * f64::from(spread) / 100.0;
        let delta = rv - 2.0 * rv * self.next_unit();
        Duration::from_secs_f64((inter.as_secs_f64() + delta).max(0.001))
    }
}

/// HAProxy's `srv_getinter()`.
pub fn interval_for(h: &Health) -> Duration {
    let p = h.params();
    if h.health() == p.max_health() {
        p.inter()
    } else if h.health() == 0 && !h.is_up() {
        p.downinter()
    } else {
        p.fastinter()
    }
}

impl Scheduler {
    /// Starts one task per server (and one per agent); reports go to `reports`.
    ///
    /// Must be called inside a tokio runtime. `spread_checks` is capped at [`MAX_SPREAD_CHECKS`].
    /// The first checks are spread as [`Scheduler::start_spread`] does, without a cap.
    pub fn start(specs: Vec<ServerSpec>, spread_checks: u8, reports: mpsc::Sender<Report>) -> Self {
        Self::start_spread(specs, spread_checks, None, reports)
    }

    /// [`Scheduler::start`] with the global `max-spread-checks`: the first checks (and agents)
    /// run as [`first_check_delays`] spreads them, in the order of `specs`.
    pub fn start_spread(
        specs: Vec<ServerSpec>,
        spread_checks: u8,
        max_spread_checks: Option<Duration>,
        reports: mpsc::Sender<Report>,
    ) -> Self {
        let spread = spread_checks.min(MAX_SPREAD_CHECKS);
        let now = Instant::now();
        // Each server's check, then its agent, as HAProxy counts them. An agent starts at
        // full health (its rise and fall are 1), so at its `agent-inter`.
        let intervals: Vec<Duration> = specs
            .iter()
            .flat_map(|s| {
                let check = interval_for(&Health::new(s.params, now.into_std()));
                std::iter::once(check).chain(s.agent.as_ref().map(|a| a.inter))
            })
            .collect();
        let mut delays = first_check_delays(&intervals, max_spread_checks).into_iter();
        let shared = Arc::new(Shared {
            slots: specs
                .iter()
                .map(|s| {
                    let health = if s.disabled {
                        Health::new_disabled(s.params, now.into_std())
                    } else {
                        Health::new(s.params, now.into_std())
                    };
                    Mutex::new(Slot {
                        health,
                        passive: s.passive.clone(),
                        agent_last: None,
                        check_off: false,
                        agent_off: false,
                        addr: None,
                    })
                })
                .collect(),
            wake: specs.iter().map(|_| Notify::new()).collect(),
        });
        let mut tasks = Vec::new();
        for (i, spec) in specs.into_iter().enumerate() {
            let pos = u64::try_from(i).unwrap_or(u64::MAX);
            let first = now + delays.next().unwrap_or_default();
            let seed =
                0x9e37_79b9_7f4a_7c15u64 ^ pos.wrapping_add(1).wrapping_mul(0x2545_f491_4f6c_dd1d);
            if let Some(agent) = spec.agent.clone() {
                let agent_first = now + delays.next().unwrap_or_default();
                tasks.push(tokio::spawn(agent_loop(
                    Arc::clone(&shared),
                    i,
                    agent,
                    agent_first,
                    Jitter(seed ^ 0xa5a5),
                    spread,
                    reports.clone(),
                )));
            }
            tasks.push(tokio::spawn(check_loop(
                Arc::clone(&shared),
                i,
                spec,
                first,
                Jitter(seed),
                spread,
                reports.clone(),
            )));
        }
        Self { shared, tasks }
    }

    /// Number of servers.
    pub fn len(&self) -> usize {
        self.shared.slots.len()
    }

    /// Whether there are no servers.
    pub fn is_empty(&self) -> bool {
        self.shared.slots.is_empty()
    }

    /// A copy of a server's health (for stats: status, check columns, counters).
    pub fn health(&self, server: usize) -> Option<Health> {
        self.shared
            .slots
            .get(server)
            .map(|m| lock(m).health.clone())
    }

    /// The last agent outcome of a server (`agent_status`, `last_agt`).
    pub fn agent_last(&self, server: usize) -> Option<CheckOutcome> {
        self.shared
            .slots
            .get(server)
            .and_then(|m| lock(m).agent_last.clone())
    }

    /// Enters or leaves forced maintenance; checks stop while in MAINT.
    pub fn set_maint(&self, server: usize, on: bool) -> Option<Transition> {
        let t = self
            .shared
            .slots
            .get(server)
            .and_then(|m| lock(m).health.set_maint(on, std::time::Instant::now()));
        if let Some(w) = self.shared.wake.get(server) {
            w.notify_one();
        }
        t
    }

    /// Stops (`on` false) or restarts a server's health check (`disable|enable health`); the
    /// health keeps its last value meanwhile. Returns false for an unknown server.
    pub fn set_check_enabled(&self, server: usize, on: bool) -> bool {
        let Some(m) = self.shared.slots.get(server) else {
            return false;
        };
        lock(m).check_off = !on;
        if let Some(w) = self.shared.wake.get(server) {
            w.notify_one();
        }
        true
    }

    /// Sends a server's health check to `addr` from its next run (`set server addr`,
    /// `set server check-port`). Returns false for an unknown server.
    pub fn set_check_addr(&self, server: usize, addr: SocketAddr) -> bool {
        let Some(m) = self.shared.slots.get(server) else {
            return false;
        };
        lock(m).addr = Some(addr);
        true
    }

    /// Stops or restarts a server's agent check (`disable|enable agent`), from its next turn.
    /// Returns false for an unknown server.
    pub fn set_agent_enabled(&self, server: usize, on: bool) -> bool {
        let Some(m) = self.shared.slots.get(server) else {
            return false;
        };
        lock(m).agent_off = !on;
        true
    }

    /// Enters or leaves forced drain.
    pub fn set_drain(&self, server: usize, on: bool) -> Option<Transition> {
        self.shared
            .slots
            .get(server)
            .and_then(|m| lock(m).health.set_drain(on, std::time::Instant::now()))
    }

    /// Feeds a passive-health event the proxy observed; `None` without `observe` on that server.
    pub fn observe(&self, server: usize, ev: Event) -> Option<Verdict> {
        let m = self.shared.slots.get(server)?;
        let v = {
            let mut slot = lock(m);
            let Slot {
                health, passive, ..
            } = &mut *slot;
            passive
                .as_mut()
                .map(|p| p.observe(ev, health, std::time::Instant::now()))?
        };
        if let (true, Some(w)) = (v.fastinter, self.shared.wake.get(server)) {
            w.notify_one();
        }
        Some(v)
    }

    /// Stops every check task.
    pub fn stop(self) {
        drop(self);
    }
}

impl Drop for Scheduler {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

fn advance(mut next: Instant, interval: Duration, now: Instant) -> Instant {
    next += interval;
    if next <= now {
        // Fell behind (a long check): skip missed slots instead of bursting.
        let behind = now.saturating_duration_since(next);
        let skips = behind.as_nanos() / interval.as_nanos().max(1) + 1;
        next += interval.saturating_mul(u32::try_from(skips).unwrap_or(u32::MAX));
    }
    next
}

async fn check_loop(
    shared: Arc<Shared>,
    i: usize,
    spec: ServerSpec,
    first: Instant,
    mut jitter: Jitter,
    spread: u8,
    reports: mpsc::Sender<Report>,
) {
    let (Some(slot), Some(wake)) = (shared.slots.get(i), shared.wake.get(i)) else {
        return;
    };
    let mut next = first;
    // One timer entry for the server's whole life, moved to each new deadline.
    let sleep = tokio::time::sleep_until(next);
    tokio::pin!(sleep);
    loop {
        if sleep.deadline() != next {
            sleep.as_mut().reset(next);
        }
        tokio::select! {
            () = &mut sleep => {}
            () = wake.notified() => {
                // Passive health asked for fastinter, or maint changed: re-plan from now.
                let fastinter = lock(slot).health.params().fastinter();
                let soon = Instant::now() + fastinter;
                if soon < next {
                    next = soon;
                }
                continue;
            }
        }
        let state = {
            let mut s = lock(slot);
            if s.health.is_maint() || s.check_off {
                None
            } else {
                s.health.set_checking(true);
                let addr = s.addr.unwrap_or(spec.addr);
                Some((addr, spec.state_header.as_ref().map(|f| f(&s.health))))
            }
        };
        let Some((addr, state)) = state else {
            let inter = spec.params.inter();
            next = advance(next, inter, Instant::now());
            continue;
        };
        let conn = CheckConn::new(spec.timeouts).with_send_proxy(spec.send_proxy);
        #[cfg(feature = "tls")]
        let conn = conn.with_tls(spec.tls.clone());
        let outcome = spec.kind.run(addr, conn, state.as_deref()).await;
        let (transition, health) = {
            let mut s = lock(slot);
            let passed = matches!(
                outcome.status.result(),
                CheckResult::Passed | CheckResult::CondPass
            );
            if let (true, Some(p)) = (passed, s.passive.as_mut()) {
                p.check_passed();
            }
            let t = s.health.record(outcome.clone(), std::time::Instant::now());
            (t, s.health.clone())
        };
        let interval = jitter.apply(interval_for(&health), spread);
        next = advance(next, interval, Instant::now());
        let report = Report::Check {
            server: i,
            outcome,
            transition,
            health: Box::new(health),
        };
        if reports.send(report).await.is_err() {
            return;
        }
    }
}

async fn agent_loop(
    shared: Arc<Shared>,
    i: usize,
    spec: AgentSpec,
    first: Instant,
    mut jitter: Jitter,
    spread: u8,
    reports: mpsc::Sender<Report>,
) {
    let Some(slot) = shared.slots.get(i) else {
        return;
    };
    let mut next = first;
    let sleep = tokio::time::sleep_until(next);
    tokio::pin!(sleep);
    loop {
        sleep.as_mut().reset(next);
        (&mut sleep).await;
        if lock(slot).agent_off {
            next = advance(next, spec.inter, Instant::now());
            continue;
        }
        let result = run_agent(spec.addr, &spec.send, spec.timeouts).await;
        let transitions = {
            let mut s = lock(slot);
            s.agent_last = Some(result.outcome.clone());
            result
                .reply
                .as_ref()
                .map(|r: &AgentReply| r.apply(&mut s.health, std::time::Instant::now()))
                .unwrap_or_default()
        };
        next = advance(next, jitter.apply(spec.inter, spread), Instant::now());
        let report = Report::Agent {
            server: i,
            result,
            transitions,
        };
        if reports.send(report).await.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_within_spread() {
        let mut j = Jitter(42);
        let inter = Duration::from_millis(1000);
        for _ in 0..1000 {
            let d = j.apply(inter, 10);
            assert!(
                d >= Duration::from_millis(899) && d <= Duration::from_millis(1101),
                "{d:?}"
            );
        }
        assert_eq!(j.apply(inter, 0), inter);
    }

    #[test]
    fn advance_skips_missed_slots() {
        let t0 = Instant::now();
        let i = Duration::from_millis(100);
        assert_eq!(advance(t0, i, t0), t0 + i);
        let late = t0 + Duration::from_millis(350);
        assert_eq!(advance(t0, i, late), t0 + Duration::from_millis(400));
    }

    #[test]
    fn intervals_follow_srv_getinter() {
        let ms = Duration::from_millis;
        let p = CheckParams::default()
            .with_inter(ms(1000))
            .and_then(|p| p.with_fastinter(ms(100)))
            .and_then(|p| p.with_downinter(ms(5000)))
            .unwrap();
        let t0 = std::time::Instant::now();
        let mut h = Health::new(p, t0);
        assert_eq!(interval_for(&h), ms(100));
        let ok = CheckOutcome::new(crate::CheckStatus::L4Ok, None, "", Duration::ZERO);
        let bad = CheckOutcome::new(crate::CheckStatus::L4Con, None, "", Duration::ZERO);
        h.record(ok.clone(), t0);
        assert_eq!(interval_for(&h), ms(1000));
        h.record(bad.clone(), t0);
        assert_eq!(interval_for(&h), ms(100));
        h.record(bad.clone(), t0);
        h.record(bad, t0);
        assert_eq!(interval_for(&h), ms(5000));
        h.record(ok, t0);
        assert_eq!(interval_for(&h), ms(100));
    }
}
