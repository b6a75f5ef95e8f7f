//! The checks HAProxy runs once every file is parsed (`check_config_validity()` and the steps
//! after it): userlists, backend references, modes, timeouts, duplicate servers, mode-dependent
//! settings, server address resolution and the presence of a listener.

use crate::diag::{self, Diagnostic, Origin};
use crate::load::{Env, Outcome};
use crate::model::{Config, LogStyle, LogTarget, Mode, Proxy, RuleKind};
use crate::values::{Address, Host};
use std::collections::HashMap;

pub(crate) mod case_adjust;
mod directives;

/// Runs every post-parse check in HAProxy's order, appending findings; returns the verdict.
pub fn run(config: &mut Config, diags: &mut Vec<Diagnostic>, env: &dyn Env) -> Outcome {
    if userlists(config, diags) {
        diags.push(diag::fatal_errors());
        return Outcome::Invalid;
    }
    let mut fatal = false;
    let mut backends: HashMap<&str, &Proxy> = HashMap::new();
    for p in config.backends() {
        backends.entry(p.name.as_str()).or_insert(p);
    }
    let mut resolved = HashMap::new();
    for p in &config.proxies {
        fatal |= proxy(config, &backends, p, diags);
        fatal |= tracks(config, p, &mut resolved, diags);
    }
    fatal |= errorfiles(config, diags);
    // HAProxy's post-parser, run at the end of `check_config_validity()`.
    fatal |= case_adjust::read_file(config, env, diags);
    if fatal {
        diags.push(diag::fatal_errors());
        return Outcome::Invalid;
    }
    directives::server_state_file(config, env, diags);
    if !resolve_servers(config, diags, env) {
        diags.push(Diagnostic::alert(
            "unresolved-address",
            Origin::Global,
            "Failed to initialize server(s) addr.",
        ));
        return Outcome::Invalid;
    }
    apply_mode_fallbacks(config);
    let listeners = config
        .frontends()
        .any(|p| !p.binds.is_empty() && !p.disabled)
        || !config.global.stats_sockets.is_empty()
        // The master process of master-worker mode always listens (its CLI to the workers).
        || config.global.master_worker;
    if listeners {
        Outcome::Valid
    } else {
        Outcome::NoListener
    }
}

/// Users must name existing groups and groups existing users; returns whether one did not
/// (HAProxy stops at the first such error).
fn userlists(config: &Config, diags: &mut Vec<Diagnostic>) -> bool {
    for ul in &config.userlists {
        let missing_group = ul.users.iter().find_map(|u| {
            let g = u
                .groups
                .iter()
                .find(|g| !ul.groups.iter().any(|x| &x.name == *g))?;
            let msg = format!(
                "userlist '{}': no such group '{g}' specified in user '{}'",
                ul.name, u.name
            );
            Some(("unknown-group", msg, &u.loc))
        });
        let missing_user = || {
            ul.groups.iter().find_map(|g| {
                let u = g
                    .users
                    .iter()
                    .find(|u| !ul.users.iter().any(|x| &x.name == *u))?;
                let msg = format!(
                    "userlist '{}': no such user '{u}' specified in group '{}'",
                    ul.name, g.name
                );
                Some(("unknown-user", msg, &g.loc))
            })
        };
        if let Some((code, msg, loc)) = missing_group.or_else(missing_user) {
            diags.push(Diagnostic::alert(code, Origin::Global, msg).at(&loc.file, loc.line, 0));
            return true;
        }
    }
    false
}

