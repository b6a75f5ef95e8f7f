//! Keyword parsers shared by several sections: times, `log`, `balance`, `hash-type`, `cookie`,
//! `errorfile` and `capture`.

use super::{Ctx, Loader};
use crate::diag::Origin;
use crate::model::{
    Balance, Capture, Cookie, CookieMode, ErrorFile, FACILITIES, FORMATS, HashFunction, HashMethod,
    HashType, LEVELS, LogTarget, Syslog,
};
use crate::values::{AddrRules, TimeError, TimeUnit, atoi, atol, parse_address, parse_time};

/// Status codes `errorfile` accepts (HAProxy's `http_err_codes`).
pub const ERROR_CODES: &[u16] = &[
    200, 400, 401, 403, 404, 405, 407, 408, 410, 413, 425, 429, 500, 501, 502, 503, 504,
];

/// Largest errorfile we read (HAProxy refuses files larger than a buffer).
pub const MAX_ERRORFILE_LEN: usize = 1 << 20;

/// Parses word `i` as a time for keyword `what` (already quoted), reporting HAProxy's
/// "unexpected character" error; `None` when it failed.
pub(super) fn time_arg(
    l: &mut Loader<'_>,
    ctx: &Ctx<'_>,
    i: usize,
    unit: TimeUnit,
    what: &str,
) -> Option<u32> {
    match parse_time(ctx.arg(i), unit) {
        Ok(t) => Some(t.value),
        Err(TimeError::UnexpectedChar(Some(c))) => {
            let msg = format!("unexpected character '{c}' in argument to <{what}>.\n");
            l.alert(ctx, ctx.col(i), "bad-time", Origin::Parsing, msg);
            None
        }
        Err(TimeError::UnexpectedChar(None)) => {
            let msg = format!("{what} expects a time value.");
            l.alert(ctx, ctx.col(0), "missing-argument", Origin::Parsing, msg);
            None
        }
        Err(TimeError::Overflow) => {
            let msg = format!(
                "timer overflow in argument <{}> to <{what}>, maximum value is 2147483647 ms (~24.8 days).\n",
                ctx.arg(i)
            );
            l.alert(ctx, ctx.col(i), "bad-time", Origin::Parsing, msg);
            None
        }
    }
}

/// `stats timeout <t>` (global and proxies), with the CLI's own wording.
pub(super) fn stats_timeout(l: &mut Loader<'_>, ctx: &Ctx<'_>, what: &str) -> Option<u32> {
    match parse_time(ctx.arg(2), TimeUnit::Millis) {
        Ok(t) if t.value > 0 => Some(t.value),
        Ok(_) | Err(TimeError::UnexpectedChar(None)) => {
            let msg = format!("{what} expects a positive value");
            l.alert(ctx, ctx.col(2), "bad-time", Origin::Parsing, msg);
            None
        }
        Err(TimeError::UnexpectedChar(Some(c))) => {
            let msg = format!("{what} : unexpected character '{c}'");
            l.alert(ctx, ctx.col(2), "bad-time", Origin::Parsing, msg);
            None
        }
        Err(TimeError::Overflow) => {
            let msg = format!("timer overflow in argument '{}' to {what}", ctx.arg(2));
            l.alert(ctx, ctx.col(2), "bad-time", Origin::Parsing, msg);
            None
        }
    }
}

