//! Command dispatch: permission levels, argument checks and HAProxy 2.6.12's exact replies
//! (reference §5.2). Every reply text here ends the way HAProxy's does; the session adds the
//! final LF (or the prompt).

use std::fmt::Write as _;

use super::api::{
    AdminState, ApiError, CheckKind, ErrorDirection, HealthState, Level, PatternKind, RateLimit,
    RuntimeApi, ServerOption,
};
use super::help::usage_message;
use crate::row::{ProxySelector, RowOptions, StatFilter, rows};
use crate::{csv, servers_state, typed};

/// What the session must do after a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Print this text, then the usual LF or prompt.
    Reply(String),
    /// Close the connection without output.
    Quit,
    /// Toggle interactive mode.
    TogglePrompt,
    /// Lower the session level.
    SetLevel(Level),
    /// Change the session timeout (seconds).
    SetTimeout(u32),
}

const DENIED: &str = "Permission denied\n";

fn reply(s: impl Into<String>) -> Outcome {
    Outcome::Reply(s.into())
}

fn api_error(e: &ApiError, kind: Option<PatternKind>) -> String {
    match e {
        ApiError::NoSuchBackend => "No such backend.\n".into(),
        ApiError::NoSuchServer => "No such server.\n".into(),
        ApiError::NoSuchFrontend => "No such frontend.\n".into(),
        ApiError::StaticAlgorithm => {
            "Backend is using a static LB algorithm and only accepts weights '0%' and '100%'.\n"
                .into()
        }
        ApiError::AlreadyDisabled => "All sockets are already disabled.\n".into(),
        ApiError::AlreadyEnabled => "All sockets are already enabled.\n".into(),
        ApiError::FrontendShutDown => "Frontend was previously shut down, cannot enable.\n".into(),
        ApiError::FrontendShutDownCannotDisable => {
            "Frontend was previously shut down, cannot disable.\n".into()
        }
        ApiError::FrontendAlreadyShutDown => "Frontend was already shut down.\n".into(),
        ApiError::AgentNotEnabled => "agent checks are not enabled on this server.\n".into(),
        ApiError::AgentNotConfigured => {
            "Agent was not configured on this server, cannot enable.\n".into()
        }
        ApiError::HealthNotConfigured => {
            "Health check was not configured on this server, cannot enable.\n".into()
        }
        ApiError::OutOfRange => "Value out of range.\n".into(),
        ApiError::KeyNotFound => "Key not found.\n".into(),
        ApiError::EntryNotFound => "entry not found.\n".into(),
        ApiError::UnknownPatternRef => match kind {
            Some(PatternKind::Map) => {
                "Unknown map identifier. Please use #<id> or <file>.\n".into()
            }
            _ => "Unknown ACL identifier. Please use #<id> or <file>.\n".into(),
        },
        ApiError::Invalid(m) => format!("{m}\n"),
        ApiError::NoSuchSession => "No such session (use 'show sess').\n".into(),
        ApiError::NoSuchProxy => "No such proxy.\n".into(),
        ApiError::SslNotConfigurable => {
            "'set server <srv> ssl' cannot be set.  default-server should define ssl settings\n"
                .into()
        }
        ApiError::NoResolution => {
            "set server <b>/<s> fqdn failed because no resolution is configured.\n".into()
        }
    }
}

/// C `strtol`-like parse: optional blanks and sign, then digits; returns the value and the
/// unparsed rest, or `None` when no digit was found.
fn strtol(s: &str) -> Option<(i64, &str)> {
    let t = s.trim_start_matches([' ', '\t']);
    let (neg, t) = match t.as_bytes().first() {
        Some(b'-') => (true, t.get(1..).unwrap_or("")),
        Some(b'+') => (false, t.get(1..).unwrap_or("")),
        _ => (false, t),
    };
    let digits = t.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    let (num, rest) = t.split_at_checked(digits)?;
    let v = num.bytes().fold(0i64, |acc, d| {
        acc.saturating_mul(10).saturating_add(i64::from(d - b'0'))
    });
    Some((if neg { -v } else { v }, rest))
}

