//! A backend's check kind from its configuration: `option httpchk` with its `http-check` lines,
//! `option tcp-check` with its `tcp-check` lines, and the protocol checks (`ssl-hello-chk`,
//! `smtpchk`, `mysql-check`, `pgsql-check`, `redis-check`, `ldap-check`), following
//! configuration.txt 4.2. What haproxy-check cannot run is refused with a message naming the
//! directive and its place.

use std::net::IpAddr;

use haproxy_cfg::model::{Directive, Proxy};
use haproxy_check::CheckStatus;
use haproxy_check::probe::{
    CheckKind, ConnectRule, Expect, HttpCheck, HttpExpect, HttpMatch, HttpSequence, HttpStep,
    MysqlProto, TcpCheck, TcpRule, ldap_check, mysql_check, parse_hex, pgsql_check, redis_check,
    smtp_check, ssl_hello_check,
};

use crate::ProxyError;

/// A refusal: `[file:line] : '<keyword> ...' : <why>` for a directive, or the backend's name.
fn refuse(p: &Proxy, d: Option<&Directive>, why: impl std::fmt::Display) -> ProxyError {
    let message = match d {
        Some(d) => format!(
            "[{}:{}] : '{}' in backend '{}' : {why}.",
            d.loc.file,
            d.loc.line,
            d.words.first().map_or("", String::as_str),
            p.name
        ),
        None => format!("backend '{}' : {why}.", p.name),
    };
    ProxyError::Config { message }
}

/// Whether a `http-check`/`tcp-check` line is a rule of the ruleset (not a flag such as
/// `disable-on-404` or `send-state`).
fn is_rule(d: &Directive) -> bool {
    !matches!(
        d.words.get(1).map(String::as_str),
        Some("disable-on-404" | "send-state")
    )
}

/// The `kw` lines of the backend, else those of its defaults section: HAProxy 2.6 uses the
/// defaults section's ruleset when the backend declares neither its own check option nor its
/// own rules (observed on 2.6.12; flags alone do not count).
fn directives<'a>(p: &'a Proxy, defaults: Option<&'a Proxy>, kw: &'a str) -> Vec<&'a Directive> {
    let of = |q: &'a Proxy| -> Vec<&'a Directive> {
        q.other
            .iter()
            .filter(|d| d.words.first().is_some_and(|w| w == kw))
            .collect()
    };
    let own = of(p);
    match defaults {
        // COMPAT: an option re-declared in the backend with the very same words counts as
        // inherited (the model keeps no trace of where the option was written).
        Some(d) if !own.iter().any(|x| is_rule(x)) && d.options.check == p.options.check => {
            let mut all = of(d);
            all.extend(own);
            all
        }
        _ => own,
    }
}

/// The check every `check` server of backend `p` runs.
///
/// # Errors
/// [`ProxyError::Config`] for a rule that is malformed or that the checks cannot run yet.
pub(crate) fn check_kind(p: &Proxy, defaults: Option<&Proxy>) -> Result<CheckKind, ProxyError> {
    let Some((name, args)) = &p.options.check else {
        return Ok(CheckKind::Connect);
    };
    let arg = |i: usize| args.get(i).map(String::as_str);
    let bad = |e: haproxy_check::CheckError| refuse(p, None, format!("option {name}: {e}"));
    match name.as_str() {
        "httpchk" => http_kind(p, defaults, args),
        "tcp-check" => tcp_kind(p, defaults),
        "ssl-hello-chk" => ssl_hello_check().map(CheckKind::Tcp).map_err(bad),
        "redis-check" => Ok(CheckKind::Tcp(redis_check())),
        "ldap-check" => Ok(CheckKind::Tcp(ldap_check())),
        "smtpchk" => {
            let cmd = match (arg(0), arg(1)) {
                (Some(c), Some(d)) if c == "HELO" || c == "EHLO" => Some((c, d)),
                _ => None,
            };
            smtp_check(cmd).map(CheckKind::Tcp).map_err(bad)
        }
        "pgsql-check" => match (arg(0), arg(1)) {
            (Some("user"), Some(u)) => pgsql_check(u).map(CheckKind::Tcp).map_err(bad),
            _ => Err(refuse(p, None, "'option pgsql-check' needs 'user <name>'")),
        },
        "mysql-check" => {
            let user = match (arg(0), arg(1), arg(2)) {
                (None, _, _) => None,
                (Some("user"), Some(u), None | Some("post-41")) => Some((u, MysqlProto::Post41)),
                (Some("user"), Some(u), Some("pre-41")) => Some((u, MysqlProto::Pre41)),
                _ => {
                    return Err(refuse(
                        p,
                        None,
                        "'option mysql-check' expects 'user <name> [post-41|pre-41]'",
                    ));
                }
            };
            mysql_check(user).map(CheckKind::Tcp).map_err(bad)
        }
        other => Err(refuse(
            p,
            None,
            format!("'option {other}' health checks are not supported yet"),
        )),
    }
}