/// `log global | <target> [len N] [format F] [sample R:S] <facility> [level [minlevel]]`.
pub(super) fn log_line(l: &mut Loader<'_>, ctx: &Ctx<'_>, in_proxy: bool) -> Option<LogTarget> {
    let fail = |l: &mut Loader<'_>, col: u32, msg: String| {
        l.alert(ctx, col, "bad-log", Origin::Parsing, format!("log : {msg}"));
        None
    };
    if ctx.arg(1) == "global" && ctx.arg(2).is_empty() {
        if !in_proxy {
            return fail(
                l,
                ctx.col(1),
                "'global' is not supported for a global syslog server".into(),
            );
        }
        return Some(LogTarget::Global);
    }
    if ctx.arg(1).is_empty() || ctx.arg(2).is_empty() {
        let extra = if in_proxy { "or global" } else { "" };
        return fail(
            l,
            ctx.col(0),
            format!("expects <address> and <facility> {extra} as arguments"),
        );
    }
    let mut s = Syslog {
        address: None,
        ring: None,
        max_len: None,
        format: None,
        sample: None,
        facility: String::new(),
        level: None,
        min_level: None,
    };
    let mut i = 2;
    if ctx.arg(i) == "len" {
        let len = atoi(ctx.arg(i + 1));
        if !(80..=65535).contains(&len) {
            return fail(
                l,
                ctx.col(i + 1),
                format!(
                    "invalid log length '{}', must be between 80 and 65535",
                    ctx.arg(i + 1)
                ),
            );
        }
        s.max_len = u32::try_from(len).ok();
        i += 2;
    }
    if ctx.arg(i) == "format" {
        if !FORMATS.contains(&ctx.arg(i + 1)) {
            return fail(
                l,
                ctx.col(i + 1),
                format!("unknown log format '{}'", ctx.arg(i + 1)),
            );
        }
        s.format = Some(ctx.arg(i + 1).to_owned());
        i += 2;
    }
    if ctx.arg(i) == "sample" {
        if !ctx.arg(i + 1).contains(':') {
            return fail(l, ctx.col(i + 1), "Missing sample size".into());
        }
        s.sample = Some(ctx.arg(i + 1).to_owned());
        i += 2;
    }
    if !FACILITIES.contains(&ctx.arg(i)) {
        return fail(
            l,
            ctx.col(i),
            format!("unknown log facility '{}'", ctx.arg(i)),
        );
    }
    s.facility = ctx.arg(i).to_owned();
    i += 1;
    if !ctx.arg(i).is_empty() {
        if !LEVELS.contains(&ctx.arg(i)) {
            return fail(
                l,
                ctx.col(i),
                format!("unknown optional log level '{}'", ctx.arg(i)),
            );
        }
        s.level = Some(ctx.arg(i).to_owned());
        i += 1;
    }
    if !ctx.arg(i).is_empty() {
        if !LEVELS.contains(&ctx.arg(i)) {
            return fail(
                l,
                ctx.col(i),
                format!("unknown optional minimum log level '{}'", ctx.arg(i)),
            );
        }
        s.min_level = Some(ctx.arg(i).to_owned());
        i += 1;
    }
    if !ctx.arg(i).is_empty() {
        return fail(
            l,
            ctx.col(i),
            format!("cannot handle unexpected argument '{}'", ctx.arg(i)),
        );
    }
    let target = match ctx.arg(1) {
        "stdout" => "fd@1",
        "stderr" => "fd@2",
        t => t,
    };
    if let Some(ring) = target.strip_prefix("ring@") {
        s.ring = Some(ring.to_owned());
    } else {
        match parse_address(target, AddrRules::LOG) {
            Ok(a) => s.address = Some(a),
            Err(e) => return fail(l, ctx.col(1), e.to_string()),
        }
    }
    Some(LogTarget::Syslog(s))
}

