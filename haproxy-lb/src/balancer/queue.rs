//! Server and backend queues: waiting when every eligible server is full, FIFO hand-off on
//! release, and cancellation. The queue lock is taken only when a server is full or someone
//! waits; a release with nobody waiting stays on atomics.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;

use super::{Balancer, Handoff, MAX_QUEUE, Pick, lock};

/// The waiters, under the queue lock.
#[derive(Debug, Default)]
pub(super) struct Queues {
    pub(super) server: Vec<VecDeque<u64>>,
    pub(super) backend: VecDeque<u64>,
    pub(super) next_ticket: u64,
}

impl Balancer {
    /// Queues a request on `server` (or the backend), re-checking for a free slot under the
    /// queue lock so a concurrent release cannot strand it.
    pub(super) fn enqueue(&self, server: Option<usize>) -> Pick {
        self.enqueue_avoiding(server, None)
    }

    /// [`Balancer::enqueue`]; the backend queue's re-check passes over `avoid` (the pick's
    /// walk already decided whether the avoided server takes the request).
    pub(super) fn enqueue_avoiding(&self, server: Option<usize>, avoid: Option<usize>) -> Pick {
        let mut q = lock(&self.queues);
        if let Some(s) = server {
            if self.try_take(s) {
                return Pick::Server(s);
            }
            let maxqueue = self.specs.get(s).map_or(0, |sp| sp.maxqueue) as usize;
            let Some(sq) = q.server.get(s) else {
                return Pick::NoServer;
            };
            if (maxqueue != 0 && sq.len() >= maxqueue) || sq.len() >= MAX_QUEUE {
                return Pick::QueueFull { server: Some(s) };
            }
        } else {
            if let Some(s) = self
                .snapshot
                .load()
                .group
                .iter()
                .copied()
                .find(|&s| Some(s) != avoid && self.try_take(s))
            {
                return Pick::Server(s);
            }
            if q.backend.len() >= MAX_QUEUE {
                return Pick::QueueFull { server: None };
            }
        }
        q.next_ticket += 1;
        let ticket = q.next_ticket;
        match server.and_then(|s| q.server.get_mut(s).map(|sq| (s, sq))) {
            Some((s, sq)) => {
                sq.push_back(ticket);
                if let Some(c) = self.queued.get(s) {
                    c.fetch_add(1, Ordering::AcqRel);
                }
            }
            None => {
                q.backend.push_back(ticket);
                self.backend_waiting.fetch_add(1, Ordering::AcqRel);
            }
        }
        self.waiting.fetch_add(1, Ordering::AcqRel);
        Pick::Queued { ticket, server }
    }

    /// Releases a connection on server `i`. When requests wait (in `i`'s queue or the
    /// backend's), the oldest of them takes the slot at once and is returned.
    pub fn release(&self, i: usize) -> Option<Handoff> {
        // The common case, without a call: no limit, nobody waiting, this thread's lane.
        if self.maxconn(i) == 0
            && self.waiting.load(Ordering::Acquire) == 0
            && let Some(l) = self.served.lane()
        {
            if let Some(left) = self.served.sub_on(i, l) {
                self.lc_requeue(i, || left);
            }
            return None;
        }
        self.release_shared(i)
    }

    /// [`Balancer::release`] on the shared lane, or handing the slot to a waiter.
    #[inline(never)]
    fn release_shared(&self, i: usize) -> Option<Handoff> {
        self.served.shared(i)?;
        let maxconn = self.maxconn(i);
        if maxconn == 0 && self.waiting.load(Ordering::Acquire) == 0 {
            // Re-key before the locked decrement, as a take does (see `try_take`).
            self.lc_requeue(i, || self.served.get(i).saturating_sub(1));
            self.drop_one(i);
            return None;
        }
        let mut q = lock(&self.queues);
        // Above its limit (a lowered `maxconn`, a dynamic limit that fell), the slot is not
        // handed on. The releasing stream still counts in the backend's load.
        let limit = if self.scaled.load(Ordering::Relaxed) {
            self.limit_with(i, 0)
        } else {
            maxconn
        };
        let over = limit != 0 && self.connections(i) > limit;
        let ticket = if over {
            None
        } else {
            self.next_waiter(&mut q, i)
        };
        match ticket {
            Some(ticket) => {
                self.waiting.fetch_sub(1, Ordering::AcqRel);
                self.lc_requeue(i, || self.connections(i));
                Some(Handoff { ticket, server: i })
            }
            None => {
                let left = self.drop_one(i);
                self.lc_requeue(i, || left);
                None
            }
        }
    }

