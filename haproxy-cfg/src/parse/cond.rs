//! Conditional blocks: `.if`/`.elif`/`.else`/`.endif` and their expressions (configuration.txt
//! 2.4; HAProxy's src/cfgcond.c and the block logic of `readcfgfile()`).
//!
//! `expr = and ["||" expr]`, `and = term ["&&" and]`,
//! `term = "!"* (integer | "(" expr ")" | predicate ["(" args ")"])`. Integers follow C
//! `strtol(…, 0)`: non-zero is true. Predicates: `defined`, `feature`, `streq`, `strneq`,
//! `version_atleast`, `version_before`, `openssl_version_atleast`, `openssl_version_before`,
//! `ssllib_name_startswith`.

/// HAProxy refuses `.if` nesting this deep (`MAXNESTEDCONDS`): at most 99 open levels.
pub const MAX_NESTED_CONDS: usize = 100;

/// Recursion budget for one expression (`MAX_CFG_RECURSION`); deeper input is an error.
pub const MAX_CFG_RECURSION: i32 = 1024;

/// The HAProxy version conditions compare against (`version_atleast`, `version_before`).
///
/// COMPAT: we answer as the HAProxy release we reproduce.
pub const EMULATED_VERSION: &str = "2.6.12";

/// The OpenSSL version `openssl_version_*` compare against (that of the reference build).
pub const EMULATED_OPENSSL_VERSION: &str = "3.0.19";

/// The SSL library name `ssllib_name_startswith` compares against.
pub const EMULATED_SSLLIB_NAME: &str = "OpenSSL";

/// Build features `feature(NAME)` looks up, as HAProxy 2.6.12 on Debian bookworm lists them.
pub const BUILD_FEATURES: &str = "-51DEGREES +ACCEPT4 +BACKTRACE -CLOSEFROM +CPU_AFFINITY +CRYPT_H -DEVICEATLAS +DL -ENGINE +EPOLL -EVPORTS +GETADDRINFO -KQUEUE +LIBCRYPT +LINUX_SPLICE +LINUX_TPROXY +LUA -MEMORY_PROFILING +NETFILTER +NS -OBSOLETE_LINKER +OPENSSL +OT -PCRE +PCRE2 +PCRE2_JIT -PCRE_JIT +POLL +PRCTL -PROCCTL +PROMEX -QUIC +RT +SLZ -STATIC_PCRE -STATIC_PCRE2 +SYSTEMD +TFO +THREAD +THREAD_DUMP +TPROXY -WURFL -ZLIB";

/// A condition that failed to parse: HAProxy's message and the byte it points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CondError {
    pub(crate) message: String,
    pub(crate) pos: usize,
}

/// The predicates and how many string arguments each takes.
const PREDICATES: [(&str, usize); 9] = [
    ("defined", 1),
    ("feature", 1),
    ("streq", 2),
    ("strneq", 2),
    ("version_atleast", 1),
    ("version_before", 1),
    ("openssl_version_atleast", 1),
    ("openssl_version_before", 1),
    ("ssllib_name_startswith", 1),
];

/// Parse outcome, as HAProxy's `int` returns: error, "desynchronised" (nothing parsed), or ok.
enum R<T> {
    Err(CondError),
    Zero,
    One(T),
}

#[derive(Debug)]
enum Term {
    Const(bool),
    Pred(&'static str, Vec<String>),
    Paren(Box<Expr>),
}

#[derive(Debug)]
struct NegTerm {
    neg: bool,
    term: Term,
}

/// `and`: a list of terms joined by `&&`.
#[derive(Debug)]
struct And(Vec<NegTerm>);

/// `expr`: a list of `and`s joined by `||`.
#[derive(Debug)]
struct Expr(Vec<And>);

struct P<'a> {
    s: &'a [u8],
}