/// `balance <algo> [args]`.
pub(super) fn balance(l: &mut Loader<'_>, ctx: &Ctx<'_>) -> Option<Balance> {
    let algo = ctx.arg(1);
    let fail = |l: &mut Loader<'_>, msg: String| {
        l.alert(
            ctx,
            ctx.col(1),
            "bad-balance",
            Origin::Parsing,
            format!("balance {msg}"),
        );
        None
    };
    let b = match algo {
        "roundrobin" => Balance::RoundRobin,
        "static-rr" => Balance::StaticRr,
        "first" => Balance::First,
        "leastconn" => Balance::LeastConn,
        "source" => Balance::Source,
        "uri" => {
            let (mut len, mut depth, mut whole, mut path_only) = (None, None, false, false);
            let mut i = 2;
            while !ctx.arg(i).is_empty() {
                match ctx.arg(i) {
                    opt @ ("len" | "depth") => {
                        let v = atoi(ctx.arg(i + 1));
                        if v <= 0 {
                            return fail(
                                l,
                                format!(
                                    "uri : '{opt}' expects a positive integer (got '{}').",
                                    ctx.arg(i + 1)
                                ),
                            );
                        }
                        let v = u32::try_from(v).ok();
                        if opt == "len" {
                            len = v
                        } else {
                            depth = v
                        }
                        i += 2;
                    }
                    "whole" => {
                        whole = true;
                        i += 1;
                    }
                    "path-only" => {
                        path_only = true;
                        i += 1;
                    }
                    other => {
                        return fail(
                            l,
                            format!(
                                "uri only accepts parameters 'len', 'depth', 'path-only', and 'whole' (got '{other}')."
                            ),
                        );
                    }
                }
            }
            Balance::Uri {
                len,
                depth,
                whole,
                path_only,
            }
        }
        "url_param" => {
            if ctx.arg(2).is_empty() {
                return fail(l, "url_param requires an URL parameter name.".into());
            }
            let check_post = match ctx.arg(3) {
                "" => false,
                "check_post" => true,
                other => {
                    return fail(
                        l,
                        format!("url_param only accepts 'check_post' modifier (got '{other}')."),
                    );
                }
            };
            Balance::UrlParam {
                name: ctx.arg(2).to_owned(),
                check_post,
            }
        }
        "hash" => {
            if ctx.arg(2).is_empty() {
                return fail(l, "hash requires a sample expression.".into());
            }
            if !ctx.arg(3).is_empty() {
                return fail(
                    l,
                    format!("hash takes no other argument (got '{}').", ctx.arg(3)),
                );
            }
            Balance::Hash(ctx.arg(2).to_owned())
        }
        _ if algo.starts_with("random") => {
            let rest = algo.get(6..).unwrap_or("");
            let draws = match rest.strip_prefix('(') {
                None if rest.is_empty() => 2,
                None => return fail(l, unsupported()),
                Some(inner) => {
                    let digits = inner.bytes().take_while(u8::is_ascii_digit).count();
                    let n = atoi(inner);
                    match inner.get(digits..).and_then(|r| r.chars().next()) {
                        None => return fail(l, "random : missing closing parenthesis.".into()),
                        Some(')') => {}
                        Some(c) => {
                            return fail(
                                l,
                                format!("random : unexpected character '{c}' after argument."),
                            );
                        }
                    }
                    if n < 1 {
                        return fail(l, "random : number of draws must be at least 1.".into());
                    }
                    u32::try_from(n).unwrap_or(1)
                }
            };
            Balance::Random(draws)
        }
        _ if algo.starts_with("hdr(") => {
            let name = algo.get(4..).unwrap_or("");
            let name = name.strip_suffix(')').unwrap_or(name);
            if name.is_empty() {
                return fail(l, "hdr requires an http header field name.".into());
            }
            let use_domain_only = match ctx.arg(2) {
                "" => false,
                "use_domain_only" => true,
                other => {
                    return fail(
                        l,
                        format!("{algo} only accepts 'use_domain_only' modifier (got '{other}')."),
                    );
                }
            };
            Balance::Hdr {
                name: name.to_owned(),
                use_domain_only,
            }
        }
        _ if algo.starts_with("rdp-cookie") => {
            let rest = algo.get(10..).unwrap_or("");
            let name = match rest.strip_prefix('(') {
                Some(inner) => inner.strip_suffix(')').unwrap_or(inner),
                None if rest.is_empty() => "mstshash",
                None => return fail(l, unsupported()),
            };
            if name.is_empty() {
                return fail(l, "rdp-cookie : missing cookie name.".into());
            }
            Balance::RdpCookie(name.to_owned())
        }
        _ => return fail(l, unsupported()),
    };
    Some(b)
}

fn unsupported() -> String {
    "only supports 'roundrobin', 'static-rr', 'leastconn', 'source', 'uri', 'url_param', 'hdr(name)' and 'rdp-cookie(name)' options.".into()
}

/// `hash-type <map-based|consistent> [function] [avalanche]`.
pub(super) fn hash_type(l: &mut Loader<'_>, ctx: &Ctx<'_>) -> Option<HashType> {
    let fail = |l: &mut Loader<'_>, i: usize, msg: String| {
        l.alert(ctx, ctx.col(i), "bad-hash-type", Origin::Parsing, msg);
        None
    };
    let method = match ctx.arg(1) {
        "consistent" => HashMethod::Consistent,
        "map-based" => HashMethod::MapBased,
        "avalanche" => {
            return fail(l, 1, "experimental feature 'hash-type avalanche' is not supported anymore, please use 'hash-type map-based sdbm avalanche' instead.".into());
        }
        _ => {
            return fail(
                l,
                1,
                "'hash-type' only supports 'consistent' and 'map-based'.".into(),
            );
        }
    };
    let (function, mut avalanche) = match ctx.arg(2) {
        "" => (HashFunction::Sdbm, method == HashMethod::Consistent),
        "sdbm" => (HashFunction::Sdbm, false),
        "djb2" => (HashFunction::Djb2, false),
        "wt6" => (HashFunction::Wt6, false),
        "crc32" => (HashFunction::Crc32, false),
        _ => {
            return fail(
                l,
                2,
                "'hash-type' only supports 'sdbm', 'djb2', 'crc32', or 'wt6' hash functions."
                    .into(),
            );
        }
    };
    match ctx.arg(3) {
        "" => {}
        "avalanche" => avalanche = true,
        _ => {
            return fail(
                l,
                3,
                "'hash-type' only supports 'avalanche' as a modifier for hash functions.".into(),
            );
        }
    }
    Some(HashType {
        method,
        function,
        avalanche,
    })
}

