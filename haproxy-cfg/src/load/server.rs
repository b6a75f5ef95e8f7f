//! `server`, `default-server` and `server-template` lines (HAProxy's `parse_server()`).

use super::proxy::set;
use super::{Ctx, Loader};
use crate::diag::Origin;
use crate::keywords::{SERVER_KEYWORDS, suggest};
use crate::model::{ProxyKind, Server, ServerParams};
use crate::values::{AddrRules, TimeError, TimeUnit, atol, parse_address, parse_time};
use std::collections::HashSet;
use std::sync::LazyLock;

/// Highest server weight (`SRV_UWGHT_MAX`).
pub const MAX_WEIGHT: i64 = 256;

/// Server keywords that take one argument (the others take none, except `source`).
pub(super) const WITH_ARG: &[&str] = &[
    "alpn",
    "ca-file",
    "check-alpn",
    "check-sni",
    "ciphers",
    "ciphersuites",
    "crl-file",
    "crt",
    "npn",
    "sni",
    "ssl-min-ver",
    "ssl-max-ver",
    "verify",
    "verifyhost",
    "tcp-ut",
    "addr",
    "agent-addr",
    "agent-inter",
    "agent-port",
    "agent-send",
    "check-proto",
    "rise",
    "fall",
    "inter",
    "fastinter",
    "downinter",
    "port",
    "cookie",
    "error-limit",
    "id",
    "init-addr",
    "log-proto",
    "maxconn",
    "maxqueue",
    "max-reuse",
    "minconn",
    "namespace",
    "observe",
    "on-error",
    "on-marked-down",
    "on-marked-up",
    "pool-low-conn",
    "pool-max-conn",
    "pool-purge-delay",
    "proto",
    "proxy-v2-options",
    "redir",
    "resolve-net",
    "resolve-opts",
    "resolve-prefer",
    "resolvers",
    "slowstart",
    "source",
    "track",
    "socks4",
    "usesrc",
    "weight",
    "ws",
];

/// [`SERVER_KEYWORDS`] as a set (tens of thousands of lookups on large configurations).
static KNOWN: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| SERVER_KEYWORDS.iter().copied().collect());
/// [`WITH_ARG`] as a set.
static TAKES_ARG: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| WITH_ARG.iter().copied().collect());

/// One `server`-family line.
pub(super) fn server_line(l: &mut Loader<'_>, ctx: &Ctx<'_>, kind: ProxyKind, pname: &str) {
    let kw = ctx.arg(0);
    let default = kw == "default-server";
    let template = kw == "server-template";
    if !kind.has_backend() {
        let msg = format!(
            "'{kw}' not allowed because {} '{pname}' has no backend capability.",
            kind.type_str()
        );
        return l.alert(ctx, ctx.col(0), "wrong-side", Origin::Doubled, msg);
    }
    let (name, addr_at) = if default {
        (String::new(), None)
    } else if template {
        (ctx.arg(1).to_owned(), Some(3))
    } else {
        (ctx.arg(1).to_owned(), Some(2))
    };
    let object = if default {
        Origin::Located
    } else {
        Origin::Object(format!("{kw} {pname}/{name}"))
    };
    if let Some(at) = addr_at {
        if ctx.arg(at).is_empty() {
            let msg = if template {
                format!("'{kw}' expects <prefix> <nb | range> <addr>[:<port>] as arguments.")
            } else {
                format!("'{kw}' expects <name> and <addr>[:<port>] as arguments.")
            };
            return l.alert(ctx, ctx.col(0), "missing-argument", Origin::Located, msg);
        }
        if let Some(c) = super::proxy::invalid_char(&name) {
            let msg = format!("character '{c}' is not permitted in server name '{name}'.");
            return l.alert(ctx, ctx.col(1), "bad-name", Origin::Located, msg);
        }
    }
    let address = match addr_at {
        None => None,
        Some(at) => match parse_address(ctx.arg(at), AddrRules::SERVER) {
            Ok(a) => Some(a),
            Err(e) => {
                let nl = if e.has_trailing_newline() { "\n" } else { "" };
                let msg = format!("{e}{nl}");
                return l.alert(ctx, ctx.col(at), "bad-address", object.clone(), msg);
            }
        },
    };
    let mut params = l
        .proxy_mut()
        .map(|p| p.default_server.clone())
        .unwrap_or_default();
    let mut i = addr_at.map_or(1, |a| a + 1);
    while i < ctx.len() {
        match keyword(&mut params, ctx, i, &name, default) {
            Ok(used) => i += 1 + used,
            Err(msg) => {
                return l.alert(ctx, ctx.col(i), "bad-server-param", object.clone(), msg);
            }
        }
    }
    if !default && params.check == Some(true) && params.extra().track.is_some() {
        let msg = "unable to enable checks and tracking at the same time!".to_owned();
        return l.alert(ctx, ctx.col(0), "check-and-track", object, msg);
    }
    if let (false, Some(id)) = (default, params.id) {
        let used = l.proxy_mut().and_then(|p| {
            p.servers
                .iter()
                .find(|s| s.params.id == Some(id))
                .map(|s| (s.loc.clone(), s.name.clone()))
        });
        if let Some((at, other)) = used {
            let msg = format!(
                "'id' : custom id {id} already used at {}:{} ('server {other}').",
                at.file, at.line
            );
            return l.alert(ctx, ctx.col(0), "duplicate-id", object, msg);
        }
    }
    let loc = ctx.loc();
    match address {
        None => set(l, |p| p.default_server = params),
        Some(address) => {
            let addr_text = ctx.arg(addr_at.unwrap_or(2)).to_owned();
            let s = Server {
                name,
                loc,
                addr_text,
                address,
                params,
            };
            set(l, |p| p.servers.push(s));
        }
    }
}

