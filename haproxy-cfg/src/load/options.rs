//! The `option` keyword family.

use super::proxy::set;
use super::{Ctx, Loader, global::too_many_args};
use crate::diag::{Diagnostic, Origin};
use crate::keywords::{Side, simple_option, suggest_option};
use crate::model::{ForwardFor, HttpConnMode, LogStyle};

/// Default header of `option forwardfor`.
pub const DEFAULT_XFF_HEADER: &str = "X-Forwarded-For";

/// `[no] option <name> [args]`.
pub(super) fn option(l: &mut Loader<'_>, ctx: &Ctx<'_>, negated: bool) {
    let name = ctx.arg(1);
    let Some(p) = l.proxy_mut() else { return };
    let (kind, pname) = (p.kind, p.name.clone());
    if name.is_empty() {
        let msg = "'option' expects an option name.".to_owned();
        return l.alert(ctx, ctx.col(0), "missing-argument", Origin::Parsing, msg);
    }
    if let Some((side, _http)) = simple_option(name) {
        if too_many_args_idx(l, ctx) {
            return;
        }
        let ok = match side {
            Side::Frontend => kind.has_frontend(),
            Side::Backend => kind.has_backend(),
            Side::Both => true,
        };
        if !ok {
            let cap = if side == Side::Frontend {
                "frontend"
            } else {
                "backend"
            };
            let msg = format!(
                "'{name}' ignored because {} '{pname}' has no {cap} capability.",
                kind.type_str()
            );
            return l.warn(ctx, ctx.col(1), "wrong-side", Origin::Parsing, msg);
        }
        let name = name.to_owned();
        return set(l, |p| {
            p.options.flags.insert(name, !negated);
        });
    }
    match name {
        "httpclose" | "http-server-close" | "http-keep-alive" => {
            if too_many_args_idx(l, ctx) {
                return;
            }
            let mode = match name {
                "httpclose" => HttpConnMode::Close,
                "http-server-close" => HttpConnMode::ServerClose,
                _ => HttpConnMode::KeepAlive,
            };
            set(l, |p| {
                if !negated {
                    p.options.http_conn_mode = Some(mode);
                } else if p.options.http_conn_mode == Some(mode) {
                    p.options.http_conn_mode = None;
                }
            });
        }
        "http-tunnel" => {
            // COMPAT: HAProxy 2.6 rejects it; tunnelling happens by itself since 2.1, so the
            // option has no meaning left and we ignore it.
            let msg = "option 'http-tunnel' is a legacy option and is ignored (tunnels are established automatically since HAProxy 2.1).".to_owned();
            l.emit(
                Diagnostic::warning("legacy-keyword", Origin::ParsingTight, msg)
                    .at(&ctx.file, ctx.line, ctx.col(1))
                    .with_help("remove the line"),
            );
        }
        "http_proxy" => {
            let msg = "option 'http_proxy' is not supported any more since HAProxy 2.5. This option stopped working in HAProxy 1.9 and usually had nasty side effects. It can be more reliably implemented with combinations of 'http-request set-dst' and 'http-request set-uri', and even 'http-request do-resolve' if DNS resolution is desired.".to_owned();
            l.alert(ctx, ctx.col(1), "legacy-keyword", Origin::ParsingTight, msg);
        }
        "forceclose" => {
            let msg = "option 'forceclose' is not supported any more since HAProxy 2.0, please just remove it, or use 'option httpclose' if absolutely needed.".to_owned();
            l.alert(ctx, ctx.col(1), "legacy-keyword", Origin::ParsingTight, msg);
        }
        "redispatch" => {
            if !kind.has_backend() {
                let msg = format!(
                    "'{name}' ignored because {} '{pname}' has no backend capability.",
                    kind.type_str()
                );
                return l.warn(ctx, ctx.col(1), "wrong-side", Origin::Parsing, msg);
            }
            let name = name.to_owned();
            let interval =
                (!negated && !ctx.arg(2).is_empty()).then(|| crate::values::atol(ctx.arg(2)));
            set(l, |p| {
                p.options.flags.insert(name, !negated);
                p.options.redispatch_interval = interval;
            });
        }
        _ if negated => {
            let msg = format!("negation/default is not supported for option '{name}'.");
            l.alert(ctx, ctx.col(1), "bad-prefix", Origin::ParsingTight, msg);
        }
        "httplog" | "httpslog" | "tcplog" => log_option(l, ctx, kind, &pname),
        "tcpka" => set(l, |p| p.options.tcpka = Some(true)),
        "httpchk" | "ssl-hello-chk" | "smtpchk" | "pgsql-check" | "redis-check" | "mysql-check"
        | "ldap-check" | "spop-check" | "tcp-check" | "external-check" => {
            if !kind.has_backend() {
                let msg = format!(
                    "'{name}' ignored because {} '{pname}' has no backend capability.",
                    kind.type_str()
                );
                return l.warn(ctx, ctx.col(1), "wrong-side", Origin::Parsing, msg);
            }
            if name == "pgsql-check" && (ctx.arg(2).is_empty() || ctx.arg(3).is_empty()) {
                let msg = "'option pgsql-check' expects 'user <username>' as argument.".to_owned();
                return l.alert(ctx, ctx.col(1), "missing-argument", Origin::Parsing, msg);
            }
            if name == "httpchk" && ctx.arg(4).contains(['\r', '\n']) {
                let msg = "'option httpchk' : hiding headers or body at the end of the version string is deprecated. Please, consider to use 'http-check send' directive instead.".to_owned();
                l.warn(
                    ctx,
                    ctx.col(4),
                    "deprecated-syntax",
                    Origin::ParsingTight,
                    msg,
                );
            }
            let v = Some((name.to_owned(), ctx.rest(2)));
            set(l, |p| p.options.check = v);
        }
        "forwardfor" => forwardfor(l, ctx),
        "originalto" => {
            let v = Some(ctx.rest(2));
            set(l, |p| p.options.originalto = v);
        }
        "http-restrict-req-hdr-names" => {
            let arg = ctx.arg(2);
            if arg.is_empty() {
                let msg = format!(
                    "missing parameter. option '{name}' expects 'preserve', 'reject' or 'delete' option."
                );
                return l.alert(ctx, ctx.col(1), "missing-argument", Origin::Parsing, msg);
            }
            if !matches!(arg, "preserve" | "reject" | "delete") {
                let msg = format!(
                    "invalid parameter '{arg}'. option '{name}' expects 'preserve', 'reject' or 'delete' option."
                );
                return l.alert(ctx, ctx.col(2), "bad-argument", Origin::Parsing, msg);
            }
            let key = format!("{name}={arg}");
            set(l, |p| {
                p.options.flags.insert(key, true);
            });
        }
        _ => {
            let msg = match suggest_option(name) {
                Some(best) => format!("unknown option '{name}'; did you mean '{best}' maybe ?"),
                None => format!("unknown option '{name}'."),
            };
            l.alert(ctx, ctx.col(1), "unknown-option", Origin::Parsing, msg);
        }
    }
}

