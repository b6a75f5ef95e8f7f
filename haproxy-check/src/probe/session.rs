//! One check connection: connect with its own timeout, send, and read into a bounded buffer.

use std::io;
use std::net::SocketAddr;

use socket2::{Domain, Protocol, Socket, Type};
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

/// What a check does right after its connect; it decides HAProxy's socket options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Next {
    /// Nothing: a connect-only check.
    Nothing,
    /// The check sends first (HTTP request, `tcp-check send`, agent-send).
    Send,
    /// The check waits for the server to speak first (`tcp-check expect`: SMTP, MySQL, ...).
    Expect,
}

/// The transport under a check: plain TCP or TLS.
#[derive(Debug)]
enum Stream {
    /// Connected but not yet registered with the reactor: a connect-only check never is.
    Bare(Option<std::net::TcpStream>),
    Plain(TcpStream),
    #[cfg(feature = "tls")]
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

impl Stream {
    /// Registers a bare socket with the reactor before its first I/O.
    fn registered(&mut self) -> io::Result<()> {
        if let Self::Bare(s) = self {
            let std = s
                .take()
                .ok_or_else(|| io::Error::from(io::ErrorKind::NotConnected))?;
            *self = Self::Plain(TcpStream::from_std(std)?);
        }
        Ok(())
    }

    async fn write_all(&mut self, mut data: &[u8]) -> io::Result<()> {
        if let Self::Bare(Some(s)) = self {
            // Try the write at once: a fresh socket has room for a check request, and a
            // send-only check (a PROXY line) then never touches the reactor.
            while !data.is_empty() {
                match io::Write::write(&mut &*s, data) {
                    Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                    Ok(n) => data = data.get(n..).unwrap_or_default(),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
            if data.is_empty() {
                return Ok(());
            }
        }
        self.registered()?;
        match self {
            Self::Bare(_) => Err(io::ErrorKind::NotConnected.into()),
            Self::Plain(s) => s.write_all(data).await,
            #[cfg(feature = "tls")]
            Self::Tls(s) => {
                s.write_all(data).await?;
                s.flush().await
            }
        }
    }

    async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.registered()?;
        match self {
            Self::Bare(_) => Err(io::ErrorKind::NotConnected.into()),
            Self::Plain(s) => s.read(buf).await,
            #[cfg(feature = "tls")]
            Self::Tls(s) => s.read(buf).await,
        }
    }
}

/// A connect error in HAProxy's terms: an OS error (refused, unreachable, ...) is L4CON.
fn connect_error(e: &io::Error) -> StepError {
    let status = if e.kind() == io::ErrorKind::ConnectionRefused || e.raw_os_error().is_some() {
        CheckStatus::L4Con
    } else {
        CheckStatus::SockErr
    };
    StepError::io(status, e)
}

/// `EINPROGRESS`, the answer of a non-blocking `connect()` that has not finished yet
/// (`io::ErrorKind::InProgress` is not stable at our MSRV).
#[cfg(any(target_os = "linux", target_os = "android"))]
const EINPROGRESS: i32 = 115;
/// `EINPROGRESS` on the BSDs and macOS.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
const EINPROGRESS: i32 = 36;

/// A non-blocking socket with HAProxy's check options, its connect started.
///
/// Returns the socket and whether the handshake is already complete. On loopback it nearly
/// always is: the kernel runs the whole exchange inside `connect()`, so a connect-only check
/// then needs no reactor registration, no wake-up and no timer.
fn start_connect(
    addr: SocketAddr,
    next: Next,
    writes_first: bool,
) -> Result<(std::net::TcpStream, bool), StepError> {
    let sockerr = |e: io::Error| StepError::io(CheckStatus::SockErr, &e);
    #[cfg(any(target_os = "linux", target_os = "android"))]
    let sock = Socket::new(
        Domain::for_address(addr),
        Type::STREAM.nonblocking(),
        Some(Protocol::TCP),
    )
    .map_err(sockerr)?;
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let sock = {
        let s = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))
            .map_err(sockerr)?;
        s.set_nonblocking(true).map_err(sockerr)?;
        s
    };
    // HAProxy closes check connections with a single RST unless `linger` is given
    // (configuration.txt, `tcp-check connect`): no TIME_WAIT pile-up on the checker.
    sock.set_linger(Some(std::time::Duration::ZERO))
        .map_err(sockerr)?;
    if next != Next::Nothing || writes_first {
        // Small requests leave at once (HAProxy sets TCP_NODELAY on every connection; a
        // connect-only check writes nothing, so it skips the call).
        sock.set_tcp_nodelay(true).map_err(sockerr)?;
    }
    if next != Next::Expect {
        // HAProxy's CONNECT_DELACK_ALWAYS (tcpcheck.c): unless the server speaks first, the
        // handshake's last ACK waits for the request, or for the close of a connect-only
        // check, which then never reaches the server's accept queue.
        #[cfg(any(target_os = "linux", target_os = "android"))]
        sock.set_tcp_quickack(false).map_err(sockerr)?;
    }
    let done = match sock.connect(&addr.into()) {
        Ok(()) => true,
        Err(e)
            if e.raw_os_error() == Some(EINPROGRESS) || e.kind() == io::ErrorKind::WouldBlock =>
        {
            // A peer address means the handshake is done; otherwise a pending error (refused)
            // ends the check, and no error means it is still under way.
            sock.peer_addr().is_ok()
                || match sock.take_error().map_err(sockerr)? {
                    Some(e) => return Err(connect_error(&e)),
                    None => false,
                }
        }
        Err(e) => return Err(connect_error(&e)),
    };
    Ok((sock.into(), done))
}

