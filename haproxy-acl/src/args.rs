//! Splitting a fetch expression word (`req.hdr(host,1),lower,map_beg(f,def)`) into keywords and
//! arguments with HAProxy's second-level argument parser (configuration.txt 2.2, "arguments").

use crate::error::AclError;

/// Longest fetch expression word accepted, in bytes (HAProxy's default `tune.bufsize` of 16384).
pub const MAX_EXPR_LEN: usize = 16384;
/// Most converters chained after one fetch.
pub const MAX_CONVERTERS: usize = 64;

/// The type of one keyword argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ArgType {
    Str,
    Int,
    Backend,
    Frontend,
    Server,
    Userlist,
    Regex,
}

impl ArgType {
    fn name(self) -> &'static str {
        match self {
            Self::Str => "string",
            Self::Int => "integer",
            Self::Backend => "backend",
            Self::Frontend => "frontend",
            Self::Server => "server",
            Self::Userlist => "user list",
            Self::Regex => "regular expression",
        }
    }
}

/// One parsed argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Arg {
    Str(String),
    Int(i64),
}

impl Arg {
    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Self::Str(s) => Some(s),
            Self::Int(_) => None,
        }
    }
    pub(crate) fn as_int(&self) -> Option<i64> {
        match self {
            Self::Int(i) => Some(*i),
            Self::Str(_) => None,
        }
    }
}

/// How many arguments of which types a keyword takes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ArgSpec {
    pub(crate) types: &'static [ArgType],
    pub(crate) min: usize,
}

/// HAProxy's `is_idchar`: characters allowed in a keyword name.
fn is_idchar(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-' | b'+' | b'$')
}

/// Splits the keyword at the start of `s`; returns (keyword, rest).
pub(crate) fn split_keyword(s: &str) -> (&str, &str) {
    let end = s.bytes().position(|c| !is_idchar(c)).unwrap_or(s.len());
    s.split_at(end)
}

/// Parses an argument list starting at `s` (which may or may not start with `(`).
///
/// Returns the arguments and the rest of the input after the closing parenthesis. Errors are
/// HAProxy's `make_arg_list` messages, without the keyword prefix.
pub(crate) fn parse_args(s: &str, spec: ArgSpec) -> Result<(Vec<Arg>, &str), String> {
    let bytes = s.as_bytes();
    let (mut i, empty) = if bytes.first() == Some(&b'(') {
        (1usize, false)
    } else {
        (0usize, true)
    };
    let mut out = Vec::new();
    let nbarg = spec.types.len();
    if nbarg > 0 && !(empty && spec.min == 0) {
        let mut pos = 0;
        while let Some(&ty) = spec.types.get(pos) {
            let mut word = Vec::new();
            let (mut squote, mut dquote) = (false, false);
            while let Some(&c) = bytes.get(i).filter(|_| !empty) {
                if c == b'"' && !squote {
                    dquote = !dquote;
                    i += 1;
                } else if c == b'\'' && !dquote {
                    squote = !squote;
                    i += 1;
                } else if c == b'\\' && !squote && bytes.get(i + 1).is_some() {
                    let n = bytes.get(i + 1).copied().unwrap_or(b'\\');
                    match n {
                        b'\\' | b' ' | b'"' | b'\'' => word.push(n),
                        b'r' => word.push(b'\r'),
                        b'n' => word.push(b'\n'),
                        b't' => word.push(b'\t'),
                        _ => {
                            word.push(b'\\');
                            i += 1;
                            continue;
                        }
                    }
                    i += 2;
                } else if !squote && !dquote && (c == b',' || c == b')') {
                    break;
                } else {
                    word.push(c);
                    i += 1;
                }
            }
            let text = String::from_utf8_lossy(&word).into_owned();
            if text.is_empty() && ty == ArgType::Int {
                if pos >= spec.min {
                    break;
                }
                return Err(format!(
                    "expected type '{}' at position {}, but got nothing",
                    ty.name(),
                    pos + 1
                ));
            }
            let arg = match ty {
                ArgType::Int => Arg::Int(text.parse().map_err(|_| {
                    format!(
                        "failed to parse '{text}' as type '{}' at position {}",
                        ty.name(),
                        pos + 1
                    )
                })?),
                _ => Arg::Str(text),
            };
            out.push(arg);
            pos += 1;
            match bytes.get(i) {
                Some(b',') if pos < nbarg && !empty => i += 1,
                _ => break,
            }
        }
    }
    if out.len() < spec.min {
        let ty = spec.types.get(out.len()).map_or("string", |t| t.name());
        return Err(format!(
            "missing arguments (got {}/{}), type '{ty}' expected",
            out.len(),
            spec.min
        ));
    }
    if empty {
        return Ok((out, s));
    }
    match bytes.get(i) {
        Some(b')') => Ok((out, s.get(i + 1..).unwrap_or_default())),
        Some(_) => Err(format!(
            "expected ')' before '{}'",
            s.get(i..).unwrap_or_default()
        )),
        None => Err("expected ')'".to_owned()),
    }
}

