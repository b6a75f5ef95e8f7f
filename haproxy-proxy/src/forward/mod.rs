//! Full-duplex forwarding between two transports, with half-close propagation, byte counters,
//! side timeouts and the termination state of whoever ended it.
//!
//! Each side has an inactivity timeout (`timeout client` / `timeout server`, or `timeout tunnel`
//! for both once a stream is a tunnel); a side is active when bytes are read from or written to
//! it. Once one direction has finished (half-close), `timeout client-fin` / `server-fin` apply.
//!
//! Both directions are driven by one future. Bytes are read into a per-thread scratch buffer and
//! written on at once; only what the receiver does not take yet is copied into a buffer of the
//! direction, freed again as soon as it drains, so an idle stream holds no buffer at all. The
//! inactivity timer is armed lazily: activity only records a time stamp, and the timer is moved
//! when it fires early (or when a half-close shortens the timeouts), not on every read or write.

mod more;
mod scratch;
#[cfg(test)]
mod tests;

pub use more::WriteMore;
pub(crate) use more::{Hinted, write_all_more};
pub use scratch::READ_CHUNK;
pub(crate) use scratch::{read_append, with_scratch};

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

use crate::side::{Side, StreamState, Termination};

/// Reads (each with its write) one direction may do in a row before letting the other direction
/// and the other tasks run.
pub const MAX_READS_PER_POLL: usize = 16;

/// The side timeouts that govern a forwarded stream.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ForwardTimeouts {
    /// Client-side inactivity (`timeout client`, or `timeout tunnel`).
    pub client: Option<Duration>,
    /// Server-side inactivity (`timeout server`, or `timeout tunnel`).
    pub server: Option<Duration>,
    /// Client-side inactivity once half-closed (`timeout client-fin`).
    pub client_fin: Option<Duration>,
    /// Server-side inactivity once half-closed (`timeout server-fin`).
    pub server_fin: Option<Duration>,
}

impl ForwardTimeouts {
    /// The timeouts of a tunnel: `timeout tunnel` replaces client and server when set.
    pub fn tunnel(self, tunnel: Option<Duration>) -> Self {
        match tunnel {
            Some(t) => ForwardTimeouts {
                client: Some(t),
                server: Some(t),
                ..self
            },
            None => self,
        }
    }
}

/// What a forwarded stream did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ForwardOutcome {
    /// Bytes copied from the client to the server.
    pub client_to_server: u64,
    /// Bytes copied from the server to the client.
    pub server_to_client: u64,
    /// Who ended the stream (`--` when both sides closed normally).
    pub termination: Termination,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    Client,
    Server,
}

impl End {
    fn idx(self) -> usize {
        match self {
            End::Client => 0,
            End::Server => 1,
        }
    }
}

fn blame(end: End, timeout: bool) -> Termination {
    let side = match (end, timeout) {
        (End::Client, false) => Side::Client,
        (End::Client, true) => Side::ClientTimeout,
        (End::Server, false) => Side::Server,
        (End::Server, true) => Side::ServerTimeout,
    };
    Termination::new(side, StreamState::Data)
}

/// One direction of the stream.
#[derive(Debug, Default)]
struct Dir {
    /// Bytes read but not yet taken by the receiver; empty (no allocation) most of the time.
    /// Never more than one read ([`READ_CHUNK`]), so `pos` fits in 32 bits.
    pending: Box<[u8]>,
    /// How much of `pending` was written.
    pos: u32,
    /// The reading side sent its FIN.
    eof: bool,
    /// The FIN was passed on (the direction is finished).
    done: bool,
    /// Bytes written to the receiver.
    bytes: u64,
}

/// Writes `data` while the receiver takes it; returns how much was written, or the failing end.
fn write_some<W: AsyncWrite + Unpin>(
    cx: &mut Context<'_>,
    w: &mut W,
    data: &[u8],
    to: End,
    active: &mut [bool; 2],
) -> Result<usize, End> {
    let mut off = 0;
    while let Some(rest) = data.get(off..).filter(|r| !r.is_empty()) {
        match Pin::new(&mut *w).poll_write(cx, rest) {
            Poll::Ready(Ok(0) | Err(_)) => return Err(to),
            Poll::Ready(Ok(n)) => {
                off += n;
                if let Some(a) = active.get_mut(to.idx()) {
                    *a = true;
                }
            }
            Poll::Pending => break,
        }
    }
    Ok(off)
}

