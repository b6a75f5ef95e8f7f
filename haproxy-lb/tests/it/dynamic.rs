//! The dynamic server limit (`minconn`, `maxconn`, `fullconn`): takes, queues and dequeues
//! against a sequential model of HAProxy 2.6 (`srv_dynamic_maxconn`, `assign_server_and_queue`,
//! `process_srv_queue`), with the backend's load counting served and queued streams.

use std::collections::{HashMap, VecDeque};

use haproxy_lb::{
    Algorithm, BalanceConfig, Balancer, Pick, RequestKey, ServerSpec, UriOptions, dynamic_maxconn,
};
use proptest::prelude::*;

/// One server, `minconn`/`maxconn` under `fullconn`; `hashed` sends every request to it by
/// its URI (waiters then queue on the server), otherwise roundrobin (the backend's queue).
fn one_server(minconn: u32, maxconn: u32, fullconn: u32, hashed: bool) -> Balancer {
    let algo = if hashed {
        Algorithm::Uri(UriOptions::default())
    } else {
        Algorithm::RoundRobin
    };
    let spec = ServerSpec::new(1, "a")
        .with_limits(maxconn, 0)
        .with_minconn(minconn);
    Balancer::new(BalanceConfig::new(algo).with_fullconn(fullconn), vec![spec]).unwrap()
}

/// HAProxy's handling of one server, step by step: streams are served or wait (FIFO).
#[derive(Debug, Default)]
struct Model {
    served: Vec<u32>,
    queue: VecDeque<u32>,
}

impl Model {
    fn limit(&self, min: u32, max: u32, full: u32, beconn: usize) -> u32 {
        dynamic_maxconn(min, max, full, beconn as u64)
    }

    /// A stream arrives (counted in `beconn` first): served if the server's queue is empty
    /// (hashed) and it is under its limit, else queued.
    fn arrive(&mut self, id: u32, (min, max, full): (u32, u32, u32), hashed: bool) -> bool {
        let beconn = self.served.len() + self.queue.len() + 1;
        // Hashed: the server's own queue; roundrobin: the backend's, which HAProxy's
        // `assign_server()` also lets no one pass.
        let _ = hashed;
        let blocked = !self.queue.is_empty();
        if !blocked && (self.served.len() as u32) < self.limit(min, max, full, beconn) {
            self.served.push(id);
            true
        } else {
            self.queue.push_back(id);
            false
        }
    }

    /// A served stream ends: its slot goes, then waiters are dequeued while the limit over
    /// the load still counting the ending stream leaves room.
    fn finish(&mut self, id: u32, (min, max, full): (u32, u32, u32)) {
        let beconn = self.served.len() + self.queue.len();
        self.served.retain(|&s| s != id);
        while (self.served.len() as u32) < self.limit(min, max, full, beconn) {
            let Some(next) = self.queue.pop_front() else {
                break;
            };
            self.served.push(next);
        }
    }
}

/// The balancer side of the same steps: tickets mapped to stream ids.
#[derive(Debug, Default)]
struct Driven {
    served: Vec<u32>,
    tickets: HashMap<u64, u32>,
}