/// The checks of one proxy; returns whether one was fatal.
fn proxy(
    config: &Config,
    backends: &HashMap<&str, &Proxy>,
    p: &Proxy,
    diags: &mut Vec<Diagnostic>,
) -> bool {
    let mut fatal = false;
    let kind = p.kind.type_str();
    let warn = |diags: &mut Vec<Diagnostic>, code, msg: String| {
        diags.push(Diagnostic::warning(code, Origin::Global, msg))
    };
    if p.mode == Mode::Tcp {
        if p.kind.has_backend() && p.cookie.is_some() {
            warn(
                diags,
                "needs-http",
                format!(
                    "cookie will be ignored for {kind} '{}' (needs 'mode http').",
                    p.name
                ),
            );
        }
        if p.kind.has_frontend() && p.monitor_uri.is_some() {
            warn(
                diags,
                "needs-http",
                format!(
                    "monitor-uri will be ignored for {kind} '{}' (needs 'mode http').",
                    p.name
                ),
            );
        }
        if p.kind.has_backend()
            && p.balance
                .as_ref()
                .is_some_and(crate::model::Balance::is_layer7)
        {
            let msg = format!(
                "Layer 7 hash not possible for {kind} '{}' (needs 'mode http'). Falling back to round robin.",
                p.name
            );
            warn(diags, "needs-http", msg);
        }
        if let (Some(style @ (LogStyle::Http | LogStyle::HttpClf | LogStyle::Https)), Some(loc)) =
            (p.options.log_style, &p.log_format_loc)
        {
            {
                let opt = if style == LogStyle::Https {
                    "httpslog"
                } else {
                    "httplog"
                };
                let msg = format!(
                    "'option {opt}' not usable with {kind} '{}' (needs 'mode http'). Falling back to 'option tcplog'.",
                    p.name
                );
                diags.push(
                    Diagnostic::warning("needs-http", Origin::Parsing, msg)
                        .at(&loc.file, loc.line, 0),
                );
            }
        }
    }
    fatal |= directives::before_backends(config, p, diags);
    if p.kind.has_frontend() {
        if let Some((name, _)) = &p.default_backend {
            let failed = backend_ref(
                backends,
                p,
                name,
                "default_backend",
                "as its default backend",
                diags,
            );
            if !failed && !p.servers.is_empty() {
                let msg = format!(
                    "In proxy '{}', the 'default_backend' rule always has precedence over the servers, which will never be used.",
                    p.name
                );
                diags.push(Diagnostic::warning("unused-servers", Origin::Global, msg));
            }
            fatal |= failed;
        }
        for r in p.rules.iter().filter(|r| r.kind == RuleKind::UseBackend) {
            let Some(name) = r.words.first() else {
                continue;
            };
            if name.contains("%[") {
                continue;
            }
            fatal |= backend_ref(
                backends,
                p,
                name,
                "use_backend",
                "in a 'use_backend' rule",
                diags,
            );
        }
    }
    directives::after_backends(config, p, diags);
    let needs_fe = p.kind.has_frontend() && p.timeouts.client.unwrap_or(0) == 0;
    let needs_be = p.kind.has_backend()
        && !p.servers.is_empty()
        && (p.timeouts.connect.unwrap_or(0) == 0
            || (p.timeouts.server.unwrap_or(0) == 0
                && (p.mode == Mode::Http || p.timeouts.tunnel.unwrap_or(0) == 0)));
    if needs_fe || needs_be {
        diags.push(diag::missing_timeouts(kind, &p.name));
    }
    for (i, s) in p.servers.iter().enumerate() {
        if let Some(first) = p.servers.iter().take(i).find(|o| o.name == s.name) {
            let msg = format!(
                "{kind} '{}', another server named '{}' was already defined at line {}, please use distinct names.",
                p.name, s.name, first.loc.line
            );
            diags.push(
                Diagnostic::alert("duplicate-server", Origin::Parsing, msg).at(
                    &s.loc.file,
                    s.loc.line,
                    0,
                ),
            );
            fatal = true;
        }
    }
    for b in p
        .binds
        .iter()
        .filter(|b| b.options.ssl && b.options.crt.is_empty() && b.options.crt_list.is_empty())
    {
        let msg = format!(
            "Proxy '{}': no SSL certificate specified for bind '{}' at [{}:{}] (use 'crt').",
            p.name, b.text, b.loc.file, b.loc.line
        );
        diags.push(Diagnostic::alert("ssl-without-crt", Origin::Global, msg));
        fatal = true;
    }
    if p.kind.has_frontend()
        && !p.logs.iter().any(|l| {
            matches!(l, LogTarget::Syslog(_))
                || (matches!(l, LogTarget::Global) && !config.global.logs.is_empty())
        })
        && (p.log_format.is_some()
            || p.options.log_style.is_some()
            || directives::inherited(config, p, "log-format-sd").is_some())
    {
        warn(
            diags,
            "log-format-without-log",
            format!(
                "log format ignored for {kind} '{}' since it has no log address.",
                p.name
            ),
        );
    }
    if p.mode != Mode::Http {
        http_only_settings(p, diags);
    }
    fatal
}

