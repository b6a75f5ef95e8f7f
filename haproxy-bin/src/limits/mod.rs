//! The global `maxconn`, `maxsock` and open-file limit, settled at startup as HAProxy 2.6 does
//! (`compute_ideal_maxconn()` and what follows it in `init()`, then the `ulimits` step of
//! `main()`): without `maxconn` in the global section or `-n`, the global `maxconn` is what the
//! file-descriptor limit leaves once the listeners, checks, stats sockets, pollers and pipes
//! have their share, two descriptors per connection (never below [`DEFAULT_MAXCONN`]). The
//! process's `RLIMIT_NOFILE` is then raised to `maxsock` (or `ulimit-n`); when that is refused,
//! HAProxy's warning and alert follow (see [`apply`] for `strict-limits`).
//!
//! `fd-hard-limit` caps the limit the figures start from and the one the process may raise to;
//! `-m <megabytes>` bounds the derived `maxconn` by memory ([`memory`]) and sets
//! `RLIMIT_AS` ([`rlimit`]), with the allocator's arenas kept small ([`arena`]).

use haproxy_cfg::model::{Config, Proxy};
use haproxy_cfg::values::{Address, Port, atol};

mod arena;
mod memory;
mod rlimit;

pub(crate) use arena::reexec_with_small_arenas;

pub(crate) use rlimit::{apply, maxsock_permitted, strict_limits};

/// HAProxy's `DEFAULT_MAXCONN`: the derived global `maxconn` never goes below it, even when
/// the file-descriptor limit is too small for it (startup then fails to raise the limit).
pub(crate) const DEFAULT_MAXCONN: u32 = 100;

/// Descriptors HAProxy reserves before counting anything (`global.maxsock = 10`).
const RESERVED_FDS: u64 = 10;

/// `stats maxconn` when not written: the stats sockets' own connections, which bypass the
/// global limit and so need descriptors of their own.
const DEFAULT_STATS_MAXCONN: u64 = 10;

/// Descriptors each serving thread holds: one poller and a wake-up pipe (two ends).
const FDS_PER_THREAD: u64 = 3;

/// Highest `maxconn` or `maxsock` the derivation yields (HAProxy keeps them in a C `int`).
pub(crate) const MAX_FIGURE: u64 = i32::MAX as u64;

/// What startup settles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    /// The global `maxconn` (also `Hard_maxconn`).
    pub(crate) maxconn: u32,
    /// `Maxsock`: the descriptors the process may need.
    pub(crate) maxsock: u32,
    /// The `RLIMIT_NOFILE` to set (`Ulimit-n`): `ulimit-n` when written, else `maxsock`.
    pub(crate) nofile: u32,
    /// `fd-hard-limit` as HAProxy keeps it (a C `int`; 0 = none).
    pub(crate) fd_hard_limit: i32,
    /// `-m`: the memory limit in megabytes (`Memmax_MB`; 0 = none).
    pub(crate) memmax_mb: i32,
}

/// The process's open-file limits when it started: soft and hard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FdLimits {
    /// The soft limit.
    pub(crate) soft: u64,
    /// The hard limit (the soft one when unlimited, as HAProxy reads it).
    pub(crate) hard: u64,
}

impl FdLimits {
    /// Reads `RLIMIT_NOFILE` (`None` when the system refuses).
    pub(crate) fn current() -> Option<FdLimits> {
        use nix::sys::resource::{RLIM_INFINITY, Resource, getrlimit};
        let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).ok()?;
        let hard = if hard == RLIM_INFINITY { soft } else { hard };
        Some(FdLimits { soft, hard })
    }
}

/// A global keyword's first argument, when written (the last occurrence wins).
fn global_arg<'a>(cfg: &'a Config, keyword: &str) -> Option<&'a str> {
    cfg.global
        .other
        .iter()
        .rev()
        .find(|d| d.words.first().is_some_and(|w| w == keyword))
        .and_then(|d| d.words.get(1))
        .map(String::as_str)
}

/// A global keyword's first argument as a number, when written and one.
fn global_number(cfg: &Config, keyword: &str) -> Option<u64> {
    global_arg(cfg, keyword).and_then(|v| v.parse().ok())
}

