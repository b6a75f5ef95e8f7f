//! Opening listening sockets with HAProxy's options: backlog, v4v6/v6only, SO_REUSEPORT, unix mode.

use std::net::SocketAddr;
use std::path::Path;

use socket2::{Domain, Socket, Type};
use tokio::net::{TcpListener, TcpStream, UnixListener, UnixStream};

use super::BindTarget;
use crate::ProxyError;

/// The backlog used when neither `backlog` nor `maxconn` says otherwise.
pub const DEFAULT_BACKLOG: u32 = 1024;

/// Options of a `bind` line that shape the socket.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BindOptions {
    /// `backlog N`.
    pub backlog: Option<u32>,
    /// `v4v6` (Some(false)) or `v6only` (Some(true)); `None` keeps the system default.
    pub v6only: Option<bool>,
    /// SO_REUSEPORT, so several threads or a new process can bind the same address.
    pub reuseport: bool,
    /// `mode` for unix sockets (octal permissions).
    pub unix_mode: Option<u32>,
    /// `user` / `uid`: owner of a unix socket.
    pub unix_uid: Option<u32>,
    /// `group` / `gid`: group of a unix socket.
    pub unix_gid: Option<u32>,
}

/// An open listening socket.
#[derive(Debug)]
pub enum Listener {
    /// A TCP listener.
    Tcp(TcpListener),
    /// A unix stream listener.
    Unix(UnixListener),
}

/// An accepted connection.
#[derive(Debug)]
pub enum Accepted {
    /// TCP, with the peer address.
    Tcp(TcpStream, SocketAddr),
    /// A unix socket client.
    Unix(UnixStream),
}

impl Listener {
    /// The bound TCP address, if TCP.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        match self {
            Listener::Tcp(l) => l.local_addr().ok(),
            Listener::Unix(_) => None,
        }
    }

    /// Accepts the next connection.
    ///
    /// # Errors
    /// The accept error (EMFILE, ...); the caller decides whether to retry.
    pub async fn accept(&self) -> std::io::Result<Accepted> {
        match self {
            Listener::Tcp(l) => {
                let (s, peer) = l.accept().await?;
                s.set_nodelay(true)?;
                Ok(Accepted::Tcp(s, peer))
            }
            Listener::Unix(l) => Ok(Accepted::Unix(l.accept().await?.0)),
        }
    }
}

fn err(target: &BindTarget, e: &std::io::Error) -> ProxyError {
    let addr = match target {
        BindTarget::Tcp(a) => a.to_string(),
        BindTarget::Unix(p) => p.display().to_string(),
        BindTarget::Abstract(name) => format!("abns@{name}"),
        BindTarget::Fd(n) => format!("fd@{n}"),
    };
    ProxyError::Bind {
        addr,
        reason: e.to_string(),
    }
}

/// Opens a listening socket; must be called inside a tokio runtime.
///
/// # Errors
/// [`ProxyError::Bind`] when the socket cannot be created, bound or listened on.
pub fn bind(target: &BindTarget, opts: &BindOptions) -> Result<Listener, ProxyError> {
    let backlog = i32::try_from(opts.backlog.unwrap_or(DEFAULT_BACKLOG)).unwrap_or(i32::MAX);
    match target {
        BindTarget::Tcp(addr) => bind_tcp(*addr, opts, backlog)
            .map(Listener::Tcp)
            .map_err(|e| err(target, &e)),
        BindTarget::Unix(path) => bind_unix(path, opts, backlog)
            .map(Listener::Unix)
            .map_err(|e| err(target, &e)),
        BindTarget::Abstract(name) => bind_abstract(name, backlog)
            .map(Listener::Unix)
            .map_err(|e| err(target, &e)),
        BindTarget::Fd(n) => bind_inherited(*n, backlog).map_err(|e| err(target, &e)),
    }
}

/// Listens on an inherited socket (`fd@N`): a stream socket, TCP or unix, already bound.
fn bind_inherited(fd: i32, backlog: i32) -> std::io::Result<Listener> {
    let socket = Socket::from(super::inherited_fd(fd)?);
    if socket.r#type()? != Type::STREAM {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a stream socket",
        ));
    }
    let local = socket.local_addr()?;
    socket.set_nonblocking(true)?;
    socket.listen(backlog)?;
    if local.is_unix() {
        UnixListener::from_std(std::os::unix::net::UnixListener::from(
            std::os::fd::OwnedFd::from(socket),
        ))
        .map(Listener::Unix)
    } else {
        TcpListener::from_std(socket.into()).map(Listener::Tcp)
    }
}

/// The length of `sun_path` on Linux: HAProxy 2.6 binds `abns@` names zero-padded to it.
pub const SUN_PATH_LEN: usize = 108;

/// The socket address of `abns@name`: a NUL, the name, NULs up to [`SUN_PATH_LEN`].
///
/// # Errors
/// `InvalidInput` when the name does not fit.
pub fn abstract_addr(name: &str) -> std::io::Result<socket2::SockAddr> {
    use std::os::unix::ffi::OsStrExt;
    if name.len() >= SUN_PATH_LEN {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "abstract socket name too long",
        ));
    }
    let mut bytes = vec![0u8; SUN_PATH_LEN];
    if let Some(dst) = bytes.get_mut(1..=name.len()) {
        dst.copy_from_slice(name.as_bytes());
    }
    socket2::SockAddr::unix(Path::new(std::ffi::OsStr::from_bytes(&bytes)))
}

fn bind_abstract(name: &str, backlog: i32) -> std::io::Result<UnixListener> {
    let socket = Socket::new(Domain::UNIX, Type::STREAM, None)?;
    socket.set_nonblocking(true)?;
    socket.bind(&abstract_addr(name)?)?;
    socket.listen(backlog)?;
    UnixListener::from_std(std::os::unix::net::UnixListener::from(
        std::os::fd::OwnedFd::from(socket),
    ))
}

fn bind_tcp(addr: SocketAddr, opts: &BindOptions, backlog: i32) -> std::io::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    if opts.reuseport {
        socket.set_reuse_port(true)?;
    }
    if let (Some(only), SocketAddr::V6(_)) = (opts.v6only, addr) {
        socket.set_only_v6(only)?;
    }
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(backlog)?;
    TcpListener::from_std(socket.into())
}

fn bind_unix(path: &Path, opts: &BindOptions, backlog: i32) -> std::io::Result<UnixListener> {
    // A stale socket file from a previous run is replaced, as HAProxy does.
    if std::fs::symlink_metadata(path).is_ok_and(|m| {
        use std::os::unix::fs::FileTypeExt;
        m.file_type().is_socket()
    }) {
        std::fs::remove_file(path)?;
    }
    let socket = Socket::new(Domain::UNIX, Type::STREAM, None)?;
    socket.set_nonblocking(true)?;
    socket.bind(&socket2::SockAddr::unix(path)?)?;
    if let Some(mode) = opts.unix_mode {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    }
    if opts.unix_uid.is_some() || opts.unix_gid.is_some() {
        std::os::unix::fs::chown(path, opts.unix_uid, opts.unix_gid)?;
    }
    socket.listen(backlog)?;
    UnixListener::from_std(std::os::unix::net::UnixListener::from(
        std::os::fd::OwnedFd::from(socket),
    ))
}