    /// Whether server `i` may take requests from the backend's queue (HAProxy's `px_ok` in
    /// `process_srv_queue()`, and the test opening `pendconn_grab_from_px()`): it is usable,
    /// and it is an active server, or a backup while no active server is usable that is the
    /// first usable backup or the backend has `option allbackups`.
    #[must_use]
    pub fn serves_backend_queue(&self, i: usize) -> bool {
        let snap = self.snapshot.load();
        snap.usable.get(i).copied().unwrap_or(false)
            && (!self.spec_backup(i)
                || (snap.srv_act == 0 && (snap.fbck == Some(i) || self.config.allbackups)))
    }

    /// Whether a waiter could take a slot of server `i`: one in its own queue, or in the
    /// backend's while `i` serves it.
    pub(super) fn has_waiter(&self, q: &Queues, i: usize) -> bool {
        q.server.get(i).is_some_and(|sq| !sq.is_empty())
            || (!q.backend.is_empty() && self.serves_backend_queue(i))
    }

    /// Takes the oldest waiter server `i` serves off its queue: from `i`'s own queue or the
    /// backend's (while `i` serves it), whichever queued first.
    #[inline(always)]
    pub(super) fn next_waiter(&self, q: &mut Queues, i: usize) -> Option<u64> {
        let own = q.server.get(i).and_then(|sq| sq.front().copied());
        let shared = if !q.backend.is_empty() && self.serves_backend_queue(i) {
            q.backend.front().copied()
        } else {
            None
        };
        let from_backend = |q: &mut Queues| {
            let t = q.backend.pop_front();
            self.backend_waiting.fetch_sub(1, Ordering::AcqRel);
            t
        };
        match (own, shared) {
            (Some(a), Some(b)) if b < a => from_backend(q),
            (Some(_), _) => {
                let t = q.server.get_mut(i).and_then(VecDeque::pop_front);
                if let Some(c) = self.queued.get(i) {
                    c.fetch_sub(1, Ordering::AcqRel);
                }
                t
            }
            (None, Some(_)) => from_backend(q),
            (None, None) => None,
        }
    }

    /// HAProxy's `pendconn_grab_from_px()`, one request at a time: when server `i` serves the
    /// backend's queue ([`Balancer::serves_backend_queue`]) and its limit leaves room (all of
    /// the queue without `maxconn`), the oldest request of the backend's queue takes a slot on
    /// `i` and is returned. Call it until it returns `None` after `i` became usable, and hand
    /// each slot to its waiter: no pick in between can take the room. The server's own queue
    /// is left to releases, as HAProxy leaves it.
    pub fn grab(&self, i: usize) -> Option<Handoff> {
        if self.backend_waiting.load(Ordering::Acquire) == 0 || !self.serves_backend_queue(i) {
            return None;
        }
        let mut q = lock(&self.queues);
        q.backend.front()?;
        // The waiters are already counted in the backend's load: no extra stream.
        let limit = self.limit_with(i, 0);
        if limit == 0 {
            self.served.shared(i)?.fetch_add(1, Ordering::AcqRel);
        } else {
            self.served.take_limited(i, limit).ok()?;
        }
        let ticket = q.backend.pop_front()?;
        self.backend_waiting.fetch_sub(1, Ordering::AcqRel);
        self.waiting.fetch_sub(1, Ordering::AcqRel);
        self.count_total(1);
        self.lc_requeue(i, || self.connections(i));
        Some(Handoff { ticket, server: i })
    }

    /// Removes a waiter that gave up (`timeout queue`, client abort). Returns whether it was
    /// still queued.
    pub fn cancel(&self, ticket: u64) -> bool {
        let mut q = lock(&self.queues);
        if let Some(p) = q.backend.iter().position(|&t| t == ticket) {
            q.backend.remove(p);
            self.backend_waiting.fetch_sub(1, Ordering::AcqRel);
            self.waiting.fetch_sub(1, Ordering::AcqRel);
            return true;
        }
        for (s, sq) in q.server.iter_mut().enumerate() {
            if let Some(p) = sq.iter().position(|&t| t == ticket) {
                sq.remove(p);
                if let Some(c) = self.queued.get(s) {
                    c.fetch_sub(1, Ordering::AcqRel);
                }
                self.waiting.fetch_sub(1, Ordering::AcqRel);
                return true;
            }
        }
        false
    }
}
