//! The running checks: haproxy-check's scheduler on the daemon's runtime, and what each report
//! does to the registry (health, check figures, the balancer) and to the log.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use haproxy_cfg::diag::Severity;
use haproxy_check::passive::Event;
use haproxy_check::probe::AgentResult;
use haproxy_check::{
    BackendCounts, CheckOutcome, Health, OpState, Report, Scheduler, Transition, message,
};
use haproxy_stats::CheckStats;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::log::StateLog;
use super::plan::Plan;
use crate::registry::{self, Admin, Registry};

/// How often the balancers of backends with `slowstart` servers advance their ramps.
pub const SLOWSTART_TICK: Duration = Duration::from_secs(1);

/// The check figures `show stat` prints, from a server's health.
pub fn check_stats(h: &Health) -> CheckStats {
    let last = h.last();
    CheckStats {
        paused: h.is_maint(),
        in_progress: h.is_checking(),
        status: last.status.name().to_owned(),
        code: last.status.has_code().then(|| last.code.unwrap_or(0)),
        duration: h
            .check_duration_ms()
            .map(|d| u64::try_from(d).unwrap_or(u64::MAX)),
        desc: last.status.description().to_owned(),
        last: last.info.clone(),
        rise: h.params().rise(),
        fall: h.params().fall(),
        health: h.health(),
    }
}

/// The agent figures (`agent_status`, `agent_desc`, `last_agt`...).
fn agent_stats(o: &CheckOutcome, h: &Health) -> CheckStats {
    CheckStats {
        paused: false,
        in_progress: false,
        status: o.status.name().to_owned(),
        code: o.status.has_code().then(|| o.code.unwrap_or(0)),
        duration: Some(u64::try_from(o.duration.as_millis()).unwrap_or(u64::MAX)),
        desc: o.status.description().to_owned(),
        last: o.info.clone(),
        rise: 1,
        fall: 1,
        health: u32::from(!h.is_agent_down()),
    }
}

/// The shared state of the report handler.
#[derive(Debug)]
pub(super) struct Ctx {
    pub(super) plan: Plan,
    pub(super) registry: Arc<Registry>,
    pub(super) log: Arc<dyn StateLog>,
    pub(super) scheduler: Arc<Scheduler>,
    /// Per backend, per server: the scheduler index of checked servers.
    pub(super) index: Vec<Vec<Option<usize>>>,
    /// The trackers' own health, by tracker index.
    pub(super) trackers: Mutex<Vec<Health>>,
    /// Per checked server: the health counter and status last logged (`log-health-checks`).
    pub(super) logged: Mutex<Vec<(u32, haproxy_check::CheckStatus)>>,
}

/// The health checks of a running configuration; dropping it stops them.
#[derive(Debug)]
pub struct HealthChecks {
    ctx: Arc<Ctx>,
    tasks: Vec<JoinHandle<()>>,
}

