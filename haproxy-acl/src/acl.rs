//! Named ACLs and the set that parses `acl` lines, conditions and sample expressions.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use crate::args::{Arg, check_len, for_each_converter, parse_args, split_keyword};
use crate::cond::{Condition, MAX_CONDITION_WORDS, Term};
use crate::conv::{self, Converter, MAP_SPEC, map_name};
use crate::error::AclError;
use crate::expr::{AclExpr, SampleExpr};
use crate::fetch::{Fetch, find_acl_keyword, find_fetch};
use crate::matcher::PatFlags;
use crate::patref::PatternRefs;
use crate::pattern::{IntOp, MatchKind, apply_int_op, can_cast};
use crate::sample::{SampleSource, SampleType};

/// Reads a pattern or map file by name and returns its text.
pub type FileLoader = Arc<dyn Fn(&str) -> std::io::Result<String> + Send + Sync>;

/// A named ACL: one or more `acl` lines with the same name, ORed.
#[derive(Debug, Clone)]
pub struct Acl {
    name: String,
    exprs: Vec<AclExpr>,
}

impl Acl {
    /// The ACL's name (empty for anonymous ACLs).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether any of the ACL's lines matches the request.
    pub fn matches(&self, src: &dyn SampleSource) -> bool {
        self.exprs.iter().any(|e| e.matches(src))
    }
}

/// The predefined ACLs of HAProxy 2.6 (`acl.c`, `default_acl_list`).
const PREDEFINED: &[(&str, &[&str])] = &[
    ("TRUE", &["always_true"]),
    ("FALSE", &["always_false"]),
    ("LOCALHOST", &["src", "127.0.0.1/8", "::1"]),
    ("HTTP", &["req.proto_http"]),
    ("HTTP_1.0", &["req.ver", "1.0"]),
    ("HTTP_1.1", &["req.ver", "1.1"]),
    ("HTTP_2.0", &["req.ver", "2.0"]),
    ("METH_CONNECT", &["method", "CONNECT"]),
    ("METH_DELETE", &["method", "DELETE"]),
    ("METH_GET", &["method", "GET", "HEAD"]),
    ("METH_HEAD", &["method", "HEAD"]),
    ("METH_OPTIONS", &["method", "OPTIONS"]),
    ("METH_POST", &["method", "POST"]),
    ("METH_PUT", &["method", "PUT"]),
    ("METH_TRACE", &["method", "TRACE"]),
    ("HTTP_URL_ABS", &["url_reg", "^[^/:]*://"]),
    ("HTTP_URL_SLASH", &["url_beg", "/"]),
    ("HTTP_URL_STAR", &["url", "*"]),
    ("HTTP_CONTENT", &["req.hdr_val(content-length)", "gt", "0"]),
    ("RDP_COOKIE", &["req.rdp_cookie_cnt", "gt", "0"]),
    ("REQ_CONTENT", &["req.len", "gt", "0"]),
    ("WAIT_END", &["wait_end"]),
];

/// The ACLs of one proxy section plus the pattern references they use.
///
/// ```
/// use haproxy_acl::AclSet;
/// let mut set = AclSet::new();
/// set.parse_acl(&["acl", "api", "path_beg", "/api"])?;
/// let cond = set.parse_condition(&["if", "api", "METH_GET"])?;
/// assert_eq!(cond.to_string(), "if api METH_GET");
/// # Ok::<(), haproxy_acl::AclError>(())
/// ```
pub struct AclSet {
    acls: HashMap<String, Arc<Acl>>,
    refs: Arc<PatternRefs>,
    loader: FileLoader,
    origin: (String, usize),
}

impl fmt::Debug for AclSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AclSet")
            .field("acls", &self.acls.keys())
            .field("refs", &self.refs)
            .finish()
    }
}

impl Default for AclSet {
    fn default() -> Self {
        Self::new()
    }
}

fn valid_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':' | '-')
}

impl AclSet {
    /// An empty set that reads `-f` and map files from the file system.
    pub fn new() -> Self {
        Self::with_loader(Arc::new(|p: &str| std::fs::read_to_string(p)))
    }

    /// An empty set that reads files through `loader`.
    pub fn with_loader(loader: FileLoader) -> Self {
        Self {
            acls: HashMap::new(),
            refs: Arc::new(PatternRefs::default()),
            loader,
            origin: (String::new(), 0),
        }
    }

    /// Shares pattern references with other sets (one registry per process, as HAProxy has).
    pub fn with_refs(mut self, refs: Arc<PatternRefs>) -> Self {
        self.refs = refs;
        self
    }

    /// Sets the file and line used in reference descriptions (`show acl`) for following lines.
    pub fn set_origin(&mut self, file: &str, line: usize) {
        self.origin = (file.to_owned(), line);
    }

