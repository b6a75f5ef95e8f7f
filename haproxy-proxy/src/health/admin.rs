//! Administrative changes while the checks run (`set server ... state maint|drain|ready`, agent
//! words aside): checked servers pause or resume their checks, and every server, tracking
//! servers included, gets the lines HAProxy 2.6.12 writes (observed).

use std::sync::PoisonError;
use std::time::Instant;

use haproxy_cfg::diag::Severity;
use haproxy_check::{Health, OpState, message};

use super::plan::TrackSource;
use super::run::{Ctx, with_via};
use crate::registry::{self, Admin};

impl Ctx {
    /// An administrative change from the runtime API, with the lines HAProxy 2.6.12 writes for
    /// `set server <b>/<s> state maint|drain|ready` (observed): checked servers also pause or
    /// resume their checks in the scheduler.
    pub(super) fn change_admin(&self, b: usize, s: usize, admin: Admin) -> bool {
        let (Some(be), Some(sv)) = (self.registry.backends.get(b), self.server(b, s)) else {
            return false;
        };
        let was = sv.admin();
        if was == admin {
            return false;
        }
        let checked = self.index.get(b).and_then(|v| v.get(s)).copied().flatten();
        if let Some(i) = checked {
            let _ = self.scheduler.set_drain(i, admin == Admin::Drain);
            let _ = self.scheduler.set_maint(i, admin == Admin::Maint);
        }
        let health = checked.and_then(|i| self.scheduler.health(i));
        let up = health.as_ref().is_none_or(Health::is_up);
        sv.set_admin(admin);
        sv.set_health(match (&health, up) {
            (_, false) => registry::Health::Down,
            (Some(h), true) if h.op_state() == OpState::Stopping => registry::Health::NoLb,
            _ => registry::Health::Up,
        });
        let was_usable = self.counts(b, s);
        let (_, requeued) = self.registry.apply_server_state_requeued(b, s);
        let mut n = self.counts(b, s);
        n.requeued = requeued;
        let (name, server, backup) = (be.name.as_str(), sv.name.as_str(), sv.backup);
        let prefix = if backup { "Backup " } else { "" };
        let lines = match (was, admin) {
            (_, Admin::Maint) => vec![message::server_enter_maint(name, server, backup, &n)],
            (Admin::Maint, Admin::Drain) => vec![
                format!("{prefix}Server {name}/{server} is UP/DRAIN (leaving forced maintenance)."),
                format!("{prefix}Server {name}/{server} remains in forced drain mode."),
            ],
            (Admin::Maint, Admin::Ready) => vec![message::server_leave_maint(name, server, backup)],
            (_, Admin::Drain) => vec![message::server_enter_drain(name, server, backup, &n)],
            (Admin::Drain, Admin::Ready) => vec![message::server_leave_drain(name, server, backup)],
            (Admin::Ready, Admin::Ready) => Vec::new(),
        };
        for l in lines {
            self.log.log(Severity::Warning, &l);
        }
        // `on-marked-down shutdown-sessions` also applies when maintenance takes the server.
        if admin == Admin::Maint
            && checked
                .and_then(|i| self.plan.checked.get(i))
                .is_some_and(|c| c.shutdown_on_down)
        {
            sv.shutdown_sessions(crate::Side::ServerDown);
        }
        if admin == Admin::Maint
            && n.active + n.backup == 0
            && was_usable.active + was_usable.backup > 0
        {
            self.log.log(Severity::Alert, &self.no_server(b, name));
        }
        if let (Some(i), Some(h)) = (checked, &health) {
            self.publish(i, h);
        }
        let src = match checked {
            Some(i) => Some(TrackSource::Checked(i)),
            None => self
                .plan
                .trackers
                .iter()
                .position(|t| t.backend == b && t.server == s)
                .map(TrackSource::Tracker),
        };
        if let Some(src) = src {
            self.propagate_admin(src, was, admin);
        }
        true
    }

    /// Carries an admin change of `src` to the servers tracking it, depth first, the latest
    /// declared first, with the lines HAProxy 2.6.12 writes for them (observed).
    fn propagate_admin(&self, src: TrackSource, was: Admin, admin: Admin) {
        let now = Instant::now();
        let children = |src: TrackSource| -> Vec<usize> {
            self.plan
                .trackers
                .iter()
                .enumerate()
                .filter(|(_, t)| t.source == src)
                .map(|(k, _)| k)
                .collect()
        };
        let mut stack = children(src);
        let mut budget = self.plan.trackers.len();
        while let Some(k) = stack.pop() {
            if budget == 0 {
                return;
            }
            budget -= 1;
            let Some(tr) = self.plan.trackers.get(k) else {
                continue;
            };
            let (Some(be), Some(sv)) = (
                self.registry.backends.get(tr.backend),
                self.server(tr.backend, tr.server),
            ) else {
                continue;
            };
            let via = self.source_name(tr.source);
            // The tracker's own health follows the source's maintenance (for its display).
            let source_health = match tr.source {
                TrackSource::Checked(i) => self.scheduler.health(i),
                TrackSource::Tracker(j) => self
                    .trackers
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .get(j)
                    .cloned(),
            };
            if let Some(src_h) = source_health {
                let mut hs = self.trackers.lock().unwrap_or_else(PoisonError::into_inner);
                if let Some(h) = hs.get_mut(k) {
                    let _ = h.follow(&src_h, &via, now);
                }
            }
            sv.set_admin(admin);
            let before = self.counts(tr.backend, tr.server);
            let (_, requeued) = self
                .registry
                .apply_server_state_requeued(tr.backend, tr.server);
            let mut n = self.counts(tr.backend, tr.server);
            n.requeued = requeued;
            let (name, server, backup) = (be.name.as_str(), sv.name.as_str(), sv.backup);
            let prefix = if backup { "Backup " } else { "" };
            let head = format!("{prefix}Server {name}/{server}");
            let lines = match (was, admin) {
                (_, Admin::Maint) => {
                    vec![with_via(
                        message::server_enter_maint(name, server, backup, &n),
                        &via,
                    )]
                }
                (Admin::Maint, Admin::Drain) => vec![
                    format!("{head} is UP/DRAIN (leaving maintenance)."),
                    format!("{head} is leaving forced drain but remains in drain mode via {via}."),
                ],
                (Admin::Maint, Admin::Ready) => {
                    vec![format!("{head} is UP/READY (leaving maintenance).")]
                }
                (_, Admin::Drain) => {
                    vec![with_via(
                        message::server_enter_drain(name, server, backup, &n),
                        &via,
                    )]
                }
                (Admin::Drain, Admin::Ready) => {
                    vec![message::server_leave_drain(name, server, backup)]
                }
                (Admin::Ready, Admin::Ready) => Vec::new(),
            };
            for l in lines {
                self.log.log(Severity::Warning, &l);
            }
            if admin == Admin::Maint
                && n.active + n.backup == 0
                && before.active + before.backup > 0
            {
                self.log
                    .log(Severity::Alert, &self.no_server(tr.backend, name));
            }
            stack.extend(children(TrackSource::Tracker(k)));
        }
    }
}
