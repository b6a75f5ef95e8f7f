//! Proxy sections: headers (names, `from`, defaults inheritance) and keyword dispatch (HAProxy's
//! `cfg_parse_listen()` and the keywords it registers).

use super::{Ctx, Loader, bind, global::too_many_args, misc, options, server};
use crate::diag::{Diagnostic, Origin};
use crate::keywords::{PROXY_COMMON, PROXY_REGISTERED, suggest_proxy};
use crate::model::{Directive, Mode, Proxy, ProxyKind, Rule, RuleKind};
use crate::values::{TimeError, TimeUnit, atol, parse_time};

/// Characters HAProxy allows in proxy, ACL and defaults names.
pub(super) fn invalid_char(name: &str) -> Option<char> {
    name.chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':' | '-')))
}

/// A section header `defaults|frontend|backend|listen [name] [from <defaults>]`.
pub(super) fn header(l: &mut Loader<'_>, kind: ProxyKind, ctx: &Ctx<'_>) {
    let kw = kind.as_str();
    if kind == ProxyKind::Defaults {
        return defaults_header(l, ctx);
    }
    l.current = None;
    let name = ctx.arg(1).to_owned();
    if name.is_empty() {
        let msg = format!("'{kw}' expects an <id> argument");
        return l.abort(ctx, "missing-name", Origin::Parsing, msg);
    }
    if let Some(c) = invalid_char(&name) {
        let msg = format!("character '{c}' is not permitted in '{kw}' name '{name}'.");
        l.alert(ctx, ctx.col(1), "bad-name", Origin::Parsing, msg);
    }
    let side = usize::from(kind == ProxyKind::Backend);
    let dup = l
        .names
        .get(side)
        .and_then(|m| m.get(&name))
        .and_then(|i| l.config.proxies.get(*i));
    if let Some(p) = dup {
        let msg = format!(
            "{} '{name}' has the same name as {} '{}' declared at {}:{}.",
            kind.type_str(),
            p.kind.type_str(),
            p.name,
            p.loc.file,
            p.loc.line
        );
        l.alert(
            ctx,
            ctx.col(1),
            "duplicate-proxy",
            Origin::ParsingCapital,
            msg,
        );
    }
    let has_from = ctx.arg(2) == "from" && !ctx.arg(3).is_empty();
    let mut legacy_bind = None;
    if !ctx.arg(2).is_empty() && !has_from {
        if kind == ProxyKind::Backend || ctx.len() > 3 {
            if kind != ProxyKind::Backend {
                let msg = "please use the 'bind' keyword for listening addresses.".to_owned();
                l.alert(ctx, ctx.col(2), "address-on-header", Origin::Parsing, msg);
            }
            return;
        }
        // COMPAT: HAProxy 2.6 refuses an address on the section line; its meaning is
        // unambiguous (a `bind` line), so we accept it with a warning.
        let msg = format!(
            "listening address '{}' on the '{kw}' line is a legacy form; mapped to 'bind {}'.",
            ctx.arg(2),
            ctx.arg(2)
        );
        let help = format!("move it to a line 'bind {}' in the section", ctx.arg(2));
        l.emit(
            Diagnostic::warning("legacy-keyword", Origin::Parsing, msg)
                .at(&ctx.file, ctx.line, ctx.col(2))
                .with_help(help),
        );
        legacy_bind = Some(ctx.arg(2).to_owned());
    } else if too_many_args(l, ctx, 3) {
        return;
    }
    let Some(def) = pick_defaults(
        l,
        ctx,
        kind,
        &name,
        if has_from { Some(ctx.arg(3)) } else { None },
    ) else {
        return;
    };
    let mut p = match def {
        Some(i) => inherit(l, i, kind, &name, ctx),
        None => Proxy::new(kind, &name, ctx.loc()),
    };
    if l.aborted {
        return;
    }
    l.current_defaults = def.and_then(|i| l.config.defaults.get(i)).cloned();
    if let Some(text) = legacy_bind {
        match bind::parse_addresses(l, &text) {
            Ok(addresses) => p.binds.push(crate::model::Bind {
                loc: ctx.loc(),
                text,
                addresses,
                options: crate::model::BindOptions::default(),
                unix_defaults: bind::unix_defaults(l),
            }),
            Err(e) => {
                let msg = format!("'bind' : {e}");
                l.alert(ctx, ctx.col(2), "bad-address", Origin::Parsing, msg);
            }
        }
    }
    let index = l.config.proxies.len();
    for (i, names) in l.names.iter_mut().enumerate() {
        let has = if i == 0 {
            p.kind.has_frontend()
        } else {
            p.kind.has_backend()
        };
        if has {
            names.entry(p.name.clone()).or_insert(index);
        }
    }
    l.config.proxies.push(p);
    l.enter_proxy(false);
}

/// `defaults [name] [from <name>]`: resets to the built-in defaults (or the named parent).
fn defaults_header(l: &mut Loader<'_>, ctx: &Ctx<'_>) {
    let (name, from) = if ctx.arg(1) == "from" && !ctx.arg(2).is_empty() && ctx.arg(3).is_empty() {
        (String::new(), Some(ctx.arg(2).to_owned()))
    } else if ctx.arg(2) == "from" {
        (ctx.arg(1).to_owned(), Some(ctx.arg(3).to_owned()))
    } else {
        (ctx.arg(1).to_owned(), None)
    };
    if !ctx.arg(2).is_empty() && from.is_none() && too_many_args(l, ctx, 1) {
        return;
    }
    let parent = match from.as_deref() {
        None => None,
        Some(f) => match find_defaults(l, ctx, f, "defaults", &name) {
            Some(i) => Some(i),
            None => return,
        },
    };
    if let Some(i) = parent.filter(|i| defaults_has_rules(l, *i)) {
        {
            let at = l
                .config
                .defaults
                .get(i)
                .map(|d| d.loc.clone())
                .unwrap_or_default();
            let msg = format!(
                "a defaults section cannot inherit from a defaults section defining TCP/HTTP rules (defaults section at {}:{}).",
                at.file, at.line
            );
            return l.abort(ctx, "defaults-rules", Origin::ParsingTight, msg);
        }
    }
    let mut p = match parent {
        Some(i) => inherit(l, i, ProxyKind::Defaults, &name, ctx),
        None => Proxy::new(ProxyKind::Defaults, &name, ctx.loc()),
    };
    p.rules.clear();
    l.config.defaults.push(p);
    l.defaults_refs.push((false, false));
    l.defaults_rules_side.push(None);
    l.last_defaults = Some(l.config.defaults.len() - 1);
    l.enter_proxy(true);
    l.current_defaults = parent.and_then(|i| l.config.defaults.get(i)).cloned();
}