/// C `atoi`: the leading number, 0 when there is none, clamped to `u32`.
fn atoi(s: &str) -> u32 {
    strtol(s).map_or(0, |(v, _)| u32::try_from(v.max(0)).unwrap_or(u32::MAX))
}

/// Resolves `backend/server` (names or `#id`) against the current snapshot.
fn find_server(api: &dyn RuntimeApi, spec: &str) -> Result<(String, String), String> {
    let Some((be, sv)) = spec.split_once('/') else {
        return Err("Require 'backend/server'.\n".into());
    };
    let snap = api.snapshot();
    let px = snap
        .proxies
        .iter()
        .filter(|p| p.backend.is_some())
        .find(|p| match be.strip_prefix('#') {
            Some(id) => id.parse::<u32>().is_ok_and(|id| id == p.iid),
            None => p.name == be,
        })
        .ok_or_else(|| "No such backend.\n".to_owned())?;
    let srv = px
        .servers
        .iter()
        .find(|s| match sv.strip_prefix('#') {
            Some(id) => id.parse::<u32>().is_ok_and(|id| id == s.sid),
            None => s.name == sv,
        })
        .ok_or_else(|| "No such server.\n".to_owned())?;
    Ok((px.name.clone(), srv.name.clone()))
}

/// Parses a weight change (`N` or `N%`) against the initial weight; the texts are HAProxy's.
fn parse_weight(s: &str, initial: u32) -> Result<u32, String> {
    let Some((w, rest)) = strtol(s) else {
        return Err("Empty weight string empty or preceded by garbage".into());
    };
    if rest == "%" {
        if w < 0 {
            return Err("Relative weight must be positive.\n".into());
        }
        let v = i64::from(initial).saturating_mul(w) / 100;
        return Ok(u32::try_from(v.min(256)).unwrap_or(256));
    }
    if !(0..=256).contains(&w) {
        return Err("Absolute weight can only be between 0 and 256 inclusive.\n".into());
    }
    if !rest.is_empty() {
        return Err("Trailing garbage in weight string".into());
    }
    u32::try_from(w)
        .map_err(|_| "Absolute weight can only be between 0 and 256 inclusive.\n".into())
}

fn set_weight(api: &mut dyn RuntimeApi, spec: &str, value: &str) -> String {
    let (be, sv) = match find_server(api, spec) {
        Ok(x) => x,
        Err(e) => return e,
    };
    let initial = match api.weight(&be, &sv) {
        Ok((_, init)) => init,
        Err(e) => return api_error(&e, None),
    };
    match parse_weight(value, initial) {
        Ok(w) => api
            .set_weight(&be, &sv, w)
            .map_or_else(|e| api_error(&e, None), |()| String::new()),
        Err(e) => e,
    }
}

fn need(level: Level, min: Level) -> Option<Outcome> {
    (level < min).then(|| reply(DENIED))
}