/// `cookie <name> [options]`.
pub(super) fn cookie(l: &mut Loader<'_>, ctx: &Ctx<'_>) -> Option<Cookie> {
    let fail = |l: &mut Loader<'_>, i: usize, msg: String| {
        l.alert(ctx, ctx.col(i), "bad-cookie", Origin::Parsing, msg);
        None
    };
    let tight = |l: &mut Loader<'_>, i: usize, msg: String| {
        l.alert(ctx, ctx.col(i), "bad-cookie", Origin::ParsingTight, msg);
        None
    };
    if ctx.arg(1).is_empty() {
        return fail(l, 0, "'cookie' expects <cookie_name> as argument.".into());
    }
    let mut c = Cookie {
        name: ctx.arg(1).to_owned(),
        mode: None,
        indirect: false,
        nocache: false,
        postonly: false,
        preserve: false,
        httponly: false,
        secure: false,
        dynamic: false,
        domains: Vec::new(),
        maxidle: None,
        maxlife: None,
        attrs: Vec::new(),
    };
    let mut i = 2;
    while !ctx.arg(i).is_empty() {
        let w = ctx.arg(i);
        match w {
            "rewrite" | "insert" | "prefix" => {
                let m = match w {
                    "rewrite" => CookieMode::Rewrite,
                    "insert" => CookieMode::Insert,
                    _ => CookieMode::Prefix,
                };
                if c.mode.is_some_and(|old| old != m) {
                    return fail(
                        l,
                        i,
                        "cookie 'rewrite', 'insert' and 'prefix' modes are incompatible.".into(),
                    );
                }
                c.mode = Some(m);
            }
            "indirect" => c.indirect = true,
            "nocache" => c.nocache = true,
            "postonly" => c.postonly = true,
            "preserve" => c.preserve = true,
            "httponly" => c.httponly = true,
            "secure" => c.secure = true,
            "dynamic" => c.dynamic = true,
            "domain" | "attr" => {
                if ctx.arg(i + 1).is_empty() {
                    let what = if w == "domain" { "<domain>" } else { "<value>" };
                    return tight(l, i, format!("'{w}' expects {what} as argument."));
                }
                if w == "domain" {
                    c.domains.push(ctx.arg(i + 1).to_owned())
                } else {
                    c.attrs.push(ctx.arg(i + 1).to_owned())
                }
                i += 1;
            }
            "maxidle" | "maxlife" => {
                if ctx.arg(i + 1).is_empty() {
                    return fail(
                        l,
                        i,
                        format!("'{w}' expects <idletime> in seconds as argument."),
                    );
                }
                match parse_time(ctx.arg(i + 1), TimeUnit::Seconds) {
                    Ok(t) => {
                        if w == "maxidle" {
                            c.maxidle = Some(t.value)
                        } else {
                            c.maxlife = Some(t.value)
                        }
                    }
                    Err(TimeError::UnexpectedChar(Some(ch))) => {
                        return tight(
                            l,
                            i + 1,
                            format!("unexpected character '{ch}' in argument to <{w}>."),
                        );
                    }
                    Err(_) => {
                        return tight(
                            l,
                            i + 1,
                            format!(
                                "timer overflow in argument <{}> to <{w}>, maximum value is 2147483647 s (~68 years).",
                                ctx.arg(i + 1)
                            ),
                        );
                    }
                }
                i += 1;
            }
            _ => {
                return fail(l, i, "'cookie' supports 'rewrite', 'insert', 'prefix', 'indirect', 'nocache', 'postonly', 'domain', 'maxidle', 'dynamic', 'maxlife' and 'attr' options.".into());
            }
        }
        i += 1;
    }
    if c.mode == Some(CookieMode::Rewrite) && c.indirect {
        return fail(
            l,
            0,
            "cookie 'rewrite' and 'indirect' modes are incompatible.".into(),
        );
    }
    if c.preserve && c.mode != Some(CookieMode::Insert) && !c.indirect {
        return fail(
            l,
            0,
            "cookie 'preserve' requires at least 'insert' or 'indirect'.".into(),
        );
    }
    Some(c)
}

