//! The stats sockets: `stats socket <path>|<addr:port> [mode m] [user u] [group g] [uid n]
//! [gid n] [level l]`, `stats timeout`, `stats maxconn` (configuration.txt 3.1, "stats socket").
//! Each connection runs one [`haproxy_stats::cli::Cli`] session over [`Admin`]: one line of
//! commands then close, or `prompt` mode until `quit`, an idle timeout, or the stop signal.

use std::path::{Path, PathBuf};
use std::time::Duration;

use haproxy_cfg::model::{Global, StatsSocket};
use haproxy_stats::cli::{Cli, Level};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::api::Admin;
use crate::listener::{
    Accepted, BindOptions, BindTarget, ConnGate, Listener, bind, parse_bind_addr,
};
use crate::runtime::Stop;

/// `stats timeout` default.
pub const DEFAULT_STATS_TIMEOUT: Duration = Duration::from_secs(10);

/// `stats maxconn` default: concurrent CLI connections over all stats sockets.
pub const DEFAULT_STATS_MAXCONN: u32 = 10;

/// Bytes read from a CLI client at a time.
const READ_CHUNK: usize = 4096;

/// One `stats socket` line, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatsSocketSpec {
    /// The address as written (for messages).
    pub text: String,
    /// Where to listen.
    pub target: BindTarget,
    /// Unix socket permissions (`mode`, octal).
    pub mode: Option<u32>,
    /// Owner of the unix socket (`user` or `uid`).
    pub uid: Option<u32>,
    /// Group of the unix socket (`group` or `gid`).
    pub gid: Option<u32>,
    /// `level` (default operator).
    pub level: Level,
    /// Where the line is, `file:line`, for startup alerts (set by the caller that read the
    /// files; the typed model does not keep it).
    pub loc: Option<String>,
}

/// Every stats socket of the `global` section with its limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatsSettings {
    /// The sockets, in configuration order.
    pub sockets: Vec<StatsSocketSpec>,
    /// `stats timeout`: how long a session may stay idle.
    pub timeout: Duration,
    /// `stats maxconn`: concurrent sessions over all the stats sockets.
    pub maxconn: u32,
}

/// Why the stats sockets could not be set up; `Display` gives HAProxy's alert text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StatsSocketError {
    /// An address that is neither a path nor `[ipv4@|ipv6@]addr:port`.
    #[error("'stats socket {address}' : {reason}")]
    Address {
        /// The address as written.
        address: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An unknown `user` or `group` name.
    #[error("'stats socket {address}' : unknown {what} '{name}'")]
    UnknownId {
        /// The address as written.
        address: String,
        /// `user` or `group`.
        what: &'static str,
        /// The name.
        name: String,
    },
    /// The socket could not be opened; [`StatsSocketError::alerts`] gives HAProxy's lines.
    #[error("Binding [{}] for frontend GLOBAL: cannot bind {kind} socket ({reason}) [{address}]", loc.as_deref().unwrap_or("?"))]
    Bind {
        /// Where the `stats socket` line is, `file:line`, when known.
        loc: Option<String>,
        /// `UNIX` or `TCP`.
        kind: &'static str,
        /// The OS error.
        reason: String,
        /// The address as written.
        address: String,
    },
}

impl StatsSocketError {
    /// HAProxy's alert lines for this failure, without the `[ALERT] (pid) : ` prefix.
    #[must_use]
    pub fn alerts(&self) -> Vec<String> {
        let mut out = vec![self.to_string()];
        if matches!(self, StatsSocketError::Bind { .. }) {
            out.push(
                "[haproxy.main()] Some protocols failed to start their listeners! Exiting."
                    .to_owned(),
            );
        }
        out
    }
}

/// Looks a name up in an `/etc/passwd`-style file (`name:x:id:...`).
fn lookup_id(file: &Path, name: &str) -> Option<u32> {
    let text = std::fs::read_to_string(file).ok()?;
    text.lines()
        .map(|l| l.split(':').collect::<Vec<_>>())
        .find(|f| f.first() == Some(&name))
        .and_then(|f| f.get(2).and_then(|id| id.parse().ok()))
}

