//! `track [<backend>/]<server>`: tracking servers copy the state of the server they follow,
//! down chains of trackers, in HAProxy's order.

use std::sync::PoisonError;
use std::time::Instant;

use haproxy_check::{Health, Transition};

use super::plan::TrackSource;
use super::run::Ctx;

impl Ctx {
    /// Copies the state of checked server `i` to the servers tracking it, and on down the
    /// chains, in HAProxy's order (observed on 2.6.12): depth first, the latest declared tracker
    /// of a server first.
    pub(super) fn follow(&self, i: usize, source: &Health) {
        let now = Instant::now();
        let mut stack = Vec::new();
        self.push_followers(TrackSource::Checked(i), source, now, &mut stack);
        // Each tracker follows one server and the plan has no cycles: at most one visit each.
        let mut budget = self.plan.trackers.len();
        while let Some((k, t, h)) = stack.pop() {
            if budget == 0 {
                return;
            }
            budget -= 1;
            let Some(tr) = self.plan.trackers.get(k) else {
                continue;
            };
            let via = self.source_name(tr.source);
            self.transition(tr.backend, tr.server, t, None, &h, Some(&via));
            self.push_followers(TrackSource::Tracker(k), &h, now, &mut stack);
        }
    }

    /// Applies `health` to the trackers of `src` and stacks those that changed, the latest
    /// declared on top.
    fn push_followers(
        &self,
        src: TrackSource,
        health: &Health,
        now: Instant,
        stack: &mut Vec<(usize, Transition, Health)>,
    ) {
        let via = self.source_name(src);
        let mut hs = self.trackers.lock().unwrap_or_else(PoisonError::into_inner);
        for (k, (_, h)) in self
            .plan
            .trackers
            .iter()
            .zip(hs.iter_mut())
            .enumerate()
            .filter(|(_, (t, _))| t.source == src)
        {
            if let Some(t) = h.follow(health, &via, now) {
                stack.push((k, t, h.clone()));
            }
        }
    }

    /// `backend/server` of a tracked server.
    pub(super) fn source_name(&self, src: TrackSource) -> String {
        let at = match src {
            TrackSource::Checked(i) => self.plan.checked.get(i).map(|c| (c.backend, c.server)),
            TrackSource::Tracker(k) => self.plan.trackers.get(k).map(|t| (t.backend, t.server)),
        };
        let Some((b, s)) = at else {
            return String::new();
        };
        format!(
            "{}/{}",
            self.registry
                .backends
                .get(b)
                .map_or("", |x| x.name.as_str()),
            self.server(b, s).map_or("", |x| x.name.as_str())
        )
    }
}
