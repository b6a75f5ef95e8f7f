//! Full-duplex forwarding between two transports, with half-close propagation, byte counters,
//! side timeouts and the termination state of whoever ended it.
//!
//! Each side has an inactivity timeout (`timeout client` / `timeout server`, or `timeout tunnel`
//! for both once a stream is a tunnel); a side is active when bytes are read from or written to
//! it. Once one direction has finished (half-close), `timeout client-fin` / `server-fin` apply.
//! While idle, a direction holds only a small inline buffer; it switches to a `tune.bufsize`
//! heap buffer while data flows fast and drops it again when the flow slows down.

#[cfg(test)]
mod tests;

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::Notify;

use crate::side::{Side, StreamState, Termination};

/// Bytes a direction reads into its inline buffer while the flow is slow.
pub const SMALL_BUF: usize = 512;
/// Size of the heap buffer a busy direction uses (`tune.bufsize`).
pub const BIG_BUF: usize = crate::h1::DEFAULT_BUFSIZE;

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

struct Shared {
    start: Instant,
    activity: [AtomicU64; 2],
    bytes: [AtomicU64; 2],
    half_closed: AtomicBool,
    notify: Notify,
    timeouts: ForwardTimeouts,
}

impl Shared {
    fn idx(end: End) -> usize {
        match end {
            End::Client => 0,
            End::Server => 1,
        }
    }

    fn touch(&self, end: End) {
        let now = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        if let Some(a) = self.activity.get(Self::idx(end)) {
            a.store(now, Relaxed);
        }
    }

    fn last_activity(&self, end: End) -> Instant {
        let ms = self
            .activity
            .get(Self::idx(end))
            .map_or(0, |a| a.load(Relaxed));
        self.start + Duration::from_millis(ms)
    }

    fn timeout(&self, end: End) -> Option<Duration> {
        let t = &self.timeouts;
        let half = self.half_closed.load(Relaxed);
        match end {
            End::Client if half => t.client_fin.or(t.client),
            End::Client => t.client,
            End::Server if half => t.server_fin.or(t.server),
            End::Server => t.server,
        }
    }

    /// The deadline of side `end`, if it has a timeout.
    fn deadline(&self, end: End) -> Option<Instant> {
        self.timeout(end).map(|t| self.last_activity(end) + t)
    }

    /// Runs `io`, failing when either side has been inactive for its timeout: a stream is cut when
    /// one of its sides is idle for too long, whichever direction is waiting.
    async fn guarded<T, F: Future<Output = std::io::Result<T>>>(
        &self,
        end: End,
        io: F,
    ) -> Result<T, Termination> {
        tokio::pin!(io);
        loop {
            let first = [End::Client, End::Server]
                .into_iter()
                .filter_map(|e| self.deadline(e).map(|d| (d, e)))
                .min_by_key(|(d, _)| *d);
            let sleep = async {
                match first {
                    Some((d, _)) => tokio::time::sleep_until(d.into()).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                r = &mut io => return r.map_err(|_| blame(end, false)),
                () = sleep => {
                    let now = Instant::now();
                    for e in [End::Client, End::Server] {
                        if self.deadline(e).is_some_and(|d| d <= now) {
                            return Err(blame(e, true));
                        }
                    }
                }
                () = self.notify.notified() => {}
            }
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

/// Copies bytes both ways until both sides have closed, one fails or one times out.
///
/// A FIN from one side is propagated as a write shutdown to the other, and the other direction
/// keeps flowing (half-close). On an error or timeout the stream is cut at once.
pub async fn forward<C, S>(client: C, server: S, timeouts: ForwardTimeouts) -> ForwardOutcome
where
    C: AsyncRead + AsyncWrite + Unpin,
    S: AsyncRead + AsyncWrite + Unpin,
{
    let shared = Shared {
        start: Instant::now(),
        activity: [AtomicU64::new(0), AtomicU64::new(0)],
        bytes: [AtomicU64::new(0), AtomicU64::new(0)],
        half_closed: AtomicBool::new(false),
        notify: Notify::new(),
        timeouts,
    };
    let (cr, cw) = tokio::io::split(client);
    let (sr, sw) = tokio::io::split(server);
    let up = pump(cr, sw, End::Client, End::Server, &shared);
    let down = pump(sr, cw, End::Server, End::Client, &shared);
    tokio::pin!(up, down);
    let (mut up_done, mut down_done) = (false, false);
    let mut termination = Termination::NORMAL;
    while !(up_done && down_done) {
        let r = tokio::select! {
            r = &mut up, if !up_done => { up_done = true; r }
            r = &mut down, if !down_done => { down_done = true; r }
        };
        if let Err(t) = r {
            termination = t;
            break;
        }
    }
    ForwardOutcome {
        client_to_server: shared.bytes[0].load(Relaxed),
        server_to_client: shared.bytes[1].load(Relaxed),
        termination,
    }
}

async fn pump<R, W>(mut r: R, mut w: W, from: End, to: End, sh: &Shared) -> Result<(), Termination>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut small = [0u8; SMALL_BUF];
    let mut big: Option<Vec<u8>> = None;
    let counter = sh
        .bytes
        .get(Shared::idx(from))
        .ok_or(Termination::new(Side::Internal, StreamState::Data))?;
    loop {
        let buf: &mut [u8] = match big.as_mut() {
            Some(b) => b,
            None => &mut small,
        };
        let cap = buf.len();
        let n = sh.guarded(from, r.read(buf)).await?;
        if n == 0 {
            sh.guarded(to, w.shutdown()).await?;
            sh.half_closed.store(true, Relaxed);
            sh.notify.notify_waiters();
            return Ok(());
        }
        sh.touch(from);
        let data = buf.get(..n).unwrap_or_default();
        sh.guarded(to, w.write_all(data)).await?;
        sh.touch(to);
        counter.fetch_add(n as u64, Relaxed);
        // Grow while the flow fills the buffer, shrink back when it slows down.
        if big.is_none() && n == cap {
            big = Some(vec![0u8; BIG_BUF]);
        } else if big.is_some() && n < cap / 4 {
            big = None;
        }
    }
}
