//! The live streams, for `show sess`, `shutdown session` and `shutdown sessions server`, kept
//! without a lock (DESIGN §5.3: no request-path locks).
//!
//! Each stream holds a slot (an RAII [`SessionGuard`]) while it runs. Slots live in buckets that
//! are allocated once and reused: a thread takes [`SLOTS_PER_GRAB`] slots at a time from the
//! table and keeps the free ones in a thread-local list, so opening and closing a stream touches
//! only its own slot and its thread's list. Each slot is a set of atomics published with a
//! seqlock (the version is odd while the owner rewrites the slot; readers retry), so `show sess`
//! and the `shutdown` commands walk every slot while streams come and go, blocking nobody.
//!
//! A kill names the stream id it aims at: a kill that reaches a slot after its stream ended never
//! ends the stream that reuses the slot.

use std::cell::RefCell;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, AtomicU64, AtomicUsize, fence};
use std::sync::{Arc, OnceLock, Weak};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

/// How many slots a thread takes from the table at once (also the size of the first bucket).
pub const SLOTS_PER_GRAB: usize = 64;

/// How many buckets of slots a table can grow to; bucket `i` holds `SLOTS_PER_GRAB << i` slots.
const BUCKETS: usize = 16;

/// Most streams listed at once (4,194,240): a stream started while this many are live runs
/// unlisted (`show sess` does not show it and `shutdown session` cannot reach it).
pub const MAX_LIVE_SESSIONS: usize = SLOTS_PER_GRAB * ((1 << BUCKETS) - 1);

/// Most streams `show sess` lists in one reply (the rest are counted, not listed).
pub const MAX_SHOWN_SESSIONS: usize = 100_000;

/// Most times a reader re-reads a slot its owner is rewriting before it skips the slot (the
/// stream is starting or ending at that very moment).
pub const MAX_READ_RETRIES: usize = 64;

/// No backend or server chosen yet.
const NONE: u32 = u32::MAX;

/// A guard that holds no slot (the table is full, or the thread is exiting).
const NO_SLOT: u32 = u32::MAX;

/// Address families as stored in a slot.
const FAMILY_V4: u32 = 4;
const FAMILY_V6: u32 = 6;

/// Table ids, so that a task-local route note reaches only its own table.
static NEXT_TABLE: AtomicU64 = AtomicU64::new(1);

/// One slot: the facts `show sess` prints about the stream that owns it, as atomics.
///
/// Only the stream owning the slot writes it; [`LiveSession::route`] may be called at any time
/// by the owner, the rest is written under the slot's seqlock when the stream starts and ends.
#[derive(Debug)]
pub struct LiveSession {
    /// Seqlock version: odd while the owner rewrites the slot.
    seq: AtomicU64,
    /// The stream id; 0 while the slot is free.
    id: AtomicU64,
    frontend: AtomicU32,
    backend: AtomicU32,
    server: AtomicU32,
    /// Start, in nanoseconds since the table's epoch.
    started: AtomicU64,
    /// The client address: IP as two halves of a 128-bit value, port and family, scope id.
    ip_hi: AtomicU64,
    ip_lo: AtomicU64,
    port_family: AtomicU32,
    scope: AtomicU32,
    /// The highest stream id a kill was aimed at in this slot.
    kill: AtomicU64,
    /// Wakes the owner's [`LiveSession::killed`] after a kill.
    wake: Notify,
    /// Freed by a thread that exited: any thread may take it back.
    abandoned: AtomicBool,
}

impl LiveSession {
    fn new() -> Self {
        LiveSession {
            seq: AtomicU64::new(0),
            id: AtomicU64::new(0),
            frontend: AtomicU32::new(NONE),
            backend: AtomicU32::new(NONE),
            server: AtomicU32::new(NONE),
            started: AtomicU64::new(0),
            ip_hi: AtomicU64::new(0),
            ip_lo: AtomicU64::new(0),
            port_family: AtomicU32::new(0),
            scope: AtomicU32::new(0),
            kill: AtomicU64::new(0),
            wake: Notify::new(),
            abandoned: AtomicBool::new(false),
        }
    }

    /// The id of the stream owning the slot (0 for a stream that runs unlisted).
    pub fn id(&self) -> u64 {
        self.id.load(Relaxed)
    }