impl P<'_> {
    fn at(&self, i: usize) -> u8 {
        self.s.get(i).copied().unwrap_or(0)
    }
    fn rest(&self, i: usize) -> String {
        crate::lex::decode(self.s.get(i..).unwrap_or(&[]).to_vec())
    }
    fn skip_ws(&self, mut i: usize) -> usize {
        while matches!(self.at(i), b' ' | b'\t') {
            i += 1;
        }
        i
    }
    fn err<T>(&self, message: String, pos: usize) -> R<T> {
        R::Err(CondError { message, pos })
    }

    fn term(&self, text: &mut usize, depth: i32) -> R<NegTerm> {
        let mut i = self.skip_ws(*text);
        if self.at(i) == 0 {
            return R::Zero;
        }
        let fail0 = |p: &Self| {
            p.err(
                format!("unparsable conditional expression '{}'", p.rest(*text)),
                *text,
            )
        };
        if depth <= 0 {
            return fail0(self);
        }
        let mut neg = false;
        while self.at(i) == b'!' {
            neg = !neg;
            i = self.skip_ws(i + 1);
        }
        if let Some((end, val)) = strtol(self.s, i) {
            *text = end;
            return R::One(NegTerm {
                neg,
                term: Term::Const(val),
            });
        }
        if self.at(i) == b'(' {
            i = self.skip_ws(i + 1);
            let e = match self.expr(&mut i, depth - 1) {
                R::Err(e) => return R::Err(e),
                R::Zero => return fail0(self),
                R::One(e) => e,
            };
            i = self.skip_ws(i);
            if self.at(i) != b')' {
                return self.err(
                    format!(
                        "expected ')' after conditional expression '{}'",
                        self.rest(*text)
                    ),
                    *text,
                );
            }
            i = self.skip_ws(i + 1);
            *text = i;
            return R::One(NegTerm {
                neg,
                term: Term::Paren(Box::new(e)),
            });
        }
        let word_len = self
            .s
            .get(i..)
            .unwrap_or(&[])
            .iter()
            .take_while(|&&b| b != b' ' && b != b'(' && b != 0)
            .count();
        let word = std::str::from_utf8(self.s.get(i..i + word_len).unwrap_or(&[])).unwrap_or("");
        if let Some(&(name, nargs)) = PREDICATES.iter().find(|(n, _)| *n == word) {
            return match make_arg_list(self.s, i + word_len, nargs) {
                Ok((args, end)) => {
                    *text = end;
                    R::One(NegTerm {
                        neg,
                        term: Term::Pred(name, args),
                    })
                }
                Err((msg, arg, end)) => self.err(
                    format!(
                        "{msg} in argument {arg} of predicate '{name}' used in conditional expression"
                    ),
                    end,
                ),
            };
        }
        fail0(self)
    }

    fn and(&self, text: &mut usize, depth: i32) -> R<And> {
        let mut i = *text;
        if self.at(i) == 0 {
            return R::Zero;
        }
        let unparsable = |p: &Self, at: usize| {
            p.err(
                format!("unparsable conditional sub-expression '{}'", p.rest(at)),
                at,
            )
        };
        if depth <= 0 {
            return unparsable(self, i);
        }
        let left = match self.term(&mut i, depth - 1) {
            R::Err(e) => return R::Err(e),
            R::Zero => return unparsable(self, i),
            R::One(t) => t,
        };
        i = self.skip_ws(i);
        *text = i;
        if self.at(i) != b'&' || self.at(i + 1) != b'&' {
            return R::One(And(vec![left]));
        }
        i = self.skip_ws(i + 2);
        match self.and(&mut i, depth - 1) {
            R::One(mut right) => {
                *text = i;
                right.0.insert(0, left);
                R::One(right)
            }
            R::Zero => R::Zero,
            R::Err(e) => R::Err(e),
        }
    }

    fn expr(&self, text: &mut usize, depth: i32) -> R<Expr> {
        let mut i = *text;
        if self.at(i) == 0 {
            return R::Zero;
        }
        let unparsable = |p: &Self, at: usize| {
            p.err(
                format!("unparsable conditional expression '{}'", p.rest(at)),
                at,
            )
        };
        if depth <= 0 {
            return unparsable(self, i);
        }
        let left = match self.and(&mut i, depth - 1) {
            R::Err(e) => return R::Err(e),
            R::Zero => return unparsable(self, i),
            R::One(t) => t,
        };
        i = self.skip_ws(i);
        *text = i;
        if self.at(i) != b'|' || self.at(i + 1) != b'|' {
            return R::One(Expr(vec![left]));
        }
        i = self.skip_ws(i + 2);
        match self.expr(&mut i, depth - 1) {
            R::One(mut right) => {
                *text = i;
                right.0.insert(0, left);
                R::One(right)
            }
            R::Zero => R::Zero,
            R::Err(e) => R::Err(e),
        }
    }
}