/// HAProxy's `alertif_too_many_args_idx(0, 1, ...)`: `option <name>` takes no argument.
fn too_many_args_idx(l: &mut Loader<'_>, ctx: &Ctx<'_>) -> bool {
    if ctx.len() > 2 {
        let msg = format!(
            "'{} {}' cannot handle unexpected argument '{}'.",
            ctx.arg(0),
            ctx.arg(1),
            ctx.arg(2)
        );
        l.alert(ctx, ctx.col(2), "too-many-args", Origin::Parsing, msg);
        return true;
    }
    false
}

/// `option httplog [clf]`, `option httpslog`, `option tcplog`.
fn log_option(l: &mut Loader<'_>, ctx: &Ctx<'_>, kind: crate::model::ProxyKind, pname: &str) {
    let name = ctx.arg(1);
    let style = match (name, ctx.arg(2)) {
        ("httplog", "") => LogStyle::Http,
        ("httplog", "clf") => LogStyle::HttpClf,
        ("httplog", _) => {
            let msg = format!("keyword '{name}' only supports option 'clf'.");
            return l.alert(ctx, ctx.col(2), "bad-argument", Origin::Parsing, msg);
        }
        ("httpslog", _) => LogStyle::Https,
        _ => LogStyle::Tcp,
    };
    if style == LogStyle::HttpClf && too_many_args(l, &ctx.shifted(), 1) {
        return;
    }
    let loc = ctx.loc();
    set(l, |p| {
        p.options.log_style = Some(style);
        p.log_format = None;
        p.log_format_loc = Some(loc);
    });
    if !kind.has_frontend() {
        let msg = format!("backend '{pname}' : 'option {name}' directive is ignored in backends.");
        l.warn(ctx, ctx.col(1), "wrong-side", Origin::Parsing, msg);
    }
}

/// `option forwardfor [except NET] [header NAME] [if-none]`.
fn forwardfor(l: &mut Loader<'_>, ctx: &Ctx<'_>) {
    let mut ff = ForwardFor {
        except: None,
        header: DEFAULT_XFF_HEADER.to_owned(),
        if_none: false,
    };
    let mut i = 2;
    while !ctx.arg(i).is_empty() {
        match ctx.arg(i) {
            "except" => {
                if ctx.arg(i + 1).is_empty()
                    || crate::values::parse_network(ctx.arg(i + 1)).is_none()
                {
                    let msg = format!(
                        "'{} {} {}' expects <address>[/mask] as argument.",
                        ctx.arg(0),
                        ctx.arg(1),
                        ctx.arg(i)
                    );
                    return l.alert(ctx, ctx.col(i), "bad-address", Origin::Parsing, msg);
                }
                ff.except = Some(ctx.arg(i + 1).to_owned());
                i += 2;
            }
            "header" => {
                if ctx.arg(i + 1).is_empty() {
                    let msg = format!(
                        "'{} {} {}' expects <header_name> as argument.",
                        ctx.arg(0),
                        ctx.arg(1),
                        ctx.arg(i)
                    );
                    return l.alert(ctx, ctx.col(i), "missing-argument", Origin::Parsing, msg);
                }
                ctx.arg(i + 1).clone_into(&mut ff.header);
                i += 2;
            }
            "if-none" => {
                ff.if_none = true;
                i += 1;
            }
            _ => {
                let msg = format!(
                    "'{} {}' only supports optional values: 'except', 'header' and 'if-none'.",
                    ctx.arg(0),
                    ctx.arg(1)
                );
                return l.alert(ctx, ctx.col(i), "bad-argument", Origin::Parsing, msg);
            }
        }
    }
    set(l, |p| p.options.forwardfor = Some(ff));
}