    /// Records the backend and, once connected, the server the stream uses.
    pub fn route(&self, backend: usize, server: Option<usize>) {
        let code = |v: usize| u32::try_from(v).unwrap_or(NONE);
        self.backend.store(code(backend), Relaxed);
        self.server.store(server.map_or(NONE, code), Relaxed);
    }

    /// The backend index, once chosen.
    pub fn backend(&self) -> Option<usize> {
        decode(self.backend.load(Relaxed))
    }

    /// The server index, once connected.
    pub fn server(&self) -> Option<usize> {
        decode(self.server.load(Relaxed))
    }

    /// Resolves once a kill aimed at this stream arrived (also if it arrived before the call).
    /// Never resolves for a stream that runs unlisted.
    pub async fn killed(&self) {
        self.killed_when(|| true).await;
    }

    /// Whether a kill aimed at this stream arrived.
    pub fn is_killed(&self) -> bool {
        let id = self.id();
        id != 0 && self.kill.load(Acquire) == id
    }

    /// Resolves once the stream is killed and `ready()` holds (checked again at each kill and
    /// each [`SessionGuard::set_phase`] that leaves [`KillPhase::Queued`]).
    async fn killed_when(&self, ready: impl Fn() -> bool) {
        loop {
            let notified = self.wake.notified();
            let mut notified = std::pin::pin!(notified);
            // Registered before the check, so a kill between the check and the wait still wakes.
            notified.as_mut().enable();
            if self.is_killed() && ready() {
                return;
            }
            notified.await;
        }
    }

    /// Aims a kill at stream `id`: only that stream reacts, not a later owner of the slot.
    pub(crate) fn aim_kill(&self, id: u64) {
        // Ids only grow, so a late kill aimed at an ended stream cannot hide a newer one.
        self.kill.fetch_max(id, Release);
        self.wake.notify_waiters();
    }

    /// Rewrites the slot under its seqlock (owner only).
    pub(crate) fn write(&self, body: impl FnOnce(&Self)) {
        let v = self.seq.load(Relaxed);
        self.seq.store(v.wrapping_add(1), Relaxed);
        fence(Release);
        body(self);
        self.seq.store(v.wrapping_add(2), Release);
    }

    /// Publishes a new stream in the slot (owner only).
    fn publish(&self, id: u64, frontend: usize, src: SocketAddr, started: u64) {
        let (hi, lo, port_family, scope) = encode_addr(src);
        self.write(|s| {
            s.frontend
                .store(u32::try_from(frontend).unwrap_or(NONE), Relaxed);
            s.backend.store(NONE, Relaxed);
            s.server.store(NONE, Relaxed);
            s.started.store(started, Relaxed);
            s.ip_hi.store(hi, Relaxed);
            s.ip_lo.store(lo, Relaxed);
            s.port_family.store(port_family, Relaxed);
            s.scope.store(scope, Relaxed);
            s.id.store(id, Relaxed);
        });
    }

    /// Marks the slot free (owner only).
    fn clear(&self) {
        self.write(|s| s.id.store(0, Relaxed));
    }

    /// A consistent copy of the slot, or `None` when it is free or kept changing.
    fn read(&self) -> Option<Snapshot> {
        for _ in 0..MAX_READ_RETRIES {
            let before = self.seq.load(Acquire);
            if before & 1 == 1 {
                std::hint::spin_loop();
                continue;
            }
            let snap = Snapshot {
                id: self.id.load(Relaxed),
                frontend: self.frontend.load(Relaxed),
                backend: decode(self.backend.load(Relaxed)),
                server: decode(self.server.load(Relaxed)),
                started: self.started.load(Relaxed),
                addr: (
                    self.ip_hi.load(Relaxed),
                    self.ip_lo.load(Relaxed),
                    self.port_family.load(Relaxed),
                    self.scope.load(Relaxed),
                ),
            };
            fence(Acquire);
            if self.seq.load(Relaxed) == before {
                return (snap.id != 0).then_some(snap);
            }
        }
        None
    }
}

/// What a reader copied out of a slot under the seqlock.
struct Snapshot {
    id: u64,
    frontend: u32,
    backend: Option<usize>,
    server: Option<usize>,
    started: u64,
    addr: (u64, u64, u32, u32),
}