impl HealthChecks {
    /// Starts the checks of `plan` on the current tokio runtime, reporting into `registry` and
    /// `log`; also installs the passive-health tap and the slow-start ticks.
    pub fn start(plan: Plan, registry: Arc<Registry>, log: Arc<dyn StateLog>) -> HealthChecks {
        let (tx, rx) = mpsc::channel(haproxy_check::schedule::REPORT_QUEUE);
        plan.live.set(Arc::clone(&registry));
        let specs = plan.checked.iter().map(|c| c.spec.clone()).collect();
        let scheduler = Arc::new(Scheduler::start_spread(
            specs,
            plan.spread_checks,
            plan.max_spread_checks,
            tx,
        ));
        let mut index: Vec<Vec<Option<usize>>> = registry
            .backends
            .iter()
            .map(|b| vec![None; b.servers.len()])
            .collect();
        for (i, c) in plan.checked.iter().enumerate() {
            if let Some(slot) = index.get_mut(c.backend).and_then(|b| b.get_mut(c.server)) {
                *slot = Some(i);
            }
        }
        let now = Instant::now();
        let trackers = plan
            .trackers
            .iter()
            .map(|t| {
                let params = plan
                    .checked
                    .get(t.root)
                    .map(|c| c.spec.params)
                    .unwrap_or_default();
                Health::new(params, now)
            })
            .collect();
        let ctx = Arc::new(Ctx {
            plan,
            registry,
            log,
            scheduler,
            index,
            trackers: Mutex::new(trackers),
            logged: Mutex::new(Vec::new()),
        });
        if let Ok(mut logged) = ctx.logged.lock() {
            *logged = ctx
                .plan
                .checked
                .iter()
                .map(|c| (c.spec.params.rise(), haproxy_check::CheckStatus::Init))
                .collect();
        }
        for (i, c) in ctx.plan.checked.iter().enumerate() {
            if let (Some(sv), Some(h)) = (ctx.server(c.backend, c.server), ctx.scheduler.health(i))
            {
                sv.checks.set_health(Some(check_stats(&h)));
            }
            if let Some(sv) = ctx.server(c.backend, c.server) {
                let sched = Arc::clone(&ctx.scheduler);
                sv.checks
                    .set_live(Some(Arc::new(registry::LiveCheck::new(move || {
                        sched.health(i).is_some_and(|h| h.is_checking())
                    }))));
                sv.checks.set_target(c.spec.addr, false);
                let sched = Arc::clone(&ctx.scheduler);
                sv.checks
                    .set_control(Some(Arc::new(registry::CheckControl::new(
                        move |cmd| match cmd {
                            registry::CheckCommand::Enable { agent: true, on } => {
                                sched.set_agent_enabled(i, on);
                            }
                            registry::CheckCommand::Enable { agent: false, on } => {
                                sched.set_check_enabled(i, on);
                            }
                            registry::CheckCommand::Target(addr) => {
                                sched.set_check_addr(i, addr);
                            }
                        },
                    ))));
            }
            if c.shutdown_on_down
                && let Some(sv) = ctx.server(c.backend, c.server)
            {
                sv.arm_shutdown();
            }
            if c.shutdown_backups_on_up
                && let Some(be) = ctx.registry.backends.get(c.backend)
            {
                be.servers
                    .iter()
                    .filter(|s| s.backup)
                    .for_each(|s| s.arm_shutdown());
            }
        }
        let tap_ctx = Arc::clone(&ctx);
        ctx.registry
            .set_passive_tap(Some(Arc::new(registry::PassiveTap::new(
                move |b, s, ev| tap_ctx.observe(b, s, ev),
            ))));
        let admin_ctx = Arc::clone(&ctx);
        ctx.registry
            .set_admin_hook(Some(Arc::new(registry::AdminHook::new(move |b, s, a| {
                admin_ctx.change_admin(b, s, a)
            }))));
        let mut tasks = vec![tokio::spawn(reports(Arc::clone(&ctx), rx))];
        if !ctx.plan.slowstart_backends.is_empty() {
            tasks.push(tokio::spawn(slowstart_ticks(Arc::clone(&ctx))));
        }
        HealthChecks { ctx, tasks }
    }

    /// The scheduler (health copies, maintenance and drain for the runtime API).
    pub fn scheduler(&self) -> &Scheduler {
        &self.ctx.scheduler
    }
}

impl Drop for HealthChecks {
    fn drop(&mut self) {
        self.ctx.registry.set_passive_tap(None);
        self.ctx.registry.set_admin_hook(None);
        for c in &self.ctx.plan.checked {
            if let Some(sv) = self.ctx.server(c.backend, c.server) {
                sv.checks.set_live(None);
                sv.checks.set_control(None);
            }
        }
        for t in &self.tasks {
            t.abort();
        }
    }
}

async fn reports(ctx: Arc<Ctx>, mut rx: mpsc::Receiver<Report>) {
    while let Some(r) = rx.recv().await {
        match r {
            Report::Check {
                server,
                outcome,
                transition,
                health,
            } => ctx.on_check(server, &outcome, transition, &health),
            Report::Agent {
                server,
                result,
                transitions,
            } => ctx.on_agent(server, &result, &transitions),
            _ => {}
        }
    }
}

async fn slowstart_ticks(ctx: Arc<Ctx>) {
    let mut every = tokio::time::interval(SLOWSTART_TICK);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        ctx.tick_slowstarts();
    }
}

impl Ctx {
    pub(super) fn server(&self, b: usize, s: usize) -> Option<&registry::ServerEntry> {
        self.registry.backends.get(b)?.servers.get(s)
    }

    pub(super) fn tick_slowstarts(&self) {
        let now = self.registry.now_secs();
        for &b in &self.plan.slowstart_backends {
            if let Some(lb) = self.registry.balancer(b) {
                lb.tick(now);
            }
            // A ramp that rose lets waiting streams in at once, as HAProxy's warm-up task does
            // (`server_warmup()` grabs from the backend's queue), not at the next release.
            let servers = self
                .registry
                .backends
                .get(b)
                .map_or(0, |be| be.servers.len());
            for s in 0..servers {
                self.registry.process_server_queue(b, s);
            }
        }
    }

    pub(super) fn publish(&self, i: usize, h: &Health) {
        let Some(c) = self.plan.checked.get(i) else {
            return;
        };
        let Some(sv) = self.server(c.backend, c.server) else {
            return;
        };
        use std::sync::atomic::Ordering::Relaxed;
        sv.checks.set_health(Some(check_stats(h)));
        sv.checks.chkfail.store(h.chkfail(), Relaxed);
        sv.checks.chkdown.store(h.chkdown(), Relaxed);
        let now = Instant::now();
        let past = if h.op_state() == OpState::Stopped {
            h.downtime(now).saturating_sub(h.lastchg(now))
        } else {
            h.downtime(now)
        };
        sv.checks.downtime.store(past.as_secs(), Relaxed);
    }