/// The request line words of `option httpchk [<method>] [<uri>] [<version>]` (one word is the
/// URI).
type RequestLine<'a> = (Option<&'a str>, Option<&'a str>, Option<&'a str>);

fn request_line(args: &[String]) -> RequestLine<'_> {
    match args {
        [] => (None, None, None),
        [u] => (None, Some(u.as_str()), None),
        [m, u] => (Some(m.as_str()), Some(u.as_str()), None),
        [m, u, v, ..] => (Some(m.as_str()), Some(u.as_str()), Some(v.as_str())),
    }
}

fn httpchk_base(p: &Proxy, args: &[String]) -> Result<HttpCheck, ProxyError> {
    let (m, u, v) = request_line(args);
    HttpCheck::new(m, u, v).map_err(|e| refuse(p, None, format!("option httpchk: {e}")))
}

/// One `http-check send` line applied over the `option httpchk` request line.
fn http_send(
    p: &Proxy,
    d: &Directive,
    args: &[String],
    base: &[String],
) -> Result<HttpCheck, ProxyError> {
    let err = |why: String| refuse(p, Some(d), why);
    let (mut meth, mut uri, mut ver) = request_line(base);
    let mut headers = Vec::new();
    let mut body = None;
    let mut i = 0;
    while let Some(w) = args.get(i) {
        let next = |k: usize| {
            args.get(i + k)
                .map(String::as_str)
                .ok_or_else(|| err(format!("'{w}' expects an argument")))
        };
        match w.as_str() {
            "meth" => meth = Some(next(1)?),
            "uri" => uri = Some(next(1)?),
            "ver" => ver = Some(next(1)?),
            "body" => body = Some(next(1)?),
            "comment" => {
                next(1)?;
            }
            "hdr" => {
                headers.push((next(1)?, next(2)?));
                i += 1;
            }
            "uri-lf" | "body-lf" => {
                return Err(err(format!("'{w}' (log-format) is not supported yet")));
            }
            other => return Err(err(format!("unknown argument '{other}'"))),
        }
        i += 2;
    }
    let mut c = HttpCheck::new(meth, uri, ver).map_err(|e| err(e.to_string()))?;
    for (n, v) in headers {
        c = c.header(n, v).map_err(|e| err(e.to_string()))?;
    }
    if let Some(b) = body {
        c = c.body(b.as_bytes().to_vec());
    }
    Ok(c)
}

/// The options every `expect` shares, then `[!] <match> <pattern>`.
struct ExpectWords<'a> {
    negate: bool,
    min_recv: Option<usize>,
    ok: Option<CheckStatus>,
    error: Option<CheckStatus>,
    tout: Option<CheckStatus>,
    on_success: Option<&'a str>,
    on_error: Option<&'a str>,
    kind: &'a str,
    pattern: &'a str,
    /// `hdr name <n> [value <v>]`.
    hdr: Option<(&'a str, Option<&'a str>)>,
}

/// `$e` with the options of `$w` (an [`ExpectWords`]) that every `expect` shares set: the
/// builders of `http-check expect` and `tcp-check expect` name them alike.
macro_rules! with_shared_options {
    ($e:expr, $w:expr) => {{
        let (mut e, w) = ($e, &$w);
        if w.negate {
            e = e.negate();
        }
        if let Some(n) = w.min_recv {
            e = e.min_recv(n);
        }
        if let Some(s) = w.ok {
            e = e.ok_status(s);
        }
        if let Some(s) = w.error {
            e = e.error_status(s);
        }
        if let Some(s) = w.tout {
            e = e.tout_status(s);
        }
        e
    }};
}

