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
    super::serve_as(&b, async { t.note_route(0, Some(1)) }).await;
    assert_eq!(t.len(), 2);
    let listed = t.list();
    assert_eq!(listed.len(), 2);
    assert!(listed[0].id < listed[1].id, "oldest first");
    assert_eq!(listed[1].src, src);
    assert_eq!((listed[1].backend, listed[1].server), (Some(0), Some(1)));
    assert_eq!(b.live().backend(), Some(0));
    assert_eq!(b.live().server(), Some(1));
    assert_eq!(a.live().server(), None);
    assert!(t.kill(a.live().id()));
    // The kill is kept for a stream that was not waiting yet.
    tokio::time::timeout(std::time::Duration::from_secs(1), a.live().killed())
        .await
        .expect("killed");
    assert!(!t.kill(999));
    assert!(!t.kill(0));
    assert_eq!(t.kill_server(0, 1), 1);
    assert_eq!(t.kill_server(0, 0), 0);
    drop(a);
    assert_eq!(t.len(), 1);
    drop(b);
    assert!(t.is_empty());
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

fn noop_poll<F: std::future::Future>(fut: F) -> std::task::Poll<F::Output> {
    let mut fut = std::pin::pin!(fut);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    fut.as_mut().poll(&mut cx)
}

#[test]
fn a_thread_reuses_its_slots_without_taking_more() {
    let t = super::SessionTable::default();
    let src: std::net::SocketAddr = "127.0.0.1:4000".parse().unwrap();
    let first: *const super::LiveSession = t.open(0, src).live();
    for i in 0..10_000 {
        let g = t.open(i % 3, src);
        // One stream at a time: always the same slot, and no more slots taken.
        assert!(std::ptr::eq(g.live(), first));
        assert_eq!(t.list().len(), 1);
    }
    assert_eq!(t.slot_count(), super::SLOTS_PER_GRAB);
    // More streams at once than one grab: the thread takes exactly one more grab.
    let many: Vec<_> = (0..=super::SLOTS_PER_GRAB)
        .map(|_| t.open(0, src))
        .collect();
    assert_eq!(t.slot_count(), 2 * super::SLOTS_PER_GRAB);
    assert_eq!(t.len(), super::SLOTS_PER_GRAB + 1);
    drop(many);
    assert!(t.is_empty());
    let _again: Vec<_> = (0..=super::SLOTS_PER_GRAB)
        .map(|_| t.open(0, src))
        .collect();
    assert_eq!(t.slot_count(), 2 * super::SLOTS_PER_GRAB);
}

#[test]
fn a_kill_aimed_at_an_ended_stream_spares_the_stream_reusing_its_slot() {
    let t = super::SessionTable::default();
    let src: std::net::SocketAddr = "127.0.0.1:4000".parse().unwrap();
    let old = t.open(0, src);
    let old_id = old.live().id();
    let slot: *const super::LiveSession = old.live();
    drop(old);
    assert!(!t.kill(old_id), "an ended stream is not found");
    let new = t.open(0, src);
    assert!(std::ptr::eq(new.live(), slot), "the slot is reused");
    assert_ne!(new.live().id(), old_id);
    // A kill that found the old stream just before it ended lands after the slot was reused.
    new.live().aim_kill(old_id);
    assert!(noop_poll(new.live().killed()).is_pending());
    // A kill aimed at the new stream still works, even after the late one.
    assert!(t.kill(new.live().id()));
    assert!(noop_poll(new.live().killed()).is_ready());
    // And the slot's next owner starts unkilled.
    let new_id = new.live().id();
    drop(new);
    let next = t.open(0, src);
    assert!(std::ptr::eq(next.live(), slot));
    next.live().aim_kill(new_id);
    assert!(noop_poll(next.live().killed()).is_pending());
}

#[tokio::test]
async fn a_kill_wakes_a_stream_already_waiting() {
    let t = super::SessionTable::default();
    let src: std::net::SocketAddr = "[::1]:4000".parse().unwrap();
    let g = t.open(0, src);
    let id = g.live().id();
    let waiting = async {
        g.live().killed().await;
        true
    };
    let killing = async {
        tokio::task::yield_now().await;
        assert!(t.kill(id));
        std::future::pending::<bool>().await
    };
    let woke = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        tokio::select! { w = waiting => w, k = killing => k }
    })
    .await;
    assert_eq!(woke, Ok(true));
}

#[tokio::test]
async fn a_kill_while_queued_strikes_once_the_stream_leaves_the_queued_phase() {
    let t = super::SessionTable::default();
    let src: std::net::SocketAddr = "127.0.0.1:4000".parse().unwrap();
    let g = t.open(0, src);
    g.set_phase(super::KillPhase::Queued);
    let id = g.live().id();
    let waiting = async {
        g.killed_outside_queue().await;
        g.phase()
    };
    let moving = async {
        tokio::task::yield_now().await;
        assert!(t.kill(id));
        // Killed but still queued: the waiter stays put.
        for _ in 0..3 {
            tokio::task::yield_now().await;
        }
        assert!(g.live().is_killed());
        g.set_phase(super::KillPhase::AwaitingResponse(true));
        std::future::pending::<super::KillPhase>().await
    };
    let woke = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        tokio::select! { biased; w = waiting => w, m = moving => m }
    })
    .await;
    assert_eq!(woke, Ok(super::KillPhase::AwaitingResponse(true)));
}