/// Finds a defaults section by name for `from`, reporting HAProxy's errors.
fn find_defaults(
    l: &mut Loader<'_>,
    ctx: &Ctx<'_>,
    name: &str,
    kw: &str,
    proxy: &str,
) -> Option<usize> {
    let mut found = l
        .config
        .defaults
        .iter()
        .enumerate()
        .filter(|(_, d)| d.name == name);
    let Some((i, first)) = found.next() else {
        let msg = format!("defaults section '{name}' not found for {kw} '{proxy}'.");
        l.abort(ctx, "unknown-defaults", Origin::Parsing, msg);
        return None;
    };
    let first_loc = first.loc.clone();
    if let Some((_, second)) = found.next() {
        let msg = format!(
            "ambiguous defaults section name '{name}' referenced by {kw} '{proxy}' exists at least at {}:{} and {}:{}.",
            first_loc.file, first_loc.line, second.loc.file, second.loc.line
        );
        l.alert(ctx, ctx.col(0), "ambiguous-defaults", Origin::Parsing, msg);
    }
    if let Some(c) = invalid_char(name) {
        let msg = format!(
            "character '{c}' is not permitted in defaults section name '{name}' when designated by its name (section found at {}:{}).",
            first_loc.file, first_loc.line
        );
        l.alert(ctx, ctx.col(0), "bad-name", Origin::Parsing, msg);
    }
    if let Some(r) = l.defaults_refs.get_mut(i) {
        r.0 = true;
    }
    Some(i)
}

/// Chooses the defaults section of a regular proxy; `None` when it aborted, `Some(None)` when
/// there is no defaults section at all.
fn pick_defaults(
    l: &mut Loader<'_>,
    ctx: &Ctx<'_>,
    kind: ProxyKind,
    name: &str,
    from: Option<&str>,
) -> Option<Option<usize>> {
    let idx = match from {
        Some(f) => Some(find_defaults(l, ctx, f, kind.type_str(), name)?),
        None => {
            let i = l.last_defaults;
            if let Some(r) = i.and_then(|i| l.defaults_refs.get_mut(i)) {
                r.1 = true;
            }
            i
        }
    };
    let Some(i) = idx else { return Some(None) };
    if l.defaults_refs.get(i) == Some(&(true, true)) {
        let d = l
            .config
            .defaults
            .get(i)
            .map(|d| (d.name.clone(), d.loc.clone()))
            .unwrap_or_default();
        let msg = format!(
            "defaults section '{}' (declared at {}:{}) is explicitly referenced by another proxy and implicitly used here. To avoid any ambiguity don't mix both usage. Add a last defaults section not explicitly used or always use explicit references.",
            d.0, d.1.file, d.1.line
        );
        l.emit(
            Diagnostic::alert("mixed-defaults", Origin::Parsing, msg)
                .at(&ctx.file, ctx.line, ctx.col(0))
                .non_fatal(),
        );
    }
    if defaults_has_rules(l, i) {
        let at = l
            .config
            .defaults
            .get(i)
            .map(|d| d.loc.clone())
            .unwrap_or_default();
        if kind == ProxyKind::Listen {
            let msg =
                "a listen section cannot inherit from a defaults section defining TCP/HTTP rules."
                    .to_owned();
            l.abort(ctx, "defaults-rules", Origin::ParsingTight, msg);
            return None;
        }
        let side = l.defaults_rules_side.get(i).copied().flatten();
        if side.is_some_and(|s| s != kind) {
            let msg = format!(
                "frontends and backends cannot inherit from the same defaults section if it defines TCP/HTTP rules (defaults section at {}:{}).",
                at.file, at.line
            );
            l.abort(ctx, "defaults-rules", Origin::ParsingTight, msg);
            return None;
        }
        let refused = match kind {
            ProxyKind::Backend
                if defaults_has_tcp(l, i, RuleKind::TcpRequest, &["connection", "session"]) =>
            {
                "a backend section cannot inherit from a defaults section defining 'tcp-request connection' or 'tcp-request session' rules"
            }
            ProxyKind::Frontend if defaults_has_tcp(l, i, RuleKind::TcpResponse, &["content"]) => {
                "a frontend section cannot inherit from a defaults section defining 'tcp-response content' rules"
            }
            _ => "",
        };
        if !refused.is_empty() {
            let msg = format!("{refused} (defaults section at {}:{}).", at.file, at.line);
            l.abort(ctx, "defaults-rules", Origin::ParsingTight, msg);
            return None;
        }
        if let Some(s) = l.defaults_rules_side.get_mut(i) {
            *s = Some(kind);
        }
    }
    Some(Some(i))
}

/// Whether defaults section `i` has `kind` rules of one of the `subs` rulesets.
fn defaults_has_tcp(l: &Loader<'_>, i: usize, kind: RuleKind, subs: &[&str]) -> bool {
    l.config.defaults.get(i).is_some_and(|d| {
        d.rules
            .iter()
            .any(|r| r.kind == kind && r.words.first().is_some_and(|w| subs.contains(&w.as_str())))
    })
}

/// Whether a defaults section defines TCP/HTTP rules (ACLs alone do not count).
fn defaults_has_rules(l: &Loader<'_>, i: usize) -> bool {
    l.config.defaults.get(i).is_some_and(|d| {
        d.rules.iter().any(|r| {
            matches!(
                r.kind,
                RuleKind::HttpRequest
                    | RuleKind::HttpResponse
                    | RuleKind::HttpAfterResponse
                    | RuleKind::TcpRequest
                    | RuleKind::TcpResponse
            ) && r.words.first().is_none_or(|w| w != "inspect-delay")
        })
    })
}

/// A new proxy initialised from defaults section `i`.
fn inherit(l: &Loader<'_>, i: usize, kind: ProxyKind, name: &str, ctx: &Ctx<'_>) -> Proxy {
    let Some(d) = l.config.defaults.get(i) else {
        return Proxy::new(kind, name, ctx.loc());
    };
    let mut p = d.clone();
    p.kind = kind;
    p.name = name.to_owned();
    p.loc = ctx.loc();
    p.defaults = Some((d.name.clone(), d.loc.clone()));
    p.rules = Vec::new();
    p.other = Vec::new();
    p
}

/// Keywords only meaningful on the frontend side (warned about and ignored in a backend).
const FRONTEND_ONLY: &[&str] = &[
    "bind",
    "default_backend",
    "use_backend",
    "monitor-uri",
    "monitor",
    "capture",
    "maxconn",
    "backlog",
    "unique-id-format",
    "unique-id-header",
    "log-format-sd",
    "error-log-format",
    "rate-limit",
    "max-session-srv-conns",
    "declare",
    "clitcpka-cnt",
    "clitcpka-idle",
    "clitcpka-intvl",
];

