use std::sync::Arc;

use haproxy_lb::{Algorithm, BalanceConfig, Balancer, RequestKey, ServerSpec, ServerState};

use super::*;
use crate::build::BackendBalancer;

fn registry() -> Registry {
    let specs = vec![ServerSpec::new(1, "a"), ServerSpec::new(2, "b")];
    let lb = Balancer::new(BalanceConfig::new(Algorithm::StaticRr), specs).unwrap();
    let picker = LbPicker(Arc::new(vec![BackendBalancer {
        balancer: Some(lb),
        hdr_name: None,
    }]));
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
