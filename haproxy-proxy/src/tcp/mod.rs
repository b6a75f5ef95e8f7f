//! TCP mode: take a server slot (queueing under `maxconn`), connect with retries and redispatch,
//! optionally send a PROXY header, then forward both ways while the slot is held; the stream's
//! facts are returned for logs and counters.

mod connect;
mod inspect;
mod sni;
#[cfg(test)]
mod tests;

use std::time::Instant;

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

pub use connect::{
    ClientEvent, ClientWatch, ConnectFailed, Connected, TURN_AROUND, connect_server,
    connect_server_watched, connect_slot, take_slot, watch_client,
};
pub use inspect::{Inspected, inspect, inspect_capacity};
pub use sni::client_hello_sni;

use crate::facts::StreamFacts;
use crate::forward::{ForwardTimeouts, forward};
use crate::route::{PickServer, StreamView};
use crate::settings::{BackendSettings, Timeouts};
use crate::side::{Side, StreamState, Termination};

/// The most client bytes a TCP stream keeps while it waits for a server (HAProxy's buffer).
pub const QUEUED_CLIENT_BYTES: usize = 16 * 1024;

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
        None,
        |_| None,
    )
    .await
}

/// [`serve_tcp`], and once connected to server `i` the stream ends when the receiver
/// `shutdown(i)` gives changes, blaming the [`Side`] it carries (`D` or `U`): how
/// `on-marked-down shutdown-sessions` and `on-marked-up shutdown-backup-sessions` reach
/// streams. With `live` (the backend's registry entry), servers are reached at their current
/// addresses (`set server addr`).
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
    live: Option<&crate::registry::BackendEntry>,
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
    // What the client sends while its stream waits for a server is kept and sent first.
    let mut early = Vec::new();
    // Boxed: the queue and connect state (retries, timers) is not carried in the forwarding future.
    let (result, queued) = Box::pin(async {
        let gone = std::pin::pin!(watch_client(&mut client, &mut early, QUEUED_CLIENT_BYTES));
        let mut watch = ClientWatch::new(None, gone).with_live_addresses(live);
        let r = connect_server_watched(backend, backend_idx, picker, view, &mut watch).await;
        (r, watch.queued())
    })
    .await;
    facts.timers.tw = Some(queued);
    let connected = match result {
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
    facts.timers.tc = Some(connected.tc);
    // The slot stays held for the whole TCP connection.
    let _slot = connected.slot;
    let kill = shutdown(connected.server);
    let mut server = connected.stream;
    for bytes in [pending, early.as_slice()] {
        if !bytes.is_empty() && server.write_all(bytes).await.is_err() {
            facts.termination = Termination::new(Side::Server, StreamState::Data);
            facts.timers.tt = Some(start.elapsed());
            return facts;
        }
    }
    let timeouts = ForwardTimeouts {
        client: frontend.client,
        server: backend.timeouts.server,
        client_fin: frontend.client_fin,
        server_fin: backend.timeouts.server_fin,
    }
    // A TCP stream is a tunnel once connected: the backend's `timeout tunnel` replaces both sides.
    .tunnel(backend.timeouts.tunnel);
    let out = match kill {
        None => forward(client, server, timeouts).await,
        Some(mut kill) => {
            tokio::select! {
                out = forward(client, server, timeouts) => out,
                _ = kill.changed() => {
                    facts.termination = Termination::new(kill.borrow().1, StreamState::Data);
                    facts.bytes_in = pending.len() as u64 + early.len() as u64;
                    facts.timers.tt = Some(start.elapsed());
                    return facts;
                }
            }
        }
    };
    facts.bytes_in = out.client_to_server + pending.len() as u64 + early.len() as u64;
    facts.bytes_out = out.server_to_client;
    facts.termination = out.termination;
    facts.timers.tt = Some(start.elapsed());
    facts
}