fn expect_words<'a>(
    args: &'a [String],
    err: &dyn Fn(String) -> ProxyError,
) -> Result<ExpectWords<'a>, ProxyError> {
    let mut out = ExpectWords {
        negate: false,
        min_recv: None,
        ok: None,
        error: None,
        tout: None,
        on_success: None,
        on_error: None,
        kind: "",
        pattern: "",
        hdr: None,
    };
    let mut i = 0;
    let status = |w: &str| {
        CheckStatus::from_name(w).ok_or_else(|| err(format!("unknown check status '{w}'")))
    };
    while let Some(w) = args.get(i) {
        let next = || {
            args.get(i + 1)
                .map(String::as_str)
                .ok_or_else(|| err(format!("'{w}' expects an argument")))
        };
        match w.as_str() {
            "!" => {
                out.negate = true;
                i += 1;
                continue;
            }
            "min-recv" => {
                let v = next()?;
                out.min_recv = Some(
                    v.parse()
                        .map_err(|_| err(format!("invalid min-recv '{v}'")))?,
                );
            }
            "comment" => {
                next()?;
            }
            "ok-status" => out.ok = Some(status(next()?)?),
            "error-status" => out.error = Some(status(next()?)?),
            "tout-status" => out.tout = Some(status(next()?)?),
            "on-success" => out.on_success = Some(next()?),
            "on-error" => out.on_error = Some(next()?),
            "hdr" => {
                out.kind = "hdr";
                let rest: Vec<&str> = args.iter().skip(i + 1).map(String::as_str).collect();
                out.hdr = match rest.as_slice() {
                    ["name", n] => Some((*n, None)),
                    ["name", n, "value", v] => Some((*n, Some(*v))),
                    _ => {
                        return Err(err(
                            "only 'hdr name <name> [value <value>]' is supported yet".to_owned(),
                        ));
                    }
                };
                return Ok(out);
            }
            kind => {
                out.kind = kind;
                out.pattern = next()?;
                if args.get(i + 2).is_some() {
                    return Err(err(format!(
                        "unexpected argument '{}' after the pattern",
                        args.get(i + 2).map_or("", String::as_str)
                    )));
                }
                return Ok(out);
            }
        }
        i += 2;
    }
    Err(err("expects a match and a pattern".to_owned()))
}

fn http_expect(p: &Proxy, d: &Directive, args: &[String]) -> Result<HttpExpect, ProxyError> {
    let err = |why: String| refuse(p, Some(d), why);
    let w = expect_words(args, &err)?;
    let re = |e: haproxy_check::CheckError| err(e.to_string());
    let matcher = match (w.kind, w.hdr) {
        ("status", _) => HttpMatch::status(w.pattern).map_err(re)?,
        ("rstatus", _) => HttpMatch::rstatus(w.pattern).map_err(re)?,
        ("string", _) => HttpMatch::String(w.pattern.as_bytes().to_vec()),
        ("rstring", _) => HttpMatch::rstring(w.pattern).map_err(re)?,
        ("hdr", Some((name, value))) => HttpMatch::Hdr {
            name: name.to_owned(),
            value: value.map(str::to_owned),
        },
        (k, _) => return Err(err(format!("'expect {k}' is not supported yet"))),
    };
    if w.on_success.is_some() || w.on_error.is_some() {
        return Err(err(
            "'on-success' and 'on-error' are not supported on http-check yet".to_owned(),
        ));
    }
    Ok(with_shared_options!(HttpExpect::new(matcher), w))
}

fn connect_rule(p: &Proxy, d: &Directive, args: &[String]) -> Result<ConnectRule, ProxyError> {
    let err = |why: String| refuse(p, Some(d), why);
    let mut rule = ConnectRule::default();
    let mut i = 0;
    while let Some(w) = args.get(i) {
        let next = || {
            args.get(i + 1)
                .map(String::as_str)
                .ok_or_else(|| err(format!("'{w}' expects an argument")))
        };
        match w.as_str() {
            "default" => {
                i += 1;
                continue;
            }
            "port" => {
                let v = next()?;
                rule.port = Some(v.parse().map_err(|_| err(format!("invalid port '{v}'")))?);
            }
            "addr" => {
                let v = next()?;
                let ip: IpAddr = v
                    .split_once(':')
                    .filter(|_| v.matches(':').count() == 1)
                    .map_or(v, |(a, _)| a)
                    .parse()
                    .map_err(|_| err(format!("invalid address '{v}'")))?;
                rule.addr = Some(ip);
            }
            "comment" => {
                next()?;
            }
            other => {
                return Err(err(format!(
                    "'connect {other}' is not supported yet (only port, addr, default, comment)"
                )));
            }
        }
        i += 2;
    }
    Ok(rule)
}