/// Runs one command.
pub(crate) fn execute(
    words: &[String],
    payload: Option<&str>,
    level: Level,
    api: &mut dyn RuntimeApi,
) -> Outcome {
    let w: Vec<&str> = words.iter().map(String::as_str).collect();
    match w.as_slice() {
        [] => reply(usage_message(words, false)),
        ["help", ..] => reply(usage_message(words.get(1..).unwrap_or(&[]), true)),
        ["prompt", ..] => Outcome::TogglePrompt,
        ["quit", ..] => Outcome::Quit,
        ["operator", ..] => {
            need(level, Level::Operator).unwrap_or(Outcome::SetLevel(Level::Operator))
        }
        ["user", ..] => Outcome::SetLevel(Level::User),
        ["show", "version", ..] => reply(format!("{}\n", api.version())),
        ["show", "cli", "level", ..] => reply(format!("{}\n", level.as_str())),
        ["show", "cli", "sockets", ..] => {
            let mut out = String::from("# socket lvl processes\n");
            for (addr, lvl) in api.cli_sockets() {
                let _ = writeln!(out, "{addr} {} all", lvl.as_str());
            }
            reply(out)
        }
        ["show", "info", opts @ ..] => {
            let info = api.info();
            reply(if opts.contains(&"json") {
                info.render_json()
            } else if opts.contains(&"typed") {
                info.render_typed()
            } else {
                info.render()
            })
        }
        ["show", "stat", rest @ ..] => show_stat(rest, level, api),
        ["show", "servers", "state", rest @ ..] => reply(
            servers_state::render(&api.snapshot(), rest.first().copied())
                .unwrap_or_else(|| "Can't find backend.\n".into()),
        ),
        ["show", "backend", ..] => {
            let mut out = String::from("# name\n");
            for px in api
                .snapshot()
                .proxies
                .iter()
                .filter(|p| p.backend.is_some())
            {
                let _ = writeln!(out, "{}", px.name);
            }
            reply(out)
        }
        ["show", "env", rest @ ..] => need(level, Level::Operator).unwrap_or_else(|| {
            let env = api.environment();
            match rest.first() {
                Some(var) => reply(env.iter().find(|(k, _)| k == var).map_or_else(
                    || "Variable not found\n".into(),
                    |(k, v)| format!("{k}={v}\n"),
                )),
                None => reply(env.iter().fold(String::new(), |mut o, (k, v)| {
                    let _ = writeln!(o, "{k}={v}");
                    o
                })),
            }
        }),
        ["show", "sess", ..] => {
            need(level, Level::Operator).unwrap_or_else(|| reply(api.sessions()))
        }
        ["show", "errors", rest @ ..] => need(level, Level::Operator).unwrap_or_else(|| {
            let direction = |w: &str| match w {
                "request" => Some(ErrorDirection::Request),
                "response" => Some(ErrorDirection::Response),
                _ => None,
            };
            let (proxy, dir) = match rest {
                [] => (None, None),
                [w] if direction(w).is_some() => (None, direction(w)),
                [p, tail @ ..] => (Some(*p), tail.first().and_then(|w| direction(w))),
            };
            reply(
                api.errors(proxy, dir)
                    .unwrap_or_else(|e| api_error(&e, None)),
            )
        }),
        ["show", "pools", ..] => reply(api.pools()),
        ["get", "var", ..] | ["show", "startup-logs", ..] => {
            need(level, Level::Operator).unwrap_or_else(|| extension(words, payload, api))
        }
        ["get", "weight", rest @ ..] => reply(
            match find_server(api, rest.first().copied().unwrap_or("")) {
                Err(e) => e,
                Ok((be, sv)) => api.weight(&be, &sv).map_or_else(
                    |e| api_error(&e, None),
                    |(c, i)| format!("{c} (initial {i})\n"),
                ),
            },
        ),
        ["set", "weight", rest @ ..] => need(level, Level::Admin).unwrap_or_else(|| {
            reply(match rest {
                [] => "Require 'backend/server'.\n".into(),
                [_] => "Require <weight> or <weight%>.\n".into(),
                [spec, value, ..] => set_weight(api, spec, value),
            })
        }),
        ["set", "server", rest @ ..] => {
            need(level, Level::Admin).unwrap_or_else(|| reply(set_server(rest, api)))
        }
        [
            verb @ ("enable" | "disable"),
            what @ ("server" | "health" | "agent"),
            rest @ ..,
        ] => need(level, Level::Admin).unwrap_or_else(|| {
            let on = *verb == "enable";
            reply(
                match find_server(api, rest.first().copied().unwrap_or("")) {
                    Err(e) => e,
                    Ok((be, sv)) => {
                        let r = match *what {
                            "server" => api.set_admin_state(
                                &be,
                                &sv,
                                if on {
                                    AdminState::Ready
                                } else {
                                    AdminState::Maint
                                },
                            ),
                            "health" => api.set_check_enabled(&be, &sv, CheckKind::Health, on),
                            _ => api.set_check_enabled(&be, &sv, CheckKind::Agent, on),
                        };
                        r.map_or_else(|e| api_error(&e, None), |()| String::new())
                    }
                },
            )
        }),
        [
            verb @ ("enable" | "disable" | "shutdown"),
            "frontend",
            rest @ ..,
        ] => need(level, Level::Admin).unwrap_or_else(|| {
            let Some(fe) = rest.first() else {
                return reply("A frontend name is expected.\n");
            };
            let r = match *verb {
                "enable" => api.set_frontend_enabled(fe, true),
                "disable" => api.set_frontend_enabled(fe, false),
                _ => api.shutdown_frontend(fe),
            };
            reply(r.map_or_else(|e| api_error(&e, None), |()| String::new()))
        }),
        ["set", "maxconn", rest @ ..]
            if matches!(rest.first(), Some(&("frontend" | "server" | "global"))) =>
        {
            need(level, Level::Admin).unwrap_or_else(|| reply(set_maxconn(rest, api)))
        }
        ["set", "rate-limit", rest @ ..] => {
            need(level, Level::Admin).unwrap_or_else(|| reply(set_rate_limit(rest, api)))
        }
        ["set", "timeout", rest @ ..] => match rest {
            ["cli", value, ..] => match strtol(value) {
                Some((v, "")) if v > 0 => {
                    let secs = u32::try_from(v).unwrap_or(u32::MAX);
                    api.set_cli_timeout(secs);
                    Outcome::SetTimeout(secs)
                }
                _ => reply("Invalid timeout value.\n"),
            },
            ["cli"] => reply("Expects an integer value.\n"),
            _ => reply("'set timeout' only supports 'cli'.\n"),
        },
        ["clear", "counters", rest @ ..] => {
            let all = rest.first() == Some(&"all");
            need(level, if all { Level::Admin } else { Level::Operator }).unwrap_or_else(|| {
                api.clear_counters(all);
                reply("")
            })
        }
        ["shutdown", "session", rest @ ..] => need(level, Level::Admin).unwrap_or_else(|| {
            let id = rest
                .first()
                .and_then(|s| parse_pointer(s))
                .filter(|p| *p != 0);
            reply(match id {
                None => "Session pointer expected (use 'show sess').\n".into(),
                Some(id) => api
                    .shutdown_session(id)
                    .map_or_else(|e| api_error(&e, None), |()| String::new()),
            })
        }),
        ["shutdown", "sessions", "server", rest @ ..] => {
            need(level, Level::Admin).unwrap_or_else(|| {
                reply(
                    match find_server(api, rest.first().copied().unwrap_or("")) {
                        Err(e) => e,
                        Ok((be, sv)) => api
                            .shutdown_server_sessions(&be, &sv)
                            .map_or_else(|e| api_error(&e, None), |()| String::new()),
                    },
                )
            })
        }
        [
            verb @ ("show" | "get" | "add" | "del" | "set" | "clear"),
            kind @ ("acl" | "map"),
            rest @ ..,
        ] => {
            let kind = if *kind == "acl" {
                PatternKind::Acl
            } else {
                PatternKind::Map
            };
            reply(patterns(verb, kind, rest, payload, api))
        }
        _ => extension(words, payload, api),
    }
}