/// Keywords only meaningful on the backend side (warned about and ignored in a frontend).
const BACKEND_ONLY: &[&str] = &[
    "balance",
    "hash-type",
    "hash-balance-factor",
    "cookie",
    "retries",
    "retry-on",
    "fullconn",
    "http-check",
    "tcp-check",
    "http-reuse",
    "http-send-name-header",
    "dispatch",
    "use-server",
    "force-persist",
    "ignore-persist",
    "stick",
    "persist",
    "srvtcpka-cnt",
    "srvtcpka-idle",
    "srvtcpka-intvl",
    "load-server-state-from-file",
    "server-state-file-name",
    "max-keep-alive-queue",
    "source",
    "external-check",
    "use-fcgi-app",
    "dynamic-cookie-key",
];

/// Keywords refused in any defaults section.
const NOT_IN_DEFAULTS: &[&str] = &[
    "bind",
    "capture",
    "use_backend",
    "redirect",
    "description",
    "id",
    "stick-table",
    "dispatch",
    "use-server",
    "force-persist",
    "ignore-persist",
    "stick",
    "server-template",
    "declare",
    "use-fcgi-app",
    "filter",
];

/// Rule keywords refused in an anonymous defaults section.
const NAMED_DEFAULTS_ONLY: &[&str] = &[
    "acl",
    "http-request",
    "http-response",
    "http-after-response",
    "tcp-request",
    "tcp-response",
];

/// Header-rewriting keywords that HAProxy 2.1 removed, with the end of HAProxy's message (after
/// `The '<kw>' `). Only `reqadd`/`rspadd` of a plain `Name: value` map without a regex engine.
const LEGACY_REWRITES: &[(&str, &str)] = &[
    (
        "cliexp",
        "directive is not supported anymore since HAProxy 2.1. Use 'http-request replace-path', 'http-request replace-uri' or 'http-request replace-header' instead.",
    ),
    (
        "reqrep",
        "directive is not supported anymore since HAProxy 2.1. Use 'http-request replace-path', 'http-request replace-uri' or 'http-request replace-header' instead.",
    ),
    (
        "reqdel",
        "directive is not supported anymore since HAProxy 2.1. Use 'http-request del-header' instead.",
    ),
    (
        "reqdeny",
        "not supported anymore since HAProxy 2.1. Use 'http-request deny' instead.",
    ),
    ("reqpass", "not supported anymore since HAProxy 2.1."),
    (
        "reqallow",
        "directive is not supported anymore since HAProxy 2.1. Use 'http-request allow' instead.",
    ),
    (
        "reqtarpit",
        "directive is not supported anymore since HAProxy 2.1. Use 'http-request tarpit' instead.",
    ),
    (
        "reqirep",
        "directive is not supported anymore since HAProxy 2.1. Use 'http-request replace-header' instead.",
    ),
    (
        "reqidel",
        "directive is not supported anymore since HAProxy 2.1. Use 'http-request del-header' instead.",
    ),
    (
        "reqideny",
        "directive is not supported anymore since HAProxy 2.1. Use 'http-request deny' instead.",
    ),
    (
        "reqipass",
        "directive is not supported anymore since HAProxy 2.1.",
    ),
    (
        "reqiallow",
        "directive is not supported anymore since HAProxy 2.1. Use 'http-request allow' instead.",
    ),
    (
        "reqitarpit",
        "directive is not supported anymore since HAProxy 2.1. Use 'http-request tarpit' instead.",
    ),
    (
        "reqadd",
        "directive is not supported anymore since HAProxy 2.1. Use 'http-request add-header' instead.",
    ),
    (
        "srvexp",
        "directive is not supported anymore since HAProxy 2.1. Use 'http-response replace-header' instead.",
    ),
    (
        "rsprep",
        "directive is not supported anymore since HAProxy 2.1. Use 'http-response replace-header' instead.",
    ),
    (
        "rspdel",
        "directive is not supported anymore since HAProxy 2.1. Use 'http-response del-header' .",
    ),
    (
        "rspdeny",
        "directive is not supported anymore since HAProxy 2.1. Use 'http-response deny' instead.",
    ),
    (
        "rspirep",
        "directive is not supported anymore since HAProxy 2.1. Use 'http-response replace-header' instead.",
    ),
    (
        "rspidel",
        "directive is not supported anymore since HAProxy 2.1. Use 'http-response del-header' instead.",
    ),
    (
        "rspideny",
        "directive is not supported anymore since HAProxy 2.1. Use 'http-response deny' instead.",
    ),
    (
        "rspadd",
        "directive is not supported anymore since HAProxy 2.1. Use 'http-response add-header' instead.",
    ),
];