/// Applies server keyword `i`; returns how many arguments it used, or HAProxy's message.
fn keyword(
    p: &mut ServerParams,
    ctx: &Ctx<'_>,
    i: usize,
    srv: &str,
    default: bool,
) -> Result<usize, String> {
    let kw = ctx.arg(i);
    let arg = ctx.arg(i + 1);
    if !KNOWN.contains(kw) {
        let hint = if default {
            " Hint: no address was expected for this server."
        } else {
            ""
        };
        return Err(match suggest(kw, &[SERVER_KEYWORDS]) {
            Some(best) => format!("unknown keyword '{kw}'; did you mean '{best}' maybe ?{hint}"),
            None => format!("unknown keyword '{kw}'.{hint}"),
        });
    }
    if default && matches!(kw, "id" | "track") {
        return Err(format!(
            "'{kw}' option is not accepted in default-server sections"
        ));
    }
    let takes = usize::from(TAKES_ARG.contains(kw));
    let int = |name: &str| -> Result<i64, String> {
        if arg.is_empty() {
            return Err(format!("'{name}' expects an integer argument.."));
        }
        Ok(atol(arg))
    };
    let delay = |_name: &str| -> Result<u32, String> {
        match parse_time(arg, TimeUnit::Millis) {
            Ok(t) if t.value > 0 => Ok(t.value),
            Ok(_) => Err(format!(
                "invalid value 0 for argument '{kw}' of server {srv}.."
            )),
            Err(TimeError::UnexpectedChar(None)) => {
                Err(format!("'{kw}' expects a delay as argument.."))
            }
            Err(TimeError::UnexpectedChar(Some(c))) => Err(format!(
                "unexpected character '{c}' in 'agent-inter' argument of server {srv}.."
            )),
            Err(TimeError::Overflow) => Err(format!(
                "timer overflow in argument <{arg}> to <{kw}> of server {srv}, maximum value is 2147483647 ms (~24.8 days).."
            )),
        }
    };
    let positive = |name: &str| -> Result<i64, String> {
        let v = int(name)?;
        if v <= 0 {
            return Err(format!("'{name}' has to be > 0.."));
        }
        Ok(v)
    };
    let need = |what: &str| -> Result<String, String> {
        if arg.is_empty() {
            return Err(format!("'{kw}' expects {what} as argument.."));
        }
        Ok(arg.to_owned())
    };
    match kw {
        "check" => p.check = Some(true),
        "no-check" => p.check = Some(false),
        "rise" => p.rise = Some(positive(kw)?),
        "fall" => p.fall = Some(positive(kw)?),
        "inter" => p.inter = Some(delay(kw)?),
        "fastinter" => p.fastinter = Some(delay(kw)?),
        "downinter" => p.downinter = Some(delay(kw)?),
        "agent-inter" => p.agent_inter = Some(delay(kw)?),
        "slowstart" => {
            p.slowstart = Some(match parse_time(arg, TimeUnit::Millis) {
                Ok(t) => t.value,
                Err(TimeError::UnexpectedChar(c)) => {
                    let c = c.unwrap_or('\0');
                    return Err(format!(
                        "unexpected character '{c}' in 'slowstart' argument of server {srv}.."
                    ));
                }
                Err(TimeError::Overflow) => {
                    return Err(format!(
                        "overflow in argument <{arg}> to <{kw}> of server {srv}, maximum value is 2147483647 ms (~24.8 days).."
                    ));
                }
            });
        }
        "weight" => {
            let w = atol(arg);
            if !(0..=MAX_WEIGHT).contains(&w) {
                let shown = i32::try_from(w).unwrap_or(-1);
                return Err(format!(
                    "weight of server {srv} is not within 0 and {MAX_WEIGHT} ({shown}).."
                ));
            }
            p.weight = u32::try_from(w).ok();
        }
        "backup" => p.backup = Some(true),
        "no-backup" => p.backup = Some(false),
        "maxconn" => p.maxconn = Some(atol(arg)),
        "maxqueue" => p.maxqueue = Some(atol(arg)),
        "minconn" => p.minconn = Some(atol(arg)),
        "cookie" => p.cookie = Some(need("<value>")?),
        "send-proxy" => p.send_proxy = Some(true),
        "no-send-proxy" => p.send_proxy = Some(false),
        "send-proxy-v2" => p.send_proxy_v2 = Some(true),
        "no-send-proxy-v2" => p.send_proxy_v2 = Some(false),
        "ssl" => p.ssl = Some(true),
        "no-ssl" => p.ssl = Some(false),
        "verify" => {
            if !matches!(arg, "none" | "required") {
                return Err(format!(
                    "'{kw}' : unknown verify method '{arg}', only 'none' and 'required' are supported."
                ));
            }
            p.extra_mut().verify = Some(arg.to_owned());
        }
        "sni" => p.extra_mut().sni = Some(need("an expression")?),
        "check-ssl" => p.check_ssl = Some(true),
        "no-check-ssl" => p.check_ssl = Some(false),
        "check-sni" => p.extra_mut().check_sni = Some(need("a string")?),
        "port" | "agent-port" => {
            if arg.is_empty() {
                return Err(format!("'{kw}' expects a port number as argument.."));
            }
            // HAProxy keeps atol()'s value without a range check; we keep the low 16 bits too.
            let port = u16::try_from(atol(arg) & 0xffff).unwrap_or(0);
            if kw == "port" {
                p.port = Some(port)
            } else {
                p.agent_port = Some(port)
            }
        }
        "addr" | "agent-addr" => {
            let a = need(if kw == "addr" {
                "<ipv4|ipv6>"
            } else {
                "an address"
            })?;
            if kw == "addr" {
                p.extra_mut().addr = Some(a)
            } else {
                p.extra_mut().agent_addr = Some(a)
            }
        }
        "agent-check" => p.agent_check = Some(true),
        "no-agent-check" => p.agent_check = Some(false),
        "agent-send" => p.extra_mut().agent_send = Some(need("a string")?),
        "disabled" => p.disabled = Some(true),
        "enabled" => p.disabled = Some(false),
        "on-marked-down" => {
            if arg != "shutdown-sessions" {
                return Err(format!(
                    "'{kw}' expects 'shutdown-sessions' but got '{arg}'."
                ));
            }
            p.extra_mut().on_marked_down = Some(arg.to_owned());
        }
        "on-marked-up" => {
            if arg != "shutdown-backup-sessions" {
                return Err(format!(
                    "'{kw}' expects 'shutdown-backup-sessions' but got '{arg}'."
                ));
            }
            p.extra_mut().on_marked_up = Some(arg.to_owned());
        }
        "observe" => {
            if !matches!(arg, "none" | "layer4" | "layer7") {
                return Err(format!(
                    "'{kw}' expects one of 'none', 'layer4', 'layer7' but got '{arg}'."
                ));
            }
            p.extra_mut().observe = Some(arg.to_owned());
        }
        "on-error" => {
            if !matches!(
                arg,
                "fastinter" | "fail-check" | "sudden-death" | "mark-down"
            ) {
                return Err(format!(
                    "'{kw}' expects one of 'fastinter', 'fail-check', 'sudden-death' or 'mark-down' but got '{arg}'."
                ));
            }
            p.extra_mut().on_error = Some(arg.to_owned());
        }
        "error-limit" => {
            let v = int(kw)?;
            if v <= 0 {
                return Err("error-limit has to be > 0..".to_owned());
            }
            p.error_limit = Some(v);
        }
        "track" => p.extra_mut().track = Some(need("[<proxy>/]<server>")?),
        "init-addr" => p.extra_mut().init_addr = Some(need("<method>[,<method>]*")?),
        "id" => {
            let v = int(kw)?;
            if v <= 0 {
                return Err(format!("'{kw}' : custom id has to be > 0."));
            }
            p.id = Some(v);
        }
        _ => {
            p.extra_mut().other.push(kw.to_owned());
            if takes == 1 {
                p.extra_mut().other.push(arg.to_owned());
            }
        }
    }
    Ok(takes)
}
