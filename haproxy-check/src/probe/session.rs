//! One check connection: connect with its own timeout, send, and read into a bounded buffer.

use std::io;
use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

use super::CheckConn;
use crate::CheckStatus;

/// Largest response kept from a server during one check (HAProxy's default `tune.bufsize`).
pub const MAX_RESPONSE: usize = 16384;

/// How a connect or I/O step failed, already in HAProxy's terms.
#[derive(Debug)]
pub(crate) struct StepError {
    pub(crate) status: CheckStatus,
    pub(crate) info: String,
}

impl StepError {
    /// A failure with no text to show (timeouts).
    pub(crate) fn bare(status: CheckStatus) -> Self {
        Self {
            status,
            info: String::new(),
        }
    }

    /// A failure carrying the I/O error's `strerror` text.
    pub(crate) fn io(status: CheckStatus, e: &io::Error) -> Self {
        Self {
            status,
            info: errno_text(e),
        }
    }
}

/// Turns an I/O error into the text HAProxy shows (`strerror`), without Rust's `(os error N)`.
pub(crate) fn errno_text(e: &io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s.get(..i).unwrap_or(&s).to_owned(),
        None => s,
    }
}

/// The transport under a check: plain TCP or TLS.
#[derive(Debug)]
enum Stream {
    Plain(TcpStream),
    #[cfg(feature = "tls")]
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

impl Stream {
    async fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        match self {
            Self::Plain(s) => s.write_all(data).await,
            #[cfg(feature = "tls")]
            Self::Tls(s) => {
                s.write_all(data).await?;
                s.flush().await
            }
        }
    }

    async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Self::Plain(s) => s.read(buf).await,
            #[cfg(feature = "tls")]
            Self::Tls(s) => s.read(buf).await,
        }
    }
}

/// An open check connection with its read buffer.
#[derive(Debug)]
pub(crate) struct Session {
    stream: Stream,
    /// Whether TLS was negotiated (a connect-only check then reports L6OK).
    pub(crate) tls: bool,
    pub(crate) buf: Vec<u8>,
    pub(crate) eof: bool,
    deadline: Instant,
}

impl Session {
    /// Connects within `t.connect`; the read deadline counts from the start when `t.whole`.
    pub(crate) async fn connect(
        addr: SocketAddr,
        conn: &CheckConn,
        start: Instant,
    ) -> Result<Self, StepError> {
        let t = &conn.timeouts;
        let fut = TcpStream::connect(addr);
        let stream = match tokio::time::timeout(t.connect, fut).await {
            Err(_) => {
                return Err(StepError::bare(CheckStatus::L4Timeout));
            }
            Ok(Err(e)) => {
                let refused =
                    e.kind() == io::ErrorKind::ConnectionRefused || e.raw_os_error().is_some();
                let status = if refused {
                    CheckStatus::L4Con
                } else {
                    CheckStatus::SockErr
                };
                return Err(StepError::io(status, &e));
            }
            Ok(Ok(s)) => s,
        };
        let _ = stream.set_nodelay(true);
        // HAProxy closes check connections with a single RST unless `linger` is given
        // (configuration.txt, `tcp-check connect`): no TIME_WAIT pile-up on the checker.
        #[expect(
            deprecated,
            reason = "a zero linger sends RST at once and never blocks; set_zero_linger needs a newer tokio than our minimum"
        )]
        let _ = stream.set_linger(Some(std::time::Duration::ZERO));
        let base = if t.whole { start } else { Instant::now() };
        let deadline = base + t.read;
        let mut stream = stream;
        if let Some(h) = conn.send_proxy {
            let local = stream
                .local_addr()
                .map_err(|e| StepError::io(CheckStatus::SockErr, &e))?;
            match tokio::time::timeout_at(deadline, stream.write_all(&h.bytes(local, addr))).await {
                Err(_) => {
                    return Err(StepError::bare(CheckStatus::L4Timeout));
                }
                Ok(Err(e)) => {
                    return Err(StepError::io(CheckStatus::SockErr, &e));
                }
                Ok(Ok(())) => {}
            }
        }
        #[cfg(feature = "tls")]
        let (stream, tls) = match &conn.tls {
            Some(tls) => (handshake(stream, tls, addr, deadline).await?, true),
            None => (Stream::Plain(stream), false),
        };
        #[cfg(not(feature = "tls"))]
        let (stream, tls) = (Stream::Plain(stream), false);
        Ok(Self {
            stream,
            tls,
            buf: Vec::new(),
            eof: false,
            deadline,
        })
    }

    /// Sends `data` and clears what was read before (as tcp-check does after each send).
    pub(crate) async fn send(&mut self, data: &[u8]) -> Result<(), StepError> {
        self.buf.clear();
        self.eof = false;
        match tokio::time::timeout_at(self.deadline, self.stream.write_all(data)).await {
            Err(_) => Err(StepError::bare(CheckStatus::L7Timeout)),
            Ok(Err(e)) => Err(StepError::io(CheckStatus::SockErr, &e)),
            Ok(Ok(())) => Ok(()),
        }
    }

    /// Whether the buffer is full or the peer closed: no more data can change a verdict.
    pub(crate) fn is_last(&self) -> bool {
        self.eof || self.buf.len() >= MAX_RESPONSE
    }

    /// Reads more data; `Ok(false)` on timeout.
    pub(crate) async fn fill(&mut self) -> Result<bool, StepError> {
        if self.is_last() {
            return Ok(true);
        }
        let mut chunk = [0u8; 4096];
        let room = MAX_RESPONSE.saturating_sub(self.buf.len()).min(chunk.len());
        let dst = chunk.get_mut(..room).unwrap_or_default();
        match tokio::time::timeout_at(self.deadline, self.stream.read(dst)).await {
            Err(_) => Ok(false),
            Ok(Ok(0)) => {
                self.eof = true;
                Ok(true)
            }
            Ok(Ok(n)) => {
                self.buf.extend_from_slice(dst.get(..n).unwrap_or_default());
                Ok(true)
            }
            Ok(Err(e)) if e.kind() == io::ErrorKind::ConnectionReset => {
                self.eof = true;
                Ok(true)
            }
            Ok(Err(e)) => Err(StepError::io(CheckStatus::SockErr, &e)),
        }
    }
}

/// Runs the TLS handshake within the check deadline: L6TOUT on timeout, L6RSP on failure.
#[cfg(feature = "tls")]
async fn handshake(
    tcp: TcpStream,
    tls: &super::TlsCheck,
    addr: SocketAddr,
    deadline: Instant,
) -> Result<Stream, StepError> {
    // Without check-sni no SNI is sent (rustls sends none for an IP address), as in HAProxy.
    let name = tls
        .sni
        .clone()
        .unwrap_or_else(|| rustls::pki_types::ServerName::IpAddress(addr.ip().into()));
    let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::clone(&tls.config));
    match tokio::time::timeout_at(deadline, connector.connect(name, tcp)).await {
        Err(_) => Err(StepError::bare(CheckStatus::L6Timeout)),
        Ok(Err(e)) => Err(StepError::io(CheckStatus::L6Rsp, &e)),
        Ok(Ok(s)) => Ok(Stream::Tls(Box::new(s))),
    }
}
