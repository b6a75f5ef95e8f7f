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
    mut client: C,
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
    let start = Instant::now();
    let mut facts = StreamFacts {
        backend: Some(backend_idx),
        ..StreamFacts::default()
    };
    // Boxed: the connect state (retries, timers) is not carried in the forwarding future.
    let connected = match Box::pin(connect_server(backend, backend_idx, picker, view)).await {
        Ok(c) => c,
        Err(failed) => {
            facts.termination = failed.termination;
            facts.server = failed.server;
            facts.retries = failed.retries;
            facts.timers.tt = Some(start.elapsed());
            let _ = client.shutdown().await;
            return facts;
        }
    };
    facts.server = Some(connected.server);
    facts.retries = connected.retries;
    facts.redispatched = connected.redispatched;
    facts.timers.tw = Some(std::time::Duration::ZERO);
    facts.timers.tc = Some(connected.tc);
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
    let out = forward(client, server, timeouts).await;
    facts.bytes_in = out.client_to_server + pending.len() as u64;
    facts.bytes_out = out.server_to_client;
    facts.termination = out.termination;
    facts.timers.tt = Some(start.elapsed());
    facts
}