fn extension(words: &[String], _payload: Option<&str>, _api: &mut dyn RuntimeApi) -> Outcome {
    // Commands HAProxy has but this crate does not model (show sess, show errors, show pools,
    // tables, ssl…) are answered as HAProxy answers an unknown command.
    reply(usage_message(words, false))
}

fn parse_pointer(s: &str) -> Option<u64> {
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => s.parse().ok(),
    }
}

fn show_stat(rest: &[&str], level: Level, api: &mut dyn RuntimeApi) -> Outcome {
    let mut filter = StatFilter::default();
    let mut args = rest;
    if let ["domain", d, tail @ ..] = args {
        if *d != "proxy" {
            return reply("Invalid statistics domain.\n");
        }
        args = tail;
    }
    if let [px, ty, sid, tail @ ..] = args {
        let is_num = |s: &str| strtol(s).is_some_and(|(_, r)| r.is_empty());
        if is_num(ty) && is_num(sid) {
            filter.proxy = match strtol(px) {
                Some((-1, "")) => None,
                Some((id, "")) => Some(ProxySelector::Id(u32::try_from(id).unwrap_or(0))),
                _ => Some(ProxySelector::Name((*px).to_owned())),
            };
            filter.types = strtol(ty).and_then(|(t, _)| u32::try_from(t).ok());
            filter.sid = strtol(sid).and_then(|(s, _)| u32::try_from(s).ok());
            args = tail;
        }
    }
    filter.up = args.contains(&"up");
    filter.no_maint = args.contains(&"no-maint");
    let snap = api.snapshot();
    let opts = RowOptions {
        show_legends: level >= Level::Operator,
    };
    let rs = rows(&snap, &filter, opts);
    reply(if args.contains(&"json") {
        typed::render_json(&rs, snap.module_columns)
    } else if args.contains(&"typed") {
        typed::render_typed(&rs, snap.module_columns)
    } else {
        csv::render(&rs, snap.module_columns)
    })
}