/// Listening sockets of one address: every port of a range.
fn sockets_of(addr: &Address) -> u64 {
    match addr {
        Address::Inet {
            port: Port::Range(lo, hi),
            ..
        } => u64::from(hi.saturating_sub(*lo)) + 1,
        _ => 1,
    }
}

/// Descriptors the configuration reserves before connections: the listeners, one per server
/// for each of `check`, `agent-check`, `agent-port` and `port`, the stats sockets and their
/// `stats maxconn`.
fn reserved(cfg: &Config) -> u64 {
    let listeners: u64 = cfg
        .proxies
        .iter()
        .flat_map(|p| &p.binds)
        .flat_map(|b| &b.addresses)
        .map(sockets_of)
        .sum();
    let checks: u64 = cfg
        .proxies
        .iter()
        .flat_map(|p| &p.servers)
        .map(|s| {
            let p = &s.params;
            u64::from(p.check == Some(true))
                + u64::from(p.agent_check == Some(true))
                + u64::from(p.agent_port.is_some())
                + u64::from(p.port.is_some())
        })
        .sum();
    let g = &cfg.global;
    let stats = g.stats_sockets.len() as u64;
    let has_cli = stats > 0 || g.stats_maxconn.is_some() || g.stats_timeout.is_some();
    let cli_maxconn = if has_cli {
        g.stats_maxconn
            .and_then(|m| u64::try_from(m).ok())
            .unwrap_or(DEFAULT_STATS_MAXCONN)
    } else {
        0
    };
    RESERVED_FDS + listeners + checks + stats + cli_maxconn
}

/// A proxy's `maxconn` as written (0 when not).
fn proxy_maxconn(p: &Proxy) -> u64 {
    p.maxconn.and_then(|m| u64::try_from(m).ok()).unwrap_or(0)
}

/// HAProxy's `compute_ideal_maxpipes()` for a global `maxconn` (0 = not settled yet): a
/// quarter of what the proxies with a `splice-*` option may carry, `None` for unlimited.
fn ideal_pipes(cfg: &Config, global_maxconn: u64) -> Option<u64> {
    let (mut fe, mut be, mut unlimited) = (0u64, 0u64, false);
    for p in cfg.proxies.iter().filter(|p| {
        ["splice-auto", "splice-request", "splice-response"]
            .iter()
            .any(|o| p.options.is_set(o))
    }) {
        use haproxy_cfg::model::ProxyKind::{Backend, Frontend, Listen};
        if matches!(p.kind, Frontend | Listen) {
            let m = proxy_maxconn(p);
            fe += m;
            if m == 0 {
                unlimited = true;
                break;
            }
        }
        if matches!(p.kind, Backend | Listen) {
            let m = match p.fullconn.and_then(|f| u64::try_from(f).ok()) {
                Some(f) if f > 0 => f,
                _ => global_maxconn,
            };
            be += m;
            if m == 0 {
                unlimited = true;
                break;
            }
        }
    }
    let mut pipes = fe.max(be);
    if global_maxconn > 0 {
        if pipes > global_maxconn || unlimited {
            pipes = global_maxconn;
        }
    } else if unlimited {
        return None;
    }
    Some(if pipes >= 4 { pipes / 4 } else { pipes })
}

/// What startup is given besides the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Startup {
    /// `-n`: overrides the global `maxconn`.
    pub(crate) cli_maxconn: Option<u32>,
    /// `-m`: the memory limit in megabytes (0 = none).
    pub(crate) memmax_mb: i32,
    /// Serving threads.
    pub(crate) threads: u32,
    /// The open-file limits read at startup.
    pub(crate) fds: FdLimits,
}

/// `fd-hard-limit` as HAProxy keeps it: `atol()` stored in a C `int` (the low 32 bits).
fn fd_hard_limit(cfg: &Config) -> i32 {
    cfg.global.fd_hard_limit.map_or(0, |v| v as i32)
}

/// Whether `fd-hard-limit` is set and `value` is above it, compared as HAProxy compares an
/// `rlim_t` with the `int` limit (a negative limit turns into a huge unsigned one).
pub(crate) fn above_hard_limit(value: u64, hard_limit: i32) -> bool {
    hard_limit != 0 && value > i64::from(hard_limit) as u64
}

