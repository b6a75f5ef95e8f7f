//! Idle server connections kept for reuse (`http-reuse`): an idle connection holds its socket
//! only, no buffer. As in HAProxy 2.6, a connection that has carried a second request is kept
//! apart as proven safe to reuse: `http-reuse aggressive` gives only those to a client
//! connection's first request.
//!
//! Each thread keeps its own idle connections (DESIGN §5.3: no request-path locks): a tokio
//! `TcpStream` is registered with the reactor of the runtime that opened it, and with one
//! single-threaded runtime per thread that is the thread's own runtime, so a per-thread pool is
//! also the correct one. Taking and returning a connection touches only the thread's pool.

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::{Acquire, Release};
use std::sync::{Arc, Weak};

use tokio::net::TcpStream;

/// The most idle connections kept per server and thread; more are closed.
pub const MAX_IDLE_PER_SERVER: usize = 64;

/// Counts dropped pools, so each thread closes the connections it kept for them.
static POOLS_DROPPED: AtomicU64 = AtomicU64::new(0);

/// Idle server connections, keyed by (backend, server), kept per thread.
///
/// The pool itself only names the connections' owner: they live in the thread that returned
/// them, and only that thread takes them again.
#[derive(Debug, Default)]
pub struct ServerPool {
    owner: Arc<Owner>,
}

/// What the threads' lists point back to; when the last pool handle goes, the threads learn it.
#[derive(Debug, Default)]
struct Owner;

impl Drop for Owner {
    fn drop(&mut self) {
        // Runs once the strong count is zero, so a thread that sees the new count sees the pool
        // gone; other threads close their connections on their next use of any pool.
        POOLS_DROPPED.fetch_add(1, Release);
    }
}

type Idle = HashMap<(usize, usize), Lists, BuildHasherDefault<IndexHasher>>;

/// One server's idle connections on one thread: those that carried one request, and those
/// proven by a second (HAProxy's idle and safe lists).
#[derive(Default)]
struct Lists {
    unproven: Vec<TcpStream>,
    proven: Vec<TcpStream>,
}

impl Lists {
    fn len(&self) -> usize {
        self.unproven.len() + self.proven.len()
    }
}

/// Hashes the pool's keys, (backend, server) indexes from the configuration (never bytes from
/// the network), with one multiply per word: std's SipHash took about 200 instructions per
/// lookup, and a round robin over two servers takes and returns a connection on every request.
#[derive(Debug, Default, Clone, Copy)]
struct IndexHasher(u64);

/// An odd constant with well-spread bits (from Fx hashing), for [`IndexHasher`].
const SPREAD: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl Hasher for IndexHasher {
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.write_u64(u64::from(*b));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(SPREAD);
    }

    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// One thread's idle connections of one pool.
struct LocalPool {
    owner: Weak<Owner>,
    idle: Idle,
}

/// One thread's idle connections, per pool.
struct LocalPools {
    pools: Vec<LocalPool>,
    /// [`POOLS_DROPPED`] when this thread last closed the connections of dropped pools.
    seen_drops: u64,
}

thread_local! {
    static LOCAL: RefCell<LocalPools> = const {
        RefCell::new(LocalPools { pools: Vec::new(), seen_drops: 0 })
    };
}

impl ServerPool {
    /// An empty pool.
    pub fn new() -> Self {
        ServerPool::default()
    }

    /// Runs `f` on this thread's idle connections of this pool (`None` while the thread exits).
    fn with_local<R>(&self, f: impl FnOnce(&mut Idle) -> R) -> Option<R> {
        LOCAL
            .try_with(|local| {
                let mut local = local.try_borrow_mut().ok()?;
                let drops = POOLS_DROPPED.load(Acquire);
                if drops != local.seen_drops {
                    // Some pool was dropped: close what this thread kept for it.
                    local.seen_drops = drops;
                    local.pools.retain(|p| p.owner.strong_count() > 0);
                }
                let at = match local
                    .pools
                    .iter()
                    .position(|p| std::ptr::eq(p.owner.as_ptr(), Arc::as_ptr(&self.owner)))
                {
                    Some(at) => at,
                    None => {
                        local.pools.push(LocalPool {
                            owner: Arc::downgrade(&self.owner),
                            idle: HashMap::default(),
                        });
                        local.pools.len() - 1
                    }
                };
                local.pools.get_mut(at).map(|p| f(&mut p.idle))
            })
            .ok()
            .flatten()
    }

