//! TCP mode: take a server slot (queueing under `maxconn`), connect with retries and redispatch,
//! optionally send a PROXY header, then forward both ways while the slot is held; the stream's
//! facts are returned for logs and counters.

mod connect;
mod inspect;
mod sni;
#[cfg(test)]
mod tests;

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

pub use connect::{
    ClientEvent, ClientWatch, ConnectFailed, Connected, TURN_AROUND, connect_server,
    connect_server_watched, connect_slot, take_slot, watch_client,
};
pub use inspect::{Inspected, inspect, inspect_capacity};
pub use sni::client_hello_sni;

use crate::facts::StreamFacts;
use crate::forward::{ForwardOutcome, ForwardTimeouts, forward};
use crate::route::{PickServer, StreamView};
use crate::settings::{BackendSettings, Timeouts};
use crate::side::{Side, StreamState, Termination};
use crate::slot::ServerSlot;

/// The most client bytes a TCP stream keeps while it waits for a server (HAProxy's buffer).
pub const QUEUED_CLIENT_BYTES: usize = 16 * 1024;

/// Serves one TCP-mode stream from an accepted client to backend `backend_idx`.
///
/// `pending` holds client bytes already read (after a PROXY header, for instance); they are sent
/// to the server first. The client side uses the frontend's timeouts, the server side the backend's.
pub fn serve_tcp<'a, C, P>(
    client: C,
    pending: &[u8],
    view: &'a StreamView<'_>,
    frontend: &'a Timeouts,
    backend: &'a BackendSettings,
    backend_idx: usize,
    picker: &'a P,
) -> impl Future<Output = StreamFacts> + 'a
where
    C: AsyncRead + AsyncWrite + Unpin + 'a,
    P: PickServer + ?Sized,
{
    serve_tcp_watched(
        client,
        pending.to_vec(),
        *view,
        frontend,
        backend,
        backend_idx,
        picker,
        None,
        |_| None,
        std::future::pending(),
    )
}

/// What a connected TCP stream keeps besides its forwarding state: the server slot and how the
/// server was reached; turned into the stream's facts at the end.
struct Linked {
    start: Instant,
    backend: usize,
    retries: u32,
    redispatched: bool,
    redispatched_from: Option<usize>,
    /// `Tc`.
    tc: Duration,
    /// `Tw`.
    queued: Duration,
    /// Client bytes sent before forwarding began (`pending`, then what came while queued).
    sent_first: u64,
    /// The server's slot, held for the whole TCP connection.
    slot: ServerSlot,
}

impl Linked {
    /// The stream's facts once forwarding ended with `out`, or was cut by a kill (`Err`, blaming
    /// the side it carried).
    /// `moved` is what forwarding had copied each way (client to server, server to client) when
    /// it was cut; a cut stream's bytes count as HAProxy counts them.
    fn facts(&self, out: Result<ForwardOutcome, Side>, moved: (u64, u64)) -> StreamFacts {
        let (bytes_in, bytes_out, termination) = match out {
            Ok(out) => (
                out.client_to_server + self.sent_first,
                out.server_to_client,
                out.termination,
            ),
            Err(side) => (
                moved.0 + self.sent_first,
                moved.1,
                Termination::new(side, StreamState::Data),
            ),
        };
        let mut facts = StreamFacts {
            backend: Some(self.backend),
            server: Some(self.slot.server()),
            retries: self.retries,
            redispatched: self.redispatched,
            redispatched_from: self.redispatched_from,
            bytes_in,
            bytes_out,
            termination,
            ..StreamFacts::default()
        };
        facts.timers.tw = Some(self.queued);
        facts.timers.tc = Some(self.tc);
        facts.timers.tt = Some(self.start.elapsed());
        facts
    }
}

