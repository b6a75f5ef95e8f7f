//! Full-duplex forwarding (`forward`): bytes per second through one forwarded stream over
//! in-memory pipes, in big writes (a download) and in small request/response exchanges
//! (`cargo bench -p haproxy-proxy --bench forward`).

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use haproxy_proxy::forward::{ForwardTimeouts, forward};
use tokio::io::{AsyncReadExt, AsyncWriteExt, duplex};

/// Bytes sent through the stream per iteration of the download case.
const DOWNLOAD: usize = 1 << 20;
/// Exchanges per iteration of the small-message case.
const EXCHANGES: usize = 100;
/// Size of the in-memory pipes (like a socket buffer).
const PIPE: usize = 64 * 1024;

fn timeouts() -> ForwardTimeouts {
    let t = Some(std::time::Duration::from_secs(30));
    ForwardTimeouts {
        client: t,
        server: t,
        ..ForwardTimeouts::default()
    }
}

async fn download() -> u64 {
    let (mut client, proxy_c) = duplex(PIPE);
    let (proxy_s, mut server) = duplex(PIPE);
    let fwd = tokio::spawn(forward(proxy_c, proxy_s, timeouts()));
    let sender = tokio::spawn(async move {
        let chunk = vec![7u8; 16 * 1024];
        for _ in 0..DOWNLOAD / chunk.len() {
            server.write_all(&chunk).await.expect("write");
        }
        server.shutdown().await.expect("shutdown");
        server
    });
    let mut buf = vec![0u8; 16 * 1024];
    let mut got = 0usize;
    loop {
        let n = client.read(&mut buf).await.expect("read");
        if n == 0 {
            break;
        }
        got += n;
    }
    client.shutdown().await.expect("shutdown");
    let _server = sender.await.expect("sender");
    let out = fwd.await.expect("forward");
    assert_eq!(got, DOWNLOAD);
    out.server_to_client
}

async fn exchanges() -> u64 {
    let (mut client, proxy_c) = duplex(PIPE);
    let (proxy_s, mut server) = duplex(PIPE);
    let fwd = tokio::spawn(forward(proxy_c, proxy_s, timeouts()));
    let echo = tokio::spawn(async move {
        let mut buf = [0u8; 256];
        loop {
            let n = server.read(&mut buf).await.expect("read");
            if n == 0 {
                break;
            }
            let got = buf.get(..n).unwrap_or_default();
            server.write_all(got).await.expect("write");
        }
        server.shutdown().await.expect("shutdown");
    });
    let request = [b'x'; 100];
    let mut reply = [0u8; 100];
    for _ in 0..EXCHANGES {
        client.write_all(&request).await.expect("write");
        client.read_exact(&mut reply).await.expect("read");
    }
    client.shutdown().await.expect("shutdown");
    echo.await.expect("echo");
    fwd.await.expect("forward").client_to_server
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut g = c.benchmark_group("forward");
    g.throughput(Throughput::Bytes(DOWNLOAD as u64));
    g.bench_function("download_1mib", |b| {
        b.iter(|| black_box(rt.block_on(download())))
    });
    g.throughput(Throughput::Elements(EXCHANGES as u64));
    g.bench_function("exchanges_100b", |b| {
        b.iter(|| black_box(rt.block_on(exchanges())))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
