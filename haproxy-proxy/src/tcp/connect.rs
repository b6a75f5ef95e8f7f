//! Connecting to a server: `timeout connect`, `retries`, `option redispatch`, `send-proxy`.

use std::time::{Duration, Instant};

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::proxy_proto::{ProxyHeader, encode_v1, encode_v2};
use crate::route::{PickServer, StreamView};
use crate::settings::{BackendSettings, SendProxy};
use crate::side::{Side, StreamState, Termination};

/// The pause before retrying the same server (HAProxy waits `min(timeout connect, 1s)`).
pub const TURN_AROUND: Duration = Duration::from_secs(1);

/// A server connection ready for traffic.
#[derive(Debug)]
pub struct Connected {
    /// The connection (the PROXY header, if configured, is already sent).
    pub stream: TcpStream,
    /// The server's index in the backend.
    pub server: usize,
    /// Retries it took.
    pub retries: u32,
    /// True when a retry went to another server.
    pub redispatched: bool,
    /// The server the failed attempts went to, when a retry went to another one.
    pub redispatched_from: Option<usize>,
    /// Time spent in the successful connect (`Tc`).
    pub tc: Duration,
}

/// Why no connection could be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectFailed {
    /// `SC` (refused / no server) or `sC` (connect timeout).
    pub termination: Termination,
    /// The last server tried.
    pub server: Option<usize>,
    /// Retries made.
    pub retries: u32,
    /// The server the first failed attempts went to, when a retry went to another one.
    pub redispatched_from: Option<usize>,
}

/// Connects to a server of `backend` chosen by `picker`, retrying `retries` times; with
/// `option redispatch` the last retry asks the picker for another server.
///
/// # Errors
/// [`ConnectFailed`] when no server is usable or every attempt failed.
pub async fn connect_server<P: PickServer + ?Sized>(
    backend: &BackendSettings,
    backend_idx: usize,
    picker: &P,
    view: &StreamView<'_>,
) -> Result<Connected, ConnectFailed> {
    let no_server = ConnectFailed {
        termination: Termination::new(Side::Server, StreamState::Connect),
        server: None,
        retries: 0,
        redispatched_from: None,
    };
    let mut idx = picker.pick(backend_idx, view, None).ok_or(no_server)?;
    let (mut retries, mut redispatched) = (0u32, false);
    let mut redispatched_from = None;
    let connect_timeout = backend.timeouts.connect;
    loop {
        let server = backend.servers.get(idx).ok_or(no_server)?;
        let started = Instant::now();
        let attempt = async {
            let mut s = TcpStream::connect(server.addr).await?;
            s.set_nodelay(true)?;
            if let Some(v) = server.send_proxy {
                let header = ProxyHeader::Tcp {
                    src: view.src,
                    dst: view.dst,
                };
                let bytes = match v {
                    SendProxy::V1 => encode_v1(&header),
                    SendProxy::V2 => encode_v2(&header),
                };
                s.write_all(&bytes).await?;
            }
            Ok::<_, std::io::Error>(s)
        };
        let result = match connect_timeout {
            Some(t) => tokio::time::timeout(t, attempt)
                .await
                .map_err(|_| Side::ServerTimeout),
            None => Ok(attempt.await),
        };
        let side = match result {
            Ok(Ok(stream)) => {
                return Ok(Connected {
                    stream,
                    server: idx,
                    retries,
                    redispatched,
                    redispatched_from,
                    tc: started.elapsed(),
                });
            }
            Ok(Err(_)) => Side::Server,
            Err(side) => side,
        };
        if retries >= backend.retries {
            return Err(ConnectFailed {
                termination: Termination::new(side, StreamState::Connect),
                server: Some(idx),
                retries,
                redispatched_from,
            });
        }
        retries += 1;
        let other = if backend.redispatch && retries == backend.retries {
            picker.pick(backend_idx, view, Some(idx))
        } else {
            None
        };
        match other {
            Some(o) if o != idx => {
                redispatched_from.get_or_insert(idx);
                idx = o;
                redispatched = true;
            }
            _ => {
                tokio::time::sleep(connect_timeout.map_or(TURN_AROUND, |t| t.min(TURN_AROUND)))
                    .await
            }
        }
    }
}