/// One line of a proxy section.
pub(super) fn directive(l: &mut Loader<'_>, ctx: &Ctx<'_>) {
    let Some(is_def) = l.current else {
        let msg = "'listen' or 'defaults' expected.".to_owned();
        return l.alert(ctx, ctx.col(0), "no-section", Origin::Parsing, msg);
    };
    let Some(p) = l.proxy_mut() else { return };
    let (kind, pname) = (p.kind, std::sync::Arc::clone(&l.current_name));
    let kw = ctx.arg(0);
    // "no" / "default" prefixes: only `option` and `log` accept them here.
    if kw == "no" || kw == "default" {
        let mut shifted = ctx.shifted();
        // HAProxy 2.6's shift leaves the last word twice after `default` (as in `global`):
        // `default option httpclose` reads as `option httpclose httpclose`.
        if kw == "default"
            && let Some(last) = shifted.args.last().cloned()
        {
            shifted.args.push(last);
        }
        match shifted.arg(0) {
            "option" => return options::option(l, &shifted, kw == "no"),
            "log" if kw == "no" => {
                if let Some(p) = l.proxy_mut() {
                    p.logs.clear();
                }
                return;
            }
            _ => {
                let msg = "negation/default currently supported only for options, log, busy-polling, set-dumpable, strict-limits, insecure-fork-wanted, insecure-setuid-wanted, nogetaddrinfo and log-send-hostname.".to_owned();
                return l.alert(ctx, ctx.col(0), "bad-prefix", Origin::ParsingTight, msg);
            }
        }
    }
    if is_def && matches!(kw, "server" | "server-template") {
        let msg = format!("'{kw}' not allowed in 'defaults' section.");
        return l.alert(ctx, ctx.col(0), "not-in-defaults", Origin::Located, msg);
    }
    if is_def && NOT_IN_DEFAULTS.contains(&kw) {
        let what = if kw == "capture" {
            format!("{kw} {}", ctx.arg(1))
        } else {
            kw.to_owned()
        };
        let msg = format!("'{what}' not allowed in 'defaults' section.");
        return l.alert(ctx, ctx.col(0), "not-in-defaults", Origin::Parsing, msg);
    }
    if is_def && pname.is_empty() && NAMED_DEFAULTS_ONLY.contains(&kw) {
        let msg = format!("'{kw}' not allowed in anonymous 'defaults' section.");
        return l.alert(
            ctx,
            ctx.col(0),
            "rule-in-anonymous-defaults",
            Origin::Parsing,
            msg,
        );
    }
    let side_warn = |l: &mut Loader<'_>, fe: bool| {
        let hint = match kw {
            "maxconn" => " Maybe you want 'fullconn' instead ?",
            "fullconn" => " Maybe you want 'maxconn' instead ?",
            _ => "",
        };
        let msg = format!(
            "'{kw}' ignored because {} '{pname}' has no {} capability.{hint}",
            kind.type_str(),
            if fe { "frontend" } else { "backend" }
        );
        l.warn(ctx, ctx.col(0), "wrong-side", Origin::Parsing, msg);
    };
    if !kind.has_frontend() && FRONTEND_ONLY.contains(&kw) {
        return side_warn(l, true);
    }
    if !kind.has_backend() && BACKEND_ONLY.contains(&kw) {
        return side_warn(l, false);
    }
    match kw {
        "server" | "default-server" | "server-template" => {
            server::server_line(l, ctx, kind, &pname)
        }
        "bind" => bind::bind_line(l, ctx, kind),
        "mode" => {
            let m = match ctx.arg(1) {
                "http" => Mode::Http,
                "tcp" => Mode::Tcp,
                "health" => {
                    let msg = "'mode health' doesn't exist anymore. Please use 'http-request return status 200' instead.";
                    return l.alert(
                        ctx,
                        ctx.col(1),
                        "legacy-keyword",
                        Origin::Parsing,
                        msg.to_owned(),
                    );
                }
                other => {
                    let msg = format!("unknown proxy mode '{other}'.");
                    return l.alert(ctx, ctx.col(1), "bad-mode", Origin::Parsing, msg);
                }
            };
            set(l, |p| p.mode = m);
        }
        "timeout" | "clitimeout" | "srvtimeout" | "contimeout" => timeout(l, ctx, kind, &pname),
        "option" => options::option(l, ctx, false),
        "maxconn" | "backlog" | "fullconn" | "retries" => {
            if ctx.arg(1).is_empty() {
                let msg = if kw == "retries" {
                    format!("'{kw}' expects an integer argument (dispatch counts for one).")
                } else {
                    format!("'{kw}' expects an integer argument.")
                };
                return l.alert(ctx, ctx.col(0), "missing-argument", Origin::Parsing, msg);
            }
            let v = Some(atol(ctx.arg(1)));
            set(l, |p| match kw {
                "maxconn" => p.maxconn = v,
                "backlog" => p.backlog = v,
                "fullconn" => p.fullconn = v,
                _ => p.retries = v,
            });
        }
        "retry-on" => retry_on(l, ctx),
        "balance" => {
            if let Some(b) = misc::balance(l, ctx) {
                set(l, |p| p.balance = Some(b));
            }
        }
        "hash-type" => {
            if let Some(h) = misc::hash_type(l, ctx) {
                set(l, |p| p.hash_type = Some(h));
            }
        }
        "hash-balance-factor" => {
            if ctx.arg(1).is_empty() {
                let msg = format!("'{kw}' expects an integer argument.");
                return l.alert(ctx, ctx.col(0), "missing-argument", Origin::Parsing, msg);
            }
            let v = atol(ctx.arg(1));
            if v != 0 && v <= 100 || v < 0 {
                let msg = format!("'{kw}' must be 0 or greater than 100.");
                return l.alert(ctx, ctx.col(1), "out-of-range", Origin::Parsing, msg);
            }
            set(l, |p| p.hash_balance_factor = u32::try_from(v).ok());
        }
        "cookie" => {
            if let Some(c) = misc::cookie(l, ctx) {
                set(l, |p| p.cookie = Some(c));
            }
        }
        "errorfile" => {
            if let Some(e) = misc::errorfile(l, ctx) {
                set(l, |p| p.errorfiles.push(e));
            }
        }
        "errorloc" | "errorloc302" | "errorloc303" => {
            if let Some(e) = misc::errorloc(l, ctx) {
                set(l, |p| p.errorfiles.push(e));
            }
        }
        "errorfiles" => {
            if ctx.arg(1).is_empty() {
                let msg = format!("{kw} : expects <name> as argument.");
                return l.alert(ctx, ctx.col(0), "missing-argument", Origin::Parsing, msg);
            }
            let (name, loc) = (ctx.arg(1).to_owned(), ctx.loc());
            let codes = ctx.rest(2).iter().filter_map(|c| c.parse().ok()).collect();
            set(l, |p| {
                p.errorfiles
                    .push(crate::model::ErrorFile::Section { name, codes, loc })
            });
        }
        "http-send-name-header" if ctx.arg(1).is_empty() => {
            let msg = format!("'{kw}' requires a header string.");
            l.alert(ctx, ctx.col(0), "missing-argument", Origin::Parsing, msg);
        }
        "http-error" => {
            // A status HAProxy can answer (200..599) but has no error message slot for.
            let status = ctx
                .args
                .iter()
                .position(|a| a.value == "status")
                .map(|i| i + 1);
            if let Some(i) = status.filter(|i| !ctx.arg(*i).is_empty()) {
                let code = crate::values::atoi(ctx.arg(i));
                let known = u16::try_from(code).is_ok_and(|c| super::ERROR_CODES.contains(&c));
                if (200..=599).contains(&code) && !known {
                    let msg = format!("{kw}: status code '{code}' not handled.");
                    return l.alert(ctx, ctx.col(i), "bad-status", Origin::Parsing, msg);
                }
            }
            let d = Directive {
                loc: ctx.loc(),
                words: ctx.rest(0),
            };
            set(l, |p| p.http_errors.push(d));
        }
        "capture" => {
            if let Some(c) = misc::capture(l, ctx) {
                set(l, |p| p.captures.push(c));
            }
        }
        "monitor-uri" => {
            if ctx.arg(1).is_empty() {
                let msg = format!("'{kw}' expects an URI.");
                return l.alert(ctx, ctx.col(0), "missing-argument", Origin::Parsing, msg);
            }
            let v = Some(ctx.arg(1).to_owned());
            set(l, |p| p.monitor_uri = v);
        }
        "monitor-net" => {
            // COMPAT: removed in HAProxy 2.1; we answer the monitor request for these sources.
            let net = ctx.arg(1).to_owned();
            if crate::values::parse_network(&net).is_none() {
                let msg = format!("'{kw}' expects address[/mask].");
                return l.alert(ctx, ctx.col(1), "bad-address", Origin::Parsing, msg);
            }
            let msg = format!(
                "'monitor-net' is a legacy keyword; clients from {net} get the monitor answer, as 'http-request return status 200 if {{ src {net} }}' would do."
            );
            let help = format!("write 'http-request return status 200 if {{ src {net} }}' instead");
            l.emit(
                Diagnostic::warning("legacy-keyword", Origin::Parsing, msg)
                    .at(&ctx.file, ctx.line, ctx.col(0))
                    .with_help(help),
            );
            set(l, |p| p.monitor_nets.push(net));
        }
        "monitor" => {
            if ctx.arg(1) != "fail" {
                let msg = format!("'{kw}' only supports 'fail'.");
                return l.alert(ctx, ctx.col(1), "bad-argument", Origin::Parsing, msg);
            }
            if !matches!(ctx.arg(2), "if" | "unless") {
                let msg = format!(
                    "'{kw} fail' requires either 'if' or 'unless' followed by a condition."
                );
                return l.alert(ctx, ctx.col(2), "missing-condition", Origin::Parsing, msg);
            }
            rule_order_warning(
                l,
                ctx,
                "monitor fail",
                &[
                    RuleKind::HttpRequest,
                    RuleKind::Redirect,
                    RuleKind::UseBackend,
                    RuleKind::UseServer,
                ],
            );
            push_rule(l, ctx, RuleKind::MonitorFail, 1);
        }
        "acl" => {
            if let Some(c) = invalid_char(ctx.arg(1)) {
                let msg = format!(
                    "character '{c}' is not permitted in acl name '{}'.",
                    ctx.arg(1)
                );
                return l.alert(ctx, ctx.col(1), "bad-name", Origin::Parsing, msg);
            }
            if ctx.arg(1).eq_ignore_ascii_case("or") || ctx.arg(1) == "||" {
                let msg = format!(
                    "acl name '{}' will never match. 'or' is used to express a logical disjunction within a condition.",
                    ctx.arg(1)
                );
                return l.alert(ctx, ctx.col(1), "bad-name", Origin::Parsing, msg);
            }
            if ctx.arg(2).is_empty() {
                let msg = format!(
                    "error detected while parsing ACL '{}' : missing fetch method in ACL expression ''.",
                    ctx.arg(1)
                );
                return l.alert(ctx, ctx.col(0), "missing-argument", Origin::Parsing, msg);
            }
            push_rule(l, ctx, RuleKind::Acl, 1);
        }
        "http-request" => {
            if !http_action(l, ctx, crate::keywords::HTTP_REQUEST_ACTIONS)
                || !super::reply_file::check(l, ctx, kind, &pname)
            {
                return;
            }
            rule_order_warning(
                l,
                ctx,
                "http-request",
                &[
                    RuleKind::Redirect,
                    RuleKind::UseBackend,
                    RuleKind::UseServer,
                ],
            );
            push_rule(l, ctx, RuleKind::HttpRequest, 1);
        }
        "http-response" | "http-after-response" => {
            let (k, list) = if kw == "http-response" {
                (
                    RuleKind::HttpResponse,
                    crate::keywords::HTTP_RESPONSE_ACTIONS,
                )
            } else {
                (
                    RuleKind::HttpAfterResponse,
                    crate::keywords::HTTP_AFTER_RESPONSE_ACTIONS,
                )
            };
            if http_action(l, ctx, list) && super::reply_file::check(l, ctx, kind, &pname) {
                push_rule(l, ctx, k, 1);
            }
        }
        "tcp-request" | "tcp-response" => tcp_rule(l, ctx, kind),
        "redirect" => {
            if !matches!(ctx.arg(1), "location" | "prefix" | "scheme") || ctx.arg(2).is_empty() {
                let msg = format!(
                    "error detected in {} '{pname}' while parsing redirect rule : expects 'code', 'prefix', 'location', 'scheme', 'set-cookie', 'clear-cookie', 'drop-query', 'ignore-empty' or 'append-slash' (was '{}').",
                    kind.type_str(),
                    ctx.arg(1)
                );
                return l.alert(ctx, ctx.col(1), "bad-redirect", Origin::Parsing, msg);
            }
            rule_order_warning(
                l,
                ctx,
                "redirect",
                &[RuleKind::UseBackend, RuleKind::UseServer],
            );
            push_rule(l, ctx, RuleKind::Redirect, 1);
        }
        "use_backend" => {
            if ctx.arg(1).is_empty() {
                let msg = format!("'{kw}' expects a backend name.");
                return l.alert(ctx, ctx.col(0), "missing-argument", Origin::Parsing, msg);
            }
            if !ctx.arg(2).is_empty() && !matches!(ctx.arg(2), "if" | "unless") {
                let msg = format!(
                    "unexpected keyword '{}' after switching rule, only 'if' and 'unless' are allowed.",
                    ctx.arg(2)
                );
                return l.alert(ctx, ctx.col(2), "bad-condition", Origin::Parsing, msg);
            }
            push_rule(l, ctx, RuleKind::UseBackend, 1);
        }
        "use-server" => push_rule(l, ctx, RuleKind::UseServer, 1),
        "force-persist" | "ignore-persist" => push_rule(l, ctx, RuleKind::Persist, 0),
        "stick" => push_rule(l, ctx, RuleKind::Stick, 1),
        "default_backend" => {
            if ctx.arg(1).is_empty() {
                let msg = format!("'{kw}' expects a backend name.");
                return l.alert(ctx, ctx.col(0), "missing-argument", Origin::Parsing, msg);
            }
            if too_many_args(l, ctx, 1) {
                return;
            }
            let v = Some((ctx.arg(1).to_owned(), ctx.loc()));
            set(l, |p| p.default_backend = v);
        }
        "log" => {
            if let Some(t) = misc::log_line(l, ctx, true) {
                set(l, |p| p.logs.push(t));
            }
        }
        "log-format" => {
            if ctx.arg(1).is_empty() {
                let msg = format!("{kw} expects an argument.");
                return l.alert(ctx, ctx.col(0), "missing-argument", Origin::Parsing, msg);
            }
            if !kind.has_frontend() {
                let msg = format!("backend '{pname}' : '{kw}' directive is ignored in backends.");
                l.warn(ctx, ctx.col(0), "wrong-side", Origin::Parsing, msg);
            }
            let (v, loc) = (Some(ctx.arg(1).to_owned()), ctx.loc());
            set(l, |p| {
                p.log_format = v;
                p.options.log_style = None;
                p.log_format_loc = Some(loc);
            });
        }
        "stats" => {
            let d = Directive {
                loc: ctx.loc(),
                words: ctx.rest(0),
            };
            let (sub, arg) = (ctx.arg(1), ctx.arg(2));
            let fail = |l: &mut Loader<'_>, origin: Origin, msg: String| {
                l.alert(ctx, ctx.col(1), "bad-stats", origin, msg);
            };
            match sub {
                "admin" if is_def => {
                    return fail(
                        l,
                        Origin::ParsingTight,
                        "'stats admin' not allowed in 'defaults' section.".to_owned(),
                    );
                }
                "admin" if !matches!(arg, "if" | "unless") => {
                    let msg =
                        "'stats admin' requires either 'if' or 'unless' followed by a condition."
                            .to_owned();
                    return fail(l, Origin::Parsing, msg);
                }
                "http-request" if is_def => {
                    return fail(
                        l,
                        Origin::ParsingTight,
                        "'stats' not allowed in 'defaults' section.".to_owned(),
                    );
                }
                "uri" if arg.is_empty() => {
                    return fail(l, Origin::Parsing, "'uri' needs an URI prefix.".to_owned());
                }
                "realm" if arg.is_empty() => {
                    return fail(
                        l,
                        Origin::Parsing,
                        "'realm' needs an realm name.".to_owned(),
                    );
                }
                "auth" if arg.is_empty() => {
                    return fail(
                        l,
                        Origin::Parsing,
                        "'auth' needs a user:password account.".to_owned(),
                    );
                }
                "scope" if arg.is_empty() => {
                    return fail(l, Origin::Parsing, "'scope' needs a proxy name.".to_owned());
                }
                "refresh" => match parse_time(arg, TimeUnit::Seconds) {
                    Ok(_) => {}
                    Err(TimeError::UnexpectedChar(c)) => {
                        let c = c.unwrap_or('\0');
                        let msg = format!(
                            "unexpected character '{c}' in argument to stats refresh interval."
                        );
                        return fail(l, Origin::ParsingTight, msg);
                    }
                    Err(TimeError::Overflow) => {
                        let msg = format!(
                            "timer overflow in argument <{arg}> to stats refresh interval, maximum value is 2147483647 s (~68 years)."
                        );
                        return fail(l, Origin::ParsingTight, msg);
                    }
                },
                "admin" | "uri" | "realm" | "auth" | "scope" | "enable" | "hide-version"
                | "show-legends" | "show-modules" | "show-node" | "show-desc" | "http-request" => {}
                _ => {
                    let msg = format!(
                        "unknown stats parameter '{sub}', expects 'admin', 'uri', 'realm', 'auth', 'scope', 'enable', 'hide-version', 'show-node', 'show-desc' or 'show-legends'."
                    );
                    return fail(l, Origin::ParsingTight, msg);
                }
            }
            set(l, |p| p.stats.push(d));
        }
        "description" => {
            let v = Some(ctx.rest(1).join(" "));
            set(l, |p| p.description = v);
        }
        "id" => {
            let v = atol(ctx.arg(1));
            if v <= 0 {
                let msg = "custom id has to be > 0.".to_owned();
                return l.alert(ctx, ctx.col(1), "bad-id", Origin::ParsingTight, msg);
            }
            set(l, |p| p.id = Some(v));
        }
        "disabled" => set(l, |p| p.disabled = true),
        "enabled" => set(l, |p| p.disabled = false),
        "block" => {
            // COMPAT: removed in HAProxy 2.1; `block <cond>` is exactly `http-request deny <cond>`.
            let msg = "'block' is a legacy keyword; mapped to 'http-request deny' (same syntax)."
                .to_owned();
            l.emit(
                Diagnostic::warning("legacy-keyword", Origin::Parsing, msg)
                    .at(&ctx.file, ctx.line, ctx.col(0))
                    .with_help("write 'http-request deny' instead of 'block'"),
            );
            let mut words = vec!["deny".to_owned()];
            words.extend(ctx.rest(1));
            let rule = Rule::new(RuleKind::HttpRequest, ctx.loc(), words);
            set(l, |p| p.rules.push(rule));
        }
        "bind-process" => {
            // COMPAT: deprecated in 2.6 (warning there too); no effect.
            let msg =
                "'bind-process' has no effect, is deprecated, and will be removed in version 2.7."
                    .to_owned();
            l.warn(
                ctx,
                ctx.col(0),
                "deprecated-keyword",
                Origin::ParsingTight,
                msg,
            );
        }
        "appsession" => {
            let msg = "'appsession' is not supported anymore since HAProxy 1.6.".to_owned();
            l.alert(ctx, ctx.col(0), "legacy-keyword", Origin::Parsing, msg);
        }
        "persist" => {
            if !ctx.arg(1).starts_with("rdp-cookie") {
                let msg = "missing persist method.".to_owned();
                return l.alert(ctx, ctx.col(0), "missing-argument", Origin::Parsing, msg);
            }
            other(l, ctx);
        }
        "redispatch" => {
            // COMPAT: removed in 2.1; the keyword alone meant exactly `option redispatch`.
            let msg = "'redispatch' is a legacy keyword; mapped to 'option redispatch'.".to_owned();
            l.emit(
                Diagnostic::warning("legacy-keyword", Origin::Parsing, msg)
                    .at(&ctx.file, ctx.line, ctx.col(0))
                    .with_help("write 'option redispatch' instead"),
            );
            set(l, |p| {
                p.options.flags.insert("redispatch".to_owned(), true);
            });
        }
        "http-reuse" => {
            let Some(mode) = crate::model::HttpReuse::from_word(ctx.arg(1)) else {
                let msg = format!("'{kw}' only supports 'never', 'safe', 'aggressive', 'always'.");
                return l.alert(ctx, ctx.col(1), "bad-argument", Origin::Parsing, msg);
            };
            set(l, |p| p.http_reuse = Some(mode));
            other(l, ctx);
        }
        "dispatch" | "transparent" | "source" | "usesrc" | "max-session-srv-conns" => {
            other(l, ctx);
        }
        "compression" if is_def && ctx.arg(1) == "offload" => {
            let msg = "'compression' : 'offload' ignored in 'defaults' section.".to_owned();
            l.warn(ctx, ctx.col(1), "ignored-in-defaults", Origin::Parsing, msg);
            other(l, ctx);
        }
        _ if kw.starts_with("req") || kw.starts_with("rsp") || kw == "cliexp" || kw == "srvexp" => {
            legacy_rewrite(l, ctx, &pname);
        }
        _ if PROXY_REGISTERED.contains(&kw) || PROXY_COMMON.contains(&kw) => other(l, ctx),
        _ => {
            let section = kind.as_str();
            let msg = match suggest_proxy(kw) {
                Some(best) => format!(
                    "unknown keyword '{kw}' in '{section}' section; did you mean '{best}' maybe ?"
                ),
                None => format!("unknown keyword '{kw}' in '{section}' section"),
            };
            l.alert(ctx, ctx.col(0), "unknown-keyword", Origin::Parsing, msg);
        }
    }
}