/// [`serve_tcp`], and once connected to server `i` the stream ends when the receiver
/// `shutdown(i)` gives changes, blaming the [`Side`] it carries (`D` or `U`): how
/// `on-marked-down shutdown-sessions` and `on-marked-up shutdown-backup-sessions` reach
/// streams. The stream also ends, at any stage, once `killed` resolves (`shutdown session`,
/// `hard-stop-after`: `K`; pinned by the caller, whose state keeps it). A cut stream's facts still count the bytes it moved, as HAProxy's
/// do. With `live` (the backend's registry entry), servers are reached at their current
/// addresses (`set server addr`).
///
/// Not an async fn, and its stages are split so that an idle connected stream keeps little:
/// the queue and connect stage (retries, timers, the client's early bytes, `pending`) runs in
/// its own allocation, freed once the server is connected; what stays is the [`forward`] state,
/// the server slot and the few facts logged at the end (memory per idle TCP pair, issue 5).
#[expect(
    clippy::too_many_arguments,
    reason = "serve_tcp's arguments plus the two kill hooks"
)]
pub fn serve_tcp_watched<'a, C, P, F, K>(
    mut client: C,
    pending: Vec<u8>,
    view: StreamView<'a>,
    frontend: &'a Timeouts,
    backend: &'a BackendSettings,
    backend_idx: usize,
    picker: &'a P,
    live: Option<&'a crate::registry::BackendEntry>,
    shutdown: F,
    killed: K,
) -> impl Future<Output = StreamFacts> + 'a
where
    C: AsyncRead + AsyncWrite + Unpin + 'a,
    P: PickServer + ?Sized,
    F: FnOnce(usize) -> Option<tokio::sync::watch::Receiver<(u64, Side)>> + 'a,
    K: Future<Output = ()> + Unpin + 'a,
{
    let start = Instant::now();
    let connecting = Box::pin(async move {
        let mut facts = StreamFacts {
            backend: Some(backend_idx),
            ..StreamFacts::default()
        };
        // What the client sends while its stream waits for a server is kept and sent first.
        let mut early = Vec::new();
        let (result, queued) = {
            let gone = std::pin::pin!(watch_client(&mut client, &mut early, QUEUED_CLIENT_BYTES));
            let mut watch = ClientWatch::new(None, gone).with_live_addresses(live);
            let r = connect_server_watched(backend, backend_idx, picker, &view, &mut watch).await;
            (r, watch.queued())
        };
        facts.timers.tw = Some(queued);
        let mut connected = match result {
            Ok(c) => c,
            Err(failed) => {
                facts.termination = failed.termination;
                facts.server = failed.server;
                facts.retries = failed.retries;
                facts.redispatched_from = failed.redispatched_from;
                facts.timers.tt = Some(start.elapsed());
                let _ = client.shutdown().await;
                return Err(facts);
            }
        };
        let kill = shutdown(connected.server);
        for bytes in [pending.as_slice(), early.as_slice()] {
            if !bytes.is_empty() && connected.stream.write_all(bytes).await.is_err() {
                facts.server = Some(connected.server);
                facts.retries = connected.retries;
                facts.redispatched = connected.redispatched;
                facts.redispatched_from = connected.redispatched_from;
                facts.timers.tc = Some(connected.tc);
                facts.termination = Termination::new(Side::Server, StreamState::Data);
                facts.timers.tt = Some(start.elapsed());
                return Err(facts);
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
        let linked = Linked {
            start,
            backend: backend_idx,
            retries: connected.retries,
            redispatched: connected.redispatched,
            redispatched_from: connected.redispatched_from,
            tc: connected.tc,
            queued,
            sent_first: pending.len() as u64 + early.len() as u64,
            slot: connected.slot,
        };
        Ok((forward(client, connected.stream, timeouts), linked, kill))
    });
    async move {
        // `killed` is `Unpin` and polled where it was captured: pinning it here would keep a
        // second copy in this future's state.
        let mut killed = killed;
        // Polled by hand, not with `select!`, whose state an idle connected stream would keep;
        // the queue and connect stage's allocation goes with the poll, before forwarding.
        let first = {
            let (mut connecting, killed) = (connecting, &mut killed);
            std::future::poll_fn(move |cx| {
                if let Poll::Ready(c) = connecting.as_mut().poll(cx) {
                    return Poll::Ready(Some(c));
                }
                Pin::new(&mut *killed).poll(cx).map(|()| None)
            })
        };
        let (mut forwarding, linked, kill) = match first.await {
            Some(Ok(c)) => c,
            Some(Err(facts)) => return facts,
            None => {
                // Killed while queued or connecting: nothing was forwarded yet.
                let mut facts = StreamFacts {
                    backend: Some(backend_idx),
                    termination: Termination::new(Side::Killed, StreamState::Connect),
                    ..StreamFacts::default()
                };
                facts.timers.tt = Some(start.elapsed());
                return facts;
            }
        };
        let out = match kill {
            None => {
                std::future::poll_fn(|cx| {
                    if let Poll::Ready(out) = Pin::new(&mut forwarding).poll(cx) {
                        return Poll::Ready(Ok(out));
                    }
                    Pin::new(&mut killed).poll(cx).map(|()| Err(Side::Killed))
                })
                .await
            }
            // Boxed: the kill receiver's wait is only carried by streams that have one.
            Some(mut kill) => {
                let (forwarding, killed) = (&mut forwarding, &mut killed);
                Box::pin(async move {
                    tokio::select! {
                        biased;
                        out = forwarding => Ok(out),
                        () = killed => Err(Side::Killed),
                        _ = kill.changed() => Err(kill.borrow().1),
                    }
                })
                .await
            }
        };
        linked.facts(out, forwarding.moved())
    }
}