#[test]
fn a_queued_phase_holds_a_kill_back() {
    let t = super::SessionTable::default();
    let src: std::net::SocketAddr = "127.0.0.1:4000".parse().unwrap();
    let g = t.open(0, src);
    g.set_phase(super::KillPhase::Queued);
    assert!(t.kill(g.live().id()));
    assert!(noop_poll(g.killed_outside_queue()).is_pending());
    assert!(noop_poll(g.live().killed()).is_ready());
    g.set_phase(super::KillPhase::Other);
    assert!(noop_poll(g.killed_outside_queue()).is_ready());
}

#[test]
fn addresses_read_back_as_written() {
    let t = super::SessionTable::default();
    let addrs: Vec<std::net::SocketAddr> = vec![
        "10.1.2.3:65535".parse().unwrap(),
        "0.0.0.0:0".parse().unwrap(),
        "[2001:db8::1]:443".parse().unwrap(),
        "[::ffff:1.2.3.4]:80".parse().unwrap(),
        std::net::SocketAddr::V6(std::net::SocketAddrV6::new(
            "fe80::1".parse().unwrap(),
            8080,
            0,
            3,
        )),
    ];
    let guards: Vec<_> = addrs.iter().map(|a| t.open(7, *a)).collect();
    let listed = t.list();
    let got: Vec<_> = listed.iter().map(|l| l.src).collect();
    assert_eq!(got, addrs);
    assert!(
        listed
            .iter()
            .all(|l| l.frontend == 7 && l.backend.is_none())
    );
    let v4: Vec<_> = listed.iter().map(super::SessionInfo::is_ipv4).collect();
    assert_eq!(v4, [true, true, false, false, false]);
    drop(guards);
}

#[test]
fn streams_past_the_limit_run_unlisted_until_a_slot_frees() {
    let t = super::SessionTable::with_limit(2 * super::SLOTS_PER_GRAB);
    let src: std::net::SocketAddr = "127.0.0.1:4000".parse().unwrap();
    let mut at_limit: Vec<_> = (0..2 * super::SLOTS_PER_GRAB)
        .map(|_| t.open(0, src))
        .collect();
    assert_eq!(t.len(), 2 * super::SLOTS_PER_GRAB);
    let past = t.open(0, src);
    assert_eq!(past.live().id(), 0, "unlisted");
    assert_eq!(t.len(), 2 * super::SLOTS_PER_GRAB);
    assert!(!t.kill(0));
    assert!(noop_poll(past.live().killed()).is_pending());
    drop(past);
    drop(at_limit.pop());
    let back = t.open(0, src);
    assert_ne!(back.live().id(), 0, "listed again");
    assert_eq!(t.slot_count(), 2 * super::SLOTS_PER_GRAB);
    // The limit is rounded up to whole grabs and capped at MAX_LIVE_SESSIONS.
    let odd = super::SessionTable::with_limit(1);
    let _one = odd.open(0, src);
    assert_eq!(odd.slot_count(), super::SLOTS_PER_GRAB);
    assert_eq!(
        super::MAX_LIVE_SESSIONS % super::SLOTS_PER_GRAB,
        0,
        "the cap is whole grabs"
    );
}

#[test]
fn slots_freed_by_an_exited_thread_are_taken_back() {
    let t = super::SessionTable::default();
    let src: std::net::SocketAddr = "127.0.0.1:4000".parse().unwrap();
    std::thread::scope(|s| {
        s.spawn(|| drop(t.open(0, src))).join().unwrap();
    });
    assert_eq!(t.slot_count(), super::SLOTS_PER_GRAB);
    std::thread::scope(|s| {
        s.spawn(|| {
            let all: Vec<_> = (0..super::SLOTS_PER_GRAB).map(|_| t.open(0, src)).collect();
            assert_eq!(t.len(), super::SLOTS_PER_GRAB);
            drop(all);
        })
        .join()
        .unwrap();
    });
    assert_eq!(t.slot_count(), super::SLOTS_PER_GRAB, "no new grab");
}

