//! The live streams, for `show sess`, `shutdown session` and `shutdown sessions server`: each
//! stream registers while it runs (an RAII [`SessionGuard`]) in one of [`SESSION_SHARDS`]
//! shards chosen by its id, so streams of different shards never share a lock and a stream
//! touches its shard's lock only when it starts and ends.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use tokio::sync::Notify;

/// How many shards the live streams are spread over.
pub const SESSION_SHARDS: usize = 16;

/// Most streams `show sess` lists in one reply (the rest are counted, not listed).
pub const MAX_SHOWN_SESSIONS: usize = 100_000;

/// No backend or server chosen yet.
const NONE: u32 = u32::MAX;

/// One live stream.
#[derive(Debug)]
pub struct LiveSession {
    /// The stream's id (`show sess` prints it in hex; `shutdown session` takes it).
    pub id: u64,
    /// The frontend's index in the registry.
    pub frontend: usize,
    /// The client's address.
    pub src: SocketAddr,
    /// When the stream started.
    pub started: Instant,
    backend: AtomicU32,
    server: AtomicU32,
    kill: Notify,
}

impl LiveSession {
    /// Records the backend and, once connected, the server the stream uses.
    pub fn route(&self, backend: usize, server: Option<usize>) {
        let code = |v: usize| u32::try_from(v).unwrap_or(NONE);
        self.backend.store(code(backend), Relaxed);
        self.server.store(server.map_or(NONE, code), Relaxed);
    }

    /// The backend index, once chosen.
    pub fn backend(&self) -> Option<usize> {
        Some(self.backend.load(Relaxed))
            .filter(|v| *v != NONE)
            .map(|v| v as usize)
    }

    /// The server index, once connected.
    pub fn server(&self) -> Option<usize> {
        Some(self.server.load(Relaxed))
            .filter(|v| *v != NONE)
            .map(|v| v as usize)
    }

    /// Asks the stream to end at once (`shutdown session`).
    pub fn kill(&self) {
        self.kill.notify_one();
    }

    /// Resolves once [`LiveSession::kill`] was called (also if it was called before).
    pub async fn killed(&self) {
        self.kill.notified().await;
    }
}

type Shard = Mutex<HashMap<u64, Arc<LiveSession>>>;

/// Every live stream, sharded by id.
#[derive(Debug)]
pub struct SessionTable {
    shards: Vec<Shard>,
    next: AtomicU64,
}

impl Default for SessionTable {
    fn default() -> Self {
        SessionTable {
            shards: (0..SESSION_SHARDS).map(|_| Mutex::default()).collect(),
            next: AtomicU64::new(1),
        }
    }
}

fn lock(s: &Shard) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<LiveSession>>> {
    s.lock().unwrap_or_else(PoisonError::into_inner)
}

impl SessionTable {
    fn shard(&self, id: u64) -> Option<&Shard> {
        self.shards
            .get(usize::try_from(id).unwrap_or(0) % SESSION_SHARDS)
    }

    /// Registers a stream of frontend `frontend` from `src`; it is listed until the guard drops.
    pub fn open(self: &Arc<Self>, frontend: usize, src: SocketAddr) -> SessionGuard {
        let id = self.next.fetch_add(1, Relaxed);
        let live = Arc::new(LiveSession {
            id,
            frontend,
            src,
            started: Instant::now(),
            backend: AtomicU32::new(NONE),
            server: AtomicU32::new(NONE),
            kill: Notify::new(),
        });
        if let Some(s) = self.shard(id) {
            lock(s).insert(id, Arc::clone(&live));
        }
        SessionGuard {
            table: Arc::clone(self),
            live,
        }
    }

    /// The live streams, oldest first (at most [`MAX_SHOWN_SESSIONS`]).
    pub fn list(&self) -> Vec<Arc<LiveSession>> {
        let mut all: Vec<Arc<LiveSession>> = Vec::new();
        for s in &self.shards {
            let room = MAX_SHOWN_SESSIONS.saturating_sub(all.len());
            all.extend(lock(s).values().take(room).cloned());
        }
        all.sort_unstable_by_key(|l| l.id);
        all
    }

    /// Ends stream `id`; false when no live stream has that id.
    pub fn kill(&self, id: u64) -> bool {
        let found = self.shard(id).and_then(|s| lock(s).get(&id).cloned());
        found.inspect(|l| l.kill()).is_some()
    }

    /// Ends every stream connected to server `(backend, server)`; returns how many.
    pub fn kill_server(&self, backend: usize, server: usize) -> usize {
        let mut n = 0;
        for s in &self.shards {
            for l in lock(s).values() {
                if l.backend() == Some(backend) && l.server() == Some(server) {
                    l.kill();
                    n += 1;
                }
            }
        }
        n
    }

    /// How many streams are live.
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| lock(s).len()).sum()
    }

    /// Whether no stream is live.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A stream's place in the [`SessionTable`]; dropping it removes the stream.
#[derive(Debug)]
pub struct SessionGuard {
    table: Arc<SessionTable>,
    live: Arc<LiveSession>,
}

impl SessionGuard {
    /// The registered stream.
    pub fn live(&self) -> &LiveSession {
        &self.live
    }
}

impl Drop for SessionGuard {
    fn drop(&mut self) {
        if let Some(s) = self.table.shard(self.live.id) {
            lock(s).remove(&self.live.id);
        }
    }
}

tokio::task_local! {
    /// The stream the running task serves, so [`note_route`] can record its backend and server.
    static CURRENT: Arc<LiveSession>;
}

/// Runs `fut` as the task serving `guard`'s stream ([`note_route`] records into it).
pub async fn serve_as<F: std::future::Future>(guard: &SessionGuard, fut: F) -> F::Output {
    CURRENT.scope(Arc::clone(&guard.live), fut).await
}

/// Records the backend and server of the stream the current task serves, if any.
pub fn note_route(backend: usize, server: Option<usize>) {
    let _ = CURRENT.try_with(|l| l.route(backend, server));
}
