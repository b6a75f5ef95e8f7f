//! Queued streams follow their servers' state, as in HAProxy 2.6's `srv_update_status()`: a
//! server that goes DOWN, into maintenance or drain hands the streams waiting in its own queue
//! back to load balancing (`pendconn_redistribute()`, only with `option redispatch` and without
//! `option persist`), and a server that becomes usable takes the oldest streams of the
//! backend's queue directly, as many as its `maxconn` allows (`pendconn_grab_from_px()`): each
//! is handed a slot on it before the change returns, so no request arriving meanwhile takes
//! their room.

use std::sync::Arc;

use super::adapters::BackendBalancer;

impl BackendBalancer {
    /// Moves queued streams after server `s` changed from `was_usable` to what the balancer
    /// now says; returns how many left their queue (sent back to load balancing when `s`
    /// stopped being usable, handed a slot on `s` when it became usable).
    pub fn server_changed(self: &Arc<Self>, s: usize, was_usable: bool) -> u32 {
        let Some(lb) = &self.balancer else { return 0 };
        match (was_usable, lb.is_usable(s)) {
            (true, false) if self.redistribute => {
                self.handoffs.requeue(Some(s), usize::MAX, |t| lb.cancel(t))
            }
            (false, true) => self.grab(s),
            _ => 0,
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
    async fn a_server_coming_up_hands_its_room_to_the_oldest_backend_waiters_directly() {
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
        // The oldest waiter holds b's slot already: a request arriving now queues behind the
        // second waiter instead of taking it.
        assert_eq!(lb.connections(1), 1);
        let Take::Queued(_third) = p.take(0, &view(), None) else {
            panic!("b's room went to the waiter")
        };
        let slot = first.wait().await.unwrap();
        assert_eq!(slot.server(), 1);
        drop(slot);
        // The release of b's slot hands it to the second waiter as usual.
        assert_eq!(second.wait().await.unwrap().server(), 1);
    }

    #[tokio::test]
    async fn a_backup_coming_up_takes_the_backend_queue_only_as_the_first_usable_backup() {
        let servers = vec![
            ServerSpec::new(1, "a").with_limits(1, 0),
            ServerSpec::new(2, "b1").with_backup(),
            ServerSpec::new(3, "b2").with_backup(),
        ];
        let p = picker(Algorithm::RoundRobin, servers, false);
        let bal = p.0.first().unwrap();
        let lb = bal.balancer.as_ref().unwrap();
        lb.set_state(1, ServerState::Maintenance, 0).unwrap();
        lb.set_state(2, ServerState::Maintenance, 0).unwrap();
        let Take::Ready(_busy) = p.take(0, &view(), None) else {
            panic!("free server")
        };
        let Take::Queued(mut waiter) = p.take(0, &view(), None) else {
            panic!("backend queue")
        };
        lb.set_state(1, ServerState::Up, 0).unwrap();
        assert_eq!(bal.server_changed(1, false), 0, "a is usable");
        assert_eq!(lb.connections(1), 0);
        lb.set_state(0, ServerState::Down, 0).unwrap();
        assert_eq!(bal.server_changed(0, true), 0, "no redispatch");
        lb.set_state(2, ServerState::Up, 0).unwrap();
        assert_eq!(
            bal.server_changed(2, false),
            0,
            "b1 is the first usable backup"
        );
        // b1 back from maintenance is the first usable backup again: it takes the waiter.
        lb.set_state(1, ServerState::Maintenance, 0).unwrap();
        assert_eq!(bal.server_changed(1, true), 0);
        lb.set_state(1, ServerState::Up, 0).unwrap();
        assert_eq!(bal.server_changed(1, false), 1);
        assert_eq!(waiter.wait().await.unwrap().server(), 1);
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
