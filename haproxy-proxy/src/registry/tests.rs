use std::sync::Arc;

use haproxy_lb::{Algorithm, BalanceConfig, Balancer, RequestKey, ServerSpec, ServerState};

use super::*;
use crate::build::BackendBalancer;

fn registry() -> Registry {
    let specs = vec![ServerSpec::new(1, "a"), ServerSpec::new(2, "b")];
    let lb = Balancer::new(BalanceConfig::new(Algorithm::StaticRr), specs).unwrap();
    let picker = LbPicker(Arc::new(vec![Arc::new(BackendBalancer::new(
        Some(lb),
        None,
        false,
    ))]));
    let addr = "127.0.0.1:1".parse().unwrap();
    let servers = vec![
        ServerEntry::new("a".into(), 1, addr, false, 1, false),
        ServerEntry::new("b".into(), 2, addr, false, 1, true),
    ];
    let be = BackendEntry {
        name: "be".into(),
        id: 2,
        mode: Mode::Http,
        counters: Counters::new(),
        servers,
    };
    Registry::new(Vec::new(), vec![be], picker)
}

#[test]
fn admin_and_health_combine_as_haproxy_does() {
    let r = registry();
    let (b, s, sv) = r.server("be", "a").unwrap();
    assert_eq!((b, s), (0, 0));
    assert_eq!(sv.lb_state(), ServerState::Up);
    sv.set_admin(Admin::Drain);
    assert_eq!(sv.lb_state(), ServerState::Drain);
    sv.set_health(Health::Down);
    assert_eq!(sv.lb_state(), ServerState::Down);
    sv.set_admin(Admin::Maint);
    assert_eq!(sv.lb_state(), ServerState::Maintenance);
    sv.set_admin(Admin::Ready);
    sv.set_health(Health::NoLb);
    assert_eq!(sv.lb_state(), ServerState::Drain);
    let disabled = r.server("be", "b").unwrap().2;
    assert_eq!(disabled.admin(), Admin::Maint);
    assert!(r.server("be", "zz").is_none());
    assert!(r.server("nope", "a").is_none());
}

#[test]
fn static_algorithms_refuse_intermediate_weights() {
    let r = registry();
    assert!(r.set_weight(0, 0, 0).is_ok());
    assert!(matches!(
        r.set_weight(0, 0, 7),
        Err(haproxy_lb::LbError::StaticWeight)
    ));
    assert!(r.set_weight(3, 0, 1).is_err());
}

#[test]
fn recording_reaches_backend_and_server() {
    let r = registry();
    r.record(&StreamFacts {
        backend: Some(0),
        server: Some(1),
        status: Some(200),
        ..StreamFacts::default()
    });
    r.record(&StreamFacts {
        backend: Some(5),
        ..StreamFacts::default()
    });
    let be = &r.backends[0];
    assert_eq!(be.counters.sessions_total.load(Relaxed), 1);
    assert_eq!(be.servers[1].counters.http_status[1].load(Relaxed), 1);
    assert_eq!(be.servers[0].counters.sessions_total.load(Relaxed), 0);
}

#[test]
fn state_changes_reach_the_balancer() {
    let r = registry();
    let key = RequestKey::default();
    r.backends[0].servers[0].set_admin(Admin::Maint);
    assert!(r.apply_server_state(0, 0));
    assert!(matches!(
        r.balancer(0).unwrap().pick(&key),
        haproxy_lb::Pick::NoServer | haproxy_lb::Pick::Server(1)
    ));
    assert!(!r.apply_server_state(9, 0));
}

#[tokio::test]
async fn sessions_are_listed_while_their_guard_lives_and_can_be_killed() {
    let t = std::sync::Arc::new(super::SessionTable::default());
    let src: std::net::SocketAddr = "127.0.0.1:4000".parse().unwrap();
    let a = t.open(0, src);
    let b = t.open(0, src);
    super::serve_as(&b, async { r_note() }).await;
    assert_eq!(t.len(), 2);
    let listed = t.list();
    assert_eq!(listed.len(), 2);
    assert!(listed[0].id < listed[1].id, "oldest first");
    assert_eq!(b.live().backend(), Some(0));
    assert_eq!(b.live().server(), Some(1));
    assert_eq!(a.live().server(), None);
    assert!(t.kill(a.live().id));
    // The kill is kept for a stream that was not waiting yet.
    tokio::time::timeout(std::time::Duration::from_secs(1), a.live().killed())
        .await
        .expect("killed");
    assert!(!t.kill(999));
    assert_eq!(t.kill_server(0, 1), 1);
    assert_eq!(t.kill_server(0, 0), 0);
    drop(a);
    assert_eq!(t.len(), 1);
    drop(b);
    assert!(t.is_empty());
}

fn r_note() {
    super::note_route(0, Some(1));
}

#[test]
fn show_sess_lists_at_most_its_bound() {
    let t = std::sync::Arc::new(super::SessionTable::default());
    let src: std::net::SocketAddr = "127.0.0.1:4000".parse().unwrap();
    let guards: Vec<_> = (0..super::MAX_SHOWN_SESSIONS + 5)
        .map(|_| t.open(0, src))
        .collect();
    assert_eq!(t.len(), super::MAX_SHOWN_SESSIONS + 5);
    assert_eq!(t.list().len(), super::MAX_SHOWN_SESSIONS);
    drop(guards);
    assert!(t.is_empty());
}
