//! The per-thread idle timer: expiry, deregistration, the fallback off wheel threads, its size.

use std::future::Future as _;
use std::time::Duration;

use super::{IdleTimer, MAX_TIMERS_PER_TICK, SEQ_BITS, WHEEL, Wheel, fire_all};
use tokio::time::Instant;

/// Waits for a timer to expire.
async fn expire(timer: &mut IdleTimer) {
    std::future::poll_fn(|cx| timer.poll_expired(cx)).await;
}

fn wheel_len() -> usize {
    WHEEL.with(|w| w.borrow().entries.len())
}

/// The later of the two timers of [`a_timer_on_a_wheel_thread_expires_at_its_deadline`]: the
/// driver first sleeps until it, so the earlier one (20 ms) firing well before it shows that
/// registering an earlier timer moved the driver's wait. Long enough that a starved test thread
/// (a loaded 2-core machine) is not mistaken for a driver that kept sleeping.
const LATER: Duration = Duration::from_millis(1500);

#[tokio::test]
async fn a_timer_on_a_wheel_thread_expires_at_its_deadline() {
    let start = Instant::now();
    let mut timer = IdleTimer::new(start + LATER);
    let mut early = IdleTimer::new(start + Duration::from_millis(20));
    // The later one registers first and its driver runs, going to sleep until it; then an
    // earlier one registers and must move the driver's wait.
    let pending = std::future::poll_fn(|cx| std::task::Poll::Ready(timer.poll_expired(cx))).await;
    assert!(pending.is_pending());
    assert!(matches!(timer, IdleTimer::Wheel { .. }), "{timer:?}");
    tokio::task::yield_now().await;
    assert!(
        WHEEL.with(|w| matches!(w.borrow().driver, Some(Some(_)))),
        "the driver has run and sleeps"
    );
    let pending = std::future::poll_fn(|cx| std::task::Poll::Ready(early.poll_expired(cx))).await;
    assert!(pending.is_pending());
    assert_eq!(wheel_len(), 2);
    expire(&mut early).await;
    let waited = start.elapsed();
    assert!(waited >= Duration::from_millis(20), "{waited:?}");
    assert!(waited < LATER / 2, "the driver kept its wait: {waited:?}");
    expire(&mut timer).await;
    let waited = start.elapsed();
    assert!(waited >= LATER, "{waited:?}");
    assert!(waited < LATER + Duration::from_secs(2), "{waited:?}");
    assert_eq!(wheel_len(), 0);
}

#[tokio::test]
async fn a_dropped_timer_leaves_its_wheel() {
    let mut timer = IdleTimer::new(Instant::now() + Duration::from_secs(60));
    let pending = std::future::poll_fn(|cx| std::task::Poll::Ready(timer.poll_expired(cx))).await;
    assert!(pending.is_pending());
    assert_eq!(wheel_len(), 1);
    drop(timer);
    assert_eq!(wheel_len(), 0);
}