/// Checks the action of an `http-request`/`http-response`/`http-after-response` line; an
/// unknown or missing action makes HAProxy stop reading (`ERR_ABORT`). Returns whether it is
/// known.
fn http_action(l: &mut Loader<'_>, ctx: &Ctx<'_>, actions: &[&str]) -> bool {
    let action = ctx.arg(1);
    if crate::keywords::is_action(action, actions) {
        return true;
    }
    let list = actions
        .iter()
        .map(|a| format!("'{a}'"))
        .collect::<Vec<_>>()
        .join(", ");
    let missing = if action.is_empty() {
        " (missing argument)"
    } else {
        ""
    };
    let msg = format!(
        "'{}' expects {list}, but got '{action}'{missing}.",
        ctx.arg(0)
    );
    l.abort(ctx, "unknown-action", Origin::ParsingTight, msg);
    false
}

/// Applies `f` to the current proxy.
pub(super) fn set(l: &mut Loader<'_>, f: impl FnOnce(&mut Proxy)) {
    if let Some(p) = l.proxy_mut() {
        f(p);
    }
}

/// Keeps a known keyword as words.
fn other(l: &mut Loader<'_>, ctx: &Ctx<'_>) {
    let d = Directive {
        loc: ctx.loc(),
        words: ctx.rest(0),
    };
    set(l, |p| p.other.push(d));
}