fn spec(s: &StatsSocket) -> Result<StatsSocketSpec, StatsSocketError> {
    let addr_err = |reason: String| StatsSocketError::Address {
        address: s.address.clone(),
        reason,
    };
    let mut targets = parse_bind_addr(&s.address).map_err(|e| addr_err(e.to_string()))?;
    if targets.len() != 1 {
        return Err(addr_err("a stats socket takes exactly one port".into()));
    }
    let target = targets
        .pop()
        .ok_or_else(|| addr_err("missing address".into()))?;
    let (mut uid, mut gid) = (None, None);
    let mut words = s.other.iter();
    while let Some(w) = words.next() {
        let value = words.next().map(String::as_str).unwrap_or("");
        let resolve = |what: &'static str, file: &str| {
            value
                .parse::<u32>()
                .ok()
                .or_else(|| lookup_id(Path::new(file), value))
                .ok_or_else(|| StatsSocketError::UnknownId {
                    address: s.address.clone(),
                    what,
                    name: value.to_owned(),
                })
        };
        match w.as_str() {
            "user" | "uid" => uid = Some(resolve("user", "/etc/passwd")?),
            "group" | "gid" => gid = Some(resolve("group", "/etc/group")?),
            _ => {}
        }
    }
    let level = match s.level.as_deref() {
        Some("user") => Level::User,
        Some("admin") => Level::Admin,
        _ => Level::Operator,
    };
    Ok(StatsSocketSpec {
        text: s.address.clone(),
        target,
        mode: s.mode,
        uid,
        gid,
        level,
        loc: None,
    })
}

impl StatsSettings {
    /// The stats sockets and limits of a `global` section.
    ///
    /// # Errors
    /// [`StatsSocketError::Address`] or [`StatsSocketError::UnknownId`].
    pub fn from_global(global: &Global) -> Result<StatsSettings, StatsSocketError> {
        Ok(StatsSettings {
            sockets: global
                .stats_sockets
                .iter()
                .map(spec)
                .collect::<Result<_, _>>()?,
            timeout: global.stats_timeout.map_or(DEFAULT_STATS_TIMEOUT, |ms| {
                Duration::from_millis(u64::from(ms))
            }),
            maxconn: global
                .stats_maxconn
                .and_then(|v| u32::try_from(v).ok())
                .unwrap_or(DEFAULT_STATS_MAXCONN),
        })
    }

    /// Opens every socket; must be called inside a tokio runtime.
    ///
    /// # Errors
    /// [`StatsSocketError::Bind`] for the first socket that cannot be opened.
    pub fn open(&self, admin: Admin) -> Result<StatsServer, StatsSocketError> {
        let mut listeners = Vec::new();
        // `stats maxconn` bounds the CLI frontend (`GLOBAL`): every socket shares it.
        let gate = ConnGate::new(self.maxconn);
        for s in &self.sockets {
            let opts = BindOptions {
                unix_mode: s.mode,
                ..BindOptions::default()
            };
            let bind_err = |reason: String| StatsSocketError::Bind {
                loc: s.loc.clone(),
                kind: match s.target {
                    BindTarget::Unix(_) | BindTarget::Abstract(_) => "UNIX",
                    BindTarget::Tcp(_) | BindTarget::Fd(_) => "TCP",
                },
                reason: reason
                    .find(" (os error")
                    .and_then(|i| reason.get(..i))
                    .unwrap_or(&reason)
                    .to_owned(),
                address: s.text.clone(),
            };
            let listener = bind(&s.target, &opts).map_err(|e| match e {
                crate::ProxyError::Bind { reason, .. } => bind_err(reason),
                other => bind_err(other.to_string()),
            })?;
            if let BindTarget::Unix(path) = &s.target
                && (s.uid.is_some() || s.gid.is_some())
            {
                std::os::unix::fs::chown(path, s.uid, s.gid)
                    .map_err(|e| bind_err(e.to_string()))?;
            }
            listeners.push((listener, s.level, gate.clone(), s.target.clone()));
        }
        admin.set_sockets(
            listeners
                .iter()
                .map(|(l, level, _, target)| {
                    let addr = match (target, l.local_addr()) {
                        (_, Some(std::net::SocketAddr::V4(a))) => format!("ipv4@{a}"),
                        (_, Some(std::net::SocketAddr::V6(a))) => format!("ipv6@{a}"),
                        (BindTarget::Unix(p), None) => format!("unix@{}", p.display()),
                        (BindTarget::Tcp(a), None) => a.to_string(),
                        (BindTarget::Abstract(name), None) => format!("abns@{name}"),
                        (BindTarget::Fd(fd), None) => format!("fd@{fd}"),
                    };
                    (addr, *level)
                })
                .collect(),
        );
        Ok(StatsServer {
            listeners,
            admin,
            timeout: self.timeout,
        })
    }
}

