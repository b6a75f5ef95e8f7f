//! TCP mode: pick a server, connect with retries and redispatch, optionally send a PROXY header,
//! then forward both ways; the stream's facts are returned for logs and counters.

mod connect;
#[cfg(test)]
mod tests;

use std::time::Instant;

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

pub use connect::{ConnectFailed, Connected, TURN_AROUND, connect_server};

use crate::facts::StreamFacts;
use crate::forward::{ForwardTimeouts, forward};
use crate::route::{PickServer, StreamView};
use crate::settings::{BackendSettings, Timeouts};
use crate::side::{Side, StreamState, Termination};

/// Serves one TCP-mode stream from an accepted client to backend `backend_idx`.
///
/// `pending` holds client bytes already read (after a PROXY header, for instance); they are sent
/// to the server first. The client side uses the frontend's timeouts, the server side the backend's.
pub async fn serve_tcp<C, P>(
    client: C,
    pending: &[u8],
    view: &StreamView<'_>,
    frontend: &Timeouts,
    backend: &BackendSettings,
    backend_idx: usize,
    picker: &P,
) -> StreamFacts
where
    C: AsyncRead + AsyncWrite + Unpin,
    P: PickServer + ?Sized,
{
    serve_tcp_watched(
        client,
        pending,
        view,
        frontend,
        backend,
        backend_idx,
        picker,
        |_| None,
    )
    .await
}

/// [`serve_tcp`], and once connected to server `i` the stream ends when the receiver
/// `shutdown(i)` gives changes, blaming the [`Side`] it carries (`D` or `U`): how
/// `on-marked-down shutdown-sessions` and `on-marked-up shutdown-backup-sessions` reach
/// streams.
#[expect(
    clippy::too_many_arguments,
    reason = "serve_tcp's arguments plus the shutdown hook"
)]
pub async fn serve_tcp_watched<C, P, F>(
    mut client: C,
    pending: &[u8],
    view: &StreamView<'_>,
    frontend: &Timeouts,
    backend: &BackendSettings,
    backend_idx: usize,
    picker: &P,
    shutdown: F,
) -> StreamFacts
where
    C: AsyncRead + AsyncWrite + Unpin,
    P: PickServer + ?Sized,
    F: FnOnce(usize) -> Option<tokio::sync::watch::Receiver<(u64, Side)>>,
{
    let start = Instant::now();
    let mut facts = StreamFacts {
        backend: Some(backend_idx),
        ..StreamFacts::default()
    };
    let connected = match connect_server(backend, backend_idx, picker, view).await {
        Ok(c) => c,
        Err(failed) => {
            facts.termination = failed.termination;
            facts.server = failed.server;
            facts.retries = failed.retries;
            facts.redispatched_from = failed.redispatched_from;
            facts.timers.tt = Some(start.elapsed());
            let _ = client.shutdown().await;
            return facts;
        }
    };
    facts.server = Some(connected.server);
    facts.retries = connected.retries;
    facts.redispatched = connected.redispatched;
    facts.redispatched_from = connected.redispatched_from;
    facts.timers.tw = Some(std::time::Duration::ZERO);
    facts.timers.tc = Some(connected.tc);
    let kill = shutdown(connected.server);
    let mut server = connected.stream;
    if !pending.is_empty() && server.write_all(pending).await.is_err() {
        facts.termination = Termination::new(Side::Server, StreamState::Data);
        facts.timers.tt = Some(start.elapsed());
        return facts;
    }
    let timeouts = ForwardTimeouts {
        client: frontend.client,
        server: backend.timeouts.server,
        client_fin: frontend.client_fin,
        server_fin: backend.timeouts.server_fin,
    };
    let out = match kill {
        None => forward(client, server, timeouts).await,
        Some(mut kill) => {
            tokio::select! {
                out = forward(client, server, timeouts) => out,
                _ = kill.changed() => {
                    facts.termination = Termination::new(kill.borrow().1, StreamState::Data);
                    facts.bytes_in = pending.len() as u64;
                    facts.timers.tt = Some(start.elapsed());
                    return facts;
                }
            }
        }
    };
    facts.bytes_in = out.client_to_server + pending.len() as u64;
    facts.bytes_out = out.server_to_client;
    facts.termination = out.termination;
    facts.timers.tt = Some(start.elapsed());
    facts
}