/// `errorfile <code> <file>`: the file must exist and the code be one HAProxy handles.
pub(super) fn errorfile(l: &mut Loader<'_>, ctx: &Ctx<'_>) -> Option<ErrorFile> {
    let fail = |l: &mut Loader<'_>, i: usize, msg: String| {
        l.alert(ctx, ctx.col(i), "bad-errorfile", Origin::Parsing, msg);
        None
    };
    if ctx.arg(2).is_empty() {
        return fail(
            l,
            0,
            "errorfile : <errorfile> expects <status_code> and <file> as arguments.".into(),
        );
    }
    let code = atoi(ctx.arg(1));
    let Some(code) = u16::try_from(code).ok().filter(|c| ERROR_CODES.contains(c)) else {
        return fail(
            l,
            1,
            format!("errorfile : status code '{}' not handled.", ctx.arg(1)),
        );
    };
    let path = ctx.arg(2).to_owned();
    match l.env.read_file(&l.resolve(&path)) {
        Ok(contents) if contents.len() <= MAX_ERRORFILE_LEN => Some(ErrorFile::File {
            code,
            path,
            contents,
        }),
        Ok(_) => fail(
            l,
            2,
            format!(
                "errorfile : custom message is too big ({MAX_ERRORFILE_LEN} max) in file '{path}'."
            ),
        ),
        Err(_) => fail(l, 2, format!("errorfile : error opening file '{path}'.")),
    }
}

/// `errorloc`, `errorloc302`, `errorloc303 <code> <url>`.
pub(super) fn errorloc(l: &mut Loader<'_>, ctx: &Ctx<'_>) -> Option<ErrorFile> {
    let kw = ctx.arg(0);
    if ctx.arg(2).is_empty() {
        let msg = format!("{kw} : <{kw}> expects <status_code> and <url> as arguments.");
        l.alert(ctx, ctx.col(0), "bad-errorfile", Origin::Parsing, msg);
        return None;
    }
    let code = atoi(ctx.arg(1));
    let Some(code) = u16::try_from(code).ok().filter(|c| ERROR_CODES.contains(c)) else {
        let msg = format!("{kw} : status code '{}' not handled.", ctx.arg(1));
        l.alert(ctx, ctx.col(1), "bad-errorfile", Origin::Parsing, msg);
        return None;
    };
    let redirect = if kw == "errorloc303" { 303 } else { 302 };
    Some(ErrorFile::Location {
        code,
        redirect,
        url: ctx.arg(2).to_owned(),
    })
}

/// `capture request header|response header|cookie <name> len <n>`.
pub(super) fn capture(l: &mut Loader<'_>, ctx: &Ctx<'_>) -> Option<Capture> {
    let fail = |l: &mut Loader<'_>, msg: String| {
        l.alert(ctx, ctx.col(1), "bad-capture", Origin::Parsing, msg);
        None
    };
    let what = ctx.arg(1);
    match what {
        "cookie" => {
            if ctx.arg(3) != "len" || ctx.arg(4).is_empty() {
                return fail(
                    l,
                    "'capture' expects 'cookie' <cookie_name> 'len' <len>.".into(),
                );
            }
            let len = u32::try_from(atol(ctx.arg(4)).max(0)).unwrap_or(0);
            Some(Capture::Cookie(ctx.arg(2).to_owned(), len))
        }
        "request" | "response" => {
            if ctx.arg(2) != "header" || ctx.arg(4) != "len" || ctx.arg(5).is_empty() {
                return fail(
                    l,
                    format!("'capture {what}' expects 'header' <header_name> 'len' <len>."),
                );
            }
            let len = u32::try_from(atol(ctx.arg(5)).max(0)).unwrap_or(0);
            let name = ctx.arg(3).to_owned();
            Some(if what == "request" {
                Capture::RequestHeader(name, len)
            } else {
                Capture::ResponseHeader(name, len)
            })
        }
        _ => fail(
            l,
            "'capture' expects 'cookie' or 'request header' or 'response header'.".into(),
        ),
    }
}
