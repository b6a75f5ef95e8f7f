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
use std::sync::atomic::AtomicBool;
use std::task::Poll;
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

pub use connect::{
    ClientEvent, ClientWatch, ConnectFailed, Connected, KillSignal, TURN_AROUND, connect_server,
    connect_server_watched, connect_slot, take_slot, watch_client, watch_client_noting,
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

/// `killed` as the queue wait watches it.
fn kill_signal<'a, K: Future<Output = ()> + Unpin + Send + 'a>(
    killed: &'a mut K,
) -> KillSignal<'a> {
    let pinned: Pin<&'a mut K> = Pin::new(killed);
    pinned
}

/// [`serve_tcp`], and once connected to server `i` the stream ends when the receiver
/// `shutdown(i)` gives changes, blaming the [`Side`] it carries (`D` or `U`): how
/// `on-marked-down shutdown-sessions` and `on-marked-up shutdown-backup-sessions` reach
/// streams. The stream also ends once `killed` resolves (`shutdown session`,
/// `hard-stop-after`: `K`; pinned by the caller, whose state keeps it), as HAProxy 2.6 ends it:
/// queued, it leaves the queue at once (`KQ`) when the client has sent nothing yet (or with
/// `option abortonclose`), else it stays queued, and once it has a slot it connects, sends what
/// the client sent and ends (`K-`; `KQ` if `timeout queue` strikes first); connecting, it ends
/// (`KC`); forwarding, it ends with the bytes it moved. A cut stream's facts still count the bytes it moved, as HAProxy's
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
    K: Future<Output = ()> + Unpin + Send + 'a,
{
    let start = Instant::now();
    // The queue and connect stage watches the kill itself (what a kill does depends on where
    // the stream stands) and hands it back for the forwarding stage.
    let connecting = Box::pin(async move {
        let mut killed = killed;
        let mut facts = StreamFacts {
            backend: Some(backend_idx),
            ..StreamFacts::default()
        };
        // What the client sends while its stream waits for a server is kept and sent first.
        let mut early = Vec::new();
        // Whether a request byte waits to be sent (what a kill while queued looks at).
        let sent = AtomicBool::new(!pending.is_empty());
        let (result, queued, killed_queued) = {
            let gone = std::pin::pin!(watch_client_noting(
                &mut client,
                &mut early,
                QUEUED_CLIENT_BYTES,
                Some(&sent)
            ));
            // Counted in the queue where HAProxy shows it (`qcur`), as HTTP streams are.
            let mut watch = ClientWatch::new(None, gone)
                .in_backend(live)
                .with_kill(kill_signal(&mut killed), &sent);
            let r = connect_server_watched(backend, backend_idx, picker, &view, &mut watch).await;
            (r, watch.queued(), watch.killed_while_queued())
        };
        facts.timers.tw = Some(queued);
        let mut connected = match result {
            Ok(c) => c,
            Err(failed) => {
                facts.termination = failed.termination;
                if killed_queued {
                    // Killed while queued, then out of the queue another way: still `K`.
                    facts.termination.side = Side::Killed;
                }
                facts.server = failed.server;
                facts.retries = failed.retries;
                facts.redispatched_from = failed.redispatched_from;
                facts.timers.tt = Some(start.elapsed());
                let _ = client.shutdown().await;
                return Err(facts);
            }
        };
        let kill = shutdown(connected.server);
        let mut failed = false;
        for bytes in [pending.as_slice(), early.as_slice()] {
            if !failed && !bytes.is_empty() {
                failed = connected.stream.write_all(bytes).await.is_err();
            }
        }
        if failed || killed_queued {
            facts.server = Some(connected.server);
            facts.retries = connected.retries;
            facts.redispatched = connected.redispatched;
            facts.redispatched_from = connected.redispatched_from;
            facts.timers.tc = Some(connected.tc);
            facts.termination = if failed {
                Termination::new(Side::Server, StreamState::Data)
            } else {
                // Killed while queued: as HAProxy, what the client sent goes to the server,
                // whose connection is then reset, and the client's is closed (`K-`).
                #[expect(deprecated, reason = "a zero linger resets at once, it never blocks")]
                let _ = connected.stream.set_linger(Some(Duration::ZERO));
                facts.bytes_in = pending.len() as u64 + early.len() as u64;
                Termination::new(Side::Killed, StreamState::Normal)
            };
            facts.timers.tt = Some(start.elapsed());
            let _ = client.shutdown().await;
            return Err(facts);
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
        Ok((
            forward(client, connected.stream, timeouts),
            linked,
            kill,
            killed,
        ))
    });
    async move {
        // The queue and connect stage's allocation goes once it is done, before forwarding.
        let (mut forwarding, linked, kill, mut killed) = match connecting.await {
            Ok(c) => c,
            Err(facts) => return facts,
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
