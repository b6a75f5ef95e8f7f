//! Queued streams follow their servers' state, as in HAProxy 2.6's `srv_update_status()`: a
//! server that goes DOWN, into maintenance or drain hands the streams waiting in its own queue
//! back to load balancing (`pendconn_redistribute()`, only with `option redispatch` and without
//! `option persist`), and a server that becomes usable calls the oldest streams of the
//! backend's queue to it, as many as its `maxconn` allows (`pendconn_grab_from_px()`).
//!
//! A stream sent back picks a server again through the balancer: one called by a server coming
//! up lands on it unless a new request took its room first (HAProxy assigns it directly).

use super::adapters::BackendBalancer;

impl BackendBalancer {
    /// Moves queued streams after server `s` changed from `was_usable` to what the balancer
    /// now says; returns how many were sent back to load balancing.
    pub fn server_changed(&self, s: usize, was_usable: bool) -> u32 {
        let Some(lb) = &self.balancer else { return 0 };
        let usable = lb.is_usable(s);
        let cancel = |t| lb.cancel(t);
        match (was_usable, usable) {
            (true, false) if self.redistribute => {
                self.handoffs.requeue(Some(s), usize::MAX, cancel)
            }
            (false, true) => match self.room_for_backend_queue(s) {
                0 => 0,
                room => self.handoffs.requeue(None, room, cancel),
            },
            _ => 0,
        }
    }

