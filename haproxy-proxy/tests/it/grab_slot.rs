//! A server enabled over the runtime API hands its free slot to the oldest request of the
//! backend's queue before the command returns (HAProxy's `pendconn_grab_from_px()` assigns it
//! to that server at once): the slot is counted on the server already, and a request arriving
//! right after queues instead of taking it. Our daemon only, over loopback.

use std::sync::Arc;
use std::time::Duration;

use haproxy_cfg::load::{Outcome, SystemEnv, load};
use haproxy_cfg::parse_str;
use haproxy_proxy::admin::{Admin, ProcessInfo};
use haproxy_proxy::build::build;
use haproxy_proxy::runtime::Stop;
use haproxy_stats::cli::{Cli, Level};
use tokio::sync::watch;

use crate::queue::{Origin, Reserved, body, get, until};

// One thread: nothing else runs between the command and the checks after it, so a queued
// request sent back to pick again (as before) could not have taken the slot yet.
#[tokio::test]
async fn an_enabled_server_holds_the_queued_requests_slot_when_the_command_returns() {
    let (a, b) = (Origin::start("a").await, Origin::start("b").await);
    let reserved = Reserved::new();
    let addr = reserved.addr;
    let text = format!(
        "defaults\n mode http\n timeout connect 1s\n timeout client 10s\n timeout server 10s\n timeout queue 5s\n\
         listen l\n bind {addr}\n balance roundrobin\n server a {} maxconn 1\n server b {} maxconn 1 disabled\n",
        a.addr, b.addr
    );
    let loaded = load(&[parse_str("g.cfg", &text)], &SystemEnv);
    assert_ne!(loaded.outcome, Outcome::Invalid, "{:?}", loaded.diagnostics);
    let rt = build(&loaded.config).unwrap();
    let registry = Arc::clone(&rt.registry);
    let mut admin = Admin::new(Arc::clone(&rt.registry), ProcessInfo::default());
    let (stop, rx) = watch::channel(None);
    let task = tokio::spawn(rt.start().unwrap().serve(rx));

    let held = tokio::spawn(get(addr, "/hold"));
    until("the held request at a", || a.active() == 1).await;
    let queued = tokio::spawn(get(addr, "/"));
    // Being queued is not visible from outside: give the request time to get there.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !queued.is_finished(),
        "the request waits in the backend queue"
    );
    let lb = registry.balancer(0).unwrap();
    assert_eq!((lb.connections(0), lb.connections(1)), (1, 0));

    let said = Cli::new(Level::Admin).feed(b"enable server l/b\n", &mut admin);
    assert_eq!(String::from_utf8(said).unwrap().trim(), "");
    // Before anything else runs: the queued request holds b's only slot.
    assert_eq!(lb.connections(1), 1, "the slot went to the queued request");
    let late = tokio::spawn(get(addr, "/late"));
    let first = tokio::time::timeout(Duration::from_secs(3), queued)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(body(&first), "b");
    // The late request found both servers full and waited for a release.
    a.let_go(1);
    assert_eq!(body(&held.await.unwrap()), "a");
    let late = tokio::time::timeout(Duration::from_secs(3), late)
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(body(&late), "a" | "b"), "{late}");
    assert_eq!(b.max_active(), 1, "b never served two at once");

    stop.send(Some(Stop::Hard)).unwrap();
    tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .unwrap()
        .unwrap();
}