    fn on_check(&self, i: usize, outcome: &CheckOutcome, t: Option<Transition>, h: &Health) {
        self.publish(i, h);
        let Some(c) = self.plan.checked.get(i) else {
            return;
        };
        let reason = self.log_step(i, h);
        if let Some(t) = t {
            // The NOLB line keeps its reason either way.
            let check = (reason || t == Transition::NoLb).then_some(outcome);
            self.transition(c.backend, c.server, t, check, h, None);
            self.follow(i, h);
        }
    }

    /// `option log-health-checks`: logs HAProxy's `Health check for server ...` line when the
    /// health counter or the status changed. Returns whether state-change lines carry the
    /// check's reason (the long form), i.e. whether the option is off.
    pub(super) fn log_step(&self, i: usize, h: &Health) -> bool {
        let Some(c) = self.plan.checked.get(i) else {
            return true;
        };
        if !c.log_health_checks {
            return true;
        }
        let now = (h.health(), h.last().status);
        let changed = self
            .logged
            .lock()
            .ok()
            .and_then(|mut v| v.get_mut(i).map(|slot| std::mem::replace(slot, now) != now))
            .unwrap_or(false);
        if changed
            && let (Some(be), Some(sv)) = (
                self.registry.backends.get(c.backend),
                self.server(c.backend, c.server),
            )
        {
            let p = h.params();
            let line = message::health_check_step(
                &be.name,
                &sv.name,
                sv.backup,
                h.last(),
                h.health(),
                p.rise(),
                p.fall(),
                h.is_drain(),
            );
            self.log.log(Severity::Warning, &line);
        }
        false
    }

    fn on_agent(&self, i: usize, result: &AgentResult, ts: &[Transition]) {
        let (Some(c), Some(h)) = (self.plan.checked.get(i), self.scheduler.health(i)) else {
            return;
        };
        let Some(sv) = self.server(c.backend, c.server) else {
            return;
        };
        sv.checks.set_agent(Some(agent_stats(&result.outcome, &h)));
        if let Some(pct) = result.reply.as_ref().and_then(|r| r.weight_pct) {
            let w = u64::from(sv.initial_weight) * u64::from(pct) / 100;
            let _ = self.registry.set_weight(
                c.backend,
                c.server,
                u32::try_from(w.min(256)).unwrap_or(256),
            );
        }
        for t in ts {
            self.transition(c.backend, c.server, *t, Some(&result.outcome), &h, None);
        }
        // HAProxy repeats this line each time an agent says `drain` again (observed on 2.6.12).
        let drain_again = result
            .reply
            .as_ref()
            .is_some_and(|r| r.admin == Some(haproxy_check::AgentAdmin::Drain));
        if drain_again && h.is_drain() && !ts.contains(&Transition::EnterDrain) {
            let be = self
                .registry
                .backends
                .get(c.backend)
                .map_or("", |b| b.name.as_str());
            let prefix = if sv.backup { "Backup " } else { "" };
            self.log.log(
                Severity::Warning,
                &format!(
                    "{prefix}Server {be}/{} remains in forced drain mode.",
                    sv.name
                ),
            );
        }
        if !ts.is_empty() {
            self.publish(i, &h);
            self.follow(i, &h);
        }
    }

    /// A passive-health event from the streams.
    fn observe(&self, b: usize, s: usize, ev: Event) {
        let Some(i) = self.index.get(b).and_then(|v| v.get(s)).copied().flatten() else {
            return;
        };
        let Some(v) = self.scheduler.observe(i, ev) else {
            return;
        };
        let Some(h) = self.scheduler.health(i) else {
            return;
        };
        self.publish(i, &h);
        let reason = self.log_step(i, &h);
        if let Some(t) = v.transition {
            self.transition(b, s, t, reason.then_some(h.last()), &h, None);
            self.follow(i, &h);
        }
    }

    /// `backend 'be' has no server available!` (`proxy 'be' ...` for a listen section), as
    /// HAProxy 2.6.12 writes it on stderr (observed).
    pub(super) fn no_server(&self, b: usize, name: &str) -> String {
        let kind = self.plan.proxy_types.get(b).copied().unwrap_or("backend");
        format!("{kind} '{name}' has no server available!")
    }

