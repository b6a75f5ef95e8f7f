//! Bodies are streamed, never buffered whole (issue 5 point 5): a 50 MB body goes through the
//! proxy to a slow reader in both directions while the bytes in flight stay far below the body
//! size. The bound is on bytes, not on time: the writer can only be ahead of the reader by what
//! the sockets and the proxy hold.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::engines::{Ours, start_ours_with};

/// The body size relayed in each direction.
const BODY: u64 = 50 * 1024 * 1024;
/// The most bytes allowed in flight between the writer and the slow reader: the kernel socket
/// buffers on both hops (loopback autotuning reaches a few MiB each) plus the proxy's buffers.
/// Buffering the whole body would exceed it.
const IN_FLIGHT_BOUND: u64 = 24 * 1024 * 1024;
/// The slow reader reads this much, then yields for [`READ_PAUSE`].
const READ_CHUNK: usize = 32 * 1024;
const READ_PAUSE: Duration = Duration::from_millis(1);
/// The whole transfer must end within this (a stuck relay fails instead of hanging).
const DEADLINE: Duration = Duration::from_secs(120);

fn proxy_to(server: SocketAddr) -> Ours {
    start_ours_with(&format!(
        "defaults\n  mode http\n  timeout client 30s\n  timeout connect 1s\n  timeout server 30s\n\
         frontend fe\n  bind 127.0.0.1:PORT\n  default_backend be\nbackend be\n  server s1 {server}\n"
    ))
}

/// Writes `BODY` bytes in 64 KiB pieces, counting each piece once the kernel took it.
async fn write_body<W: AsyncWriteExt + Unpin>(w: &mut W, written: &AtomicU64) {
    let piece = vec![b'x'; 64 * 1024];
    let mut left = BODY;
    while left > 0 {
        let n = left.min(piece.len() as u64) as usize;
        w.write_all(&piece[..n]).await.unwrap();
        written.fetch_add(n as u64, Ordering::Relaxed);
        left -= n as u64;
    }
}

/// Reads `total` bytes slowly; returns the largest lead the writer had over this reader.
async fn slow_read<R: AsyncReadExt + Unpin>(r: &mut R, total: u64, written: &AtomicU64) -> u64 {
    let mut buf = vec![0u8; READ_CHUNK];
    let (mut read, mut max_lead) = (0u64, 0u64);
    while read < total {
        let n = r.read(&mut buf).await.unwrap();
        assert!(n > 0, "stream ended after {read} of {total} bytes");
        read += n as u64;
        max_lead = max_lead.max(written.load(Ordering::Relaxed).saturating_sub(read));
        tokio::time::sleep(READ_PAUSE).await;
    }
    max_lead
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_megabyte_upload_streams_to_a_slow_server() {
    let written = Arc::new(AtomicU64::new(0));
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = l.local_addr().unwrap();
    let w2 = Arc::clone(&written);
    let origin = tokio::spawn(async move {
        let (mut s, _) = l.accept().await.unwrap();
        // Skip the head, then read the body slowly.
        let mut head = Vec::new();
        let mut b = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            s.read_exact(&mut b).await.unwrap();
            head.push(b[0]);
        }
        let lead = slow_read(&mut s, BODY, &w2).await;
        s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            .await
            .unwrap();
        (String::from_utf8(head).unwrap(), lead)
    });
    let ours = proxy_to(server);
    let client = async {
        let mut c = TcpStream::connect(ours.addr).await.unwrap();
        c.write_all(
            format!("POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: {BODY}\r\n\r\n").as_bytes(),
        )
        .await
        .unwrap();
        write_body(&mut c, &written).await;
        let mut resp = [0u8; 64];
        let n = c.read(&mut resp).await.unwrap();
        String::from_utf8_lossy(&resp[..n]).into_owned()
    };
    let resp = tokio::time::timeout(DEADLINE, client).await.unwrap();
    let (head, lead) = tokio::time::timeout(DEADLINE, origin)
        .await
        .unwrap()
        .unwrap();
    assert!(head.contains(&format!("content-length: {BODY}")), "{head}");
    assert!(resp.starts_with("HTTP/1.1 200 OK"), "{resp}");
    eprintln!("upload: the writer led the slow reader by at most {lead} bytes");
    assert!(
        lead < IN_FLIGHT_BOUND,
        "the client was {lead} bytes ahead of the server: the body was buffered"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_megabyte_download_streams_to_a_slow_client() {
    let written = Arc::new(AtomicU64::new(0));
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = l.local_addr().unwrap();
    let w2 = Arc::clone(&written);
    tokio::spawn(async move {
        let (mut s, _) = l.accept().await.unwrap();
        let mut b = [0u8; 1024];
        let _ = s.read(&mut b).await.unwrap();
        s.write_all(format!("HTTP/1.1 200 OK\r\nContent-Length: {BODY}\r\n\r\n").as_bytes())
            .await
            .unwrap();
        write_body(&mut s, &w2).await;
    });
    let ours = proxy_to(server);
    let client = async {
        let mut c = TcpStream::connect(ours.addr).await.unwrap();
        c.write_all(b"GET /down HTTP/1.1\r\nHost: h\r\n\r\n")
            .await
            .unwrap();
        let mut head = Vec::new();
        let mut b = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            c.read_exact(&mut b).await.unwrap();
            head.push(b[0]);
        }
        let lead = slow_read(&mut c, BODY, &written).await;
        (String::from_utf8(head).unwrap(), lead)
    };
    let (head, lead) = tokio::time::timeout(DEADLINE, client).await.unwrap();
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    eprintln!("download: the writer led the slow reader by at most {lead} bytes");
    assert!(
        lead < IN_FLIGHT_BOUND,
        "the server was {lead} bytes ahead of the client: the body was buffered"
    );
}
