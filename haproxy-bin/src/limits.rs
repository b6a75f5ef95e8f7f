//! The global `maxconn`, `maxsock` and open-file limit, settled at startup as HAProxy 2.6 does
//! (`compute_ideal_maxconn()` and what follows it in `init()`, then the `ulimits` step of
//! `main()`): without `maxconn` in the global section or `-n`, the global `maxconn` is what the
//! file-descriptor limit leaves once the listeners, checks, stats sockets, pollers and pipes
//! have their share, two descriptors per connection (never below [`DEFAULT_MAXCONN`]). The
//! process's `RLIMIT_NOFILE` is then set to `maxsock` (or `ulimit-n`); when that is refused,
//! HAProxy's warning and alert follow (see [`apply`] for `strict-limits`).
//!
//! COMPAT: `-m` (memory limit) does not take part: HAProxy's memory-based figure divides by
//! the size of its own stream structures, which have no counterpart here.

use haproxy_cfg::model::{Config, Proxy};
use haproxy_cfg::values::{Address, Port};

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
fn global_number(cfg: &Config, keyword: &str) -> Option<u64> {
    cfg.global
        .other
        .iter()
        .rev()
        .find(|d| d.words.first().is_some_and(|w| w == keyword))
        .and_then(|d| d.words.get(1))
        .and_then(|v| v.parse().ok())
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

/// Settles the figures for `cfg` run with `-n` (`cli_maxconn`) on `threads` threads under the
/// open-file limits `fds` read at startup.
pub(crate) fn derive(
    cfg: &Config,
    cli_maxconn: Option<u32>,
    threads: u32,
    fds: FdLimits,
) -> Limits {
    let base = reserved(cfg);
    let per_threads = FDS_PER_THREAD * u64::from(threads);
    let remain = fds
        .soft
        .max(fds.hard)
        .min(MAX_FIGURE)
        .saturating_sub(base + per_threads);
    let ideal = match ideal_pipes(cfg, 0) {
        None => 2 * remain / 5,
        Some(p) => {
            let left = if p * 2 < remain {
                remain - p * 2
            } else {
                remain
            };
            left / 2
        }
    }
    .max(u64::from(DEFAULT_MAXCONN));
    let written = cli_maxconn.map(u64::from).filter(|m| *m > 0).or_else(|| {
        cfg.global
            .maxconn
            .and_then(|m| u64::try_from(m).ok())
            .filter(|m| *m > 0)
    });
    let maxconn = written.unwrap_or(ideal).min(MAX_FIGURE);
    let pipes = global_number(cfg, "maxpipes")
        .filter(|p| *p > 0)
        .or_else(|| ideal_pipes(cfg, maxconn))
        .unwrap_or(0);
    let maxsock = (base + 2 * maxconn + 2 * pipes + per_threads).min(MAX_FIGURE);
    let nofile = cfg
        .global
        .ulimit_n
        .and_then(|n| u64::try_from(n).ok())
        .filter(|n| *n > 0)
        .unwrap_or(maxsock)
        .min(MAX_FIGURE);
    let to_u32 = |v: u64| u32::try_from(v).unwrap_or(u32::MAX);
    Limits {
        maxconn: to_u32(maxconn),
        maxsock: to_u32(maxsock),
        nofile: to_u32(nofile),
    }
}

/// What [`apply`] reports, in order: HAProxy's warning when the limit could not be raised,
/// its alert when the limit left is below `maxsock`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Applied {
    /// `Cannot raise FD limit to N, limit is M.` (a warning).
    pub(crate) warning: Option<String>,
    /// `FD limit (M) too low for maxconn=C/maxsock=S. ...`, or under `strict-limits` `Cannot
    /// raise FD limit to N, limit is M.` (an alert).
    pub(crate) alert: Option<String>,
    /// The alert ends startup (exit 1): `strict-limits`, HAProxy 2.6's default.
    pub(crate) fatal: bool,
}

/// Whether HAProxy's `strict-limits` holds: its default in 2.6, unless the global section says
/// `no strict-limits` (the last such line wins; a plain `strict-limits` changes nothing).
pub(crate) fn strict_limits(cfg: &Config) -> bool {
    cfg.global
        .other
        .iter()
        .rev()
        .find_map(|d| match d.words.as_slice() {
            [no, kw] if no == "no" && kw == "strict-limits" => Some(false),
            [kw] if kw == "strict-limits" => Some(true),
            _ => None,
        })
        .unwrap_or(true)
}

/// Sets `RLIMIT_NOFILE` to `limits.nofile` as HAProxy's `main()` does (the hard limit raised
/// with it when allowed). When that is refused: with `strict`, HAProxy's alert and the process
/// is to exit 1 ([`Applied::fatal`]); without (`no strict-limits`), it falls back to the hard
/// limit with HAProxy's warning. Then a limit below `maxsock` gets HAProxy's alert, fatal with
/// `strict` too.
///
/// COMPAT: `fd-hard-limit` is not read (haproxy-cfg does not keep it).
pub(crate) fn apply(limits: &Limits, boot: FdLimits, strict: bool) -> Applied {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    let want = u64::from(limits.nofile);
    let mut applied = Applied::default();
    if setrlimit(Resource::RLIMIT_NOFILE, want, boot.hard.max(want)).is_err() {
        let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).unwrap_or((boot.soft, boot.hard));
        if strict {
            applied.alert = Some(format!(
                "[haproxy.main()] Cannot raise FD limit to {want}, limit is {soft}."
            ));
            applied.fatal = true;
            return applied;
        }
        let now = if setrlimit(Resource::RLIMIT_NOFILE, hard, hard).is_ok() {
            hard
        } else {
            soft
        };
        applied.warning = Some(format!(
            "[haproxy.main()] Cannot raise FD limit to {want}, limit is {now}."
        ));
    }
    let (now, _) = getrlimit(Resource::RLIMIT_NOFILE).unwrap_or((boot.soft, boot.hard));
    if now < u64::from(limits.maxsock) {
        applied.fatal = strict;
        applied.alert = Some(format!(
            "[haproxy.main()] FD limit ({now}) too low for maxconn={}/maxsock={}. \
             Please raise 'ulimit-n' to {} or more to avoid any trouble.",
            limits.maxconn, limits.maxsock, limits.maxsock
        ));
    }
    applied
}