fn set_server(rest: &[&str], api: &mut dyn RuntimeApi) -> String {
    const USAGE: &str = "usage: set server <backend>/<server> addr | agent | agent-addr | agent-port | agent-send | check-addr | check-port | fqdn | health | ssl | state | weight\n";
    let Some(spec) = rest.first() else {
        return "Require 'backend/server'.\n".into();
    };
    let (be, sv) = match find_server(api, spec) {
        Ok(x) => x,
        Err(e) => return e,
    };
    let done = |r: Result<(), ApiError>| r.map_or_else(|e| api_error(&e, None), |()| String::new());
    match rest.get(1..).unwrap_or(&[]) {
        ["state", s, ..] => match *s {
            "ready" => done(api.set_admin_state(&be, &sv, AdminState::Ready)),
            "drain" => done(api.set_admin_state(&be, &sv, AdminState::Drain)),
            "maint" => done(api.set_admin_state(&be, &sv, AdminState::Maint)),
            _ => "'set server <srv> state' expects 'ready', 'drain' and 'maint'.\n".into(),
        },
        ["state"] => "'set server <srv> state' expects 'ready', 'drain' and 'maint'.\n".into(),
        ["health", s, ..] => match *s {
            "up" => done(api.set_health(&be, &sv, HealthState::Up)),
            "stopping" => done(api.set_health(&be, &sv, HealthState::Stopping)),
            "down" => done(api.set_health(&be, &sv, HealthState::Down)),
            _ => "'set server <srv> health' expects 'up', 'stopping', or 'down'.\n".into(),
        },
        ["agent", tail @ ..] => match tail.first() {
            Some(s @ (&"up" | &"down")) => done(api.set_agent(&be, &sv, *s == "up")),
            // HAProxy checks that the agent is enabled before looking at the argument.
            _ if !has_agent(api, &be, &sv) => api_error(&ApiError::AgentNotEnabled, None),
            _ => "'set server <srv> agent' expects 'up' or 'down'.\n".into(),
        },
        ["weight", value, ..] => set_weight(api, spec, value),
        ["weight"] => "Require <weight> or <weight%>.\n".into(),
        ["addr", addr, tail @ ..] => {
            let port = match tail {
                ["port", p, ..] => p.parse::<u16>().ok(),
                _ => None,
            };
            match api.set_addr(&be, &sv, addr, port) {
                Err(e) => api_error(&e, None),
                Ok((old_addr, old_port)) => {
                    let mut msg = if old_addr == *addr {
                        "no need to change the addr".to_owned()
                    } else {
                        format!("IP changed from '{old_addr}' to '{addr}'")
                    };
                    match port {
                        Some(p) if p == old_port => msg.push_str(", no need to change the port"),
                        Some(p) => {
                            msg.push_str(&format!(", port changed from '{old_port}' to '{p}'"))
                        }
                        None => {}
                    }
                    format!("{msg} by 'stats socket command'\n")
                }
            }
        }
        // HAProxy 2.6.12 answers these without a period nor a blank line (recorded).
        ["agent-addr" | "agent-port", ..] if !has_agent(api, &be, &sv) => {
            "agent checks are not enabled on this server".into()
        }
        ["agent-send", ..] if !has_agent(api, &be, &sv) => {
            api_error(&ApiError::AgentNotEnabled, None)
        }
        ["agent-addr", a, ..] => {
            done(api.set_server_option(&be, &sv, ServerOption::AgentAddr((*a).to_owned())))
        }
        ["agent-port", p, ..] => match p.parse::<u16>() {
            Ok(port) => done(api.set_server_option(&be, &sv, ServerOption::AgentPort(port))),
            Err(_) => "provided port is not an integer".into(),
        },
        ["agent-send", text, ..] => {
            done(api.set_server_option(&be, &sv, ServerOption::AgentSend((*text).to_owned())))
        }
        ["check-addr", a, tail @ ..] => {
            let port = match tail {
                ["port", p, ..] => p.parse::<u16>().ok(),
                _ => None,
            };
            done(api.set_server_option(&be, &sv, ServerOption::CheckAddr((*a).to_owned(), port)))
        }
        ["check-addr"] => {
            "set server <b>/<s> check-addr requires an address and optionally a port.\n".into()
        }
        ["ssl", v, ..] if *v == "on" || *v == "off" => {
            done(api.set_server_option(&be, &sv, ServerOption::Ssl(*v == "on")))
        }
        ["ssl", ..] => api_error(&ApiError::SslNotConfigurable, None),
        ["fqdn", name, ..] => {
            done(api.set_server_option(&be, &sv, ServerOption::Fqdn((*name).to_owned())))
        }
        // HAProxy 2.6.12 answers this without a period nor a blank line (recorded).
        ["check-port", ..] if !has_check(api, &be, &sv) => {
            "health checks are not enabled on this server".into()
        }
        ["check-port", p, ..] => match p.parse::<u16>() {
            Ok(port) => done(api.set_check_port(&be, &sv, port)),
            // This reply has no blank line after it in HAProxy 2.6.12 (recorded).
            Err(_) => "provided port is not an integer".into(),
        },
        _ => USAGE.into(),
    }
}