    /// Takes an idle connection to the server that still looks open: with `proven_only`, only
    /// one that has carried a second request; otherwise the others first, as HAProxy does.
    pub fn take(&self, backend: usize, server: usize, proven_only: bool) -> Option<TcpStream> {
        self.with_local(|idle| {
            let lists = idle.get_mut(&(backend, server))?;
            if !proven_only && let Some(conn) = pop_open(&mut lists.unproven) {
                return Some(conn);
            }
            pop_open(&mut lists.proven)
        })
        .flatten()
    }

    /// Returns a connection for later reuse by this thread; `proven` when it has carried a
    /// second request.
    pub fn put(&self, backend: usize, server: usize, conn: TcpStream, proven: bool) {
        // Dropped (closed) when the thread's list is full or the thread is exiting.
        let _ = self.with_local(|idle| {
            let lists = idle.entry((backend, server)).or_default();
            if lists.len() < MAX_IDLE_PER_SERVER {
                if proven {
                    lists.proven.push(conn);
                } else {
                    lists.unproven.push(conn);
                }
            }
        });
    }

    /// How many idle connections this thread keeps for the server.
    pub fn idle_count(&self, backend: usize, server: usize) -> usize {
        self.with_local(|idle| idle.get(&(backend, server)).map_or(0, Lists::len))
            .unwrap_or(0)
    }
}

impl Drop for ServerPool {
    fn drop(&mut self) {
        // This thread's connections close now (the others' once they see `POOLS_DROPPED` move).
        let me = Arc::as_ptr(&self.owner);
        let _ = LOCAL.try_with(|local| {
            if let Ok(mut local) = local.try_borrow_mut() {
                local.pools.retain(|p| !std::ptr::eq(p.owner.as_ptr(), me));
            }
        });
    }
}

/// The newest connection of `list` that still looks open; those the server closed (or that hold
/// unexpected bytes) are dropped on the way.
fn pop_open(list: &mut Vec<TcpStream>) -> Option<TcpStream> {
    while let Some(conn) = list.pop() {
        let mut probe = [0u8; 1];
        if let Err(e) = conn.try_read(&mut probe)
            && e.kind() == std::io::ErrorKind::WouldBlock
        {
            return Some(conn);
        }
    }
    None
}

/// Whether an idle connection leads where a new one to server `(backend, server)` would go: for
/// a server without its own port (HAProxy's port mapping) the target depends on the port the
/// client connected to, and HAProxy reuses only a connection to the same address.
pub(crate) fn goes_to(
    conn: &TcpStream,
    settings: Option<&crate::settings::ServerSettings>,
    registry: &crate::registry::Registry,
    backend: usize,
    server: usize,
    dst: std::net::SocketAddr,
) -> bool {
    let Some(settings) = settings.filter(|s| s.port_offset.is_some()) else {
        return true;
    };
    let live = registry
        .backends
        .get(backend)
        .and_then(|b| b.servers.get(server))
        .map(crate::registry::ServerEntry::current_addr);
    conn.peer_addr().ok() == Some(settings.target(live, dst))
}

#[cfg(test)]
mod tests {
    use tokio::io::AsyncReadExt;
    use tokio::net::{TcpListener, TcpStream};

    use super::{MAX_IDLE_PER_SERVER, ServerPool};

