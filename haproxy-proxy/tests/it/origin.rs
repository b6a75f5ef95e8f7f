//! A recording origin server for the differential scenarios: it records every request exactly as
//! it arrives (raw head bytes, so header case and order are kept, raw body bytes, and which
//! connection carried it) and answers according to the request path. A PROXY protocol header
//! (v1 or v2) that starts a connection is recorded as its first entry, ports masked (they
//! differ between runs and between the two proxies).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use haproxy_proxy::h1::{
    BodyFraming, ChunkedDecoder, H1Limits, Parsed, RequestHead, parse_request,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// How long the origin waits for the next bytes before it gives up on a connection.
const ORIGIN_IDLE: Duration = Duration::from_secs(3);

/// The limits the origin parses with: larger than the proxies', so what they forward always fits.
const ORIGIN_LIMITS: H1Limits = H1Limits {
    bufsize: 256 * 1024,
    maxrewrite: 0,
    maxhdr: 1000,
};

/// One request as the server saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Seen {
    /// The server-side connection it came on (numbered in accept order).
    pub(crate) conn: usize,
    /// The raw head, CRLFs included.
    pub(crate) head: String,
    /// The raw body bytes (chunk framing included).
    pub(crate) body: String,
}

/// The origin: a loopback listener and what it recorded.
#[derive(Clone, Default)]
pub(crate) struct Origin {
    seen: Arc<Mutex<Vec<Seen>>>,
    conns: Arc<AtomicUsize>,
}

impl Origin {
    /// Starts listening on a free loopback port.
    pub(crate) async fn start(&self) -> SocketAddr {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let me = self.clone();
        tokio::spawn(async move {
            while let Ok((s, _)) = l.accept().await {
                let me = me.clone();
                let id = me.conns.fetch_add(1, Ordering::Relaxed);
                tokio::spawn(async move { me.serve(s, id).await });
            }
        });
        addr
    }

    /// Takes what was recorded so far, with connection ids renumbered by first appearance.
    pub(crate) fn take(&self) -> Vec<Seen> {
        let mut seen = std::mem::take(&mut *self.seen.lock().unwrap());
        let mut order: Vec<usize> = Vec::new();
        for s in &mut seen {
            let idx = order.iter().position(|&c| c == s.conn).unwrap_or_else(|| {
                order.push(s.conn);
                order.len() - 1
            });
            s.conn = idx;
        }
        seen
    }

    async fn read_more(s: &mut TcpStream, buf: &mut Vec<u8>) -> bool {
        let mut chunk = [0u8; 16384];
        match tokio::time::timeout(ORIGIN_IDLE, s.read(&mut chunk)).await {
            Ok(Ok(n)) if n > 0 => {
                buf.extend_from_slice(&chunk[..n]);
                true
            }
            _ => false,
        }
    }