fn decode(v: u32) -> Option<usize> {
    Some(v).filter(|v| *v != NONE).map(|v| v as usize)
}

fn encode_addr(src: SocketAddr) -> (u64, u64, u32, u32) {
    match src {
        SocketAddr::V4(a) => (
            0,
            u64::from(u32::from(*a.ip())),
            u32::from(a.port()) | FAMILY_V4 << 16,
            0,
        ),
        SocketAddr::V6(a) => {
            let ip = u128::from(*a.ip());
            (
                (ip >> 64) as u64,
                ip as u64,
                u32::from(a.port()) | FAMILY_V6 << 16,
                a.scope_id(),
            )
        }
    }
}

fn decode_addr((hi, lo, port_family, scope): (u64, u64, u32, u32)) -> SocketAddr {
    let port = (port_family & 0xffff) as u16;
    if port_family >> 16 == FAMILY_V6 {
        let ip = Ipv6Addr::from(u128::from(hi) << 64 | u128::from(lo));
        SocketAddr::V6(SocketAddrV6::new(ip, port, 0, scope))
    } else {
        let ip = Ipv4Addr::from(lo as u32);
        SocketAddr::V4(SocketAddrV4::new(ip, port))
    }
}

/// One live stream as `show sess` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    /// The stream's id (`show sess` prints it in hex; `shutdown session` takes it).
    pub id: u64,
    /// The frontend's index in the registry.
    pub frontend: usize,
    /// The backend's index, once chosen.
    pub backend: Option<usize>,
    /// The server's index, once connected.
    pub server: Option<usize>,
    /// The client's address.
    pub src: SocketAddr,
    /// How long the stream has been running.
    pub age: Duration,
}

impl SessionInfo {
    /// Whether the client address is IPv4 (`proto=tcpv4`).
    pub fn is_ipv4(&self) -> bool {
        matches!(self.src.ip(), IpAddr::V4(_))
    }
}

/// The slots of one table.
struct Inner {
    /// This table's id (task-local route notes carry it).
    uid: u64,
    /// Bucket `i` holds `SLOTS_PER_GRAB << i` slots, allocated when a thread first grabs one.
    buckets: [OnceLock<Box<[LiveSession]>>; BUCKETS],
    /// Slots handed to threads so far (a multiple of [`SLOTS_PER_GRAB`]).
    grabbed: AtomicUsize,
    /// Most slots handed out (a multiple of [`SLOTS_PER_GRAB`], at most [`MAX_LIVE_SESSIONS`]).
    limit: usize,
    /// Slots freed by threads that exited, waiting to be taken back.
    abandoned: AtomicUsize,
    /// The next stream id.
    next: AtomicU64,
    /// Start times are kept relative to this.
    epoch: Instant,
    /// Where streams that got no slot record their route: never listed, never killed.
    overflow: LiveSession,
}

impl Inner {
    /// The slot numbered `n`, once its bucket exists.
    fn slot(&self, n: u32) -> Option<&LiveSession> {
        let n = n as usize;
        let k = n / SLOTS_PER_GRAB + 1;
        let bucket = (usize::BITS - 1 - k.leading_zeros()) as usize;
        let first = SLOTS_PER_GRAB * ((1usize << bucket) - 1);
        self.buckets.get(bucket)?.get()?.get(n - first)
    }

    /// Every slot of every allocated bucket.
    fn slots(&self) -> impl Iterator<Item = &LiveSession> {
        self.buckets
            .iter()
            .filter_map(OnceLock::get)
            .flat_map(|b| b.iter())
    }

    /// Adds free slots to `free`: slots abandoned by exited threads first, else a fresh range.
    fn refill(&self, free: &mut Vec<u32>) {
        if self.abandoned.load(Acquire) > 0 {
            for (n, slot) in self.slots_numbered() {
                if free.len() >= SLOTS_PER_GRAB {
                    break;
                }
                if slot.abandoned.load(Relaxed)
                    && slot
                        .abandoned
                        .compare_exchange(true, false, Acquire, Relaxed)
                        .is_ok()
                {
                    self.abandoned.fetch_sub(1, Relaxed);
                    free.push(n);
                }
            }
            if !free.is_empty() {
                return;
            }
        }
        let Ok(start) = self.grabbed.fetch_update(Relaxed, Relaxed, |g| {
            g.checked_add(SLOTS_PER_GRAB)
                .filter(|end| *end <= self.limit)
        }) else {
            return;
        };
        let k = start / SLOTS_PER_GRAB + 1;
        let bucket = (usize::BITS - 1 - k.leading_zeros()) as usize;
        if let Some(b) = self.buckets.get(bucket) {
            b.get_or_init(|| {
                (0..SLOTS_PER_GRAB << bucket)
                    .map(|_| LiveSession::new())
                    .collect()
            });
        }
        // Reversed, so the thread hands out its lowest slot first.
        free.extend(
            (start..start + SLOTS_PER_GRAB)
                .rev()
                .filter_map(|n| u32::try_from(n).ok()),
        );
    }