    /// How many streams of the backend's queue server `s` may take now: none for a backup
    /// while an active server is usable, or when it is not the first usable backup and
    /// `option allbackups` is off; else its free connection slots (all without `maxconn`).
    fn room_for_backend_queue(&self, s: usize) -> usize {
        let Some(lb) = &self.balancer else { return 0 };
        let servers = lb.servers();
        if servers.get(s).is_some_and(|sv| sv.backup) {
            let usable = |want_backup: bool| {
                servers
                    .iter()
                    .enumerate()
                    .filter(move |(i, sv)| sv.backup == want_backup && lb.is_usable(*i))
                    .map(|(i, _)| i)
            };
            let first_backup = usable(true).next();
            if usable(false).next().is_some()
                || (!lb.config().allbackups && first_backup != Some(s))
            {
                return 0;
            }
        }
        match lb.maxconn(s) {
            0 => usize::MAX,
            max => max.saturating_sub(lb.connections(s)) as usize,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use haproxy_lb::{Algorithm, BalanceConfig, Balancer, ServerSpec, ServerState};

    use super::super::adapters::{BackendBalancer, LbPicker};
    use crate::route::{PickServer, StreamView, Take};
    use crate::slot::Dequeued;

    fn picker(algo: Algorithm, servers: Vec<ServerSpec>, redistribute: bool) -> LbPicker {
        let lb = Balancer::new(BalanceConfig::new(algo), servers).unwrap();
        let bal = BackendBalancer::new(Some(lb), None, false).with_redistribute(redistribute);
        LbPicker(Arc::new(vec![Arc::new(bal)]))
    }

    fn view() -> StreamView<'static> {
        StreamView {
            src: "127.0.0.1:4000".parse().unwrap(),
            dst: "127.0.0.1:80".parse().unwrap(),
            request: None,
        }
    }

    fn two(maxconn: u32) -> Vec<ServerSpec> {
        vec![
            ServerSpec::new(1, "a").with_limits(maxconn, 0),
            ServerSpec::new(2, "b").with_limits(maxconn, 0),
        ]
    }

    #[tokio::test]
    async fn a_server_going_down_sends_its_queue_back_only_with_redispatch() {
        for redistribute in [false, true] {
            let p = picker(Algorithm::Source, two(1), redistribute);
            let bal = p.0.first().unwrap();
            let lb = bal.balancer.as_ref().unwrap();
            let Take::Ready(busy) = p.take(0, &view(), None) else {
                panic!("free server")
            };
            let s = busy.server();
            let Take::Queued(mut waiting) = p.take(0, &view(), None) else {
                panic!("the hashed server is full")
            };
            assert_eq!(waiting.server(), Some(s));
            lb.set_state(s, ServerState::Maintenance, 0).unwrap();
            let moved = bal.server_changed(s, true);
            if redistribute {
                assert_eq!((moved, lb.queued(s)), (1, 0));
                assert!(matches!(waiting.dequeued().await, Dequeued::Requeue));
                // Picking again hashes to the other server.
                let Take::Ready(other) = p.take(0, &view(), None) else {
                    panic!("the other server is free")
                };
                assert_ne!(other.server(), s);
            } else {
                assert_eq!((moved, lb.queued(s)), (0, 1));
                // Its own queue is still served by a release, as HAProxy's is.
                drop(busy);
                assert_eq!(waiting.wait().await.unwrap().server(), s);
            }
        }
    }

    #[tokio::test]
    async fn a_server_coming_up_calls_as_many_backend_waiters_as_it_has_room() {
        let p = picker(Algorithm::RoundRobin, two(1), false);
        let bal = p.0.first().unwrap();
        let lb = bal.balancer.as_ref().unwrap();
        lb.set_state(1, ServerState::Maintenance, 0).unwrap();
        let Take::Ready(_busy) = p.take(0, &view(), None) else {
            panic!("free server")
        };
        let Take::Queued(mut first) = p.take(0, &view(), None) else {
            panic!("backend queue")
        };
        let Take::Queued(mut second) = p.take(0, &view(), None) else {
            panic!("backend queue")
        };
        assert_eq!(first.server(), None);
        // Still in maintenance: nothing moves.
        assert_eq!(bal.server_changed(1, false), 0);
        lb.set_state(1, ServerState::Up, 0).unwrap();
        assert_eq!(bal.server_changed(1, false), 1, "maxconn 1: room for one");
        assert!(matches!(first.dequeued().await, Dequeued::Requeue));
        let Take::Ready(slot) = p.take(0, &view(), None) else {
            panic!("b has room")
        };
        assert_eq!(slot.server(), 1);
        drop(slot);
        // The release of b's slot hands it to the second waiter as usual.
        assert_eq!(second.wait().await.unwrap().server(), 1);
    }

    #[test]
    fn a_backup_takes_nothing_from_the_backend_queue_while_an_active_server_is_usable() {
        let servers = vec![
            ServerSpec::new(1, "a").with_limits(1, 0),
            ServerSpec::new(2, "b1").with_backup(),
            ServerSpec::new(3, "b2").with_backup(),
        ];
        let p = picker(Algorithm::RoundRobin, servers, false);
        let bal = p.0.first().unwrap();
        assert_eq!(bal.room_for_backend_queue(1), 0, "a is usable");
        let lb = bal.balancer.as_ref().unwrap();
        lb.set_state(0, ServerState::Down, 0).unwrap();
        assert_eq!(bal.room_for_backend_queue(1), usize::MAX, "first backup");
        assert_eq!(bal.room_for_backend_queue(2), 0, "not the first backup");
    }

    #[tokio::test]
    async fn a_raised_maxconn_hands_slots_to_waiters_at_once_and_no_more_than_it_allows() {
        let p = picker(
            Algorithm::RoundRobin,
            vec![ServerSpec::new(1, "a").with_limits(1, 0)],
            false,
        );
        let bal = p.0.first().unwrap();
        let lb = bal.balancer.as_ref().unwrap();
        let Take::Ready(_busy) = p.take(0, &view(), None) else {
            panic!("free server")
        };
        let mut waiters = Vec::new();
        for _ in 0..3 {
            let Take::Queued(w) = p.take(0, &view(), None) else {
                panic!("backend queue")
            };
            waiters.push(w);
        }
        // Nothing to hand while the limit is reached.
        assert_eq!(bal.hand_on(0, None), 0);
        lb.set_maxconn(0, 3).unwrap();
        assert_eq!(bal.hand_on(0, None), 2, "maxconn 3, one busy: room for two");
        assert_eq!(lb.connections(0), 3);
        let mut slots = Vec::new();
        for w in waiters.iter_mut().take(2) {
            slots.push(w.wait().await.unwrap());
        }
        assert!(slots.iter().all(|s| s.server() == 0), "the oldest two");
        assert_eq!(bal.hand_on(0, None), 0, "full again: the third still waits");
        drop(slots.pop());
        let third = waiters.last_mut().unwrap().wait().await.unwrap();
        assert_eq!(
            third.server(),
            0,
            "a release hands the freed slot on as before"
        );
    }
}
