//! Global `unix-bind [prefix <p>] [mode <m>] [user <u>] [uid <n>] [group <g>] [gid <n>]`
//! (HAProxy 2.6's `cfg_parse_global()` branch), read as leniently as HAProxy reads it.

use super::{Ctx, Loader};
use crate::diag::{Diagnostic, Origin};
use crate::values::atol;

/// One `unix-bind` line: options in any order, each with one value.
pub(super) fn directive(l: &mut Loader<'_>, ctx: &Ctx<'_>) {
    let mut i = 1;
    while !ctx.arg(i).is_empty() {
        let (opt, val) = (ctx.arg(i), ctx.arg(i + 1));
        let ub = &mut l.config.global.unix_bind;
        match opt {
            "prefix" if ub.prefix.is_some() => {
                // Not fatal: the first prefix stays.
                let msg = "unix-bind 'prefix' already specified. Continuing.";
                let d = Diagnostic::alert("duplicate-unix-bind-prefix", Origin::Parsing, msg)
                    .at(&ctx.file, ctx.line, ctx.col(i))
                    .non_fatal();
                l.emit(d);
            }
            "prefix" if val.is_empty() => {
                let msg = "unix_bind 'prefix' expects a path as an argument.".to_owned();
                return l.alert(ctx, ctx.col(i), "missing-argument", Origin::Parsing, msg);
            }
            "prefix" => ub.prefix = Some(val.to_owned()),
            "mode" => ub.mode = Some(strtol_octal(val)),
            "uid" => ub.uid = id(val),
            "gid" => ub.gid = id(val),
            "user" | "group" => {
                let found = if opt == "user" {
                    l.env.user_id(val)
                } else {
                    l.env.group_id(val)
                };
                let Some(n) = found else {
                    let msg = format!("'{}' : '{val}' unknown {opt}.", ctx.arg(0));
                    return l.alert(ctx, ctx.col(i + 1), "unknown-owner", Origin::Parsing, msg);
                };
                let ub = &mut l.config.global.unix_bind;
                if opt == "user" {
                    ub.uid = Some(n);
                } else {
                    ub.gid = Some(n);
                }
            }
            _ => {
                let msg = format!(
                    "'{}' only supports the 'prefix', 'mode', 'uid', 'gid', 'user' and 'group' options.",
                    ctx.arg(0)
                );
                return l.alert(ctx, ctx.col(i), "unknown-option", Origin::Parsing, msg);
            }
        }
        i += 2;
    }
}

/// `atol()` into an owner id; HAProxy's "unchanged" (-1) and other values no id can have
/// leave the owner alone.
fn id(text: &str) -> Option<u32> {
    u32::try_from(atol(text)).ok()
}

/// C's `strtol(text, NULL, 8)` into a mode: leading blanks, a sign, octal digits up to the first
/// other character; 0 when there are none. Only the permission bits matter to `chmod()`.
pub(crate) fn strtol_octal(text: &str) -> u32 {
    let t = text.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, t.get(1..).unwrap_or("")),
        Some(b'+') => (false, t.get(1..).unwrap_or("")),
        _ => (false, t),
    };
    let mut v: u32 = 0;
    for b in digits.bytes().take_while(|b| (b'0'..=b'7').contains(b)) {
        v = v.wrapping_mul(8).wrapping_add(u32::from(b - b'0'));
    }
    if neg { v.wrapping_neg() } else { v }
}

#[cfg(test)]
mod tests {
    use super::strtol_octal;

    #[test]
    fn modes_read_as_strtol_base_8() {
        assert_eq!(strtol_octal("0660"), 0o660);
        assert_eq!(strtol_octal("  600x"), 0o600);
        assert_eq!(strtol_octal("9"), 0);
        assert_eq!(strtol_octal(""), 0);
        assert_eq!(strtol_octal("+17"), 0o17);
    }
}