/// C `strtol(s + i, &end, 0)`: returns the end and whether the value is non-zero, or `None`
/// when no digit was consumed.
fn strtol(s: &[u8], start: usize) -> Option<(usize, bool)> {
    let at = |i: usize| s.get(i).copied().unwrap_or(0);
    let mut i = start;
    while matches!(at(i), b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c) {
        i += 1;
    }
    if matches!(at(i), b'+' | b'-') {
        i += 1;
    }
    let (radix, mut j) =
        if at(i) == b'0' && matches!(at(i + 1), b'x' | b'X') && at(i + 2).is_ascii_hexdigit() {
            (16, i + 2)
        } else if at(i) == b'0' {
            (8, i)
        } else {
            (10, i)
        };
    let digits_start = j;
    let mut nonzero = false;
    while char::from(at(j)).is_digit(radix) {
        nonzero |= at(j) != b'0';
        j += 1;
    }
    (j > digits_start).then_some((j, nonzero))
}

/// HAProxy's `make_arg_list()` for string arguments, starting at `i` (just after the
/// predicate's name). Returns the arguments and the position after `)`, or the message, the
/// argument number and the position for an error.
fn make_arg_list(
    s: &[u8],
    mut i: usize,
    nargs: usize,
) -> Result<(Vec<String>, usize), (String, usize, usize)> {
    let at = |i: usize| s.get(i).copied().unwrap_or(0);
    let empty = at(i) != b'(';
    if !empty {
        i += 1;
    }
    let mut args = Vec::new();
    while args.len() < nargs {
        let (mut squote, mut dquote) = (false, false);
        let mut out = Vec::new();
        while !empty && at(i) != 0 {
            let c = at(i);
            if c == b'"' && !squote {
                dquote = !dquote;
                i += 1;
            } else if c == b'\'' && !dquote {
                squote = !squote;
                i += 1;
            } else if c == b'\\' && !squote {
                let n = at(i + 1);
                if n == 0 {
                    let msg = format!(
                        "failed to parse '{}' after '{}' as type 'string' at position {}",
                        crate::lex::decode(s.get(i..).unwrap_or(&[]).to_vec()),
                        crate::lex::decode(out.clone()),
                        args.len() + 1
                    );
                    return Err((msg, args.len(), i));
                }
                match n {
                    b'\\' | b' ' | b'"' | b'\'' => {
                        out.push(n);
                        i += 1;
                    }
                    b'r' => {
                        out.push(b'\r');
                        i += 1;
                    }
                    b'n' => {
                        out.push(b'\n');
                        i += 1;
                    }
                    b't' => {
                        out.push(b'\t');
                        i += 1;
                    }
                    _ => out.push(b'\\'),
                }
                i += 1;
            } else if !squote && !dquote && (c == b',' || c == b')') {
                break;
            } else {
                out.push(c);
                i += 1;
            }
        }
        args.push(crate::lex::decode(out));
        if empty || at(i) == 0 || at(i) == b')' || args.len() >= nargs {
            break;
        }
        i += 1; // the comma
    }
    let pos = args.len();
    if pos < nargs {
        return Err((
            format!("missing arguments (got {pos}/{nargs}), type 'string' expected"),
            pos,
            i,
        ));
    }
    if empty {
        return Ok((args, i));
    }
    if at(i) == b')' {
        return Ok((args, i + 1));
    }
    let rest = crate::lex::decode(s.get(i..).unwrap_or(&[]).to_vec());
    let msg = if rest.is_empty() {
        "expected ')'".to_owned()
    } else {
        format!("expected ')' before '{rest}'")
    };
    let pos = if pos > 1 { pos - 1 } else { pos };
    Err((msg, pos, i))
}

