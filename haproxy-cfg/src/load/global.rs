//! The `global` section parser (HAProxy's `cfg_parse_global()` and registered keywords).

use super::{Ctx, Loader, misc};
use crate::diag::Origin;
use crate::keywords::{GLOBAL_COMMON, GLOBAL_REGISTERED, suggest_global};
use crate::model::{Directive, EnvOp, StatsSocket};
use crate::values::{TimeError, TimeUnit, atol, parse_time, strict_int};

/// `tune.bufsize` upper bound we accept (HAProxy's buffers are `int`-sized).
pub const MAX_BUFSIZE: i64 = 1 << 30;

/// `global` header: no argument allowed.
pub(super) fn header(l: &mut Loader<'_>, ctx: &Ctx<'_>) {
    too_many_args(l, ctx, 0);
}

/// Reports HAProxy's "cannot handle unexpected argument" when more than `max` arguments follow
/// the keyword; returns whether it did.
pub(super) fn too_many_args(l: &mut Loader<'_>, ctx: &Ctx<'_>, max: usize) -> bool {
    if ctx.len() > max + 1 {
        let msg = format!(
            "'{}' cannot handle unexpected argument '{}'.",
            ctx.arg(0),
            ctx.arg(max + 1)
        );
        l.alert(ctx, ctx.col(max + 1), "too-many-args", Origin::Parsing, msg);
        return true;
    }
    false
}

fn expects_int(l: &mut Loader<'_>, ctx: &Ctx<'_>) -> bool {
    if ctx.arg(1).is_empty() {
        let msg = format!("'{}' expects an integer argument.", ctx.arg(0));
        missing_arg(l, ctx, Origin::Parsing, msg);
        return true;
    }
    false
}

fn already(l: &mut Loader<'_>, ctx: &Ctx<'_>) {
    let msg = format!("'{}' already specified. Continuing.", ctx.arg(0));
    duplicate(l, ctx, Origin::Parsing, msg);
}

/// The fatal "expects …" alert of a keyword given too few arguments, pointed at the keyword.
fn missing_arg(l: &mut Loader<'_>, ctx: &Ctx<'_>, origin: Origin, msg: String) {
    l.alert(ctx, ctx.col(0), "missing-argument", origin, msg);
}

/// Emits the non-fatal "already specified" alert every repeated one-shot setting gets.
fn duplicate(l: &mut Loader<'_>, ctx: &Ctx<'_>, origin: Origin, msg: String) {
    l.emit(
        crate::diag::Diagnostic::alert("duplicate-setting", origin, msg)
            .at(&ctx.file, ctx.line, ctx.col(0))
            .non_fatal(),
    );
}

/// `user`/`uid` share one slot and `group`/`gid` another: reports a second setting of either
/// (HAProxy words the `group` case its own way) and returns whether it did.
fn owner_already_set(l: &mut Loader<'_>, ctx: &Ctx<'_>) -> bool {
    let g = &l.config.global;
    let (set, what) = match ctx.arg(0) {
        "user" | "uid" => (
            g.user.is_some() || g.uid.is_some(),
            "user/uid already specified",
        ),
        "gid" => (
            g.group.is_some() || g.gid.is_some(),
            "group/gid already specified",
        ),
        _ => (
            g.group.is_some() || g.gid.is_some(),
            "gid/group was already specified",
        ),
    };
    if set {
        duplicate(l, ctx, Origin::Parsing, format!("{what}. Continuing."));
    }
    set
}

/// The keywords HAProxy 2.6 lets `no` and `default` prefix.
const NEGATABLE: &[&str] = &[
    "option",
    "log",
    "busy-polling",
    "set-dumpable",
    "strict-limits",
    "insecure-fork-wanted",
    "numa-cpu-mapping",
];

/// The global keywords whose negation is kept in the model (as a `no ...` directive).
const NEGATED_FLAGS: &[&str] = &[
    "busy-polling",
    "set-dumpable",
    "strict-limits",
    "insecure-fork-wanted",
    "numa-cpu-mapping",
];