/// Open stats sockets, ready to serve CLI sessions.
#[derive(Debug)]
pub struct StatsServer {
    listeners: Vec<(Listener, Level, ConnGate, BindTarget)>,
    admin: Admin,
    timeout: Duration,
}

impl StatsServer {
    /// How many sockets are open.
    #[must_use]
    pub fn len(&self) -> usize {
        self.listeners.len()
    }

    /// Whether no socket is open.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.listeners.is_empty()
    }

    /// The unix socket paths, in configuration order.
    #[must_use]
    pub fn paths(&self) -> Vec<PathBuf> {
        self.listeners
            .iter()
            .filter_map(|(_, _, _, t)| match t {
                BindTarget::Unix(p) => Some(p.clone()),
                BindTarget::Tcp(_) | BindTarget::Abstract(_) | BindTarget::Fd(_) => None,
            })
            .collect()
    }

    /// The TCP addresses, in configuration order.
    #[must_use]
    pub fn local_addrs(&self) -> Vec<std::net::SocketAddr> {
        self.listeners
            .iter()
            .filter_map(|(l, ..)| l.local_addr())
            .collect()
    }

    /// Serves sessions until any stop (soft or hard): then the sockets close. Sessions in
    /// progress go on after a soft stop until they end by themselves (HAProxy 2.6's CLI keeps
    /// them, and they keep the process alive), and are cut by a hard stop.
    pub async fn serve(self, stop: watch::Receiver<Option<Stop>>) {
        let mut loops = JoinSet::new();
        for (listener, level, gate, _) in self.listeners {
            let admin = self.admin.clone();
            let timeout = self.timeout;
            let mut stop = stop.clone();
            loops.spawn(async move {
                let mut sessions = JoinSet::new();
                loop {
                    while sessions.try_join_next().is_some() {}
                    // Accept first, then wait for a slot: the slot is shared by every stats
                    // socket, so a listener must not sit on one while nobody connects to it.
                    // At most one accepted connection per socket waits here.
                    let accepted = tokio::select! {
                        a = listener.accept() => a,
                        _ = stop.wait_for(Option::is_some) => break,
                    };
                    let permit = tokio::select! {
                        p = ConnGate::acquire_all(std::slice::from_ref(&gate)) => p,
                        _ = stop.wait_for(Option::is_some) => break,
                    };
                    let admin = admin.clone();
                    match accepted {
                        Ok(Accepted::Unix(s)) => {
                            sessions.spawn(async move {
                                let _permit = permit;
                                session(s, level, admin, timeout).await;
                            });
                        }
                        Ok(Accepted::Tcp(s, _)) => {
                            sessions.spawn(async move {
                                let _permit = permit;
                                session(s, level, admin, timeout).await;
                            });
                        }
                        Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
                    }
                }
                drop(listener);
                let hard = stop.wait_for(|s| *s == Some(Stop::Hard));
                tokio::select! {
                    () = async { while sessions.join_next().await.is_some() {} } => {}
                    _ = hard => {}
                }
                sessions.abort_all();
            });
        }
        while loops.join_next().await.is_some() {}
    }
}

/// One CLI connection: bytes in, replies out, until the session closes, the client goes away
/// or stays idle (sends nothing, or reads nothing of a reply) longer than the session's timeout.
pub async fn session<S>(mut stream: S, level: Level, mut admin: Admin, timeout: Duration)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let _counted = admin.open_cli_session();
    let secs = u32::try_from(timeout.as_secs().max(1)).unwrap_or(u32::MAX);
    let mut cli = Cli::new(level).with_timeout_secs(secs);
    let mut buf = vec![0u8; READ_CHUNK];
    loop {
        let idle = Duration::from_secs(u64::from(cli.timeout_secs()));
        let n = match tokio::time::timeout(idle, stream.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => n,
            _ => break,
        };
        let reply = cli.feed(buf.get(..n).unwrap_or_default(), &mut admin);
        // A client that stops reading is cut after the same idle timeout.
        let idle = Duration::from_secs(u64::from(cli.timeout_secs()));
        if !reply.is_empty()
            && !matches!(
                tokio::time::timeout(idle, stream.write_all(&reply)).await,
                Ok(Ok(()))
            )
        {
            break;
        }
        if cli.is_closed() {
            break;
        }
    }
    let _ = stream.shutdown().await;
}
