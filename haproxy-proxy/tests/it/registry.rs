//! The registry through the daemon path: ids as HAProxy numbers them, per-backend and per-server
//! counters recorded by real traffic, and administrative / health changes that move traffic at once.

use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use haproxy_proxy::registry::{Admin, Health};
use haproxy_proxy::runtime::Stop;

use crate::build::{DEFAULTS, get, runtime};
use crate::support::named_server;

fn body(resp: &str) -> &str {
    resp.rsplit("\r\n\r\n").next().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counters_and_states_follow_live_traffic() {
    let a = named_server("a", 50);
    let b = named_server("b", 50);
    let rt = runtime(&format!(
        "{DEFAULTS}listen l\n bind 127.0.0.1:0\n option httpclose\n balance roundrobin\n\
         server a {a}\n server b {b}\n server c 127.0.0.1:1 id 9 disabled\n"
    ))
    .unwrap();
    let reg = std::sync::Arc::clone(&rt.registry);
    let fe = reg.frontend("l").unwrap().1;
    let (bi, be) = reg.backend("l").unwrap();
    assert_eq!((fe.id, be.id), (1, 1));
    let ids: Vec<u32> = be.servers.iter().map(|s| s.id).collect();
    assert_eq!(ids, [1, 2, 9]);
    assert_eq!(be.servers[2].admin(), Admin::Maint);

    let running = rt.start().unwrap();
    let addr = *running.local_addrs().first().unwrap();
    let (tx, rx) = tokio::sync::watch::channel(None);
    let serving = tokio::spawn(running.serve(rx));
    let fetch = move |n: usize| {
        tokio::task::spawn_blocking(move || {
            (0..n)
                .map(|_| body(&get(addr)).to_owned())
                .collect::<Vec<_>>()
        })
    };

    let seen = fetch(4).await.unwrap();
    assert_eq!(seen.iter().filter(|s| *s == "a").count(), 2, "{seen:?}");
    assert_eq!(be.counters.sessions_total.load(Relaxed), 4);
    assert_eq!(be.servers[0].counters.sessions_total.load(Relaxed), 2);
    assert_eq!(be.servers[1].counters.sessions_total.load(Relaxed), 2);
    assert_eq!(be.servers[2].counters.sessions_total.load(Relaxed), 0);
    assert_eq!(fe.counters.http_status[1].load(Relaxed), 4);
    assert_eq!(be.servers[1].counters.http_status[1].load(Relaxed), 2);

    // Maintenance on a: only b is picked, at once.
    be.servers[0].set_admin(Admin::Maint);
    assert!(reg.apply_server_state(bi, 0));
    assert!(!reg.apply_server_state(bi, 0), "no change the second time");
    assert_eq!(fetch(3).await.unwrap(), ["b", "b", "b"]);

    // b fails its checks while a comes back: only a.
    be.servers[0].set_admin(Admin::Ready);
    be.servers[1].set_health(Health::Down);
    assert!(reg.apply_server_state(bi, 0));
    assert!(reg.apply_server_state(bi, 1));
    assert_eq!(fetch(3).await.unwrap(), ["a", "a", "a"]);

    // A zero weight takes a out of the rotation as well; with b back up, b takes everything.
    be.servers[1].set_health(Health::Up);
    assert!(reg.apply_server_state(bi, 1));
    reg.set_weight(bi, 0, 0).unwrap();
    assert_eq!(fetch(2).await.unwrap(), ["b", "b"]);

    tx.send(Some(Stop::Hard)).unwrap();
    tokio::time::timeout(Duration::from_secs(5), serving)
        .await
        .unwrap()
        .unwrap();
}