    /// `n` client connections to a loopback listener, with their server ends.
    async fn pairs(n: usize) -> Vec<(TcpStream, TcpStream)> {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            let client = TcpStream::connect(addr).await.unwrap();
            let (server, _) = listener.accept().await.unwrap();
            out.push((client, server));
        }
        out
    }

    #[tokio::test]
    async fn a_connection_is_taken_back_only_by_the_thread_that_kept_it() {
        let pool = ServerPool::new();
        let (client, _server) = pairs(1).await.pop().unwrap();
        let local = client.local_addr().unwrap();
        pool.put(0, 1, client, false);
        assert_eq!(pool.idle_count(0, 1), 1);
        assert_eq!(pool.idle_count(0, 0), 0);
        std::thread::scope(|s| {
            s.spawn(|| assert_eq!(pool.idle_count(0, 1), 0, "another thread's pool is empty"))
                .join()
                .unwrap();
        });
        let again = pool.take(0, 1, false).expect("kept");
        assert_eq!(again.local_addr().unwrap(), local);
        assert!(pool.take(0, 1, false).is_none());
    }

    #[tokio::test]
    async fn proven_connections_are_kept_apart_and_taken_last_unless_only_they_may_be() {
        let pool = ServerPool::new();
        let mut all = pairs(2).await;
        let (unproven, _s1) = all.pop().unwrap();
        let (proven, _s2) = all.pop().unwrap();
        let (u, p) = (unproven.local_addr().unwrap(), proven.local_addr().unwrap());
        pool.put(0, 0, proven, true);
        assert!(
            pool.take(0, 0, true)
                .is_some_and(|c| c.local_addr().unwrap() == p)
        );
        let (proven, _s3) = pairs(1).await.pop().unwrap();
        let p = proven.local_addr().unwrap();
        pool.put(0, 0, proven, true);
        pool.put(0, 0, unproven, false);
        assert_eq!(pool.idle_count(0, 0), 2);
        // Any connection: the unproven one first (HAProxy's idle list before its safe list).
        assert!(
            pool.take(0, 0, false)
                .is_some_and(|c| c.local_addr().unwrap() == u)
        );
        assert!(
            pool.take(0, 0, false)
                .is_some_and(|c| c.local_addr().unwrap() == p)
        );
        // Only proven ones: an unproven one is left for a later request.
        let (unproven, _s4) = pairs(1).await.pop().unwrap();
        pool.put(0, 0, unproven, false);
        assert!(pool.take(0, 0, true).is_none());
        assert_eq!(pool.idle_count(0, 0), 1);
    }

    #[tokio::test]
    async fn a_connection_the_server_closed_is_not_reused() {
        let pool = ServerPool::new();
        let (client, server) = pairs(1).await.pop().unwrap();
        pool.put(0, 0, client, false);
        drop(server);
        // Bounded wait for the FIN to reach the client end.
        for _ in 0..100 {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        assert!(pool.take(0, 0, false).is_none());
        assert_eq!(pool.idle_count(0, 0), 0);
    }

    #[tokio::test]
    async fn at_most_max_idle_per_server_are_kept() {
        let pool = ServerPool::new();
        let all = pairs(MAX_IDLE_PER_SERVER + 1).await;
        let mut servers = Vec::new();
        for (client, server) in all {
            pool.put(2, 3, client, false);
            servers.push(server);
        }
        assert_eq!(pool.idle_count(2, 3), MAX_IDLE_PER_SERVER);
        // The one past the bound was closed.
        let mut last = servers.pop().unwrap();
        let mut byte = [0u8; 1];
        let read = tokio::time::timeout(std::time::Duration::from_secs(5), last.read(&mut byte));
        assert_eq!(read.await.unwrap().unwrap(), 0);
    }

    #[tokio::test]
    async fn dropping_the_pool_closes_its_idle_connections() {
        let (keep, other) = (ServerPool::new(), ServerPool::new());
        let (client, mut server) = pairs(1).await.pop().unwrap();
        let (client2, _server2) = pairs(1).await.pop().unwrap();
        other.put(0, 0, client, false);
        keep.put(0, 0, client2, false);
        drop(other);
        let mut byte = [0u8; 1];
        let read = tokio::time::timeout(std::time::Duration::from_secs(5), server.read(&mut byte));
        assert_eq!(read.await.unwrap().unwrap(), 0);
        assert_eq!(keep.idle_count(0, 0), 1, "other pools keep theirs");
    }

    #[tokio::test]
    async fn a_pool_dropped_elsewhere_loses_this_threads_connections_on_next_use() {
        let (gone, still) = (ServerPool::new(), ServerPool::new());
        let (client, mut server) = pairs(1).await.pop().unwrap();
        gone.put(0, 0, client, false);
        std::thread::scope(|s| {
            s.spawn(move || drop(gone)).join().unwrap();
        });
        // Any use of any pool on this thread closes what it kept for the dropped one.
        assert_eq!(still.idle_count(0, 0), 0);
        let mut byte = [0u8; 1];
        let read = tokio::time::timeout(std::time::Duration::from_secs(5), server.read(&mut byte));
        assert_eq!(read.await.unwrap().unwrap(), 0);
    }

    #[test]
    fn index_keys_hash_apart() {
        use std::hash::{BuildHasher, BuildHasherDefault};
        let build = BuildHasherDefault::<super::IndexHasher>::default();
        let mut seen = std::collections::HashSet::new();
        for backend in 0..64usize {
            for server in 0..64usize {
                assert!(
                    seen.insert(build.hash_one((backend, server))),
                    "{backend}/{server}"
                );
            }
        }
    }
}