impl Driven {
    fn arrive(&mut self, lb: &Balancer, id: u32) -> bool {
        let key = RequestKey {
            uri: Some(b"/same"),
            ..RequestKey::default()
        };
        match lb.pick(&key) {
            Pick::Server(0) => {
                self.served.push(id);
                true
            }
            Pick::Queued { ticket, .. } => {
                self.tickets.insert(ticket, id);
                false
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    fn finish(&mut self, lb: &Balancer, id: u32) {
        self.served.retain(|&s| s != id);
        let mut handed = lb.release(0).into_iter().collect::<Vec<_>>();
        while let Some(h) = lb.dequeue(0) {
            handed.push(h);
        }
        for h in handed {
            self.served.push(self.tickets.remove(&h.ticket).unwrap());
        }
    }
}

#[test]
fn roundrobin_arrivals_wait_behind_the_backend_queue_when_the_limit_grows() {
    // fullconn 10, minconn 1, maxconn 4: the 5th arrival raises the limit to 2, but requests
    // already wait in the backend's queue, so it queues behind them (HAProxy's
    // `assign_server()` for roundrobin, static-rr and first); the first release lets 4 in.
    let lb = one_server(1, 4, 10, false);
    let mut d = Driven::default();
    let served: Vec<bool> = (1..=12).map(|id| d.arrive(&lb, id)).collect();
    assert_eq!(served, (1..=12).map(|id| id == 1).collect::<Vec<_>>());
    assert_eq!(lb.connections(0), 1);
    assert_eq!(lb.backend_load(), 12);
    assert_eq!(lb.current_limit(0), 4);
    d.finish(&lb, 1);
    assert_eq!(d.served, [2, 3, 4, 5]);
}

#[test]
fn without_waiters_an_arrival_takes_the_slot_its_own_load_opens() {
    // `first` over a (minconn 1, maxconn 4) then b (no limit), fullconn 10: a's limit is 1
    // until the backend holds 5 streams, so 2-4 go to b and the 5th, counted in the load,
    // finds a's limit at 2 and takes it.
    let specs = vec![
        ServerSpec::new(1, "a").with_limits(4, 0).with_minconn(1),
        ServerSpec::new(2, "b"),
    ];
    let cfg = BalanceConfig::new(Algorithm::First).with_fullconn(10);
    let lb = Balancer::new(cfg, specs).unwrap();
    let picks: Vec<Pick> = (0..5).map(|_| lb.pick(&RequestKey::default())).collect();
    let s = Pick::Server;
    assert_eq!(picks, [s(0), s(1), s(1), s(1), s(0)]);
    assert_eq!((lb.connections(0), lb.current_limit(0)), (2, 2));
}

#[test]
fn a_release_dequeues_as_many_waiters_as_the_grown_limit_allows() {
    // Hashed: every waiter queues on the server, so only releases let them in; the first
    // release sees 12 streams (>= fullconn) and lets 4 in at once.
    let lb = one_server(1, 4, 10, true);
    let mut d = Driven::default();
    for id in 1..=12 {
        d.arrive(&lb, id);
    }
    assert_eq!(d.served, [1]);
    assert_eq!(lb.queued(0), 11);
    d.finish(&lb, 1);
    assert_eq!(d.served, [2, 3, 4, 5]);
    assert_eq!(lb.queued(0), 7);
    // As the load falls below fullconn, releases hand on fewer slots than they free.
    let mut active = Vec::new();
    for id in 2..=12 {
        d.finish(&lb, id);
        active.push(lb.connections(0));
    }
    assert_eq!(active, [4, 4, 3, 3, 2, 2, 2, 1, 1, 1, 0]);
    assert_eq!(lb.backend_load(), 0);
}

#[test]
fn a_static_limit_and_no_fullconn_keep_the_old_behaviour() {
    for (min, max, full) in [(4, 4, 10), (0, 4, 10), (1, 4, 0)] {
        let lb = one_server(min, max, full, false);
        let mut d = Driven::default();
        let served = (1..=6).filter(|&id| d.arrive(&lb, id)).count();
        assert_eq!(served, 4, "minconn {min} maxconn {max} fullconn {full}");
        assert_eq!(lb.current_limit(0), 4);
    }
    // minconn alone (or above maxconn) is the static limit.
    let lb = one_server(3, 0, 10, false);
    assert!(!lb.has_dynamic_limits());
    assert_eq!((lb.minconn(0), lb.maxconn(0)), (3, 3));
}

#[test]
fn set_maxconn_keeps_a_dynamic_limit_dynamic() {
    let lb = one_server(1, 4, 10, false);
    lb.set_maxconn(0, 8).unwrap();
    assert_eq!((lb.minconn(0), lb.maxconn(0)), (1, 8));
    // One stream in the backend: max(1, 1 * 8 / 10) = 1.
    assert_eq!(lb.current_limit(0), 1);
    // Down to minconn it becomes static, then follows.
    lb.set_maxconn(0, 1).unwrap();
    lb.set_maxconn(0, 5).unwrap();
    assert_eq!((lb.minconn(0), lb.maxconn(0)), (5, 5));
}

#[test]
fn cancelled_waiters_leave_the_load() {
    let lb = one_server(1, 4, 10, true);
    let mut d = Driven::default();
    for id in 1..=3 {
        d.arrive(&lb, id);
    }
    assert_eq!(lb.backend_load(), 3);
    let tickets: Vec<u64> = d.tickets.keys().copied().collect();
    for t in tickets {
        assert!(lb.cancel(t));
    }
    assert_eq!(lb.backend_load(), 1);
    d.finish(&lb, 1);
    assert_eq!((lb.backend_load(), lb.connections(0)), (0, 0));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Any sequence of arrivals and ends gives the model's served set and queue.
    #[test]
    fn takes_and_dequeues_follow_haproxys_model(
        min in 1u32..4,
        extra in 0u32..6,
        full in 0u32..30,
        hashed in any::<bool>(),
        ops in proptest::collection::vec((any::<bool>(), any::<u8>()), 1..80),
    ) {
        let max = min + extra;
        let limits = (min, max, full);
        let lb = one_server(min, max, full, hashed);
        let (mut m, mut d) = (Model::default(), Driven::default());
        let mut next = 0u32;
        for (arrive, pick) in ops {
            if arrive || m.served.is_empty() {
                next += 1;
                prop_assert_eq!(m.arrive(next, limits, hashed), d.arrive(&lb, next));
            } else {
                let id = m.served[usize::from(pick) % m.served.len()];
                m.finish(id, limits);
                d.finish(&lb, id);
            }
            let mut a = m.served.clone();
            let mut b = d.served.clone();
            a.sort_unstable();
            b.sort_unstable();
            prop_assert_eq!(a, b);
            prop_assert_eq!(lb.connections(0) as usize, m.served.len());
            if lb.has_dynamic_limits() {
                prop_assert_eq!(lb.backend_load() as usize, m.served.len() + m.queue.len());
            }
            prop_assert!(lb.connections(0) <= max);
        }
    }
}

#[test]
fn slowstart_ramps_a_static_limit_and_releases_let_waiters_in_as_it_grows() {
    // maxconn 10, slowstart 10 s: back up at t=100, the limit is max(1, 10 x ratio / 100)
    // with ratio = 100 x elapsed / 10 (HAProxy's srv_dynamic_maxconn), 10 again at t=110.
    let spec = ServerSpec::new(1, "a")
        .with_limits(10, 0)
        .with_slowstart(10);
    let lb = Balancer::new(BalanceConfig::new(Algorithm::RoundRobin), vec![spec]).unwrap();
    lb.set_state(0, haproxy_lb::ServerState::Down, 90).unwrap();
    lb.set_state(0, haproxy_lb::ServerState::Up, 100).unwrap();
    assert_eq!(lb.current_limit(0), 1);
    let mut d = Driven::default();
    let served: Vec<bool> = (1..=6).map(|id| d.arrive(&lb, id)).collect();
    assert_eq!(served, [true, false, false, false, false, false]);
    lb.tick(103);
    assert_eq!(lb.current_limit(0), 3);
    // One release hands its slot on and lets two more in (limit 3).
    d.finish(&lb, 1);
    assert_eq!(d.served, [2, 3, 4]);
    lb.tick(110);
    assert_eq!(lb.current_limit(0), 10);
    d.finish(&lb, 2);
    assert_eq!(d.served, [3, 4, 5, 6]);
}

#[test]
fn slowstart_scales_a_dynamic_limit_too() {
    let spec = ServerSpec::new(1, "a")
        .with_limits(8, 0)
        .with_minconn(2)
        .with_slowstart(4);
    let cfg = BalanceConfig::new(Algorithm::RoundRobin).with_fullconn(4);
    let lb = Balancer::new(cfg, vec![spec]).unwrap();
    lb.set_state(0, haproxy_lb::ServerState::Down, 0).unwrap();
    lb.set_state(0, haproxy_lb::ServerState::Up, 10).unwrap();
    lb.tick(12);
    // One stream: max(2, 1 x 8 / 4) = 2, at 50%: 1.
    assert_eq!(lb.current_limit(0), 1);
    lb.tick(14);
    assert_eq!(lb.current_limit(0), 2);
}