#[tokio::test]
async fn a_past_deadline_is_ready_at_once() {
    let mut timer = IdleTimer::new(Instant::now());
    expire(&mut timer).await;
    assert!(matches!(timer, IdleTimer::Done(_)));
    assert_eq!(wheel_len(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn off_a_wheel_thread_a_timer_has_its_own_sleep() {
    let start = Instant::now();
    let mut timer = IdleTimer::new(start + Duration::from_millis(20));
    expire(&mut timer).await;
    assert!(start.elapsed() >= Duration::from_millis(20));
    let mut timer = IdleTimer::new(Instant::now() + Duration::from_secs(60));
    let pending = std::future::poll_fn(|cx| std::task::Poll::Ready(timer.poll_expired(cx))).await;
    assert!(pending.is_pending());
    assert!(matches!(timer, IdleTimer::Sleep(_)), "{timer:?}");
}

#[test]
fn a_timer_is_small() {
    // A tokio Sleep is about 100 bytes; this is what a parked connection holds instead.
    let size = std::mem::size_of::<Option<IdleTimer>>();
    assert!(size <= 24, "{size} bytes");
}

#[tokio::test]
async fn keys_of_one_tick_stay_apart_up_to_the_limit() {
    let waker = std::task::Waker::noop();
    let mut w = Wheel::new();
    let deadline = w.epoch + Duration::from_millis(5);
    // The sequence wraps at the limit: the last sequence number, then 0 again.
    w.seq = MAX_TIMERS_PER_TICK - 1;
    let last = w.insert(deadline, waker).unwrap();
    assert_eq!(last, (5 << SEQ_BITS) | (MAX_TIMERS_PER_TICK - 1));
    // A taken key is skipped.
    w.entries.insert(5 << SEQ_BITS, waker.clone());
    let next = w.insert(deadline, waker).unwrap();
    assert_eq!(next, (5 << SEQ_BITS) | 1);
    // Rounded up to the next millisecond.
    assert_eq!(w.tick(w.epoch + Duration::from_micros(5001)), 6);
    assert_eq!(w.tick(w.epoch), 0);
}

#[tokio::test]
async fn more_timers_than_one_pass_wakes_all_expire() {
    let count = super::MAX_WAKES_PER_PASS + 100;
    let deadline = Instant::now() + Duration::from_millis(10);
    let mut timers: Vec<IdleTimer> = (0..count).map(|_| IdleTimer::new(deadline)).collect();
    let mut tasks = tokio::task::JoinSet::new();
    for mut timer in timers.drain(..) {
        tasks.spawn(async move { expire(&mut timer).await });
    }
    let all = async {
        let mut done = 0;
        while let Some(r) = tasks.join_next().await {
            r.unwrap();
            done += 1;
        }
        done
    };
    let done = tokio::time::timeout(Duration::from_secs(10), all)
        .await
        .unwrap();
    assert_eq!(done, count);
    assert_eq!(wheel_len(), 0);
}

#[tokio::test]
async fn fire_all_expires_the_registered_timers_early_and_only_them() {
    let far = Instant::now() + Duration::from_secs(60);
    let mut fired = IdleTimer::new(far);
    let pending = std::future::poll_fn(|cx| std::task::Poll::Ready(fired.poll_expired(cx))).await;
    assert!(pending.is_pending());
    fire_all();
    assert_eq!(wheel_len(), 0);
    // Woken and expired before its deadline.
    expire(&mut fired).await;
    assert!(fired.fired_early());
    // Its deadline, rounded up to the wheel's millisecond.
    assert!(fired.deadline() >= far && fired.deadline() < far + Duration::from_millis(2));
    // Parked again for the same deadline: it waits.
    let mut again = IdleTimer::new(fired.deadline());
    let pending = std::future::poll_fn(|cx| std::task::Poll::Ready(again.poll_expired(cx))).await;
    assert!(pending.is_pending());
    assert!(!again.fired_early());
    assert_eq!(wheel_len(), 1);
    // A timer that expires at its deadline did not fire early.
    let mut due = IdleTimer::new(Instant::now());
    expire(&mut due).await;
    assert!(!due.fired_early());
    drop(again);
    assert_eq!(wheel_len(), 0);
    assert!(WHEEL.with(|w| w.borrow().fired.is_empty()));
}

/// A future that is pending `polls` times (waking itself), then ready with 7.
fn ready_after(polls: usize) -> impl std::future::Future<Output = u32> {
    let mut left = polls;
    std::future::poll_fn(move |cx| {
        if left == 0 {
            return std::task::Poll::Ready(7);
        }
        left -= 1;
        cx.waker().wake_by_ref();
        std::task::Poll::Pending
    })
}

#[tokio::test]
async fn within_a_future_ready_at_once_makes_no_timer() {
    assert_eq!(
        super::within(Some(Duration::from_secs(5)), ready_after(0)).await,
        Some(7)
    );
    assert_eq!(wheel_len(), 0);
    // A limit too far to represent is no limit, not a panic.
    assert_eq!(
        super::within(Some(Duration::MAX), ready_after(3)).await,
        Some(7)
    );
    assert_eq!(super::within(None, ready_after(3)).await, Some(7));
}

#[tokio::test]
async fn within_a_pending_future_finishes_and_leaves_the_wheel() {
    let (tx, rx) = tokio::sync::oneshot::channel::<u32>();
    let waiting = super::within(Some(Duration::from_secs(60)), rx);
    let mut waiting = std::pin::pin!(waiting);
    let first = std::future::poll_fn(|cx| std::task::Poll::Ready(waiting.as_mut().poll(cx))).await;
    assert!(first.is_pending());
    assert_eq!(wheel_len(), 1, "a pending wait is on the wheel");
    tx.send(5).unwrap();
    assert_eq!(waiting.await.map(Result::ok), Some(Some(5)));
    assert_eq!(wheel_len(), 0);
}

#[tokio::test]
async fn within_a_future_that_never_ends_times_out_not_early() {
    let start = Instant::now();
    let out = super::within(
        Some(Duration::from_millis(30)),
        std::future::pending::<()>(),
    )
    .await;
    let waited = start.elapsed();
    assert_eq!(out, None);
    assert!(waited >= Duration::from_millis(30), "{waited:?}");
    assert!(waited < Duration::from_secs(2), "{waited:?}");
    assert_eq!(wheel_len(), 0);
}

#[tokio::test]
async fn queued_a_future_ready_at_once_or_without_limit_needs_no_timer() {
    assert_eq!(
        super::within_queued_since(None, Some(Duration::from_secs(5)), ready_after(0)).await,
        Some(7)
    );
    assert_eq!(
        super::within_queued_since(None, None, ready_after(3)).await,
        Some(7)
    );
    assert_eq!(
        super::within_queued_since(None, Some(Duration::MAX), ready_after(3)).await,
        Some(7)
    );
}

#[tokio::test]
async fn queued_a_future_that_finishes_first_gives_its_output() {
    let (tx, rx) = tokio::sync::oneshot::channel::<u32>();
    let sender = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(10)).await;
        tx.send(5).unwrap();
    });
    let out = super::within_queued_since(None, Some(Duration::from_secs(60)), rx).await;
    assert_eq!(out.map(Result::ok), Some(Some(5)));
    sender.await.unwrap();
}