    /// Every allocated slot with its number.
    fn slots_numbered(&self) -> impl Iterator<Item = (u32, &LiveSession)> {
        self.buckets
            .iter()
            .enumerate()
            .filter_map(|(i, b)| b.get().map(|b| (i, b)))
            .flat_map(|(i, b)| {
                let first = SLOTS_PER_GRAB * ((1usize << i) - 1);
                b.iter()
                    .enumerate()
                    .filter_map(move |(j, s)| u32::try_from(first + j).ok().map(|n| (n, s)))
            })
    }

    /// Hands a freed slot to whoever may take it next.
    fn abandon(&self, n: u32) {
        if let Some(slot) = self.slot(n) {
            slot.abandoned.store(true, Release);
            self.abandoned.fetch_add(1, Release);
        }
    }
}

/// One thread's free slots of one table.
struct LocalFree {
    table: Weak<Inner>,
    free: Vec<u32>,
}

/// One thread's free slots, per table.
struct LocalLists(Vec<LocalFree>);

impl LocalLists {
    fn for_table(&mut self, inner: &Arc<Inner>) -> Option<&mut LocalFree> {
        let at = match self
            .0
            .iter()
            .position(|l| std::ptr::eq(l.table.as_ptr(), Arc::as_ptr(inner)))
        {
            Some(at) => at,
            None => {
                // A new table on this thread: forget the lists of tables that are gone.
                self.0.retain(|l| l.table.strong_count() > 0);
                self.0.push(LocalFree {
                    table: Arc::downgrade(inner),
                    free: Vec::new(),
                });
                self.0.len() - 1
            }
        };
        self.0.get_mut(at)
    }
}

impl Drop for LocalLists {
    fn drop(&mut self) {
        // The thread exits: its free slots go back to the table for other threads.
        for list in &self.0 {
            if let Some(inner) = list.table.upgrade() {
                for n in &list.free {
                    inner.abandon(*n);
                }
            }
        }
    }
}

thread_local! {
    static FREE: RefCell<LocalLists> = const { RefCell::new(LocalLists(Vec::new())) };
}

/// Every live stream, in per-thread slots.
pub struct SessionTable {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for SessionTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionTable")
            .field("uid", &self.inner.uid)
            .field("slots", &self.inner.grabbed.load(Relaxed))
            .field("next", &self.inner.next.load(Relaxed))
            .finish_non_exhaustive()
    }
}

impl Default for SessionTable {
    fn default() -> Self {
        SessionTable::with_limit(MAX_LIVE_SESSIONS)
    }
}

impl SessionTable {
    /// A table listing at most `limit` live streams (rounded up to a multiple of
    /// [`SLOTS_PER_GRAB`], at most [`MAX_LIVE_SESSIONS`]); streams past it run unlisted.
    pub fn with_limit(limit: usize) -> Self {
        let limit = limit
            .min(MAX_LIVE_SESSIONS)
            .div_ceil(SLOTS_PER_GRAB)
            .saturating_mul(SLOTS_PER_GRAB);
        SessionTable {
            inner: Arc::new(Inner {
                uid: NEXT_TABLE.fetch_add(1, Relaxed),
                buckets: std::array::from_fn(|_| OnceLock::new()),
                grabbed: AtomicUsize::new(0),
                limit,
                abandoned: AtomicUsize::new(0),
                next: AtomicU64::new(1),
                epoch: Instant::now(),
                overflow: LiveSession::new(),
            }),
        }
    }