    /// The counts HAProxy prints after a change (`srv_append_status()`): usable active and
    /// backup servers of the backend, the server's current sessions (`cur_sess`) and the
    /// requests left in its own queue (`queue.length`).
    ///
    /// `requeued` is 0 here: the caller sets it from
    /// [`crate::registry::Registry::apply_server_state_requeued`].
    pub(super) fn counts(&self, b: usize, s: usize) -> BackendCounts {
        let mut n = BackendCounts::default();
        let Some(be) = self.registry.backends.get(b) else {
            return n;
        };
        let lb = self.registry.balancer(b);
        for (k, sv) in be.servers.iter().enumerate() {
            if lb.is_some_and(|lb| lb.is_usable(k)) {
                if sv.backup {
                    n.backup += 1;
                } else {
                    n.active += 1;
                }
            }
        }
        n.queued = lb.map_or(0, |lb| lb.queued(s));
        if let Some(sv) = be.servers.get(s) {
            n.sessions_active = u32::try_from(
                sv.counters
                    .sessions_cur
                    .load(std::sync::atomic::Ordering::Relaxed),
            )
            .unwrap_or(u32::MAX);
        }
        n
    }

    /// Applies one state change to the registry and the balancer, and logs it.
    pub(super) fn transition(
        &self,
        b: usize,
        s: usize,
        t: Transition,
        check: Option<&CheckOutcome>,
        h: &Health,
        via: Option<&str>,
    ) {
        let (Some(be), Some(sv)) = (self.registry.backends.get(b), self.server(b, s)) else {
            return;
        };
        let up_health = if h.op_state() == OpState::Stopping {
            registry::Health::NoLb
        } else {
            registry::Health::Up
        };
        match t {
            Transition::Down => sv.set_health(registry::Health::Down),
            Transition::Up => sv.set_health(up_health),
            Transition::NoLb => sv.set_health(registry::Health::NoLb),
            Transition::EnterMaint => sv.set_admin(Admin::Maint),
            Transition::EnterDrain => sv.set_admin(Admin::Drain),
            Transition::LeaveMaint | Transition::LeaveDrain => {
                sv.set_admin(Admin::Ready);
                sv.set_health(if h.is_up() {
                    up_health
                } else {
                    registry::Health::Down
                });
            }
            _ => {}
        }
        let was_usable = self.counts(b, s);
        let (_, requeued) = self.registry.apply_server_state_requeued(b, s);
        let mut n = self.counts(b, s);
        n.requeued = requeued;
        let (name, server, backup) = (be.name.as_str(), sv.name.as_str(), sv.backup);
        let line = match (t, check, via) {
            (Transition::Down, _, Some(v)) => {
                with_via(message::server_down_short(name, server, backup, &n), v)
            }
            (Transition::Up, _, Some(v)) => {
                with_via(message::server_up_short(name, server, backup, &n), v)
            }
            (Transition::Down, Some(c), None) => message::server_down(name, server, backup, c, &n),
            (Transition::Down, None, None) => message::server_down_short(name, server, backup, &n),
            (Transition::Up, Some(c), None) => message::server_up(name, server, backup, c, &n),
            (Transition::Up, None, None) => message::server_up_short(name, server, backup, &n),
            (Transition::NoLb, Some(c), _) => message::server_stopping(name, server, backup, c, &n),
            (Transition::EnterMaint, ..) => message::server_enter_maint(name, server, backup, &n),
            (Transition::LeaveMaint, ..) => message::server_leave_maint(name, server, backup),
            (Transition::EnterDrain, ..) => message::server_enter_drain(name, server, backup, &n),
            (Transition::LeaveDrain, ..) => message::server_leave_drain(name, server, backup),
            _ => return,
        };
        self.log.log(Severity::Warning, &line);
        let gone = matches!(t, Transition::Down | Transition::EnterMaint);
        if gone && n.active + n.backup == 0 && was_usable.active + was_usable.backup > 0 {
            self.log.log(Severity::Alert, &self.no_server(b, name));
        }
        if let Some(c) = self
            .plan
            .checked
            .iter()
            .find(|c| c.backend == b && c.server == s)
        {
            if gone && c.shutdown_on_down {
                sv.shutdown_sessions(crate::Side::ServerDown);
            }
            if t == Transition::Up && c.shutdown_backups_on_up && !sv.backup {
                for other in be.servers.iter().filter(|o| o.backup) {
                    other.shutdown_sessions(crate::Side::ServerUp);
                }
            }
        }
        if self.plan.slowstart_backends.contains(&b) {
            self.tick_slowstarts();
        }
    }
}

/// `Server b/s is DOWN. ...` → `Server b/s is DOWN via b/t. ...` (a tracking server's line).
pub(super) fn with_via(line: String, via: &str) -> String {
    match line.split_once(". ") {
        Some((head, tail)) => format!("{head} via {via}. {tail}"),
        None => line,
    }
}