/// HAProxy's warnings for HTTP-only settings of a proxy that is not in HTTP mode, in its order.
fn http_only_settings(p: &Proxy, diags: &mut Vec<Diagnostic>) {
    let kind = p.kind.type_str();
    let mut warn = |msg: String| diags.push(Diagnostic::warning("needs-http", Origin::Global, msg));
    if !p.stats.is_empty() {
        warn(format!(
            "'stats' statement ignored for {kind} '{}' as it requires HTTP mode.",
            p.name
        ));
    }
    if p.captures
        .iter()
        .any(|c| matches!(c, crate::model::Capture::Cookie(..)))
    {
        warn(format!(
            "'capture' statement ignored for {kind} '{}' as it requires HTTP mode.",
            p.name
        ));
    }
    for (k, what) in [
        (RuleKind::HttpRequest, "'http-request' rules"),
        (RuleKind::HttpResponse, "'http-response' rules"),
        (RuleKind::HttpAfterResponse, "'http-after-response' rules"),
        (RuleKind::Redirect, "'redirect' rules"),
    ] {
        if p.rules.iter().any(|r| r.kind == k) {
            warn(format!(
                "{what} ignored for {kind} '{}' as they require HTTP mode.",
                p.name
            ));
        }
    }
    if p.options.forwardfor.is_some() {
        warn(format!(
            "'option forwardfor' ignored for {kind} '{}' as it requires HTTP mode.",
            p.name
        ));
    }
    if p.options.originalto.is_some() {
        warn(format!(
            "'option originalto' ignored for {kind} '{}' as it requires HTTP mode.",
            p.name
        ));
    }
    for (name, side, http) in crate::keywords::SIMPLE_OPTIONS {
        let applies = match side {
            crate::keywords::Side::Frontend => p.kind.has_frontend(),
            crate::keywords::Side::Backend => p.kind.has_backend(),
            crate::keywords::Side::Both => true,
        };
        if *http && applies && p.options.is_set(name) {
            warn(format!(
                "'option {name}' ignored for {kind} '{}' as it requires HTTP mode.",
                p.name
            ));
        }
    }
}

/// `track [proxy/]server` for the servers of `p`: the tracked server must exist, be checked (or
/// track another one) and not lead back to the tracking server. `resolved` records each
/// server's tracked server as HAProxy resolves them, in configuration order.
fn tracks<'c>(
    config: &'c Config,
    p: &'c Proxy,
    resolved: &mut HashMap<(&'c str, &'c str), (&'c str, &'c str)>,
    diags: &mut Vec<Diagnostic>,
) -> bool {
    let mut bad = false;
    for s in &p.servers {
        let Some(track) = s.params.extra().track.as_deref() else {
            continue;
        };
        let (pname, sname) = track.split_once('/').unwrap_or((p.name.as_str(), track));
        let me = (p.name.as_str(), s.name.as_str());
        let msg = match config.backend(pname) {
            None => format!("unable to find required proxy '{pname}' for tracking."),
            Some(px) => match px.servers.iter().find(|t| t.name == sname) {
                None => format!("unable to find required server '{sname}' for tracking."),
                Some(t)
                    if t.params.check != Some(true)
                        && t.params.agent_check != Some(true)
                        && t.params.extra().track.is_none() =>
                {
                    format!(
                        "unable to use {}/{} for tracking as it does not have any check nor agent enabled.",
                        px.name, t.name
                    )
                }
                Some(t) => {
                    let target = (px.name.as_str(), t.name.as_str());
                    let mut cur = resolved.get(&target).copied();
                    let mut steps = 0;
                    while let Some(c) =
                        cur.filter(|c| *c != me && steps < config.proxies.len() * 64)
                    {
                        cur = resolved.get(&c).copied();
                        steps += 1;
                    }
                    if cur == Some(me) {
                        format!(
                            "unable to track {}/{} as it belongs to a tracking chain looping back to {}/{}.",
                            px.name, t.name, p.name, s.name
                        )
                    } else {
                        resolved.insert(me, target);
                        continue;
                    }
                }
            },
        };
        let origin = Origin::Object(format!("server {}/{}", p.name, s.name));
        diags.push(Diagnostic::alert("bad-track", origin, msg).at(&s.loc.file, s.loc.line, 0));
        bad = true;
    }
    bad
}