    /// Registers a stream of frontend `frontend` from `src`; it is listed until the guard drops.
    ///
    /// Takes a slot from the thread's free list (allocating only when the thread has more live
    /// streams than ever before); past the table's limit the stream runs unlisted.
    pub fn open(&self, frontend: usize, src: SocketAddr) -> SessionGuard<'_> {
        let inner = &self.inner;
        let id = inner.next.fetch_add(1, Relaxed);
        let slot = FREE
            .try_with(|lists| {
                let mut lists = lists.try_borrow_mut().ok()?;
                let list = lists.for_table(inner)?;
                if list.free.is_empty() {
                    inner.refill(&mut list.free);
                }
                list.free.pop()
            })
            .ok()
            .flatten()
            .unwrap_or(NO_SLOT);
        if let Some(s) = inner.slot(slot) {
            let started = u64::try_from(inner.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX);
            s.publish(id, frontend, src, started);
        }
        SessionGuard {
            table: self,
            slot,
            phase: AtomicU8::new(PHASE_OTHER),
        }
    }

    /// The live streams, oldest first (at most [`MAX_SHOWN_SESSIONS`]).
    pub fn list(&self) -> Vec<SessionInfo> {
        let now = u64::try_from(self.inner.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX);
        let mut all: Vec<SessionInfo> = self
            .inner
            .slots()
            .filter_map(|s| {
                let snap = s.read()?;
                Some(SessionInfo {
                    id: snap.id,
                    frontend: snap.frontend as usize,
                    backend: snap.backend,
                    server: snap.server,
                    src: decode_addr(snap.addr),
                    age: Duration::from_nanos(now.saturating_sub(snap.started)),
                })
            })
            .take(MAX_SHOWN_SESSIONS)
            .collect();
        all.sort_unstable_by_key(|l| l.id);
        all
    }

    /// Ends stream `id`; false when no live stream has that id.
    pub fn kill(&self, id: u64) -> bool {
        if id == 0 {
            return false;
        }
        let found = self
            .inner
            .slots()
            .find(|s| s.read().is_some_and(|snap| snap.id == id));
        found.inspect(|s| s.aim_kill(id)).is_some()
    }

    /// Ends every live stream (`hard-stop-after`); returns how many.
    pub fn kill_all(&self) -> usize {
        let mut n = 0;
        for s in self.inner.slots() {
            if let Some(snap) = s.read() {
                s.aim_kill(snap.id);
                n += 1;
            }
        }
        n
    }

    /// Ends every stream connected to server `(backend, server)`; returns how many.
    pub fn kill_server(&self, backend: usize, server: usize) -> usize {
        let mut n = 0;
        for s in self.inner.slots() {
            if let Some(snap) = s.read()
                && snap.backend == Some(backend)
                && snap.server == Some(server)
            {
                s.aim_kill(snap.id);
                n += 1;
            }
        }
        n
    }

    /// How many streams are live.
    pub fn len(&self) -> usize {
        self.inner.slots().filter(|s| s.read().is_some()).count()
    }

    /// Whether no stream is live.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many slots the threads took from the table so far (live or free).
    pub fn slot_count(&self) -> usize {
        self.inner.grabbed.load(Relaxed)
    }

    /// Records the backend and server of the stream the current task serves ([`serve_as`]), if
    /// it is a stream of this table.
    pub fn note_route(&self, backend: usize, server: Option<usize>) {
        let Ok(current) = CURRENT.try_with(|c| *c) else {
            return;
        };
        if current.table == self.inner.uid
            && let Some(s) = self.inner.slot(current.slot)
        {
            s.route(backend, server);
        }
    }
}

/// A stream's place in the [`SessionTable`]; dropping it frees the slot for the thread's next
/// stream.
#[derive(Debug)]
pub struct SessionGuard<'a> {
    table: &'a SessionTable,
    slot: u32,
    /// Where the stream stands, for what a kill does to it ([`KillPhase`]); written by the
    /// stream only.
    phase: AtomicU8,
}

