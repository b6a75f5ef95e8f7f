//! Unit tests of the inspection loop.

use super::*;
use tokio::io::AsyncWriteExt;

#[test]
fn the_buffer_is_full_at_bufsize_minus_maxrewrite() {
    assert_eq!(inspect_capacity(&H1Limits::default()), 15360);
    let small = H1Limits {
        bufsize: 1000,
        maxrewrite: 900,
        ..H1Limits::default()
    };
    assert_eq!(inspect_capacity(&small), 500, "maxrewrite capped at half");
}

#[tokio::test]
async fn waits_for_enough_bytes_then_decides() {
    let (mut a, mut b) = tokio::io::duplex(64);
    let writer = tokio::spawn(async move {
        a.write_all(b"ab").await.unwrap();
        tokio::time::sleep(Duration::from_millis(30)).await;
        a.write_all(b"cd").await.unwrap();
        a
    });
    let mut buf = Vec::new();
    let mut calls = 0;
    let r = inspect(
        &mut b,
        &mut buf,
        Some(Duration::from_secs(5)),
        None,
        16,
        |d, _| {
            calls += 1;
            (d.len() >= 4).then_some(false)
        },
    )
    .await;
    assert_eq!(r, Inspected::Reject);
    assert_eq!(buf, b"abcd");
    assert!(calls >= 3, "{calls}");
    drop(writer.await.unwrap());
}

#[tokio::test]
async fn the_delay_the_buffer_size_and_eof_make_it_final() {
    // Delay passes.
    let (_a, mut b) = tokio::io::duplex(64);
    let mut buf = Vec::new();
    let started = Instant::now();
    let r = inspect(
        &mut b,
        &mut buf,
        Some(Duration::from_millis(50)),
        None,
        16,
        |_, f| f.then_some(false),
    )
    .await;
    assert_eq!(r, Inspected::Reject);
    assert!(started.elapsed() >= Duration::from_millis(50));
    // Buffer full at `max`.
    let (mut a, mut b) = tokio::io::duplex(64);
    a.write_all(&[b'x'; 40]).await.unwrap();
    let mut buf = Vec::new();
    let r = inspect(
        &mut b,
        &mut buf,
        Some(Duration::from_secs(5)),
        None,
        8,
        |_, f| f.then_some(true),
    )
    .await;
    assert_eq!((r, buf.len()), (Inspected::Accept, 8));
    // The client shuts its side.
    let (mut a, mut b) = tokio::io::duplex(64);
    a.write_all(b"x").await.unwrap();
    a.shutdown().await.unwrap();
    let mut buf = Vec::new();
    let r = inspect(
        &mut b,
        &mut buf,
        Some(Duration::from_secs(5)),
        None,
        8,
        |_, _| None,
    )
    .await;
    assert_eq!((r, buf.as_slice()), (Inspected::Accept, &b"x"[..]));
    // No delay: decided at once on what is there.
    let (_a, mut b) = tokio::io::duplex(64);
    let r = inspect(&mut b, &mut Vec::new(), None, None, 8, |_, f| {
        assert!(f);
        None
    })
    .await;
    assert_eq!(r, Inspected::Accept);
}

#[tokio::test]
async fn a_silent_client_times_out_before_the_delay() {
    let (mut a, mut b) = tokio::io::duplex(64);
    let writer = tokio::spawn(async move {
        for _ in 0..3 {
            a.write_all(b"x").await.unwrap();
            tokio::time::sleep(Duration::from_millis(40)).await;
        }
        tokio::time::sleep(Duration::from_secs(5)).await;
        drop(a);
    });
    let started = Instant::now();
    let mut buf = Vec::new();
    let r = inspect(
        &mut b,
        &mut buf,
        Some(Duration::from_secs(3)),
        Some(Duration::from_millis(100)),
        64,
        |_, f| f.then_some(true),
    )
    .await;
    assert_eq!((r, buf.as_slice()), (Inspected::ClientTimeout, &b"xxx"[..]));
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(180) && took < Duration::from_secs(2),
        "silence is measured from the last byte: {took:?}"
    );
    writer.abort();
}