/// `errorfiles <name>` must name an `http-errors` section.
fn errorfiles(config: &Config, diags: &mut Vec<Diagnostic>) -> bool {
    let mut bad = false;
    for p in &config.proxies {
        for e in &p.errorfiles {
            let crate::model::ErrorFile::Section { name, loc, .. } = e else {
                continue;
            };
            let header = format!("http-errors {name}");
            if !config.other_sections.iter().any(|(h, _)| *h == header) {
                let msg = format!(
                    "proxy '{}': unknown http-errors section '{name}' (at {}:{}).",
                    p.name, loc.file, loc.line
                );
                diags.push(Diagnostic::alert(
                    "unknown-http-errors",
                    Origin::Global,
                    msg,
                ));
                bad = true;
            }
        }
    }
    bad
}

/// Resolves a backend name used by `p`; returns whether it failed.
fn backend_ref(
    backends: &HashMap<&str, &Proxy>,
    p: &Proxy,
    name: &str,
    kw: &str,
    how: &str,
    diags: &mut Vec<Diagnostic>,
) -> bool {
    let Some(t) = backends.get(name).copied() else {
        let msg = format!(
            "Proxy '{}': unable to find required {kw}: '{name}'.",
            p.name
        );
        diags.push(Diagnostic::alert("unknown-backend", Origin::Global, msg));
        return true;
    };
    if std::ptr::eq(t, p) {
        let msg = format!("Proxy '{}': loop detected for {kw}: '{name}'.", p.name);
        diags.push(Diagnostic::alert("backend-loop", Origin::Global, msg));
        return true;
    }
    if t.mode != p.mode && !(p.mode == Mode::Tcp && t.mode == Mode::Http) {
        let msg = format!(
            "{} {} '{}' ({}:{}) tries to use incompatible {} {} '{}' ({}:{}) {how} (see 'mode').",
            p.mode.as_str(),
            p.kind.type_str(),
            p.name,
            p.loc.file,
            p.loc.line,
            t.mode.as_str(),
            t.kind.type_str(),
            t.name,
            t.loc.file,
            t.loc.line
        );
        diags.push(Diagnostic::alert("mode-conflict", Origin::Global, msg));
        return true;
    }
    false
}

/// Resolves server host names as HAProxy does at startup; returns whether all resolved.
fn resolve_servers(config: &Config, diags: &mut Vec<Diagnostic>, env: &dyn Env) -> bool {
    let mut ok = true;
    for p in &config.proxies {
        for s in &p.servers {
            if let Address::Inet {
                host: Host::Name(name),
                ..
            } = &s.address
            {
                let none_ok = s
                    .params
                    .extra()
                    .init_addr
                    .as_deref()
                    .is_some_and(|m| m.split(',').any(|x| x == "none"));
                if !none_ok && !env.resolves(name) {
                    let msg = format!("could not resolve address '{name}'.");
                    let origin = Origin::Object(format!("server {}/{}", p.name, s.name));
                    diags.push(Diagnostic::alert("unresolved-address", origin, msg).at(
                        &s.loc.file,
                        s.loc.line,
                        0,
                    ));
                    ok = false;
                }
            }
        }
    }
    ok
}

/// Applies HAProxy's fallbacks for HTTP-only settings in TCP proxies (so the model says what
/// will actually run).
fn apply_mode_fallbacks(config: &mut Config) {
    for p in config.proxies.iter_mut().filter(|p| p.mode == Mode::Tcp) {
        if matches!(
            p.options.log_style,
            Some(LogStyle::Http | LogStyle::HttpClf | LogStyle::Https)
        ) {
            p.options.log_style = Some(LogStyle::Tcp);
        }
        if p.balance
            .as_ref()
            .is_some_and(crate::model::Balance::is_layer7)
        {
            p.balance = Some(crate::model::Balance::RoundRobin);
        }
    }
}
