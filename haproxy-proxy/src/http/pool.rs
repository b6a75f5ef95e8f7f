//! Idle server connections kept for reuse (`http-reuse safe`): an idle connection holds its
//! socket only, no buffer.

use std::collections::HashMap;
use std::sync::Mutex;

use tokio::net::TcpStream;

/// The most idle connections kept per server; more are closed.
pub const MAX_IDLE_PER_SERVER: usize = 64;

/// Idle server connections, keyed by (backend, server).
///
/// The lock is held only to push or pop one entry, never across I/O.
#[derive(Debug, Default)]
pub struct ServerPool {
    idle: Mutex<HashMap<(usize, usize), Vec<TcpStream>>>,
}

impl ServerPool {
    /// An empty pool.
    pub fn new() -> Self {
        ServerPool::default()
    }

    /// Takes an idle connection to the server that still looks open.
    pub fn take(&self, backend: usize, server: usize) -> Option<TcpStream> {
        loop {
            let conn = {
                let mut idle = self.idle.lock().ok()?;
                idle.get_mut(&(backend, server))?.pop()?
            };
            // A connection the server closed (or that holds unexpected bytes) is dropped.
            let mut probe = [0u8; 1];
            match conn.try_read(&mut probe) {
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return Some(conn),
                _ => continue,
            }
        }
    }

    /// Returns a connection for later reuse.
    pub fn put(&self, backend: usize, server: usize, conn: TcpStream) {
        if let Ok(mut idle) = self.idle.lock() {
            let list = idle.entry((backend, server)).or_default();
            if list.len() < MAX_IDLE_PER_SERVER {
                list.push(conn);
            }
        }
    }

    /// How many idle connections are kept for the server.
    pub fn idle_count(&self, backend: usize, server: usize) -> usize {
        self.idle
            .lock()
            .map_or(0, |idle| idle.get(&(backend, server)).map_or(0, Vec::len))
    }
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