impl Dir {
    /// Moves bytes from `r` to `w` until one of them would block; `Ready(Ok)` once the FIN has
    /// been passed on, `Ready(Err(end))` when `end` failed. Sets `active` for each side that moved.
    fn poll_move<R, W>(
        &mut self,
        cx: &mut Context<'_>,
        r: &mut R,
        w: &mut W,
        (from, to): (End, End),
        active: &mut [bool; 2],
    ) -> Poll<Result<(), End>>
    where
        R: AsyncRead + Unpin,
        W: AsyncWrite + Unpin,
    {
        for _ in 0..MAX_READS_PER_POLL {
            if !self.pending.is_empty() {
                let rest = self.pending.get(self.pos as usize..).unwrap_or_default();
                let n = write_some(cx, w, rest, to, active)?;
                if n < rest.len() {
                    // `n` is below the one read `pending` holds.
                    self.pos += n as u32;
                    self.bytes += n as u64;
                    return Poll::Pending;
                }
                self.bytes += n as u64;
                // Drained: an idle direction holds no buffer.
                self.pending = Box::default();
                self.pos = 0;
            }
            if self.eof {
                return match Pin::new(&mut *w).poll_shutdown(cx) {
                    Poll::Ready(Ok(())) => {
                        self.done = true;
                        Poll::Ready(Ok(()))
                    }
                    Poll::Ready(Err(_)) => Poll::Ready(Err(to)),
                    Poll::Pending => Poll::Pending,
                };
            }
            let step =
                with_scratch(|scratch| self.read_and_write(cx, r, w, scratch, (from, to), active));
            match step {
                Poll::Ready(Ok(())) => {}
                other => return other,
            }
        }
        // Busy: let the rest run, then come back.
        cx.waker().wake_by_ref();
        Poll::Pending
    }

    /// One read into `buf`, written on at once; what the receiver does not take is kept.
    fn read_and_write<R, W>(
        &mut self,
        cx: &mut Context<'_>,
        r: &mut R,
        w: &mut W,
        buf: &mut [u8],
        (from, to): (End, End),
        active: &mut [bool; 2],
    ) -> Poll<Result<(), End>>
    where
        R: AsyncRead + Unpin,
        W: AsyncWrite + Unpin,
    {
        let mut rb = ReadBuf::new(buf);
        match Pin::new(&mut *r).poll_read(cx, &mut rb) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Err(_)) => Poll::Ready(Err(from)),
            Poll::Ready(Ok(())) => {
                let data = rb.filled();
                if data.is_empty() {
                    self.eof = true;
                    return Poll::Ready(Ok(()));
                }
                if let Some(a) = active.get_mut(from.idx()) {
                    *a = true;
                }
                let n = write_some(cx, w, data, to, active)?;
                self.bytes += n as u64;
                if let Some(rest) = data.get(n..).filter(|r| !r.is_empty()) {
                    self.pending = rest.into();
                    self.pos = 0;
                }
                Poll::Ready(Ok(()))
            }
        }
    }
}

/// A timeout kept in nanoseconds, [`NO_TIMEOUT`] when unset: half the size of an
/// `Option<Duration>`, and every forwarded stream keeps four of them.
type Nanos = u64;

/// The [`Nanos`] of an unset timeout (a timeout this long, 584 years, never strikes either).
const NO_TIMEOUT: Nanos = Nanos::MAX;

fn to_nanos(t: Option<Duration>) -> Nanos {
    t.map_or(NO_TIMEOUT, |d| {
        Nanos::try_from(d.as_nanos()).unwrap_or(NO_TIMEOUT)
    })
}

fn from_nanos(n: Nanos) -> Option<Duration> {
    (n != NO_TIMEOUT).then(|| Duration::from_nanos(n))
}

/// The inactivity deadlines of both sides.
#[derive(Debug)]
struct Clock {
    /// `timeout client`, `server`, `client-fin`, `server-fin`.
    timeouts: [Nanos; 4],
    last: [Instant; 2],
    half_closed: bool,
}

impl Clock {
    fn new(t: ForwardTimeouts, start: Instant) -> Self {
        Clock {
            timeouts: [t.client, t.server, t.client_fin, t.server_fin].map(to_nanos),
            last: [start, start],
            half_closed: false,
        }
    }

    fn timeout(&self, end: End) -> Option<Duration> {
        let [client, server, client_fin, server_fin] = self.timeouts;
        let (side, fin) = match end {
            End::Client => (client, client_fin),
            End::Server => (server, server_fin),
        };
        match from_nanos(fin).filter(|_| self.half_closed) {
            Some(t) => Some(t),
            None => from_nanos(side),
        }
    }