/// Where a stream stands when it is killed (`shutdown session`, `hard-stop-after`), which decides
/// what HAProxy 2.6 does: a stream waiting for its response head gets a 502 (`KH`), one whose
/// response has begun is closed (`KD`), a queued one is left to its queue wait (which decides,
/// see [`crate::tcp::ClientWatch::with_kill`]), any other (connecting, request body in flight)
/// is closed without a response (`K-`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KillPhase {
    /// The request is on its way, or not yet sent.
    Other,
    /// Waiting in a queue, or killed there and on its way to the server: the queue wait handles
    /// the kill, and [`SessionGuard::killed_outside_queue`] waits until the phase changes.
    Queued,
    /// The whole request went to the server; its response head has not come. Holds whether
    /// the client connection was to stay open after the response.
    AwaitingResponse(bool),
    /// The response head went to the client.
    Responding,
}

const PHASE_OTHER: u8 = 0;
const PHASE_AWAITING_CLOSE: u8 = 1;
const PHASE_AWAITING_KEEP: u8 = 2;
const PHASE_RESPONDING: u8 = 3;
const PHASE_QUEUED: u8 = 4;

impl SessionGuard<'_> {
    /// Records the stream's backend and, once connected, its server in its slot (nothing for a
    /// stream that runs unlisted); what [`SessionTable::note_route`] does for a task run with
    /// [`serve_as`], without the task-local scope.
    pub fn route(&self, backend: usize, server: Option<usize>) {
        if let Some(s) = self.table.inner.slot(self.slot) {
            s.route(backend, server);
        }
    }

    /// Records where the stream stands (see [`KillPhase`]).
    pub fn set_phase(&self, phase: KillPhase) {
        let code = match phase {
            KillPhase::Other => PHASE_OTHER,
            KillPhase::AwaitingResponse(false) => PHASE_AWAITING_CLOSE,
            KillPhase::AwaitingResponse(true) => PHASE_AWAITING_KEEP,
            KillPhase::Responding => PHASE_RESPONDING,
            KillPhase::Queued => PHASE_QUEUED,
        };
        // Written by the stream only: a load and a store, no locked instruction per request.
        let was = self.phase.load(Relaxed);
        self.phase.store(code, Relaxed);
        if was == PHASE_QUEUED && code != PHASE_QUEUED && self.live().is_killed() {
            // A kill held back while queued strikes now (a kill arriving after this check
            // wakes the waiter itself; without a kill nobody needs waking).
            self.live().wake.notify_waiters();
        }
    }

    /// Resolves once the stream is killed outside [`KillPhase::Queued`] (a kill that struck
    /// while queued waits for the phase to change).
    pub async fn killed_outside_queue(&self) {
        self.live()
            .killed_when(|| self.phase() != KillPhase::Queued)
            .await;
    }

    /// Where the stream stands, as last recorded.
    pub fn phase(&self) -> KillPhase {
        match self.phase.load(Relaxed) {
            PHASE_AWAITING_CLOSE => KillPhase::AwaitingResponse(false),
            PHASE_AWAITING_KEEP => KillPhase::AwaitingResponse(true),
            PHASE_RESPONDING => KillPhase::Responding,
            PHASE_QUEUED => KillPhase::Queued,
            _ => KillPhase::Other,
        }
    }

    /// The registered stream.
    pub fn live(&self) -> &LiveSession {
        let inner = &self.table.inner;
        inner.slot(self.slot).unwrap_or(&inner.overflow)
    }
}

impl Drop for SessionGuard<'_> {
    fn drop(&mut self) {
        let inner = &self.table.inner;
        let Some(slot) = inner.slot(self.slot) else {
            return;
        };
        slot.clear();
        let n = self.slot;
        let kept = FREE
            .try_with(|lists| {
                let mut lists = lists.try_borrow_mut().ok()?;
                lists.for_table(inner)?.free.push(n);
                Some(())
            })
            .ok()
            .flatten();
        if kept.is_none() {
            inner.abandon(n);
        }
    }
}

/// The stream a task serves: its table and slot.
#[derive(Debug, Clone, Copy)]
struct Current {
    table: u64,
    slot: u32,
}

tokio::task_local! {
    /// The stream the running task serves, so [`SessionTable::note_route`] can record its
    /// backend and server.
    static CURRENT: Current;
}

/// Runs `fut` as the task serving `guard`'s stream ([`SessionTable::note_route`] records into
/// it).
pub async fn serve_as<F: std::future::Future>(guard: &SessionGuard<'_>, fut: F) -> F::Output {
    let current = Current {
        table: guard.table.inner.uid,
        slot: guard.slot,
    };
    CURRENT.scope(current, fut).await
}