/// HAProxy's `compute_ideal_maxconn()`: what the descriptor limit (the higher of soft and
/// hard, capped by `fd-hard-limit`) leaves for connections once `reserved` descriptors, the
/// threads' own and the pipes are counted; never below [`DEFAULT_MAXCONN`].
fn ideal_maxconn(cfg: &Config, reserved: i64, threads: u32, fds: FdLimits) -> i64 {
    let mut remain = fds.soft.max(fds.hard).min(MAX_FIGURE) as i64;
    let hard_limit = i64::from(fd_hard_limit(cfg));
    if hard_limit != 0 && remain > hard_limit {
        remain = hard_limit;
    }
    remain -= reserved + (FDS_PER_THREAD * u64::from(threads)) as i64;
    let ideal = match ideal_pipes(cfg, 0) {
        None => 2 * remain / 5,
        Some(p) => {
            let p = p as i64;
            if p * 2 < remain {
                remain -= p * 2;
            }
            remain / 2
        }
    };
    ideal.max(i64::from(DEFAULT_MAXCONN))
}

/// HAProxy's `compute_ideal_maxsock()`: the descriptors `maxconn` connections need with the
/// reserved ones, the pipes (`maxpipes`, else a quarter of the splicing connections) and the
/// threads' own.
fn ideal_maxsock(cfg: &Config, reserved: i64, threads: u32, maxconn: i64) -> i64 {
    let pipes = global_number(cfg, "maxpipes")
        .filter(|p| *p > 0)
        .or_else(|| ideal_pipes(cfg, u64::try_from(maxconn).unwrap_or(0)))
        .unwrap_or(0)
        .min(MAX_FIGURE) as i64;
    reserved + 2 * maxconn + 2 * pipes + (FDS_PER_THREAD * u64::from(threads)) as i64
}

/// Settles the figures for `cfg` started as `start` says. `permitted` tells whether the
/// descriptor limit may be raised to a number (HAProxy's `check_if_maxsock_permitted()`,
/// consulted only when `-m` bounds `maxconn`). `Err` holds HAProxy's alert when `-m` leaves no
/// room for one connection (startup then exits 1).
pub(crate) fn derive(
    cfg: &Config,
    start: Startup,
    permitted: &dyn Fn(u64) -> bool,
) -> Result<Limits, String> {
    let base = reserved(cfg) as i64;
    let threads = start.threads;
    let ideal = ideal_maxconn(cfg, base, threads, start.fds);
    let written = start
        .cli_maxconn
        .map(u64::from)
        .filter(|m| *m > 0)
        .or_else(|| {
            cfg.global
                .maxconn
                .and_then(|m| u64::try_from(m).ok())
                .filter(|m| *m > 0)
        })
        .map(|m| m.min(MAX_FIGURE) as i64);
    let hard_limit = fd_hard_limit(cfg);
    let maxconn = match written {
        Some(m) => m,
        None if start.memmax_mb == 0 => ideal,
        None => memory::maxconn(cfg, start.memmax_mb, ideal, &|m| {
            let maxsock = ideal_maxsock(cfg, base, threads, m);
            let maxsock = u64::try_from(maxsock).unwrap_or(0);
            !above_hard_limit(maxsock, hard_limit) && permitted(maxsock)
        })?,
    }
    .clamp(0, MAX_FIGURE as i64);
    let maxsock = ideal_maxsock(cfg, base, threads, maxconn).clamp(0, MAX_FIGURE as i64);
    let nofile = cfg
        .global
        .ulimit_n
        .filter(|n| *n > 0)
        .unwrap_or(maxsock)
        .min(MAX_FIGURE as i64);
    let to_u32 = |v: i64| u32::try_from(v).unwrap_or(0);
    Ok(Limits {
        maxconn: to_u32(maxconn),
        maxsock: to_u32(maxsock),
        nofile: to_u32(nofile),
        fd_hard_limit: hard_limit,
        memmax_mb: start.memmax_mb,
    })
}

/// A global keyword's first argument read as HAProxy's `atol()` reads it (the last occurrence
/// wins), when written.
fn global_atol(cfg: &Config, keyword: &str) -> Option<i64> {
    global_arg(cfg, keyword).map(atol)
}
#[cfg(test)]
mod tests;