/// One line of a `global` section; a `no` or `default` prefix first goes as HAProxy 2.6's
/// reader takes it off.
pub(super) fn directive(l: &mut Loader<'_>, ctx: &Ctx<'_>) {
    match ctx.arg(0) {
        "no" => prefixed(l, ctx, true),
        "default" => prefixed(l, ctx, false),
        _ => keyword(l, ctx),
    }
}

/// A line prefixed by `no` (`negate`) or `default`. Only [`NEGATABLE`] keywords may follow;
/// any other gets HAProxy's alert and is then read as if unprefixed, as 2.6 does. `default`
/// leaves the last word twice, as HAProxy's shift does, so `default strict-limits` is refused
/// for its extra argument there too. `no log` forgets the global log targets.
fn prefixed(l: &mut Loader<'_>, ctx: &Ctx<'_>, negate: bool) {
    let mut shifted = ctx.shifted();
    if !negate && let Some(last) = shifted.args.last().cloned() {
        shifted.args.push(last);
    }
    let kw = shifted.arg(0);
    if !NEGATABLE.contains(&kw) {
        let msg = "negation/default currently supported only for options, log, busy-polling, \
                   set-dumpable, strict-limits, insecure-fork-wanted and numa-cpu-mapping."
            .to_owned();
        l.alert(ctx, ctx.col(0), "bad-prefix", Origin::ParsingTight, msg);
    } else if negate && kw == "log" {
        l.config.global.logs.clear();
        return;
    } else if negate && NEGATED_FLAGS.contains(&kw) {
        if !too_many_args(l, &shifted, 0) {
            l.config.global.other.push(Directive {
                loc: ctx.loc(),
                words: ctx.rest(0),
            });
        }
        return;
    }
    keyword(l, &shifted);
}

