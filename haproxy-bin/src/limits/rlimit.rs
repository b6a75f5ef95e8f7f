//! The process limits HAProxy 2.6.12 sets once the figures are settled (the `ulimits` step of
//! its `main()`): `RLIMIT_NOFILE` raised (never lowered) to `ulimit-n` or `maxsock` within
//! `fd-hard-limit`, then `RLIMIT_AS` set to `-m` megabytes, then the check that the
//! descriptor limit covers `maxsock`, each failure with HAProxy's warning or, under
//! `strict-limits`, its alert and exit 1.

use haproxy_cfg::model::Config;
use nix::sys::resource::{Resource, getrlimit, setrlimit};

use super::{FdLimits, Limits, above_hard_limit};

/// What [`apply`] reports, in order: HAProxy's warnings, then its alert.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Applied {
    /// Warnings: `Cannot raise FD limit to N, limit is M.`, `Cannot fix MEM limit to N megs.`
    pub(crate) warnings: Vec<String>,
    /// `FD limit (M) too low for maxconn=C/maxsock=S. ...`, or under `strict-limits` the
    /// failure that ends startup.
    pub(crate) alert: Option<String>,
    /// The alert ends startup (exit 1): `strict-limits`, HAProxy 2.6's default.
    pub(crate) fatal: bool,
    /// `Ulimit-n` of `show info`: the limit asked for, or the one obtained when that failed.
    pub(crate) ulimit_n: u32,
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

/// HAProxy's `raise_rlim_nofile()`: sets `RLIMIT_NOFILE` to `(soft, hard)` only when one of
/// them is above the current one (a limit is never lowered). `false` when the system refuses.
pub(crate) fn raise_nofile(soft: u64, hard: u64) -> bool {
    match getrlimit(Resource::RLIMIT_NOFILE) {
        Ok((cur, max)) if cur < soft || max < hard => {
            setrlimit(Resource::RLIMIT_NOFILE, soft, hard).is_ok()
        }
        Ok(_) => true,
        Err(_) => false,
    }
}

/// HAProxy's `check_if_maxsock_permitted()` without the `fd-hard-limit` test (the caller makes
/// it): whether the descriptor limit could be raised to `maxsock`, tried and then put back
/// (as HAProxy, with [`raise_nofile`], which never lowers it again).
pub(crate) fn maxsock_permitted(maxsock: u64) -> bool {
    let Ok((cur, max)) = getrlimit(Resource::RLIMIT_NOFILE) else {
        return true;
    };
    if !raise_nofile(cur, max) {
        return true;
    }
    let want = maxsock.max(max);
    let ok = raise_nofile(want, want);
    if !raise_nofile(cur, max) {
        return true;
    }
    ok
}

/// The soft descriptor limit now (`fallback` when unreadable).
fn soft_nofile(fallback: u64) -> u64 {
    getrlimit(Resource::RLIMIT_NOFILE).map_or(fallback, |(cur, _)| cur)
}

/// A limit as C's `%d` of an `(int)` cast prints it.
fn c_int(v: u64) -> i32 {
    v as i32
}

/// Sets the process limits for `limits` as HAProxy's `main()` does. `RLIMIT_NOFILE`: raised to
/// `limits.nofile` (hard limit `max(boot hard, nofile)`); above `fd-hard-limit` or refused,
/// under `strict` HAProxy's alert and exit 1 ([`Applied::fatal`]), without it the most the hard
/// limit and `fd-hard-limit` allow, with HAProxy's warning. `RLIMIT_AS` (soft and hard): `-m`
/// megabytes; refused, an alert and exit 1 under `strict`, else a warning. Then a descriptor
/// limit below `maxsock` gets HAProxy's alert, fatal under `strict` too.
pub(crate) fn apply(limits: &Limits, boot: FdLimits, strict: bool) -> Applied {
    let want = u64::from(limits.nofile);
    let hard_limit = limits.fd_hard_limit;
    let mut applied = Applied {
        ulimit_n: limits.nofile,
        ..Applied::default()
    };
    if above_hard_limit(want, hard_limit) || !raise_nofile(want, boot.hard.max(want)) {
        let (cur, max) = getrlimit(Resource::RLIMIT_NOFILE).unwrap_or((boot.soft, boot.hard));
        let shown = if above_hard_limit(cur, hard_limit) {
            i64::from(hard_limit) as u64
        } else {
            cur
        };
        if strict {
            applied.alert = Some(format!(
                "[haproxy.main()] Cannot raise FD limit to {want}, limit is {}.",
                c_int(shown)
            ));
            applied.fatal = true;
            return applied;
        }
        let target = if above_hard_limit(max, hard_limit) {
            i64::from(hard_limit) as u64
        } else {
            max
        };
        raise_nofile(target, max);
        let now = soft_nofile(cur);
        applied.warnings.push(format!(
            "[haproxy.main()] Cannot raise FD limit to {want}, limit is {}.",
            c_int(now)
        ));
        applied.ulimit_n = c_int(now) as u32;
    }
    if limits.memmax_mb != 0 {
        // C: the `int` times 1048576ULL (a negative one wraps).
        let bytes = (i64::from(limits.memmax_mb) as u64).wrapping_mul(1_048_576);
        if setrlimit(Resource::RLIMIT_AS, bytes, bytes).is_err() {
            let text = format!(
                "[haproxy.main()] Cannot fix MEM limit to {} megs.",
                limits.memmax_mb
            );
            if strict {
                applied.alert = Some(text);
                applied.fatal = true;
                return applied;
            }
            applied.warnings.push(text);
        }
    }
    let now = soft_nofile(boot.soft);
    if now < u64::from(limits.maxsock) {
        applied.fatal = strict;
        applied.alert = Some(format!(
            "[haproxy.main()] FD limit ({}) too low for maxconn={}/maxsock={}. \
             Please raise 'ulimit-n' to {} or more to avoid any trouble.",
            c_int(now),
            limits.maxconn,
            limits.maxsock,
            limits.maxsock
        ));
    }
    applied
}
