//! A server becoming usable takes the oldest requests of the backend's queue directly
//! (HAProxy's `pendconn_grab_from_px()`), and which servers may serve that queue at all
//! (`process_srv_queue()`'s `px_ok`): backups only while no active server is usable, and then
//! the first usable backup unless `option allbackups`.

use haproxy_lb::{
    Algorithm, BalanceConfig, Balancer, Handoff, Pick, RequestKey, ServerSpec, ServerState,
};

fn pick(lb: &Balancer) -> Pick {
    lb.pick(&RequestKey::default())
}

fn backend_ticket(lb: &Balancer) -> u64 {
    match pick(lb) {
        Pick::Queued {
            ticket,
            server: None,
        } => ticket,
        other => panic!("expected the backend queue, got {other:?}"),
    }
}

fn grab_all(lb: &Balancer, s: usize) -> Vec<u64> {
    // Bounded: each grab takes one request off a queue that holds fewer than 100.
    (0..100)
        .map_while(|_| lb.grab(s))
        .map(|h| h.ticket)
        .collect()
}

/// `a` (maxconn 1) busy, `b` in maintenance, and `n` requests in the backend's queue.
fn waiting(b: ServerSpec, allbackups: bool, n: usize) -> (Balancer, Vec<u64>) {
    let mut cfg = BalanceConfig::new(Algorithm::RoundRobin);
    cfg.allbackups = allbackups;
    let specs = vec![ServerSpec::new(1, "a").with_limits(1, 0), b];
    let lb = Balancer::new(cfg, specs).unwrap();
    lb.set_state(1, ServerState::Maintenance, 0).unwrap();
    assert_eq!(pick(&lb), Pick::Server(0));
    let tickets = (0..n).map(|_| backend_ticket(&lb)).collect();
    (lb, tickets)
}

#[test]
fn a_server_coming_up_takes_the_oldest_requests_its_maxconn_allows() {
    let (lb, tickets) = waiting(ServerSpec::new(2, "b").with_limits(2, 0), false, 3);
    assert_eq!(lb.grab(1), None, "still in maintenance");
    lb.set_state(1, ServerState::Up, 0).unwrap();
    assert_eq!(grab_all(&lb, 1), tickets[..2].to_vec(), "oldest first");
    assert_eq!(lb.connections(1), 2, "the slots are counted at once");
    // Nothing left for a newcomer on b: it queues behind the third waiter.
    assert!(matches!(pick(&lb), Pick::Queued { server: None, .. }));
    assert_eq!(lb.grab(0), None, "a is full");
    assert_eq!(
        lb.release(1),
        Some(Handoff {
            ticket: tickets[2],
            server: 1
        })
    );
}

#[test]
fn a_server_without_maxconn_takes_the_whole_backend_queue() {
    let (lb, tickets) = waiting(ServerSpec::new(2, "b"), false, 5);
    lb.set_state(1, ServerState::Up, 0).unwrap();
    assert_eq!(grab_all(&lb, 1), tickets);
    assert_eq!(lb.connections(1), 5);
    assert_eq!(lb.grab(1), None, "the queue is empty");
}

#[test]
fn a_grab_leaves_the_servers_own_queue_to_releases() {
    let specs = vec![ServerSpec::new(1, "a").with_limits(1, 0)];
    let lb = Balancer::new(BalanceConfig::new(Algorithm::Source), specs).unwrap();
    let key = RequestKey {
        source: Some(&[127, 0, 0, 1]),
        ..RequestKey::default()
    };
    assert_eq!(lb.pick(&key), Pick::Server(0));
    let Pick::Queued {
        ticket,
        server: Some(0),
    } = lb.pick(&key)
    else {
        panic!("the hashed server's own queue")
    };
    lb.set_maxconn(0, 2).unwrap();
    assert_eq!(lb.grab(0), None, "only the backend's queue is grabbed");
    assert_eq!(lb.dequeue(0), Some(Handoff { ticket, server: 0 }));
}

#[test]
fn backups_serve_the_backend_queue_only_as_haproxy_lets_them() {
    // A backup while an active server is usable takes nothing.
    let (lb, _) = waiting(ServerSpec::new(2, "b").with_backup(), false, 1);
    lb.set_state(1, ServerState::Up, 0).unwrap();
    assert!(!lb.serves_backend_queue(1));
    assert_eq!(lb.grab(1), None);

    // With the active server down, the first usable backup does; the second only with
    // `option allbackups`.
    for allbackups in [false, true] {
        let mut cfg = BalanceConfig::new(Algorithm::RoundRobin);
        cfg.allbackups = allbackups;
        let specs = vec![
            ServerSpec::new(1, "a"),
            ServerSpec::new(2, "b1").with_backup().with_limits(1, 0),
            ServerSpec::new(3, "b2").with_backup().with_limits(1, 0),
        ];
        let lb = Balancer::new(cfg, specs).unwrap();
        lb.set_state(0, ServerState::Down, 0).unwrap();
        lb.set_state(2, ServerState::Maintenance, 0).unwrap();
        assert_eq!(pick(&lb), Pick::Server(1));
        let t = backend_ticket(&lb);
        lb.set_state(2, ServerState::Up, 0).unwrap();
        assert!(!lb.serves_backend_queue(0), "a is down");
        assert!(lb.serves_backend_queue(1), "the first usable backup");
        assert_eq!(lb.serves_backend_queue(2), allbackups);
        let grabbed = lb.grab(2);
        if allbackups {
            assert_eq!(
                grabbed,
                Some(Handoff {
                    ticket: t,
                    server: 2
                })
            );
        } else {
            assert_eq!(grabbed, None);
            assert_eq!(lb.connections(2), 0);
        }
    }
}

#[test]
fn a_backup_released_while_an_active_server_is_usable_leaves_the_backend_queue() {
    let specs = vec![
        ServerSpec::new(1, "a").with_limits(1, 0),
        ServerSpec::new(2, "b").with_backup().with_limits(1, 0),
    ];
    let lb = Balancer::new(BalanceConfig::new(Algorithm::RoundRobin), specs).unwrap();
    lb.set_state(0, ServerState::Down, 0).unwrap();
    assert_eq!(
        pick(&lb),
        Pick::Server(1),
        "the backup serves while a is down"
    );
    lb.set_state(0, ServerState::Up, 0).unwrap();
    assert_eq!(pick(&lb), Pick::Server(0));
    let t = backend_ticket(&lb);
    // b's slot is freed, not handed on: HAProxy's process_srv_queue() does not let a backup
    // dequeue the backend's requests while an active server is usable.
    assert_eq!(lb.release(1), None);
    assert_eq!(lb.connections(1), 0);
    assert_eq!(
        lb.release(0),
        Some(Handoff {
            ticket: t,
            server: 0
        })
    );
}