#[test]
fn readers_see_whole_streams_while_writers_come_and_go() {
    const WRITERS: usize = 3;
    const ROUNDS: usize = 20_000;
    let t = super::SessionTable::default();
    let done = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| {
        for w in 0..WRITERS {
            let (t, done) = (&t, &done);
            s.spawn(move || {
                for i in 0..ROUNDS {
                    // Each stream's frontend number is unique and its address encodes it: a torn
                    // read would mix two streams of the slot (or two address families).
                    let fe = w * ROUNDS + i;
                    let port = u16::try_from(1000 + w).unwrap();
                    let n = u32::try_from(fe).unwrap();
                    let src = if i.is_multiple_of(2) {
                        std::net::SocketAddr::from((n.to_be_bytes(), port))
                    } else {
                        let ip = std::net::Ipv6Addr::from(0xfd00_u128 << 112 | u128::from(n));
                        std::net::SocketAddr::from((ip, port))
                    };
                    let g = t.open(fe, src);
                    g.live().route(w, Some(w));
                    if i % 64 == 0 {
                        std::thread::yield_now();
                    }
                    drop(g);
                }
                done.fetch_add(1, std::sync::atomic::Ordering::Release);
            });
        }
        let (t, done) = (&t, &done);
        s.spawn(move || {
            let mut seen = 0usize;
            for _ in 0..1_000_000 {
                if done.load(std::sync::atomic::Ordering::Acquire) == WRITERS {
                    break;
                }
                for l in t.list() {
                    let w = l.frontend / ROUNDS;
                    assert_eq!(usize::from(l.src.port()), 1000 + w, "{l:?}");
                    let n = match l.src.ip() {
                        std::net::IpAddr::V4(a) => u128::from(u32::from(a)),
                        std::net::IpAddr::V6(a) => u128::from(a) ^ 0xfd00_u128 << 112,
                    };
                    assert_eq!(n, l.frontend as u128, "{l:?}");
                    assert_eq!(
                        l.src.is_ipv4(),
                        (l.frontend % ROUNDS).is_multiple_of(2),
                        "{l:?}"
                    );
                    assert!(l.id > 0);
                    seen += 1;
                }
                let _ = t.kill_server(0, 0);
            }
            assert!(seen > 0 || done.load(std::sync::atomic::Ordering::Acquire) == WRITERS);
        });
    });
    assert!(t.is_empty());
    assert!(t.slot_count() <= (WRITERS + 1) * super::SLOTS_PER_GRAB);
}

#[test]
fn a_slot_being_rewritten_is_skipped_by_readers() {
    let t = super::SessionTable::default();
    let src: std::net::SocketAddr = "127.0.0.1:4000".parse().unwrap();
    let g = t.open(0, src);
    let id = g.live().id();
    assert_eq!(t.len(), 1);
    // While the owner writes (the version is odd), readers give up on the slot instead of
    // reading half a stream, and no kill can be aimed at it.
    g.live().write(|_| {
        assert!(t.list().is_empty());
        assert!(!t.kill(id));
    });
    assert_eq!(t.list().len(), 1);
}

#[tokio::test]
async fn a_waiting_stream_woken_by_a_stray_kill_still_sees_its_own() {
    use std::future::Future as _;
    let t = super::SessionTable::default();
    let src: std::net::SocketAddr = "127.0.0.1:4000".parse().unwrap();
    let old = t.open(0, src);
    let old_id = old.live().id();
    drop(old);
    let g = t.open(0, src);
    let id = g.live().id();
    let waiting = g.live().killed();
    let mut waiting = std::pin::pin!(waiting);
    // Waiting, polled twice with the same waker (the second poll leaves the `Notify` alone).
    for _ in 0..2 {
        let polled =
            std::future::poll_fn(|cx| std::task::Poll::Ready(waiting.as_mut().poll(cx))).await;
        assert!(polled.is_pending());
    }
    // A late kill aimed at the slot's previous stream wakes the waiter, which must wait on.
    g.live().aim_kill(old_id);
    let polled = std::future::poll_fn(|cx| std::task::Poll::Ready(waiting.as_mut().poll(cx))).await;
    assert!(polled.is_pending());
    // Its own kill, later, still ends the same wait.
    assert!(t.kill(id));
    tokio::time::timeout(std::time::Duration::from_secs(5), waiting)
        .await
        .expect("the kill aimed at the stream ends its wait");
}

#[test]
fn stream_holds_count_current_sessions_while_they_live() {
    let r = registry();
    let cur = |c: &Counters| {
        (
            c.sessions_cur.load(std::sync::atomic::Ordering::Relaxed),
            c.sessions_max.load(std::sync::atomic::Ordering::Relaxed),
        )
    };
    let be = &r.backends[0].counters;
    let sv = &r.backends[0].servers[1].counters;
    let a = r.hold(0, None);
    let b = r.hold(0, Some(1));
    let c = r.hold_server(0, 1);
    assert_eq!(cur(be), (2, 2));
    assert_eq!(cur(sv), (2, 2));
    drop(b);
    assert_eq!(cur(be), (1, 2));
    assert_eq!(cur(sv), (1, 2));
    drop((a, c));
    assert_eq!(cur(be), (0, 2));
    assert_eq!(cur(sv), (0, 2));
    // Unknown indexes hold nothing.
    drop(r.hold(7, Some(9)));
    assert_eq!(cur(be), (0, 2));
}