/// One line of a `global` section, its keyword first.
fn keyword(l: &mut Loader<'_>, ctx: &Ctx<'_>) {
    let kw = ctx.arg(0);
    match kw {
        "daemon"
        | "quiet"
        | "zero-warning"
        | "noepoll"
        | "nopoll"
        | "nosplice"
        | "noreuseport"
        | "busy-polling"
        | "insecure-fork-wanted"
        | "expose-experimental-directives"
        | "h2-workaround-bogus-websocket-clients"
        | "strict-limits"
        | "set-dumpable" => {
            if too_many_args(l, ctx, 0) {
                return;
            }
            let g = &mut l.config.global;
            match kw {
                "daemon" => g.daemon = true,
                "quiet" => {
                    g.quiet = true;
                    l.quiet_from = l.quiet_from.or(Some(l.diags.len()));
                }
                "zero-warning" => g.zero_warning = true,
                _ => g.other.push(Directive {
                    loc: ctx.loc(),
                    words: ctx.rest(0),
                }),
            }
        }
        "master-worker" => {
            if too_many_args(l, ctx, 1) {
                return;
            }
            if !ctx.arg(1).is_empty() && ctx.arg(1) != "no-exit-on-failure" {
                let msg = format!("'{kw}' only supports 'no-exit-on-failure' option.");
                l.alert(ctx, ctx.col(1), "bad-argument", Origin::Parsing, msg);
                return;
            }
            l.config.global.master_worker = true;
        }
        "maxconn" | "ulimit-n" | "fd-hard-limit" => {
            if too_many_args(l, ctx, 1) {
                return;
            }
            let g = &l.config.global;
            let set = match kw {
                "maxconn" => g.maxconn,
                "ulimit-n" => g.ulimit_n,
                _ => g.fd_hard_limit,
            };
            if set.is_some_and(|v| v != 0) {
                return already(l, ctx);
            }
            if expects_int(l, ctx) {
                return;
            }
            let v = atol(ctx.arg(1));
            let g = &mut l.config.global;
            let slot = match kw {
                "maxconn" => &mut g.maxconn,
                "ulimit-n" => &mut g.ulimit_n,
                _ => &mut g.fd_hard_limit,
            };
            *slot = Some(v);
        }
        "nbproc" => {
            // COMPAT: HAProxy 2.6 rejects `nbproc`; processes became threads, so we map it.
            let n = u32::try_from(atol(ctx.arg(1)).max(1)).unwrap_or(1);
            let msg = format!(
                "'nbproc' is not supported since HAProxy 2.5; mapped to 'nbthread {n}' (processes became threads)."
            );
            let help = format!("write 'nbthread {n}' instead");
            l.emit(
                crate::diag::Diagnostic::warning("legacy-keyword", Origin::Parsing, msg)
                    .at(&ctx.file, ctx.line, ctx.col(0))
                    .with_help(help),
            );
            let g = &mut l.config.global;
            g.nbproc = Some(n);
            if g.nbthread.is_none() {
                g.nbthread = Some(n);
            }
        }
        "nbthread" => {
            if too_many_args(l, ctx, 1) {
                return;
            }
            match strict_int(ctx.arg(1))
                .and_then(|v| u32::try_from(v).ok())
                .filter(|v| (1..=64).contains(v))
            {
                Some(n) => l.config.global.nbthread = Some(n),
                None if strict_int(ctx.arg(1)).is_none() => {
                    let msg = format!(
                        "'{kw}' passed a missing or unparsable integer value in '{}'",
                        ctx.arg(1)
                    );
                    l.alert(ctx, ctx.col(1), "bad-integer", Origin::Parsing, msg);
                }
                None => {
                    let msg = format!("'{kw}' value must be between 1 and 64 (was {})", ctx.arg(1));
                    l.alert(ctx, ctx.col(1), "out-of-range", Origin::Parsing, msg);
                }
            }
        }
        "tune.bufsize" | "tune.maxrewrite" | "tune.http.maxhdr" => tune(l, ctx),
        "uid" | "gid" => {
            if too_many_args(l, ctx, 1) {
                return;
            }
            if owner_already_set(l, ctx) {
                return;
            }
            if expects_int(l, ctx) {
                return;
            }
            match ctx.arg(1).parse::<u32>() {
                Ok(v) => {
                    let g = &mut l.config.global;
                    if kw == "uid" {
                        g.uid = Some(v)
                    } else {
                        g.gid = Some(v)
                    }
                }
                Err(_) => {
                    let hint = if kw == "uid" {
                        "'user' parameter to use a system user"
                    } else {
                        "'group' parameter to use a system group"
                    };
                    let msg = format!(
                        " {kw}: string '{}' is not a number.\n   | You might want to use the {hint} name.",
                        ctx.arg(1)
                    );
                    l.warn(ctx, ctx.col(1), "bad-integer", Origin::Parsing, msg);
                }
            }
        }
        "user" | "group" => {
            if too_many_args(l, ctx, 1) {
                return;
            }
            if owner_already_set(l, ctx) {
                return;
            }
            let name = ctx.arg(1).to_owned();
            let exists = if kw == "user" {
                l.env.user_exists(&name)
            } else {
                l.env.group_exists(&name)
            };
            if !exists {
                let msg = format!("cannot find {kw} id for '{name}' (0:Success)");
                l.alert(ctx, ctx.col(1), "unknown-user", Origin::Parsing, msg);
                return;
            }
            let g = &mut l.config.global;
            if kw == "user" {
                g.user = Some(name)
            } else {
                g.group = Some(name)
            }
        }
        "h1-case-adjust" => {
            if too_many_args(l, ctx, 2) {
                return;
            }
            let (from, to) = (ctx.arg(1), ctx.arg(2));
            if from.is_empty() || to.is_empty() {
                let msg = format!("'{kw}' expects <from> and <to> as argument.");
                missing_arg(l, ctx, Origin::Parsing, msg);
                return;
            }
            let pairs = &mut l.config.global.h1_case_adjust;
            if let Err(msg) = crate::checks::case_adjust::add_pair(pairs, from, to) {
                l.alert(ctx, ctx.col(1), "bad-case-adjust", Origin::Parsing, msg);
            }
        }
        "h1-case-adjust-file" => {
            if too_many_args(l, ctx, 1) {
                return;
            }
            if ctx.arg(1).is_empty() {
                let msg = format!("'{kw}' expects <file> as argument.");
                missing_arg(l, ctx, Origin::Parsing, msg);
                return;
            }
            l.config.global.h1_case_adjust_file = Some(ctx.arg(1).to_owned());
        }
        "chroot" | "pidfile" => {
            if too_many_args(l, ctx, 1) {
                return;
            }
            let g = &l.config.global;
            let set = if kw == "chroot" {
                g.chroot.is_some()
            } else {
                g.pidfile.is_some()
            };
            if set {
                return already(l, ctx);
            }
            if ctx.arg(1).is_empty() {
                let what = if kw == "chroot" {
                    "a directory"
                } else {
                    "a file name"
                };
                let msg = format!("'{kw}' expects {what} as an argument.");
                missing_arg(l, ctx, Origin::Parsing, msg);
                return;
            }
            let v = Some(ctx.arg(1).to_owned());
            let g = &mut l.config.global;
            if kw == "chroot" {
                g.chroot = v
            } else {
                g.pidfile = v
            }
        }
        "description" => {
            if ctx.arg(1).is_empty() {
                let msg = format!("'{kw}' expects a string argument.");
                missing_arg(l, ctx, Origin::ParsingTight, msg);
                return;
            }
            l.config.global.description = Some(ctx.rest(1).join(" "));
        }
        "node" => {
            if too_many_args(l, ctx, 1) {
                return;
            }
            let v = ctx.arg(1);
            if v.is_empty()
                || !v
                    .bytes()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.'))
            {
                let msg = format!(
                    "'{kw}' requires valid node name - non-empty string with digits(0-9), letters(A-Z, a-z), dot(.), hyphen(-) or underscode(_)."
                );
                l.alert(ctx, ctx.col(1), "bad-name", Origin::ParsingTight, msg);
                return;
            }
            l.config.global.node = Some(v.to_owned());
        }
        "log" => {
            if let Some(t) = misc::log_line(l, ctx, false) {
                l.config.global.logs.push(t);
            }
        }
        "log-tag" => {
            if too_many_args(l, ctx, 1) {
                return;
            }
            if ctx.arg(1).is_empty() {
                let msg = format!("'{kw}' expects a tag for use in syslog.");
                missing_arg(l, ctx, Origin::Parsing, msg);
                return;
            }
            l.config.global.log_tag = Some(ctx.arg(1).to_owned());
        }
        "spread-checks" => {
            if too_many_args(l, ctx, 1) {
                return;
            }
            if l.config.global.spread_checks.is_some_and(|v| v != 0) {
                let msg = "spread-checks already specified. Continuing.".to_owned();
                duplicate(l, ctx, Origin::ParsingTight, msg);
                return;
            }
            if ctx.arg(1).is_empty() {
                let msg = format!("'{kw}' expects an integer argument (0..50).");
                missing_arg(l, ctx, Origin::ParsingTight, msg);
                return;
            }
            let v = atol(ctx.arg(1));
            match u8::try_from(v).ok().filter(|v| *v <= 50) {
                Some(v) => l.config.global.spread_checks = Some(v),
                None => {
                    let msg = format!("'{kw}' needs a positive value in range 0..50.");
                    l.alert(ctx, ctx.col(1), "out-of-range", Origin::ParsingTight, msg);
                }
            }
        }
        "max-spread-checks" => {
            if too_many_args(l, ctx, 1) {
                return;
            }
            if ctx.arg(1).is_empty() {
                // 2.6 words it as `spread-checks` does.
                let msg = format!("'{kw}' expects an integer argument (0..50).");
                missing_arg(l, ctx, Origin::ParsingTight, msg);
                return;
            }
            // A character after the digits and unit is refused like one instead of the unit.
            let bad = match parse_time(ctx.arg(1), TimeUnit::Millis) {
                Ok(t) => match t.trailing {
                    None => {
                        l.config.global.max_spread_checks = Some(t.value);
                        return;
                    }
                    Some(c) => Ok(c),
                },
                Err(TimeError::UnexpectedChar(c)) => Ok(c.unwrap_or_default()),
                Err(TimeError::Overflow) => Err(()),
            };
            let msg = match bad {
                Ok(c) => format!("unsupported character '{c}' in '{kw}' (wants an integer delay)."),
                Err(()) => format!(
                    "timer overflow in argument <{}> to <{kw}>, maximum value is 2147483647 ms (~24.8 days).",
                    ctx.arg(1)
                ),
            };
            l.alert(ctx, ctx.col(1), "bad-time", Origin::ParsingTight, msg);
        }
        // `close-spread-time infinite` turns active closing off during a soft stop.
        "close-spread-time" if ctx.arg(1) == "infinite" => l.config.global.other.push(Directive {
            loc: ctx.loc(),
            words: ctx.rest(0),
        }),
        "hard-stop-after" | "grace" | "close-spread-time" => {
            let name = kw.to_owned();
            match misc::time_arg(l, ctx, 1, TimeUnit::Millis, &name) {
                Some(v) if name == "hard-stop-after" => l.config.global.hard_stop_after = Some(v),
                Some(_) => l.config.global.other.push(Directive {
                    loc: ctx.loc(),
                    words: ctx.rest(0),
                }),
                None => {}
            }
        }
        "stats" => stats(l, ctx),
        "default-path" => super::default_path::directive(l, ctx),
        "unix-bind" => super::unix_bind::directive(l, ctx),
        "setenv" | "presetenv" => {
            if too_many_args(l, ctx, 2) {
                return;
            }
            if ctx.arg(2).is_empty() {
                let msg = format!("'{kw}' expects a name and a value.");
                missing_arg(l, ctx, Origin::ParsingTight, msg);
                return;
            }
            let (n, v) = (ctx.arg(1).to_owned(), ctx.arg(2).to_owned());
            l.config.global.env.push(if kw == "setenv" {
                EnvOp::Set(n, v)
            } else {
                EnvOp::Preset(n, v)
            });
        }
        "unsetenv" => {
            if ctx.arg(1).is_empty() {
                let msg = format!("'{kw}' expects at least one variable name.");
                missing_arg(l, ctx, Origin::ParsingTight, msg);
                return;
            }
            l.config.global.env.push(EnvOp::Unset(ctx.rest(1)));
        }
        "resetenv" => l.config.global.env.push(EnvOp::Reset(ctx.rest(1))),
        "ca-base" | "crt-base" => {
            if ctx.arg(1).is_empty() {
                let msg = format!("'{kw}' expects a directory path as an argument.");
                missing_arg(l, ctx, Origin::Parsing, msg);
                return;
            }
            let v = Some(ctx.arg(1).to_owned());
            let g = &mut l.config.global;
            if kw == "ca-base" {
                g.ca_base = v
            } else {
                g.crt_base = v
            }
        }
        "cpu-map" => l.config.global.cpu_map.push(ctx.rest(1)),
        "lua-load" | "lua-load-per-thread" => {
            let path = ctx.arg(1);
            if let Err(e) = l.env.read_file(&l.resolve(path)) {
                let reason = e.to_string();
                let reason = reason.split(" (os error").next().unwrap_or(&reason);
                let msg = format!("error in Lua file '{path}': cannot open {path}: {reason}");
                l.alert(ctx, ctx.col(1), "missing-file", Origin::Parsing, msg);
                return;
            }
            l.config.global.other.push(Directive {
                loc: ctx.loc(),
                words: ctx.rest(0),
            });
        }
        "ssl-server-verify" => {
            if !matches!(ctx.arg(1), "none" | "required") {
                let msg = format!("'{kw}' expects 'none' or 'required' as argument.");
                l.alert(ctx, ctx.col(1), "bad-argument", Origin::Parsing, msg);
                return;
            }
            l.config.global.ssl.push((kw.to_owned(), ctx.rest(1)));
        }
        "tune.ssl.default-dh-param" | "maxsslconn" => {
            if expects_int(l, ctx) {
                return;
            }
            if kw == "tune.ssl.default-dh-param" && atol(ctx.arg(1)) < 1024 {
                let msg = format!("'{kw}' expects a value >= 1024.");
                l.alert(ctx, ctx.col(1), "out-of-range", Origin::Parsing, msg);
                return;
            }
            l.config.global.other.push(Directive {
                loc: ctx.loc(),
                words: ctx.rest(0),
            });
        }
        "ssl-default-bind-options" | "ssl-default-server-options" => {
            let mut i = 1;
            while !ctx.arg(i).is_empty() {
                let o = ctx.arg(i);
                match o {
                    "ssl-min-ver" | "ssl-max-ver" => i += 1,
                    "no-sslv3" | "no-tlsv10" | "no-tlsv11" | "no-tlsv12" | "no-tlsv13"
                    | "force-sslv3" | "force-tlsv10" | "force-tlsv11" | "force-tlsv12"
                    | "force-tlsv13" | "no-tls-tickets" => {}
                    "prefer-client-ciphers" if kw == "ssl-default-bind-options" => {}
                    _ => {
                        let msg = format!("unknown option '{o}' on global statement '{kw}'.");
                        l.alert(ctx, ctx.col(i), "bad-argument", Origin::Parsing, msg);
                        return;
                    }
                }
                i += 1;
            }
            l.config.global.ssl.push((kw.to_owned(), ctx.rest(1)));
        }
        _ if kw.starts_with("ssl-") && is_known(kw) => {
            if ctx.arg(1).is_empty() && kw.starts_with("ssl-default-") && kw.contains("cipher") {
                let msg = format!("global statement '{kw}' expects a cipher suite as an argument.");
                missing_arg(l, ctx, Origin::Parsing, msg);
                return;
            }
            l.config.global.ssl.push((kw.to_owned(), ctx.rest(1)));
        }
        "tune.fd.edge-triggered" if !experimental_allowed(l) => {
            let msg = format!(
                "'{kw}' directive is experimental, must be allowed via a global 'expose-experimental-directives'"
            );
            l.alert(ctx, ctx.col(0), "experimental", Origin::Parsing, msg);
        }
        "tune.ssl.capture-cipherlist-size" => {
            let msg = format!(
                "'{kw}' is deprecated and will be removed in version 2.7. Please use 'tune.ssl.capture-buffer-size' instead."
            );
            l.warn(ctx, ctx.col(0), "deprecated", Origin::ParsingTight, msg);
            l.config.global.other.push(Directive {
                loc: ctx.loc(),
                words: ctx.rest(0),
            });
        }
        _ if is_known(kw) => l.config.global.other.push(Directive {
            loc: ctx.loc(),
            words: ctx.rest(0),
        }),
        _ => {
            let msg = match suggest_global(kw) {
                Some(best) => format!(
                    "unknown keyword '{kw}' in 'global' section; did you mean '{best}' maybe ?"
                ),
                None => format!("unknown keyword '{kw}' in 'global' section"),
            };
            l.alert(ctx, ctx.col(0), "unknown-keyword", Origin::Parsing, msg);
        }
    }
}