    /// The pattern references (for the runtime API).
    pub fn refs(&self) -> &Arc<PatternRefs> {
        &self.refs
    }

    /// A named ACL, if defined.
    pub fn get(&self, name: &str) -> Option<&Arc<Acl>> {
        self.acls.get(name)
    }

    /// Parses an `acl` line (`["acl", NAME, FETCH, flags..., patterns...]`) and adds it; a repeated
    /// name is ORed with the earlier lines.
    ///
    /// # Errors
    /// Anything HAProxy rejects: unknown fetch, bad arguments or flags, invalid patterns, files
    /// that cannot be read, an invalid name.
    pub fn parse_acl<S: AsRef<str>>(&mut self, words: &[S]) -> Result<(), AclError> {
        let words: Vec<&str> = words.iter().map(AsRef::as_ref).collect();
        let rest = match words.split_first() {
            Some((&"acl", rest)) => rest,
            _ => {
                let word = words.first().copied().unwrap_or_default().to_owned();
                return Err(AclError::Keyword {
                    expected: "'acl'",
                    word,
                });
            }
        };
        let (name, expr_words) = rest.split_first().map_or(("", &[][..]), |(n, r)| (*n, r));
        if let Some(ch) = name.chars().find(|c| !valid_name_char(*c)) {
            return Err(AclError::InvalidName { ch });
        }
        let expr = self.parse_acl_expr(expr_words)?;
        let mut acl = self.acls.get(name).map_or_else(
            || Acl {
                name: name.to_owned(),
                exprs: Vec::new(),
            },
            |a| (**a).clone(),
        );
        acl.exprs.push(expr);
        self.acls.insert(name.to_owned(), Arc::new(acl));
        Ok(())
    }

    /// Parses the words of one ACL expression: `FETCH [flags] [operator] patterns...`.
    fn parse_acl_expr(&self, words: &[&str]) -> Result<AclExpr, AclError> {
        let Some((&first, mut rest)) = words.split_first().filter(|(w, _)| !w.is_empty()) else {
            return Err(AclError::MissingFetch {
                word: String::new(),
            });
        };
        let (expr, acl_kind) = self.parse_fetch_expr(first, true)?;
        let mut kind = acl_kind.or_else(|| MatchKind::default_for(expr.out));
        let mut flags = PatFlags {
            icase: false,
            no_dns: false,
        };
        let mut unique_id: Option<u32> = None;
        let mut load_as_map = false;
        let mut slots = Vec::new();
        let kw = if acl_kind.is_some() {
            split_keyword(first).0.to_owned()
        } else {
            expr.fetch.def.name.to_owned()
        };
        let need_method = || AclError::Flag {
            word: kw.clone(),
            message: format!(
                "matching method must be specified first (using '-m') when using a sample fetch of this type ('{kw}')"
            ),
        };
        while let Some((&w, tail)) = rest.split_first() {
            if !w.starts_with('-') {
                break;
            }
            rest = tail;
            match w {
                "-i" => flags.icase = true,
                "-n" => flags.no_dns = true,
                "-M" => load_as_map = true,
                "--" => break,
                "-u" => {
                    let (&v, tail) = rest.split_first().unwrap_or((&"", &[]));
                    rest = tail;
                    unique_id = Some(v.parse().map_err(|_| AclError::Flag {
                        word: v.to_owned(),
                        message: "the argument of -u must be an integer".to_owned(),
                    })?);
                }
                "-f" => {
                    let (&path, tail) = rest.split_first().unwrap_or((&"", &[]));
                    rest = tail;
                    let k = kind.ok_or_else(need_method)?;
                    slots.push(self.file_slot(path, k, flags, load_as_map)?);
                }
                "-m" => {
                    let (&m, tail) = rest.split_first().unwrap_or((&"", &[]));
                    rest = tail;
                    if !slots.is_empty() {
                        return Err(AclError::Flag {
                            word: w.to_owned(),
                            message: "'-m' must only be specified before patterns and files in parsing ACL expression".to_owned(),
                        });
                    }
                    let k = MatchKind::from_name(m).ok_or_else(|| AclError::Flag {
                        word: m.to_owned(),
                        message: format!(
                            "unknown matching method '{m}' when parsing ACL expression"
                        ),
                    })?;
                    if !can_cast(expr.out, k) {
                        return Err(AclError::Flag {
                            word: m.to_owned(),
                            message: format!(
                                "matching method '{m}' cannot be used with fetch keyword '{kw}'"
                            ),
                        });
                    }
                    kind = Some(k);
                }
                _ => {
                    return Err(AclError::Flag {
                        word: w.to_owned(),
                        message: format!(
                            "'{w}' is not a valid ACL option. Please use '--' before any pattern beginning with a '-'"
                        ),
                    });
                }
            }
        }
        let kind = kind.ok_or_else(need_method)?;
        let mut patterns: Vec<(String, Option<String>)> = Vec::new();
        let mut op = IntOp::Eq;
        for &w in rest {
            if kind.takes_int() {
                if let Some(o) = IntOp::from_word(w) {
                    op = o;
                    continue;
                }
                patterns.push((apply_int_op(op, w)?, None));
            } else {
                patterns.push((w.to_owned(), None));
            }
        }
        let description = format!("acl '{kw}' file '{}' line {}", self.origin.0, self.origin.1);
        let inline = self
            .refs
            .create(unique_id, "", description, false, patterns)?;
        if kind != MatchKind::Found {
            slots.push(inline.slot(kind, flags)?);
        }
        Ok(AclExpr { expr, kind, slots })
    }