fn has_check(api: &dyn RuntimeApi, be: &str, sv: &str) -> bool {
    api.snapshot()
        .proxies
        .iter()
        .filter(|p| p.name == be)
        .flat_map(|p| p.servers.iter())
        .any(|s| s.name == sv && s.check.is_some())
}

fn has_agent(api: &dyn RuntimeApi, be: &str, sv: &str) -> bool {
    api.snapshot()
        .proxies
        .iter()
        .filter(|p| p.name == be)
        .flat_map(|p| p.servers.iter())
        .any(|s| s.name == sv && s.agent.is_some())
}

fn set_maxconn(rest: &[&str], api: &mut dyn RuntimeApi) -> String {
    let done = |r: Result<(), ApiError>| r.map_or_else(|e| api_error(&e, None), |()| String::new());
    match rest {
        ["frontend", fe, value, ..] => done(api.set_frontend_maxconn(fe, atoi(value))),
        ["frontend", ..] => "A frontend name is expected.\n".into(),
        ["server", spec, value, ..] => match find_server(api, spec) {
            Ok((be, sv)) => done(api.set_server_maxconn(&be, &sv, atoi(value))),
            Err(e) => e,
        },
        ["server", _] => "Require <maxconn>.\n".into(),
        ["server", ..] => "Require 'backend/server'.\n".into(),
        ["global", value, ..] => done(api.set_global_maxconn(atoi(value))),
        _ => "Expects an integer value.\n".into(),
    }
}

const RATE_LIMIT_USAGE: &str = "'set rate-limit' only supports :\n   - 'connections global' to set the per-process maximum connection rate\n   - 'sessions global' to set the per-process maximum session rate\n   - 'ssl-sessions global' to set the per-process maximum SSL session rate\n   - 'http-compression global' to set the per-process maximum compression speed in kB/s\n";

fn set_rate_limit(rest: &[&str], api: &mut dyn RuntimeApi) -> String {
    let which = match rest.first() {
        Some(&"connections") => RateLimit::Connections,
        Some(&"sessions") => RateLimit::Sessions,
        Some(&"ssl-sessions") => RateLimit::SslSessions,
        Some(&"http-compression") => RateLimit::HttpCompression,
        _ => return RATE_LIMIT_USAGE.into(),
    };
    match rest.get(1..) {
        // `atoi`: non-numeric input is silently taken as 0 (recorded).
        Some(["global", value, ..]) => api
            .set_rate_limit(which, atoi(value))
            .map_or_else(|e| api_error(&e, None), |()| String::new()),
        Some(["global"]) => "Expects an integer value.\n".into(),
        _ => RATE_LIMIT_USAGE.into(),
    }
}