/// Whether a keyword is known in `global`.
fn is_known(kw: &str) -> bool {
    GLOBAL_REGISTERED.contains(&kw) || GLOBAL_COMMON.contains(&kw)
}

/// Whether an earlier `expose-experimental-directives` line allows experimental keywords.
fn experimental_allowed(l: &Loader<'_>) -> bool {
    l.config.global.other.iter().any(|d| {
        d.words
            .first()
            .is_some_and(|w| w == "expose-experimental-directives")
    })
}

/// `tune.bufsize`, `tune.maxrewrite`, `tune.http.maxhdr`.
fn tune(l: &mut Loader<'_>, ctx: &Ctx<'_>) {
    let kw = ctx.arg(0);
    if too_many_args(l, ctx, 1) || expects_int(l, ctx) {
        return;
    }
    let text = ctx.arg(1);
    let v = atol(text);
    // COMPAT: HAProxy 2.6 reads `16k` as 16 and then crashes (`tune.bufsize 16k` segfaults
    // `haproxy -c`); we refuse any suffix with a clear message.
    if strict_int(text).is_none() && v > 0 {
        let msg = format!(
            "'{kw}' expects a plain integer number of bytes, without a unit (got '{text}')."
        );
        l.emit(
            crate::diag::Diagnostic::alert("bad-integer", Origin::Parsing, msg)
                .at(&ctx.file, ctx.line, ctx.col(1))
                .with_help("HAProxy 2.6 has no size suffixes here: write 16384 for 16k"),
        );
        return;
    }
    let t = &mut l.config.global.tune;
    match kw {
        "tune.bufsize" => {
            if v <= 0 || v > MAX_BUFSIZE {
                let msg = format!("'{kw}' expects a positive integer argument.");
                l.alert(ctx, ctx.col(1), "out-of-range", Origin::Parsing, msg);
                return;
            }
            t.bufsize = u32::try_from(v).ok();
        }
        "tune.maxrewrite" => t.maxrewrite = u32::try_from(v.max(0)).ok(),
        _ => {
            if !(1..=32767).contains(&v) {
                let msg = format!("'{kw}' expects a numeric value between 1 and 32767");
                l.alert(ctx, ctx.col(1), "out-of-range", Origin::Parsing, msg);
                return;
            }
            t.http_maxhdr = u32::try_from(v).ok();
        }
    }
}