#[tokio::test]
async fn queued_limits_expire_not_early_and_about_on_time() {
    let start = Instant::now();
    let out = super::within_queued_since(
        None,
        Some(Duration::from_millis(30)),
        std::future::pending::<()>(),
    )
    .await;
    let waited = start.elapsed();
    assert_eq!(out, None);
    assert!(waited >= Duration::from_millis(30), "{waited:?}");
    assert!(waited < Duration::from_secs(2), "{waited:?}");
}

#[tokio::test]
async fn a_short_limit_queued_after_a_long_one_still_expires_on_time() {
    // The driver first sleeps toward the long limit; the short one, on another queue, must make
    // it look again.
    let long = super::within_queued_since(
        None,
        Some(Duration::from_secs(60)),
        std::future::pending::<()>(),
    );
    let short = async {
        tokio::time::sleep(Duration::from_millis(5)).await;
        let start = Instant::now();
        let out = super::within_queued_since(
            None,
            Some(Duration::from_millis(20)),
            std::future::pending::<()>(),
        )
        .await;
        (out, start.elapsed())
    };
    let started = Instant::now();
    let (out, waited) = tokio::select! {
        () = async { long.await; } => panic!("the 60 s limit ended first"),
        r = short => r,
    };
    assert_eq!(out, None);
    assert!(waited >= Duration::from_millis(20), "{waited:?}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_limits_use_tokio_timers_off_a_current_thread_runtime() {
    let start = Instant::now();
    let out = tokio::spawn(super::within_queued_since(
        None,
        Some(Duration::from_millis(20)),
        std::future::pending::<()>(),
    ))
    .await
    .unwrap();
    assert_eq!(out, None);
    assert!(start.elapsed() >= Duration::from_millis(20));
}

#[tokio::test]
async fn many_waits_of_one_limit_all_expire_in_order() {
    let start = Instant::now();
    let waits = (0..200u64).map(|i| async move {
        tokio::time::sleep(Duration::from_millis(i % 20)).await;
        let began = Instant::now();
        let out = super::within_queued_since(
            None,
            Some(Duration::from_millis(15)),
            std::future::pending::<()>(),
        )
        .await;
        assert_eq!(out, None);
        let waited = began.elapsed();
        assert!(waited >= Duration::from_millis(15), "{waited:?}");
    });
    // Spawned on this current_thread runtime: every wait queues on this thread.
    let handles: Vec<_> = waits.map(tokio::spawn).collect();
    for h in handles {
        h.await.unwrap();
    }
    assert!(start.elapsed() < Duration::from_secs(5));
}