/// HAProxy's replies when an ACL or map command lacks arguments.
fn missing_args(verb: &str, kind: PatternKind) -> &'static str {
    match (verb, kind) {
        ("add", PatternKind::Acl) => {
            "'add acl' expects two parameters: ACL identifier and pattern.\n"
        }
        ("add", PatternKind::Map) => {
            "'add map' expects three parameters (map identifier, key and value) or one parameter (map identifier) and a payload\n"
        }
        ("get", PatternKind::Acl) => "Missing ACL identifier and/or key.\n",
        ("get", PatternKind::Map) => "Missing map identifier and/or key.\n",
        ("del", PatternKind::Acl) => {
            "This command expects two parameters: ACL identifier and key.\n"
        }
        ("del", PatternKind::Map) => {
            "This command expects two parameters: map identifier and key.\n"
        }
        ("set", _) => "'set map' expects three parameters: map identifier, key and value.\n",
        (_, PatternKind::Acl) => "Missing ACL identifier.\n",
        (_, PatternKind::Map) => "Missing map identifier.\n",
    }
}

fn patterns(
    verb: &str,
    kind: PatternKind,
    rest: &[&str],
    payload: Option<&str>,
    api: &mut dyn RuntimeApi,
) -> String {
    let err = |e: ApiError| api_error(&e, Some(kind));
    let done =
        |r: Result<(), ApiError>| r.map_or_else(|e| api_error(&e, Some(kind)), |()| String::new());
    match (verb, rest) {
        ("show", []) => {
            let mut out = String::from("# id (file) description\n");
            for r in api.pattern_refs(kind) {
                let _ = writeln!(
                    out,
                    "{} ({}) {}. curr_ver={} next_ver={} entry_cnt={}",
                    r.id, r.file, r.description, r.curr_ver, r.next_ver, r.entry_cnt
                );
            }
            out
        }
        ("show", [name, ..]) => match api.pattern_entries(kind, name) {
            Ok(entries) => entries.iter().fold(String::new(), |mut o, e| {
                let _ = match &e.value {
                    Some(v) => writeln!(o, "{:#x} {} {v}", e.reference, e.key),
                    None => writeln!(o, "{:#x} {}", e.reference, e.key),
                };
                o
            }),
            Err(e) => err(e),
        },
        ("get", [name, sample, ..]) => match api.match_pattern(kind, name, sample) {
            Ok(m) => {
                let case = if m.case_sensitive {
                    "sensitive"
                } else {
                    "insensitive"
                };
                let mut out = format!("type={}, case={case}, ", m.method);
                let word = if kind == PatternKind::Map {
                    "found"
                } else {
                    "match"
                };
                match m.found {
                    None => out.push_str(&format!("{word}=no\n")),
                    Some(f) => {
                        let _ = match (kind, f.value) {
                            (PatternKind::Map, Some((v, t))) => {
                                writeln!(
                                    out,
                                    "{word}=yes, idx={}, key=\"{}\", value=\"{v}\", type=\"{t}\"",
                                    f.index, f.pattern
                                )
                            }
                            _ => writeln!(
                                out,
                                "{word}=yes, idx={}, pattern=\"{}\"",
                                f.index, f.pattern
                            ),
                        };
                    }
                }
                out
            }
            Err(e) => err(e),
        },
        ("add", [name, key, rest @ ..]) if kind == PatternKind::Acl || !rest.is_empty() => {
            done(api.add_pattern(kind, name, key, rest.first().copied()))
        }
        ("add", [name]) if payload.is_some() => {
            for line in payload.unwrap_or("").lines().filter(|l| !l.is_empty()) {
                let mut parts = line.splitn(2, [' ', '\t']);
                let key = parts.next().unwrap_or("");
                let value = parts.next().map(|v| v.trim_start_matches([' ', '\t']));
                if let Err(e) = api.add_pattern(
                    kind,
                    name,
                    key,
                    if kind == PatternKind::Map {
                        value
                    } else {
                        None
                    },
                ) {
                    return err(e);
                }
            }
            String::new()
        }
        ("del", [name, key, ..]) => done(api.del_pattern(kind, name, key)),
        ("set", [name, key, value, ..]) if kind == PatternKind::Map => {
            done(api.set_map(name, key, value))
        }
        ("clear", [name, ..]) => done(api.clear_patterns(kind, name)),
        _ => missing_args(verb, kind).into(),
    }
}