    fn deadline(&self, end: End) -> Option<Instant> {
        let last = self.last.get(end.idx()).copied()?;
        self.timeout(end).map(|t| last + t)
    }

    /// The earliest deadline of the two sides.
    fn next(&self) -> Option<Instant> {
        [End::Client, End::Server]
            .into_iter()
            .filter_map(|e| self.deadline(e))
            .min()
    }

    /// The side whose deadline has passed at `now`, client first.
    fn expired(&self, now: Instant) -> Option<End> {
        [End::Client, End::Server]
            .into_iter()
            .find(|e| self.deadline(*e).is_some_and(|d| d <= now))
    }
}

/// Copies bytes both ways until both sides have closed, one fails or one times out.
///
/// A FIN from one side is propagated as a write shutdown to the other, and the other direction
/// keeps flowing (half-close). On an error or timeout the stream is cut at once.
///
/// The returned [`Forward`] is a plain struct, not an async fn's state: it holds both sides, the
/// two directions and the clock once each, which is all an idle forwarded stream keeps.
pub fn forward<C, S>(client: C, server: S, timeouts: ForwardTimeouts) -> Forward<C, S>
where
    C: AsyncRead + AsyncWrite + Unpin,
    S: AsyncRead + AsyncWrite + Unpin,
{
    let start = Instant::now();
    Forward {
        client,
        server,
        clock: Clock::new(timeouts, start),
        up: Dir::default(),
        down: Dir::default(),
        timer: None,
    }
}

/// A stream being forwarded both ways (see [`forward`]); resolves with its [`ForwardOutcome`].
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct Forward<C, S> {
    client: C,
    server: S,
    clock: Clock,
    /// Client to server.
    up: Dir,
    /// Server to client.
    down: Dir,
    /// Armed at the first deadline; moved only when it fires early or a half-close shortens it.
    timer: Option<Pin<Box<Sleep>>>,
}

impl<C, S> Forward<C, S>
where
    C: AsyncRead + AsyncWrite + Unpin,
    S: AsyncRead + AsyncWrite + Unpin,
{
    /// Moves what can be moved both ways; `Ready` with the termination once the stream is over.
    fn poll_stream(&mut self, cx: &mut Context<'_>) -> Poll<Termination> {
        let mut active = [false; 2];
        let clock = &mut self.clock;
        let was_half = clock.half_closed;
        for from in [End::Client, End::Server] {
            let step = match from {
                End::Client if !self.up.done => self.up.poll_move(
                    cx,
                    &mut self.client,
                    &mut self.server,
                    (End::Client, End::Server),
                    &mut active,
                ),
                End::Server if !self.down.done => self.down.poll_move(
                    cx,
                    &mut self.server,
                    &mut self.client,
                    (End::Server, End::Client),
                    &mut active,
                ),
                _ => continue,
            };
            match step {
                Poll::Ready(Ok(())) => clock.half_closed = true,
                Poll::Ready(Err(end)) => return Poll::Ready(blame(end, false)),
                Poll::Pending => {}
            }
        }
        if self.up.done && self.down.done {
            return Poll::Ready(Termination::NORMAL);
        }
        if active.contains(&true) {
            let now = Instant::now();
            for (last, moved) in clock.last.iter_mut().zip(active) {
                if moved {
                    *last = now;
                }
            }
        }
        let Some(next) = clock.next() else {
            return Poll::Pending;
        };
        let t = self
            .timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(next.into())));
        if clock.half_closed && !was_half {
            t.as_mut().reset(next.into());
        }
        while t.as_mut().poll(cx).is_ready() {
            let now = Instant::now();
            if let Some(end) = clock.expired(now) {
                return Poll::Ready(blame(end, true));
            }
            // Fired early: activity moved the deadline on.
            let Some(next) = clock.next() else {
                return Poll::Pending;
            };
            t.as_mut().reset(next.into());
        }
        Poll::Pending
    }
}

impl<C, S> Forward<C, S> {
    /// Bytes copied so far: (client to server, server to client). What a stream cut from outside
    /// had moved.
    pub fn moved(&self) -> (u64, u64) {
        (self.up.bytes, self.down.bytes)
    }
}

impl<C, S> Future for Forward<C, S>
where
    C: AsyncRead + AsyncWrite + Unpin,
    S: AsyncRead + AsyncWrite + Unpin,
{
    type Output = ForwardOutcome;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<ForwardOutcome> {
        let this = self.get_mut();
        this.poll_stream(cx).map(|termination| ForwardOutcome {
            client_to_server: this.up.bytes,
            server_to_client: this.down.bytes,
            termination,
        })
    }
}