#[cfg(test)]
mod tests {
    use haproxy_cfg::load::{SystemEnv, load};
    use haproxy_cfg::parse_str;

    use super::*;

    /// The configuration the figures below were read from on HAProxy 2.6.12 (`show info`
    /// under `ulimit -n 1024`, 4096 and 20000: tests/data/haproxy-2.6/limits/README.md).
    const BASE: &str = "global\n stats socket /tmp/x.sock level admin\n nbthread 2\n\
        frontend f\n bind 127.0.0.1:1\n default_backend b\nbackend b\n server s 127.0.0.1:2\n";

    fn cfg(text: &str) -> Config {
        load(&[parse_str("t.cfg", text)], &SystemEnv).config
    }

    fn fds(n: u64) -> FdLimits {
        FdLimits { soft: n, hard: n }
    }

    #[test]
    fn the_fd_limit_gives_haproxys_figures() {
        let c = cfg(BASE);
        for (n, maxconn) in [(1024, 498), (4096, 2034), (20_000, 9986)] {
            let got = derive(&c, None, 2, fds(n));
            let want = Limits {
                maxconn,
                maxsock: n as u32,
                nofile: n as u32,
            };
            assert_eq!(got, want, "ulimit -n {n}");
        }
    }

    #[test]
    fn the_hard_limit_counts_when_higher() {
        let got = derive(
            &cfg(BASE),
            None,
            2,
            FdLimits {
                soft: 1024,
                hard: 4096,
            },
        );
        assert_eq!(got.maxconn, 2034);
    }

    #[test]
    fn a_written_maxconn_or_dash_n_wins_and_sets_maxsock() {
        let got = derive(&cfg(BASE), Some(500), 2, fds(1024));
        assert_eq!(
            got,
            Limits {
                maxconn: 500,
                maxsock: 1028,
                nofile: 1028
            }
        );
        let text = BASE.replace("nbthread 2", "nbthread 2\n maxconn 300\n ulimit-n 5000");
        let got = derive(&cfg(&text), None, 2, fds(1024));
        assert_eq!(
            got,
            Limits {
                maxconn: 300,
                maxsock: 628,
                nofile: 5000
            }
        );
    }

    #[test]
    fn a_tiny_limit_still_gives_the_default_maxconn() {
        let got = derive(&cfg(BASE), None, 2, fds(100));
        assert_eq!(got.maxconn, DEFAULT_MAXCONN);
        assert_eq!(got.maxsock, 228);
    }

    #[test]
    fn listeners_checks_and_port_ranges_take_descriptors() {
        // 10 reserved + 10 ports + 3 for check, agent-check and agent-port + 6 per threads.
        let text = "global\n nbthread 2\nfrontend f\n bind 127.0.0.1:1-10\n default_backend b\n\
            backend b\n server s 127.0.0.1:2 check agent-check agent-port 9\n";
        let got = derive(&cfg(text), None, 2, fds(1029));
        assert_eq!(got.maxconn, 500);
        assert_eq!(got.maxsock, 1029);
    }

    #[test]
    fn splicing_without_limits_keeps_half_a_pipe_per_connection() {
        let text = BASE.replace(
            "default_backend b",
            "default_backend b\n option splice-auto",
        );
        let got = derive(&cfg(&text), None, 2, fds(1024));
        // 2 x 996 / 5, then a quarter of it in pipes (two descriptors each).
        assert_eq!(got.maxconn, 398);
        assert_eq!(got.maxsock, 28 + 2 * 398 + 2 * (398 / 4));
    }

    #[test]
    fn maxpipes_takes_two_descriptors_per_pipe() {
        let text = BASE.replace("nbthread 2", "nbthread 2\n maxconn 300\n maxpipes 10");
        assert_eq!(derive(&cfg(&text), None, 2, fds(1024)).maxsock, 628 + 20);
    }

    #[test]
    fn figures_stop_at_the_largest_c_int() {
        let got = derive(&cfg(BASE), None, 2, fds(u64::MAX));
        assert_eq!(u64::from(got.maxconn), (MAX_FIGURE - 28) / 2);
        assert_eq!(u64::from(got.maxsock), 28 + 2 * u64::from(got.maxconn));
        let text = BASE.replace("nbthread 2", "nbthread 2\n maxconn 2147483647");
        assert_eq!(
            u64::from(derive(&cfg(&text), None, 2, fds(1024)).maxsock),
            MAX_FIGURE
        );
    }
    #[test]
    fn strict_limits_hold_unless_the_global_section_says_no_the_last_line_winning() {
        let with = |lines: &str| {
            strict_limits(&cfg(&BASE.replace("global\n", &format!("global\n{lines}"))))
        };
        assert!(with(""));
        assert!(!with(" no strict-limits\n"));
        assert!(with(" no strict-limits\n strict-limits\n"));
        assert!(!with(" strict-limits\n no strict-limits\n"));
        // Other negations leave it alone.
        assert!(with(" no busy-polling\n"));
    }
}