/// Adds a rule; `skip` is the number of words after the keyword that are not rule words
/// (0 keeps all, 1 drops nothing but the keyword).
fn push_rule(l: &mut Loader<'_>, ctx: &Ctx<'_>, kind: RuleKind, from: usize) {
    let words = ctx.rest(from);
    let rule = Rule::new(kind, ctx.loc(), words);
    set(l, |p| p.rules.push(rule));
}

/// HAProxy's "a 'X' rule placed after a 'Y' rule will still be processed before." warning:
/// `after` lists the rule kinds checked, in HAProxy's order.
fn rule_order_warning(l: &mut Loader<'_>, ctx: &Ctx<'_>, what: &str, after: &[RuleKind]) {
    let Some(p) = l.proxy_mut() else { return };
    let found = after
        .iter()
        .find(|k| p.rules.iter().any(|r| r.kind == **k))
        .copied();
    if let Some(k) = found {
        let name = match k {
            RuleKind::HttpRequest => "http-request",
            RuleKind::Redirect => "redirect",
            RuleKind::UseBackend => "use_backend",
            RuleKind::UseServer => "use-server",
            _ => "monitor fail",
        };
        let msg =
            format!("a '{what}' rule placed after a '{name}' rule will still be processed before.");
        l.warn(ctx, ctx.col(0), "rule-order", Origin::Parsing, msg);
    }
}