    fn load_file(
        &self,
        path: &str,
        as_map: bool,
    ) -> Result<Vec<(String, Option<String>)>, AclError> {
        let text = (self.loader)(path).map_err(|source| AclError::File {
            path: path.to_owned(),
            source,
        })?;
        Ok(parse_pattern_file(&text, as_map))
    }

    fn file_slot(
        &self,
        path: &str,
        kind: MatchKind,
        flags: PatFlags,
        as_map: bool,
    ) -> Result<Arc<crate::patref::Slot>, AclError> {
        let r = match self.refs.by_file(path, as_map) {
            Some(r) => r,
            None => {
                let entries = self.load_file(path, as_map)?;
                let description = format!(
                    "pattern loaded from file '{path}' used by acl at file '{}' line {}",
                    self.origin.0, self.origin.1
                );
                self.refs.create(None, path, description, as_map, entries)?
            }
        };
        r.slot(kind, flags)
    }

    /// Parses a sample expression such as `req.hdr(host),lower,map(/etc/haproxy/hosts.map,www)`.
    ///
    /// # Errors
    /// Unknown fetch or converter, bad arguments, unreadable map file.
    pub fn parse_sample(&self, text: &str) -> Result<SampleExpr, AclError> {
        Ok(self.parse_fetch_expr(text, false)?.0)
    }

    /// Parses `fetch(args),conv(args)...`; in ACL context the word may also be an ACL keyword, whose
    /// match method is returned when no converter follows.
    fn parse_fetch_expr(
        &self,
        word: &str,
        acl: bool,
    ) -> Result<(SampleExpr, Option<MatchKind>), AclError> {
        check_len(word)?;
        let (name, rest) = split_keyword(word);
        if name.is_empty() {
            return Err(AclError::MissingFetch {
                word: word.to_owned(),
            });
        }
        let acl_kw = if acl { find_acl_keyword(name) } else { None };
        let def = match acl_kw {
            Some((d, _)) => d,
            None => find_fetch(name).ok_or_else(|| AclError::UnknownFetch {
                fetch: name.to_owned(),
                word: word.to_owned(),
            })?,
        };
        let expr_err = |message: String| AclError::Expression {
            keyword: name.to_owned(),
            message,
        };
        let (fargs, rest) = parse_args(rest, def.args).map_err(expr_err)?;
        let mut convs = Vec::new();
        let mut out = def.out;
        for_each_converter(name, rest, |call| {
            let (c, after) = self.parse_converter(name, call.name, call.rest)?;
            out = c.out_type();
            convs.push(c);
            Ok(after)
        })?;
        let kind = if convs.is_empty() {
            acl_kw.map(|(_, k)| k)
        } else {
            None
        };
        let text = word.to_owned();
        Ok((
            SampleExpr {
                text,
                fetch: Fetch { def, args: fargs },
                convs,
                out,
            },
            kind,
        ))
    }