/// Evaluates one `.if`/`.elif` condition: the words after the directive, joined by spaces.
///
/// An empty condition is false.
pub(crate) fn eval_condition(
    bytes: &[u8],
    vars: &dyn Fn(&str) -> Option<String>,
) -> Result<bool, CondError> {
    let text = crate::lex::decode(bytes.to_vec());
    if bytes.is_empty() {
        return Ok(false);
    }
    let p = P { s: bytes };
    let mut i = 0usize;
    match p.expr(&mut i, MAX_CFG_RECURSION) {
        R::Err(e) => Err(e),
        R::One(e) => {
            let j = p.skip_ws(i);
            if p.at(j) != 0 {
                return Err(CondError {
                    message: format!(
                        "unexpected character '{}' at the end of conditional expression '{text}'",
                        char::from(p.at(j))
                    ),
                    pos: j,
                });
            }
            Ok(eval_expr(&e, vars))
        }
        R::Zero => Err(CondError {
            message: format!("unparsable conditional expression '{text}'"),
            pos: i,
        }),
    }
}

fn eval_expr(e: &Expr, vars: &dyn Fn(&str) -> Option<String>) -> bool {
    e.0.iter().any(|a| a.0.iter().all(|t| eval_term(t, vars)))
}

fn eval_term(t: &NegTerm, vars: &dyn Fn(&str) -> Option<String>) -> bool {
    let v = match &t.term {
        Term::Const(b) => *b,
        Term::Paren(e) => eval_expr(e, vars),
        Term::Pred(name, args) => {
            let a0 = args.first().map_or("", String::as_str);
            let a1 = args.get(1).map_or("", String::as_str);
            match *name {
                "defined" => vars(a0).is_some(),
                "feature" => has_feature(a0),
                "streq" => a0 == a1,
                "strneq" => a0 != a1,
                "version_atleast" => compare_version(EMULATED_VERSION, a0).is_ge(),
                "version_before" => compare_version(EMULATED_VERSION, a0).is_lt(),
                "openssl_version_atleast" => compare_version(EMULATED_OPENSSL_VERSION, a0).is_ge(),
                "openssl_version_before" => compare_version(EMULATED_OPENSSL_VERSION, a0).is_lt(),
                _ => EMULATED_SSLLIB_NAME.starts_with(a0),
            }
        }
    };
    v != t.neg
}

/// `feature(NAME)`: true when `+NAME` is a whole word of [`BUILD_FEATURES`].
///
/// COMPAT: HAProxy 2.6.12's search for an empty name reads past the end of its feature string;
/// the reference binary answers true, so we do too.
fn has_feature(name: &str) -> bool {
    name.is_empty()
        || BUILD_FEATURES
            .split(' ')
            .any(|f| f.strip_prefix('+') == Some(name))
}

/// Compares dotted versions numerically (`2.6.12` vs `2.6`); missing parts count as 0 and any
/// suffix after the numbers is ignored.
fn compare_version(ours: &str, theirs: &str) -> std::cmp::Ordering {
    let parts = |v: &str| -> Vec<u64> {
        v.split(['.', '-'])
            .map_while(|p| p.parse::<u64>().ok())
            .take(4)
            .collect()
    };
    let (a, b) = (parts(ours), parts(theirs));
    for k in 0..4 {
        let (x, y) = (
            a.get(k).copied().unwrap_or(0),
            b.get(k).copied().unwrap_or(0),
        );
        if x != y {
            return x.cmp(&y);
        }
    }
    std::cmp::Ordering::Equal
}