/// `option httpchk` and the `http-check` lines of the backend.
fn http_kind(
    p: &Proxy,
    defaults: Option<&Proxy>,
    base: &[String],
) -> Result<CheckKind, ProxyError> {
    let mut disable_on_404 = false;
    let mut send_state = false;
    // Exchanges: each a request (None: the option's) and at most one expect.
    let mut steps: Vec<HttpPending> = Vec::new();
    let mut connects = 0usize;
    for d in directives(p, defaults, "http-check") {
        let args = d.words.get(2..).unwrap_or_default();
        match d.words.get(1).map(String::as_str) {
            Some("disable-on-404") => disable_on_404 = true,
            Some("send-state") => send_state = true,
            Some("comment") => {}
            Some("connect") => {
                connects += 1;
                steps.push(HttpPending::Connect(connect_rule(p, d, args)?));
            }
            Some("send") => {
                let req = http_send(p, d, args, base)?;
                steps.push(HttpPending::Exchange(Some(req), None));
            }
            Some("expect") => {
                let e = http_expect(p, d, args)?;
                match steps.last_mut() {
                    Some(HttpPending::Exchange(_, slot @ None)) => *slot = Some(e),
                    _ => steps.push(HttpPending::Exchange(None, Some(e))),
                }
            }
            Some(other) => {
                return Err(refuse(
                    p,
                    Some(d),
                    format!("'http-check {other}' is not supported yet"),
                ));
            }
            None => return Err(refuse(p, Some(d), "expects an action")),
        }
    }
    let finish = |req: Option<HttpCheck>, e: Option<HttpExpect>| -> Result<HttpCheck, ProxyError> {
        let mut c = match req {
            Some(c) => c,
            None => httpchk_base(p, base)?,
        };
        if let Some(e) = e {
            c = c.expect(e);
        }
        if disable_on_404 {
            c = c.disable_on_404();
        }
        if send_state {
            c = c.send_state();
        }
        Ok(c)
    };
    let exchanges = steps
        .iter()
        .filter(|s| matches!(s, HttpPending::Exchange(..)))
        .count();
    if connects == 0 && exchanges <= 1 {
        let (req, e) = match steps.into_iter().next() {
            Some(HttpPending::Exchange(r, e)) => (r, e),
            _ => (None, None),
        };
        return finish(req, e).map(CheckKind::Http);
    }
    if connects == 0 {
        steps.insert(0, HttpPending::Connect(ConnectRule::default()));
    }
    let mut out = Vec::new();
    for s in steps {
        match s {
            HttpPending::Connect(c) => out.push(HttpStep::Connect(c)),
            HttpPending::Exchange(r, e) => out.push(HttpStep::Exchange(finish(r, e)?)),
        }
    }
    HttpSequence::new(out)
        .map(CheckKind::HttpSeq)
        .map_err(|e| refuse(p, None, format!("http-check: {e}")))
}

#[expect(
    clippy::large_enum_variant,
    reason = "a few values, built once at startup"
)]
enum HttpPending {
    Connect(ConnectRule),
    Exchange(Option<HttpCheck>, Option<HttpExpect>),
}

fn tcp_expect(p: &Proxy, d: &Directive, args: &[String]) -> Result<Expect, ProxyError> {
    let err = |why: String| refuse(p, Some(d), why);
    let w = expect_words(args, &err)?;
    let re = |e: haproxy_check::CheckError| err(e.to_string());
    let e = match w.kind {
        "string" => Expect::string(w.pattern.as_bytes().to_vec()),
        "rstring" => Expect::rstring(w.pattern).map_err(re)?,
        "binary" => Expect::binary(w.pattern).map_err(re)?,
        "rbinary" => Expect::rbinary(w.pattern).map_err(re)?,
        k => return Err(err(format!("'expect {k}' is not supported yet"))),
    };
    let mut e = with_shared_options!(e, w);
    if let Some(t) = w.on_success {
        e = e.on_success(t);
    }
    if let Some(t) = w.on_error {
        e = e.on_error(t);
    }
    Ok(e)
}

/// `option tcp-check` and the `tcp-check` lines of the backend (none: connect only).
fn tcp_kind(p: &Proxy, defaults: Option<&Proxy>) -> Result<CheckKind, ProxyError> {
    let mut rules = Vec::new();
    for d in directives(p, defaults, "tcp-check") {
        let args = d.words.get(2..).unwrap_or_default();
        let one = || match args {
            [s] => Ok(s.as_str()),
            _ => Err(refuse(p, Some(d), "expects exactly one argument")),
        };
        match d.words.get(1).map(String::as_str) {
            Some("comment") => {}
            Some("connect") => rules.push(TcpRule::Connect(connect_rule(p, d, args)?)),
            Some("send") => rules.push(TcpRule::Send(one()?.as_bytes().to_vec())),
            Some("send-binary") => rules.push(TcpRule::Send(
                parse_hex(one()?).map_err(|e| refuse(p, Some(d), e))?,
            )),
            Some("expect") => rules.push(TcpRule::Expect(tcp_expect(p, d, args)?)),
            Some(other) => {
                return Err(refuse(
                    p,
                    Some(d),
                    format!("'tcp-check {other}' is not supported yet"),
                ));
            }
            None => return Err(refuse(p, Some(d), "expects an action")),
        }
    }
    TcpCheck::new(rules)
        .map(CheckKind::Tcp)
        .map_err(|e| refuse(p, None, format!("tcp-check: {e}")))
}