/// Waits for a connect under way to finish (socket writable, then its pending error).
async fn finish_connect(tcp: &TcpStream) -> io::Result<()> {
    tcp.writable().await?;
    match tcp.take_error()? {
        Some(e) => Err(e),
        None => Ok(()),
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
    /// `next` is what the check does first once connected.
    pub(crate) async fn connect(
        addr: SocketAddr,
        conn: &CheckConn,
        start: Instant,
        next: Next,
    ) -> Result<Self, StepError> {
        let t = &conn.timeouts;
        #[cfg(feature = "tls")]
        let writes_first = conn.send_proxy.is_some() || conn.tls.is_some();
        #[cfg(not(feature = "tls"))]
        let writes_first = conn.send_proxy.is_some();
        let (std, done) = start_connect(addr, next, writes_first)?;
        let mut stream = if done {
            Stream::Bare(Some(std))
        } else {
            let tcp =
                TcpStream::from_std(std).map_err(|e| StepError::io(CheckStatus::SockErr, &e))?;
            match tokio::time::timeout(t.connect, finish_connect(&tcp)).await {
                Err(_) => return Err(StepError::bare(CheckStatus::L4Timeout)),
                Ok(Err(e)) => return Err(connect_error(&e)),
                Ok(Ok(())) => Stream::Plain(tcp),
            }
        };
        let base = if t.whole { start } else { Instant::now() };
        let deadline = base + t.read;
        if let Some(h) = conn.send_proxy {
            let local = match &stream {
                Stream::Bare(Some(s)) => s.local_addr(),
                Stream::Plain(s) => s.local_addr(),
                _ => Err(io::ErrorKind::NotConnected.into()),
            }
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
            Some(tls) => {
                stream
                    .registered()
                    .map_err(|e| StepError::io(CheckStatus::SockErr, &e))?;
                let Stream::Plain(tcp) = stream else {
                    return Err(StepError::bare(CheckStatus::SockErr));
                };
                (handshake(tcp, tls, addr, deadline).await?, true)
            }
            None => (stream, false),
        };
        #[cfg(not(feature = "tls"))]
        let tls = false;
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
            // As HAProxy (tcpcheck_eval_recv), a read error is the verdict only when nothing
            // arrived: an RST right after the last data chunk is common and leaves the data
            // to the expect rules; an RST on an empty buffer is SOCKERR with its strerror.
            Ok(Err(e)) if self.buf.is_empty() => Err(StepError::io(CheckStatus::SockErr, &e)),
            Ok(Err(_)) => {
                self.eof = true;
                Ok(true)
            }
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