    async fn serve(&self, mut s: TcpStream, id: usize) {
        let mut buf = Vec::new();
        match Self::proxy_header(&mut s, &mut buf).await {
            Ok(Some(header)) => self.record(id, header, Vec::new()),
            Ok(None) => {}
            Err(()) => {
                let raw = String::from_utf8_lossy(&buf).into_owned();
                self.record(id, format!("bad proxy header: {raw:?}"), Vec::new());
                return;
            }
        }
        loop {
            let (head, len) = loop {
                match parse_request(&buf, &ORIGIN_LIMITS) {
                    Ok(Parsed::Complete { head, len }) => break (head, len),
                    Ok(Parsed::Partial) => {}
                    Err(e) => {
                        self.record(id, format!("origin could not parse: {e}"), Vec::new());
                        return;
                    }
                }
                if !Self::read_more(&mut s, &mut buf).await {
                    return;
                }
            };
            let raw_head = String::from_utf8_lossy(&buf[..len]).into_owned();
            buf.drain(..len);
            if head.expects_continue()
                && !head.uri.starts_with("/no-continue")
                && head.uri != "/reject-expect"
                && !head.uri.starts_with("/early-")
                && s.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").await.is_err()
            {
                return;
            }
            if head.uri == "/reject-expect" {
                // Refuses the body without reading it, as a server may after `Expect`.
                self.record(id, raw_head, Vec::new());
                let _ = s
                    .write_all(b"HTTP/1.1 417 Expectation Failed\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                    .await;
                return;
            }
            if let Some(kind) = head.uri.strip_prefix("/early-") {
                let kind = kind.to_owned();
                if !self
                    .answer_early(&mut s, &mut buf, &head, raw_head, id, &kind)
                    .await
                {
                    return;
                }
                continue;
            }
            let Some(body) = Self::read_body(&mut s, &mut buf, &head).await else {
                self.record(id, raw_head, b"<incomplete body>".to_vec());
                return;
            };
            self.record(id, raw_head, body);
            let path = head.uri.split('?').next().unwrap_or_default().to_owned();
            let close_asked = head
                .headers
                .tokens("connection")
                .iter()
                .any(|t| t == "close")
                || !head.version.is_11_or_later()
                    && !head
                        .headers
                        .tokens("connection")
                        .iter()
                        .any(|t| t == "keep-alive");
            if head.is_connect() && head.uri.starts_with("refuse.") {
                // A CONNECT the server refuses: a final answer, and the connection stays HTTP.
                let no = b"HTTP/1.1 403 Forbidden\r\nContent-Length: 2\r\n\r\nno";
                if s.write_all(no).await.is_err() {
                    return;
                }
                continue;
            }
            if head.is_connect() {
                if s.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    .await
                    .is_ok()
                {
                    Self::echo(&mut s, buf).await;
                }
                return;
            }
            if path == "/slow" {
                tokio::time::sleep(Duration::from_millis(1500)).await;
            }
            let answer = answer(&path, &head);
            if s.write_all(&answer.bytes).await.is_err() {
                return;
            }
            match answer.then {
                Then::KeepAlive if !close_asked => {}
                Then::KeepAlive | Then::Close => return,
                Then::Echo => {
                    Self::echo(&mut s, buf).await;
                    return;
                }
            }
        }
    }

    /// `/early-<kind>`: a final answer before the request body is read (413, or 417 when `kind`
    /// holds "417"). With "close" in `kind` the answer says `Connection: close` and the
    /// connection closes at once (a reset if body bytes came unread); otherwise the body is read as any server
    /// keeping its connection must, and recorded. Returns whether the connection goes on.
    async fn answer_early(
        &self,
        s: &mut TcpStream,
        buf: &mut Vec<u8>,
        head: &RequestHead,
        raw_head: String,
        id: usize,
        kind: &str,
    ) -> bool {
        let (status, body) = if kind.contains("417") {
            ("417 Expectation Failed", "")
        } else {
            ("413 Payload Too Large", "big\n")
        };
        let close = kind.contains("close");
        let answer = format!(
            "HTTP/1.1 {status}\r\nContent-Length: {}\r\n{}\r\n{body}",
            body.len(),
            if close { "Connection: close\r\n" } else { "" }
        );
        if s.write_all(answer.as_bytes()).await.is_err() {
            return false;
        }
        if close {
            self.record(id, raw_head, Vec::new());
            return false;
        }
        let Some(body) = Self::read_body(s, buf, head).await else {
            self.record(id, raw_head, b"<incomplete body>".to_vec());
            return false;
        };
        self.record(id, raw_head, body);
        true
    }

    /// Reads a PROXY protocol header off the start of `buf` (reading more as needed) and
    /// renders it, ports masked; `Ok(None)` when the connection does not start with one.
    async fn proxy_header(s: &mut TcpStream, buf: &mut Vec<u8>) -> Result<Option<String>, ()> {
        const V1: &[u8] = b"PROXY ";
        const V2: &[u8] = b"\r\n\r\n\0\r\nQUIT\n";
        loop {
            let n = buf.len();
            let v1 = buf.len() >= V1.len() && buf.starts_with(V1);
            let v2 = buf.len() >= V2.len() && buf.starts_with(V2);
            if !v1
                && !v2
                && !V1.starts_with(&buf[..n.min(V1.len())])
                && !V2.starts_with(&buf[..n.min(V2.len())])
            {
                return Ok(None);
            }
            if v1 && let Some(end) = buf.windows(2).position(|w| w == b"\r\n") {
                let line = String::from_utf8_lossy(&buf[..end]).into_owned();
                buf.drain(..end + 2);
                let mut words: Vec<&str> = line.split(' ').collect();
                for w in words.iter_mut().skip(4) {
                    *w = "<port>";
                }
                return Ok(Some(format!("proxy v1: {}", words.join(" "))));
            }
            if v2 && buf.len() >= 16 {
                let len = usize::from(u16::from_be_bytes([buf[14], buf[15]]));
                if buf.len() >= 16 + len {
                    let (ver_cmd, fam) = (buf[12], buf[13]);
                    let body: Vec<u8> = buf[16..16 + len].to_vec();
                    buf.drain(..16 + len);
                    let (addrs, tlvs) = match fam {
                        0x11 if body.len() >= 12 => {
                            let ip = |b: &[u8]| std::net::Ipv4Addr::new(b[0], b[1], b[2], b[3]);
                            (
                                format!("{} {} <port> <port>", ip(&body[0..4]), ip(&body[4..8])),
                                &body[12..],
                            )
                        }
                        _ => (String::new(), &body[..]),
                    };
                    let hex: String = tlvs.iter().map(|b| format!("{b:02x}")).collect();
                    return Ok(Some(format!(
                        "proxy v2: ver_cmd {ver_cmd:02x} fam {fam:02x} len {len} {addrs} tlvs [{hex}]"
                    )));
                }
            }
            if buf.len() > 536 {
                return Err(());
            }
            if !Self::read_more(s, buf).await {
                // Closed before a byte: nothing to record; within a header: a bad header.
                return if buf.is_empty() { Ok(None) } else { Err(()) };
            }
        }
    }

    fn record(&self, conn: usize, head: String, body: Vec<u8>) {
        self.seen.lock().unwrap().push(Seen {
            conn,
            head,
            body: String::from_utf8_lossy(&body).into_owned(),
        });
    }

    /// Reads the request body; `None` when the connection ended or the framing was bad.
    async fn read_body(
        s: &mut TcpStream,
        buf: &mut Vec<u8>,
        head: &RequestHead,
    ) -> Option<Vec<u8>> {
        match head.framing().ok()? {
            BodyFraming::Length(n) => {
                let n = usize::try_from(n).ok()?;
                while buf.len() < n {
                    if !Self::read_more(s, buf).await {
                        return None;
                    }
                }
                Some(buf.drain(..n).collect())
            }
            BodyFraming::Chunked => {
                let mut d = ChunkedDecoder::new();
                let mut body = Vec::new();
                while !d.is_done() {
                    let step = d.advance(buf).ok()?;
                    body.extend(buf.drain(..step.consumed));
                    if !d.is_done() && step.consumed == 0 && !Self::read_more(s, buf).await {
                        return None;
                    }
                }
                Some(body)
            }
            _ => Some(Vec::new()),
        }
    }

    /// Echoes everything back until the peer closes (a tunnel).
    async fn echo(s: &mut TcpStream, mut pending: Vec<u8>) {
        loop {
            if !pending.is_empty() && s.write_all(&pending).await.is_err() {
                return;
            }
            pending.clear();
            if !Self::read_more(s, &mut pending).await {
                let _ = s.shutdown().await;
                return;
            }
        }
    }
}

enum Then {
    KeepAlive,
    Close,
    Echo,
}

struct Answer {
    bytes: Vec<u8>,
    then: Then,
}

/// What the origin answers for `path` (mixed-case header names on purpose).
fn answer(path: &str, head: &RequestHead) -> Answer {
    let ka = |b: &[u8]| Answer {
        bytes: b.to_vec(),
        then: Then::KeepAlive,
    };
    let close = |b: &[u8]| Answer {
        bytes: b.to_vec(),
        then: Then::Close,
    };
    match path {
        "/chunked" => ka(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Kind: Chunked\r\n\r\n2\r\nok\r\n3;ext=1\r\nabc\r\n0\r\n\r\n"),
        "/trailers" => ka(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nX-Trailer: t\r\n\r\n"),
        "/upgrade" => Answer {
            bytes: b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: test\r\n\r\n".to_vec(),
            then: Then::Echo,
        },
        "/ws" => Answer {
            bytes: b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n".to_vec(),
            then: Then::Echo,
        },
        "/until-close" => close(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil close"),
        "/server-close" => close(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"),
        "/server-ka" => ka(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: Keep-Alive\r\nKeep-Alive: timeout=5\r\n\r\nok"),
        "/http10-ka" => ka(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok"),
        "/no-continue" => ka(b"HTTP/1.1 417 Expectation Failed\r\nContent-Length: 0\r\n\r\n"),
        "/big-head" => {
            let mut v = b"HTTP/1.1 200 OK\r\nX-Big: ".to_vec();
            v.extend(std::iter::repeat_n(b'b', 5000));
            v.extend_from_slice(b"\r\nContent-Length: 2\r\n\r\nok");
            ka(&v)
        }
        "/resp-cl-conflict" => ka(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok"),
        "/resp-cl-list" => ka(b"HTTP/1.1 200 OK\r\nContent-Length: 2,2\r\nContent-Length: 2\r\n\r\nok"),
        "/resp-chunked-twice" => ka(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n"),
        "/resp-gzip" => close(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nzzz"),
        "/resp-space-colon" => ka(b"HTTP/1.1 200 OK\r\nX-Bad : v\r\nContent-Length: 2\r\n\r\nok"),
        "/resp-bad-trailer" => ka(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nNoColon\r\n\r\n"),
        "/headers-9" | "/headers-10" => {
            let n: usize = if path == "/headers-9" { 9 } else { 10 };
            let mut v = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n".to_vec();
            for i in 1..n {
                v.extend_from_slice(format!("X-R{i}: v\r\n").as_bytes());
            }
            v.extend_from_slice(b"\r\nok");
            ka(&v)
        }
        "/http10" => close(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok"),
        "/204" => ka(b"HTTP/1.1 204 No Content\r\nX-Empty: 1\r\n\r\n"),
        "/204-cl" => ka(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n"),
        "/304-cl" => ka(b"HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n"),
        "/304" => ka(b"HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n"),
        "/103" => ka(b"HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
        "/cookies" => ka(b"HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nCache-Control: private\r\nContent-Length: 0\r\n\r\n"),
        "/te-cl" => ka(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"),
        "/big" => {
            let mut v = b"HTTP/1.1 200 OK\r\nContent-Length: 65536\r\n\r\n".to_vec();
            v.extend((0..65536u32).map(|i| b'a' + (i % 26) as u8));
            ka(&v)
        }
        "/bad-chunk" => close(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nok\r\n0\r\n\r\n"),
        _ if head.method == "HEAD" => ka(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\nX-Origin: yes\r\n\r\n"),
        _ => ka(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Origin: yes\r\n\r\nok"),
    }
}