/// A keyword with its raw argument list, as split from an expression word.
#[derive(Debug, Clone)]
pub(crate) struct RawCall<'a> {
    pub(crate) name: &'a str,
    /// Text starting at the argument list (or wherever the name ended).
    pub(crate) rest: &'a str,
}

/// Checks the length of an expression word.
pub(crate) fn check_len(word: &str) -> Result<(), AclError> {
    if word.len() > MAX_EXPR_LEN {
        return Err(AclError::TooLarge {
            what: "expression length",
            limit: MAX_EXPR_LEN,
        });
    }
    Ok(())
}

/// Splits the converter list that follows a fetch (the text after its arguments).
///
/// `resolve` parses one converter's arguments given its name and the text at its argument list,
/// and returns the rest of the input.
pub(crate) fn for_each_converter<'a>(
    keyword: &str,
    mut rest: &'a str,
    mut resolve: impl FnMut(RawCall<'a>) -> Result<&'a str, AclError>,
) -> Result<(), AclError> {
    let mut last: Option<&str> = None;
    let mut count = 0usize;
    while !rest.is_empty() {
        let Some(after) = rest.strip_prefix(',') else {
            let message = match last {
                Some(c) => format!("missing comma after converter '{c}'."),
                None => "missing comma after fetch keyword.".to_owned(),
            };
            return Err(AclError::Expression {
                keyword: keyword.to_owned(),
                message,
            });
        };
        let after = after.trim_start_matches(',');
        if after.is_empty() {
            break;
        }
        count += 1;
        if count > MAX_CONVERTERS {
            return Err(AclError::TooLarge {
                what: "converter count",
                limit: MAX_CONVERTERS,
            });
        }
        let (name, args) = split_keyword(after);
        last = Some(name);
        rest = resolve(RawCall { name, rest: args })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HDR: ArgSpec = ArgSpec {
        types: &[ArgType::Str, ArgType::Int],
        min: 0,
    };
    const NONE: ArgSpec = ArgSpec { types: &[], min: 0 };
    const ONE: ArgSpec = ArgSpec {
        types: &[ArgType::Str],
        min: 1,
    };

    #[test]
    fn args_split_on_commas_and_close() {
        let (a, rest) = parse_args("(host,-1),lower", HDR).unwrap();
        assert_eq!(a, vec![Arg::Str("host".into()), Arg::Int(-1)]);
        assert_eq!(rest, ",lower");
    }

    #[test]
    fn quoted_args_keep_commas_and_parens() {
        let spec = ArgSpec {
            types: &[ArgType::Regex, ArgType::Str, ArgType::Str],
            min: 2,
        };
        let (a, rest) = parse_args(r#"("(a|b),c",x\,y)"#, spec).unwrap();
        assert_eq!(a[0], Arg::Str("(a|b),c".into()));
        assert_eq!(a[1], Arg::Str("x\\".into()));
        assert_eq!(a[2], Arg::Str("y".into()));
        assert_eq!(rest, "");
    }

    #[test]
    fn haproxy_arg_errors() {
        assert_eq!(
            parse_args("(x)", NONE).unwrap_err(),
            "expected ')' before 'x)'"
        );
        assert_eq!(
            parse_args("(host,x)", HDR).unwrap_err(),
            "failed to parse 'x' as type 'integer' at position 2"
        );
        // A mandatory string argument may be empty, as in HAProxy.
        assert_eq!(
            parse_args("", ONE).unwrap().0,
            vec![Arg::Str(String::new())]
        );
        let int1 = ArgSpec {
            types: &[ArgType::Int],
            min: 1,
        };
        assert_eq!(
            parse_args("()", int1).unwrap_err(),
            "expected type 'integer' at position 1, but got nothing"
        );
        assert_eq!(parse_args("(host", HDR).unwrap_err(), "expected ')'");
        let (a, rest) = parse_args("()", HDR).unwrap();
        assert_eq!((a, rest), (vec![Arg::Str(String::new())], ""));
    }

    #[test]
    fn expression_length_limit() {
        assert!(check_len(&"a".repeat(MAX_EXPR_LEN)).is_ok());
        assert!(check_len(&"a".repeat(MAX_EXPR_LEN + 1)).is_err());
    }

    #[test]
    fn converter_count_limit() {
        let ok = ",lower".repeat(MAX_CONVERTERS);
        assert!(for_each_converter("path", &ok, |c| Ok(c.rest)).is_ok());
        let bad = ",lower".repeat(MAX_CONVERTERS + 1);
        assert!(matches!(
            for_each_converter("path", &bad, |c| Ok(c.rest)),
            Err(AclError::TooLarge { .. })
        ));
        assert!(for_each_converter("path", "lower", |c| Ok(c.rest)).is_err());
    }
}