/// `stats socket|timeout|maxconn|bind-process` in global.
fn stats(l: &mut Loader<'_>, ctx: &Ctx<'_>) {
    match ctx.arg(1) {
        "socket" => {
            if ctx.arg(2).is_empty() {
                let msg = "'stats socket' in global section expects an address or a path to a UNIX socket".to_owned();
                l.alert(ctx, ctx.col(1), "missing-argument", Origin::Parsing, msg);
                return;
            }
            let mut s = StatsSocket {
                address: ctx.arg(2).to_owned(),
                mode: None,
                level: None,
                expose_fd_listeners: false,
                other: Vec::new(),
            };
            let mut i = 3;
            while i < ctx.len() {
                match ctx.arg(i) {
                    "mode" => {
                        s.mode = u32::from_str_radix(ctx.arg(i + 1), 8).ok();
                        i += 2;
                    }
                    "level" => {
                        let lv = ctx.arg(i + 1);
                        if !matches!(lv, "user" | "operator" | "admin") {
                            let msg = format!(
                                "'stats socket' : ''level' only supports 'user', 'operator', and 'admin' (got '{lv}')'"
                            );
                            l.alert(ctx, ctx.col(i + 1), "bad-argument", Origin::Parsing, msg);
                            return;
                        }
                        s.level = Some(lv.to_owned());
                        i += 2;
                    }
                    "expose-fd" => {
                        s.expose_fd_listeners = ctx.arg(i + 1) == "listeners";
                        i += 2;
                    }
                    other => {
                        s.other.push(other.to_owned());
                        i += 1;
                    }
                }
            }
            l.config.global.stats_sockets.push(s);
        }
        "timeout" => {
            let name = "'stats timeout'";
            if let Some(v) = misc::stats_timeout(l, ctx, name) {
                l.config.global.stats_timeout = Some(v);
            }
        }
        "maxconn" => {
            let v = atol(ctx.arg(2));
            if v <= 0 {
                let msg = "'stats maxconn' expects a positive value".to_owned();
                l.alert(ctx, ctx.col(2), "out-of-range", Origin::Parsing, msg);
                return;
            }
            l.config.global.stats_maxconn = Some(v);
        }
        "bind-process" => l.config.global.other.push(Directive {
            loc: ctx.loc(),
            words: ctx.rest(0),
        }),
        other => {
            let msg = format!(
                "'stats' only supports 'socket', 'maxconn', 'bind-process' and 'timeout' (got '{other}')"
            );
            l.alert(ctx, ctx.col(1), "bad-argument", Origin::Parsing, msg);
        }
    }
}
