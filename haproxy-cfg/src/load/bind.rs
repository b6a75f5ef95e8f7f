//! `bind` lines (HAProxy's `str2listener()` and bind keywords).

use super::proxy::set;
use super::{Ctx, Loader};
use crate::diag::Origin;
use crate::keywords::{BIND_KEYWORDS, suggest};
use crate::model::{Bind, BindOptions, ProxyKind};
use crate::values::{AddrError, AddrRules, Address, atol, parse_address_in};

/// Bind keywords that take one argument (the others take none).
pub(super) const WITH_ARG: &[&str] = &[
    "alpn",
    "ca-file",
    "ca-verify-file",
    "ca-ignore-err",
    "ca-sign-file",
    "ca-sign-pass",
    "ciphers",
    "ciphersuites",
    "crl-file",
    "crt",
    "crt-ignore-err",
    "crt-list",
    "curves",
    "ecdhe",
    "ssl-min-ver",
    "ssl-max-ver",
    "tls-ticket-keys",
    "verify",
    "npn",
    "interface",
    "mss",
    "tcp-ut",
    "namespace",
    "gid",
    "group",
    "mode",
    "uid",
    "user",
    "level",
    "expose-fd",
    "severity-output",
    "accept-netscaler-cip",
    "backlog",
    "id",
    "maxconn",
    "name",
    "nice",
    "process",
    "proto",
    "shards",
    "thread",
];

/// Parses a comma-separated address list, the global `unix-bind prefix` put before unix paths.
///
/// # Errors
/// The first address's error.
pub(super) fn parse_addresses(l: &Loader<'_>, text: &str) -> Result<Vec<Address>, AddrError> {
    let prefix = l.config.global.unix_bind.prefix.as_deref();
    text.split(',')
        .map(|a| parse_address_in(a, AddrRules::BIND, prefix))
        .collect()
}

/// `bind <addr>[,<addr>...] [options]`.
pub(super) fn bind_line(l: &mut Loader<'_>, ctx: &Ctx<'_>, kind: ProxyKind) {
    let kw = ctx.arg(0);
    let text = ctx.arg(1).to_owned();
    if text.is_empty() {
        let msg = format!(
            "'{kw}' expects {{<path>|[addr1]:port1[-end1]}}{{,[addr]:port[-end]}}... as arguments."
        );
        return l.alert(ctx, ctx.col(0), "missing-argument", Origin::Parsing, msg);
    }
    let addresses = match parse_addresses(l, &text) {
        Ok(a) => a,
        Err(e) => {
            let msg = format!("'{kw}' : {e}");
            return l.alert(ctx, ctx.col(1), "bad-address", Origin::Parsing, msg);
        }
    };
    let section = kind.as_str();
    let mut o = BindOptions::default();
    let mut i = 2;
    while i < ctx.len() {
        let opt = ctx.arg(i);
        if !BIND_KEYWORDS.contains(&opt) {
            let msg = match suggest(opt, &[BIND_KEYWORDS]) {
                Some(best) => format!(
                    "'{kw} {text}' in section '{section}': unknown keyword '{opt}'; did you mean '{best}' maybe ?"
                ),
                None => format!("'{kw} {text}' in section '{section}': unknown keyword '{opt}'."),
            };
            return l.alert(ctx, ctx.col(i), "unknown-keyword", Origin::Parsing, msg);
        }
        let takes = WITH_ARG.contains(&opt);
        let arg = ctx.arg(i + 1);
        if takes && arg.is_empty() {
            let what = match opt {
                "name" => "missing name",
                "interface" => "missing interface name",
                "namespace" => "missing namespace id",
                "mss" => "missing MSS value",
                "tcp-ut" => "missing TCP User Timeout value",
                "group" => "missing group name",
                "user" => "missing user name",
                _ => "missing value",
            };
            let msg = format!("'{kw} {text}' in section '{section}' : '{opt}' : {what}");
            return l.alert(ctx, ctx.col(i), "missing-argument", Origin::Parsing, msg);
        }
        match opt {
            "ssl" => o.ssl = true,
            "crt" => {
                let path = match &l.config.global.crt_base {
                    Some(base) if !arg.starts_with('/') => {
                        format!("{}/{arg}", base.trim_end_matches('/'))
                    }
                    _ => arg.to_owned(),
                };
                if let Err(e) = l.env.read_file(&l.resolve(&path)) {
                    let reason = e.to_string();
                    let reason = reason.split(" (os error").next().unwrap_or(&reason);
                    let msg = format!(
                        "'{kw} {text}' in section '{section}' : unable to stat SSL certificate from file '{path}' : {reason}."
                    );
                    return l.alert(ctx, ctx.col(i + 1), "missing-file", Origin::Parsing, msg);
                }
                o.crt.push(arg.to_owned());
            }
            "crt-list" => o.crt_list.push(arg.to_owned()),
            "alpn" => o.alpn = Some(arg.to_owned()),
            "accept-proxy" => o.accept_proxy = true,
            "name" => o.name = Some(arg.to_owned()),
            "maxconn" => o.maxconn = Some(atol(arg)),
            "backlog" => o.backlog = Some(atol(arg)),
            "mode" => match u32::from_str_radix(arg, 8) {
                Ok(m) => o.mode = Some(m),
                Err(_) => {
                    let msg = format!(
                        "'{kw} {text}' in section '{section}' : '{opt}' : missing or invalid mode '{arg}' (octal integer expected)"
                    );
                    return l.alert(ctx, ctx.col(i + 1), "bad-argument", Origin::Parsing, msg);
                }
            },
            "level" => {
                if !matches!(arg, "user" | "operator" | "admin") {
                    let msg = format!(
                        "'{kw} {text}' in section '{section}' : 'level' only supports 'user', 'operator', and 'admin'"
                    );
                    return l.alert(ctx, ctx.col(i + 1), "bad-argument", Origin::Parsing, msg);
                }
                o.level = Some(arg.to_owned());
            }
            "user" => o.user = Some(arg.to_owned()),
            "group" => o.group = Some(arg.to_owned()),
            "v4v6" => o.v4v6 = true,
            "v6only" => o.v6only = true,
            "transparent" => o.transparent = true,
            "interface" => o.interface = Some(arg.to_owned()),
            "process" => {
                // COMPAT: deprecated in 2.6 (a warning there too); processes became threads.
                let msg = format!(
                    "'{kw} {text}' in section '{section}' : '{opt} {arg}' on '{kw}' lines is deprecated and will be removed in 2.7."
                );
                l.warn(ctx, ctx.col(i), "deprecated-keyword", Origin::Parsing, msg);
                o.process = Some(arg.to_owned());
            }
            _ => {
                o.other.push(opt.to_owned());
                if takes {
                    o.other.push(arg.to_owned());
                }
            }
        }
        i += 1 + usize::from(takes);
    }
    let b = Bind {
        loc: ctx.loc(),
        text,
        addresses,
        options: o,
        unix_defaults: unix_defaults(l),
    };
    set(l, |p| p.binds.push(b));
}

/// The global `unix-bind` mode and owner a `bind` read now takes (the prefix is applied to its
/// addresses instead).
pub(super) fn unix_defaults(l: &Loader<'_>) -> crate::model::UnixBind {
    crate::model::UnixBind {
        prefix: None,
        ..l.config.global.unix_bind.clone()
    }
}