    fn parse_converter<'a>(
        &self,
        kw: &str,
        name: &str,
        rest: &'a str,
    ) -> Result<(Converter, &'a str), AclError> {
        let err = |message: String| AclError::Expression {
            keyword: kw.to_owned(),
            message,
        };
        if let Some((kind, out)) = map_name(name) {
            let (a, after) = parse_args(rest, MAP_SPEC)
                .map_err(|m| err(format!("invalid arg 1 in converter '{name}' : {m}.")))?;
            let file = a.first().and_then(Arg::as_str).unwrap_or_default();
            let default = a.get(1).and_then(Arg::as_str).map(str::to_owned);
            let slot = self.map_slot(file, kind)?;
            let out = if out == SampleType::Str {
                SampleType::Str
            } else {
                out
            };
            return Ok((Converter::Map { slot, default, out }, after));
        }
        let spec = conv::spec(name).ok_or_else(|| err(format!("unknown converter '{name}'.")))?;
        let (a, after) = parse_args(rest, spec)
            .map_err(|m| err(format!("invalid arg 1 in converter '{name}' : {m}.")))?;
        let c = conv::build(name, &a)
            .map_err(|m| err(format!("invalid args in converter '{name}' : {m}.")))?;
        Ok((c, after))
    }

    fn map_slot(&self, file: &str, kind: MatchKind) -> Result<Arc<crate::patref::Slot>, AclError> {
        let r = match self.refs.by_file(file, true) {
            Some(r) => r,
            None => {
                let entries = self.load_file(file, true)?;
                let description = format!(
                    "pattern loaded from file '{file}' used by map at file '{}' line {}",
                    self.origin.0, self.origin.1
                );
                self.refs.create(None, file, description, true, entries)?
            }
        };
        r.slot(
            kind,
            PatFlags {
                icase: false,
                no_dns: true,
            },
        )
    }

    /// Parses a condition (`["if" | "unless", words...]`).
    ///
    /// # Errors
    /// Unknown ACL names ([`AclError::NoSuchAcl`]), a `{` without `}`, or any error of an anonymous
    /// ACL's expression.
    pub fn parse_condition<S: AsRef<str>>(&self, words: &[S]) -> Result<Condition, AclError> {
        let words: Vec<&str> = words.iter().map(AsRef::as_ref).collect();
        if words.len() > MAX_CONDITION_WORDS {
            return Err(AclError::TooLarge {
                what: "condition words",
                limit: MAX_CONDITION_WORDS,
            });
        }
        let (unless, rest) = match words.split_first() {
            Some((&"if", rest)) => (false, rest),
            Some((&"unless", rest)) => (true, rest),
            _ => {
                let word = words.first().copied().unwrap_or_default().to_owned();
                return Err(AclError::Keyword {
                    expected: "'if' or 'unless'",
                    word,
                });
            }
        };
        let mut suites: Vec<Vec<Term>> = Vec::new();
        let mut cur: Option<Vec<Term>> = None;
        let mut neg = false;
        let mut i = 0;
        while let Some(&raw) = rest.get(i) {
            i += 1;
            let mut word = raw;
            while let Some(w) = word.strip_prefix('!') {
                neg = !neg;
                word = w;
            }
            if word.is_empty() {
                continue;
            }
            if word.eq_ignore_ascii_case("or") || word == "||" {
                suites.extend(cur.take());
                neg = false;
                continue;
            }
            let term = if word == "{" {
                let len = rest
                    .get(i..)
                    .unwrap_or_default()
                    .iter()
                    .position(|w| *w == "}")
                    .ok_or(AclError::MissingBrace)?;
                let inner: Vec<&str> = rest.get(i..i + len).unwrap_or_default().to_vec();
                i += len + 1;
                let expr = self.parse_acl_expr(&inner)?;
                let acl = Arc::new(Acl {
                    name: String::new(),
                    exprs: vec![expr],
                });
                Term {
                    neg,
                    acl,
                    anon: Some(inner.iter().map(|w| (*w).to_owned()).collect()),
                }
            } else {
                let acl = match self.acls.get(word) {
                    Some(a) => Arc::clone(a),
                    None => self.predefined(word)?,
                };
                Term {
                    neg,
                    acl,
                    anon: None,
                }
            };
            cur.get_or_insert_with(Vec::new).push(term);
            neg = false;
        }
        suites.extend(cur);
        Ok(Condition { unless, suites })
    }

    fn predefined(&self, name: &str) -> Result<Arc<Acl>, AclError> {
        let (_, words) =
            PREDEFINED
                .iter()
                .find(|(n, _)| *n == name)
                .ok_or_else(|| AclError::NoSuchAcl {
                    name: name.to_owned(),
                })?;
        let expr = self.parse_acl_expr(words)?;
        Ok(Arc::new(Acl {
            name: name.to_owned(),
            exprs: vec![expr],
        }))
    }
}

/// Splits a pattern or map file: blank lines and `#` comments are skipped, leading spaces are
/// stripped; for maps the key is the first word and the value the rest of the line.
pub(crate) fn parse_pattern_file(text: &str, as_map: bool) -> Vec<(String, Option<String>)> {
    text.lines()
        .map(|l| {
            l.trim_start_matches([' ', '\t'])
                .trim_end_matches(['\r', '\n'])
        })
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            if as_map {
                let (k, v) = l.split_once([' ', '\t']).unwrap_or((l, ""));
                (k.to_owned(), Some(v.trim_matches([' ', '\t']).to_owned()))
            } else {
                (l.trim_end_matches([' ', '\t']).to_owned(), None)
            }
        })
        .collect()
}