/// `tcp-request` / `tcp-response` (kept as words; only the sub-keyword is checked).
fn tcp_rule(l: &mut Loader<'_>, ctx: &Ctx<'_>, kind: ProxyKind) {
    let kw = ctx.arg(0);
    let (allowed, rk): (&[&str], RuleKind) = if kw == "tcp-request" {
        (
            &["connection", "session", "content", "inspect-delay"],
            RuleKind::TcpRequest,
        )
    } else {
        (&["content", "inspect-delay"], RuleKind::TcpResponse)
    };
    if !allowed.contains(&ctx.arg(1)) {
        let pname = l.proxy_mut().map(|p| p.name.clone()).unwrap_or_default();
        let msg = if kw == "tcp-request" {
            format!(
                "'{kw}' expects 'inspect-delay', 'connection', or 'content' in {} '{pname}' (got '{}')",
                kind.type_str(),
                ctx.arg(1)
            )
        } else {
            format!(
                "'{kw}' expects 'inspect-delay' or 'content' in {} '{pname}' (got '{}')",
                kind.type_str(),
                ctx.arg(1)
            )
        };
        return l.alert(ctx, ctx.col(1), "bad-argument", Origin::Parsing, msg);
    }
    if ctx.arg(1) == "inspect-delay" {
        match parse_time(ctx.arg(2), TimeUnit::Millis) {
            Ok(_) => {}
            Err(_) => {
                let msg = format!(
                    "'{kw} inspect-delay' expects a positive delay in milliseconds, in {} '{}'",
                    kind.as_str(),
                    l.proxy_mut().map(|p| p.name.clone()).unwrap_or_default()
                );
                return l.alert(ctx, ctx.col(2), "bad-time", Origin::Parsing, msg);
            }
        }
    }
    let listed = match (kw, ctx.arg(1)) {
        ("tcp-request", "content") => Some(crate::keywords::TCP_REQUEST_CONTENT_ACTIONS),
        ("tcp-request", "connection") => Some(crate::keywords::TCP_REQUEST_CONNECTION_ACTIONS),
        ("tcp-request", "session") => Some(crate::keywords::TCP_REQUEST_SESSION_ACTIONS),
        ("tcp-response", "content") => Some(crate::keywords::TCP_RESPONSE_CONTENT_ACTIONS),
        _ => None,
    };
    if let Some(listed) = listed.filter(|l| !crate::keywords::is_tcp_action(ctx.arg(2), l)) {
        let pname = l.proxy_mut().map(|p| p.name.clone()).unwrap_or_default();
        let msg = format!(
            "'{kw} {}' expects {listed} in {} '{pname}' (got '{}').{}",
            ctx.arg(1),
            kind.type_str(),
            ctx.arg(2),
            if kw == "tcp-request" { "\n" } else { "" }
        );
        return l.alert(ctx, ctx.col(2), "unknown-action", Origin::Parsing, msg);
    }
    if kw == "tcp-request" && ctx.arg(1) == "content" {
        let after = [
            RuleKind::MonitorFail,
            RuleKind::HttpRequest,
            RuleKind::Redirect,
            RuleKind::UseBackend,
            RuleKind::UseServer,
        ];
        rule_order_warning(l, ctx, kw, &after);
    }
    push_rule(l, ctx, rk, 1);
}

