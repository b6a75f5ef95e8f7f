//! The files of an `http-request|http-response|http-after-response return` rule (`file`,
//! `lf-file`, `errorfile`): HAProxy 2.6 reads them while parsing (`http_parse_http_reply()`),
//! from the `default-path` directory in force, and stops reading the configuration when one
//! cannot be opened.

use super::{Ctx, Loader};
use crate::diag::Origin;
use crate::model::ProxyKind;

/// Checks the files a `return` rule names; false after an aborting alert.
pub(super) fn check(l: &mut Loader<'_>, ctx: &Ctx<'_>, kind: ProxyKind, pname: &str) -> bool {
    if ctx.arg(1) != "return" {
        return true;
    }
    let mut i = 2;
    while i < ctx.len() {
        let word = ctx.arg(i);
        match word {
            "if" | "unless" => break,
            "file" | "lf-file" | "errorfile" => {
                let path = ctx.arg(i + 1);
                if !path.is_empty() && l.env.read_file(&l.resolve(path)).is_err() {
                    // HAProxy's errorfile branch ends its message with one more period.
                    let end = if word == "errorfile" { "." } else { "" };
                    let msg = format!(
                        "error detected in {} '{pname}' while parsing '{} return' rule : error opening file '{path}'.{end}",
                        kind.type_str(),
                        ctx.arg(0)
                    );
                    l.abort(ctx, "missing-file", Origin::Parsing, msg);
                    return false;
                }
                i += 2;
            }
            "hdr" => i += 3,
            "default-errorfiles" => i += 1,
            _ => i += 2,
        }
    }
    true
}
