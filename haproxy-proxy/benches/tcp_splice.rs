//! TCP forwarding: the proxy's user-space copy ([`forward`]) against Linux `splice(2)` through a
//! pipe, for `option splice-*` (`cargo bench -p haproxy-proxy --bench tcp_splice`).
//!
//! Each iteration opens a loopback client → proxy → sink chain, sends [`TRANSFER`] bytes and
//! waits until the sink has read them all. The splice pump here exists only to measure whether a
//! splice path is worth wiring (see docs/compat.md). The `wall` group reports elapsed time; the
//! `cpu` group reports the process's CPU time (user + system, from /proc, in USER_HZ = 100 ticks
//! per second) for the same work: client and sink cost the same in both paths, so the difference
//! is the proxy's.
#![expect(
    clippy::unwrap_used,
    reason = "benchmark set-up: a failure should abort the run"
)]

use std::io;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use haproxy_proxy::forward::{ForwardTimeouts, forward};
use rustix::pipe::{PipeFlags, SpliceFlags, pipe_with, splice};
use tokio::io::{AsyncReadExt, AsyncWriteExt, Interest};
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Runtime;

/// Bytes sent per iteration.
const TRANSFER: usize = 16 << 20;
/// Bytes moved per splice call (the default pipe capacity).
const PIPE_CHUNK: usize = 64 << 10;

#[derive(Clone, Copy)]
enum Path {
    Copy,
    Splice,
}

/// Moves `from` → `to` with splice until EOF, then shuts `to` for writing.
async fn splice_pump(from: &TcpStream, to: &TcpStream) -> io::Result<u64> {
    let (pr, pw) = pipe_with(PipeFlags::NONBLOCK | PipeFlags::CLOEXEC)?;
    let flags = SpliceFlags::MOVE | SpliceFlags::NONBLOCK;
    let mut total = 0u64;
    loop {
        from.readable().await?;
        let got = from.try_io(Interest::READABLE, || {
            splice(from, None, &pw, None, PIPE_CHUNK, flags).map_err(io::Error::from)
        });
        let n = match got {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            Err(e) => return Err(e),
        };
        let mut left = n;
        while left > 0 {
            to.writable().await?;
            match to.try_io(Interest::WRITABLE, || {
                splice(&pr, None, to, None, left, flags).map_err(io::Error::from)
            }) {
                Ok(m) => left -= m,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
        }
        total += n as u64;
    }
    socket2::SockRef::from(to).shutdown(std::net::Shutdown::Write)?;
    Ok(total)
}

/// One transfer through a fresh chain; returns the bytes the sink read.
async fn transfer(path: Path) -> usize {
    let sink = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sink_addr = sink.local_addr().unwrap();
    let front = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let front_addr = front.local_addr().unwrap();
    let reader = tokio::spawn(async move {
        let (mut s, _) = sink.accept().await.unwrap();
        let mut buf = vec![0u8; 1 << 16];
        let mut n = 0;
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => return n,
                Ok(k) => n += k,
            }
        }
    });
    let proxy = tokio::spawn(async move {
        let (c, _) = front.accept().await.unwrap();
        let s = TcpStream::connect(sink_addr).await.unwrap();
        match path {
            Path::Copy => {
                forward(c, s, ForwardTimeouts::default()).await;
            }
            Path::Splice => {
                let (up, down) = tokio::join!(splice_pump(&c, &s), splice_pump(&s, &c));
                up.unwrap();
                let _ = down;
            }
        }
    });
    let mut client = TcpStream::connect(front_addr).await.unwrap();
    let chunk = vec![b'x'; 1 << 16];
    for _ in 0..TRANSFER / chunk.len() {
        client.write_all(&chunk).await.unwrap();
    }
    client.shutdown().await.unwrap();
    let got = reader.await.unwrap();
    drop(client);
    proxy.await.unwrap();
    got
}

/// The process's CPU time so far (user + system).
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    // Fields after the command name (which is in parentheses): utime and stime are 14 and 15.
    let after = stat.rsplit_once(')').unwrap().1;
    let ticks: u64 = after
        .split_whitespace()
        .skip(11)
        .take(2)
        .map(|f| f.parse::<u64>().unwrap())
        .sum();
    Duration::from_millis(ticks * 10)
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let paths = [("copy", Path::Copy), ("splice", Path::Splice)];
    let mut g = c.benchmark_group("tcp_forward_16MiB_wall");
    g.throughput(Throughput::Bytes(TRANSFER as u64));
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(8));
    for (name, path) in paths {
        g.bench_function(name, |b| b.iter(|| run(&rt, path)));
    }
    g.finish();
    let mut g = c.benchmark_group("tcp_forward_16MiB_cpu");
    g.throughput(Throughput::Bytes(TRANSFER as u64));
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(8));
    for (name, path) in paths {
        g.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let before = cpu_time();
                for _ in 0..iters {
                    run(&rt, path);
                }
                cpu_time().saturating_sub(before)
            })
        });
    }
    g.finish();
}

fn run(rt: &Runtime, path: Path) {
    let got = rt.block_on(transfer(path));
    assert_eq!(got, TRANSFER);
}

criterion_group!(benches, bench);
criterion_main!(benches);