/// `retry-on <keywords>`.
fn retry_on(l: &mut Loader<'_>, ctx: &Ctx<'_>) {
    const KEYWORDS: &[&str] = &[
        "none",
        "conn-failure",
        "empty-response",
        "junk-response",
        "response-timeout",
        "0rtt-rejected",
        "all-retryable-errors",
        "404",
        "408",
        "425",
        "500",
        "501",
        "502",
        "503",
        "504",
    ];
    if ctx.arg(1).is_empty() {
        let msg = "'retry-on' needs at least one keyword to look for".to_owned();
        return l.alert(ctx, ctx.col(0), "missing-argument", Origin::Parsing, msg);
    }
    for i in 1..ctx.len() {
        let w = ctx.arg(i);
        if !KEYWORDS.contains(&w) {
            let msg = format!("'retry-on': unknown keyword '{w}'");
            return l.alert(ctx, ctx.col(i), "unknown-keyword", Origin::Parsing, msg);
        }
        if w == "none" && ctx.len() > 2 {
            let msg = "'retry-on': 'none' is only allowed as the only keyword".to_owned();
            return l.alert(ctx, ctx.col(i), "bad-argument", Origin::Parsing, msg);
        }
    }
    let v = ctx.rest(1);
    set(l, |p| p.retry_on = v);
}

/// `timeout <name> <time>` and the legacy `clitimeout`/`srvtimeout`/`contimeout`.
fn timeout(l: &mut Loader<'_>, ctx: &Ctx<'_>, kind: ProxyKind, pname: &str) {
    let kw = ctx.arg(0);
    let (name, value_at) = match kw {
        "clitimeout" => ("client", 1),
        "srvtimeout" => ("server", 1),
        "contimeout" => ("connect", 1),
        _ => (ctx.arg(1), 2),
    };
    let fe_side = matches!(name, "client" | "client-fin");
    let be_side = matches!(
        name,
        "server" | "connect" | "check" | "queue" | "tunnel" | "server-fin"
    );
    let mut probe = crate::model::Timeouts::default();
    if probe.slot(name).is_none() {
        let msg = format!(
            "'timeout' supports 'client', 'server', 'connect', 'check', 'queue', 'http-keep-alive', 'http-request', 'tunnel', 'tarpit', 'client-fin' and 'server-fin' (got '{name}')"
        );
        return l.alert(ctx, ctx.col(1), "unknown-timeout", Origin::Parsing, msg);
    }
    let text = ctx.arg(value_at);
    let v = match parse_time(text, TimeUnit::Millis) {
        Ok(t) => t.value,
        Err(TimeError::UnexpectedChar(None)) => {
            let msg = format!("'timeout {name}' expects an integer value (in milliseconds)");
            return l.alert(ctx, ctx.col(0), "missing-argument", Origin::Parsing, msg);
        }
        Err(TimeError::UnexpectedChar(Some(c))) => {
            let msg = format!("unexpected character '{c}' in 'timeout {name}'");
            return l.alert(ctx, ctx.col(value_at), "bad-time", Origin::Parsing, msg);
        }
        Err(TimeError::Overflow) => {
            let msg = format!(
                "timer overflow in argument '{text}' to 'timeout {name}' (maximum value is 2147483647 ms or ~24.8 days)"
            );
            return l.alert(ctx, ctx.col(value_at), "bad-time", Origin::Parsing, msg);
        }
    };
    if value_at == 1 {
        // COMPAT: HAProxy 2.6 rejects these; their meaning is exactly `timeout <name>`.
        let msg = format!("'{kw}' is a legacy keyword; mapped to 'timeout {name} {text}'.");
        let help = format!("write 'timeout {name} {text}' instead");
        l.emit(
            Diagnostic::warning("legacy-keyword", Origin::Parsing, msg)
                .at(&ctx.file, ctx.line, ctx.col(0))
                .with_help(help),
        );
    }
    if (fe_side && !kind.has_frontend()) || (be_side && !kind.has_backend()) {
        let side = if fe_side { "frontend" } else { "backend" };
        let msg = format!(
            "'timeout {name}' will be ignored because {} '{pname}' has no {side} capability",
            kind.type_str()
        );
        return l.warn(ctx, ctx.col(1), "wrong-side", Origin::Parsing, msg);
    }
    let inherited = l
        .current_defaults
        .as_ref()
        .map(|d| d.timeouts)
        .unwrap_or_default();
    let mut inh = inherited;
    let before_def = inh.slot(name).and_then(|s| *s);
    let Some(p) = l.proxy_mut() else { return };
    let current = p.timeouts.slot(name).and_then(|s| *s);
    if current != before_def && l.current == Some(false) {
        let msg = format!("overwriting 'timeout {name}' which was already specified");
        l.warn(ctx, ctx.col(1), "overwritten", Origin::Parsing, msg);
    }
    set(l, |p| {
        if let Some(s) = p.timeouts.slot(name) {
            *s = Some(v);
        }
    });
}

/// `reqadd`, `rspadd`, `reqdel`... (removed in 2.1): mapped when a direct equivalent exists.
fn legacy_rewrite(l: &mut Loader<'_>, ctx: &Ctx<'_>, pname: &str) {
    let kw = ctx.arg(0);
    let Some((_, tail)) = LEGACY_REWRITES.iter().find(|(k, _)| *k == kw) else {
        let kind = l.proxy_mut().map_or("proxy", |p| p.kind.as_str());
        let msg = match suggest_proxy(kw) {
            Some(best) => {
                format!("unknown keyword '{kw}' in '{kind}' section; did you mean '{best}' maybe ?")
            }
            None => format!("unknown keyword '{kw}' in '{kind}' section"),
        };
        return l.alert(ctx, ctx.col(0), "unknown-keyword", Origin::Parsing, msg);
    };
    let modern = if kw == "reqadd" {
        "http-request add-header"
    } else {
        "http-response add-header"
    };
    // Only `reqadd`/`rspadd` with a plain "Name: value" header map without a regex engine.
    let header = ctx.arg(1);
    let mappable = matches!(kw, "reqadd" | "rspadd")
        && header
            .split_once(':')
            .is_some_and(|(n, _)| !n.is_empty() && !n.contains(' '));
    if !mappable {
        let msg = format!("The '{kw}' {tail}");
        return l.alert(ctx, ctx.col(0), "legacy-keyword", Origin::Parsing, msg);
    }
    let (name, value) = header.split_once(':').unwrap_or((header, ""));
    let value = value.trim_start();
    let msg = format!("'{kw}' is a legacy keyword; mapped to '{modern} {name} \"{value}\"'.");
    let help = format!("write '{modern} {name} \"{value}\"' instead");
    l.emit(
        Diagnostic::warning("legacy-keyword", Origin::Parsing, msg)
            .at(&ctx.file, ctx.line, ctx.col(0))
            .with_help(help),
    );
    let mut words = vec!["add-header".to_owned(), name.to_owned(), value.to_owned()];
    words.extend(ctx.rest(2));
    let k = if kw == "reqadd" {
        RuleKind::HttpRequest
    } else {
        RuleKind::HttpResponse
    };
    let rule = Rule::new(k, ctx.loc(), words);
    let _ = pname;
    set(l, |p| p.rules.push(rule));
}
