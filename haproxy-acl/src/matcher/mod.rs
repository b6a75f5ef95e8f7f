//! Compiled, indexed pattern matchers: one per (pattern list, match method, case flag).
//!
//! Exact strings and binaries use a hash index, prefixes a trie, suffixes a reversed trie,
//! `dir`/`dom` a trie walked from every word boundary, addresses a longest-prefix interval table,
//! substrings and regexes a [`regex::bytes::RegexSet`]. Every matcher answers "which pattern
//! matched" with HAProxy's choice (longest prefix for case-sensitive `beg` and `ip`, otherwise the
//! first pattern in list order), which maps need.

mod exact;
mod ipnet;
mod trie;

#[cfg(test)]
mod tests;

use regex::bytes::{RegexSet, RegexSetBuilder};

use crate::error::AclError;
use crate::pattern::{
    IntRange, IpNet, KNOWN_METHODS, MatchKind, check_pattern_len, parse_hex, parse_int_range,
    parse_ip_net,
};
use crate::sample::Sample;

use exact::ExactIndex;
use ipnet::IpTable;
use trie::Trie;

/// Regex program size bound for one regex set (bytes), as compiled by the `regex` crate.
pub const MAX_REGEX_SET_SIZE: usize = 256 << 20;

/// `dir` delimiters (HAProxy's `pat_match_dir`).
const DIR_DELIMS: &[u8] = b"/?";
/// `dom` delimiters (HAProxy's `pat_match_dom`).
const DOM_DELIMS: &[u8] = b"/?.:";

#[derive(Debug, Clone)]
enum Index {
    /// `found` and `bool`: no pattern.
    Nothing,
    Exact(ExactIndex),
    /// `beg`; `longest` when case-sensitive (HAProxy's prefix tree).
    Prefix {
        trie: Trie,
        longest: bool,
    },
    Suffix(Trie),
    Words {
        trie: Trie,
        delims: &'static [u8],
    },
    Set(RegexSet),
    Ranges(Vec<IntRange>),
    Ip(IpTable),
    Method(Vec<MethodPat>),
}

#[derive(Debug, Clone)]
struct MethodPat {
    known: bool,
    text: Vec<u8>,
}

/// A compiled matcher over a list of patterns.
#[derive(Debug, Clone)]
pub(crate) struct Matcher {
    kind: MatchKind,
    icase: bool,
    index: Index,
}

/// Parsing and indexing options for patterns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct PatFlags {
    pub(crate) icase: bool,
    pub(crate) no_dns: bool,
}

fn strip_delims<'a>(mut s: &'a [u8], delims: &[u8]) -> &'a [u8] {
    while let [first, rest @ ..] = s {
        if !delims.contains(first) {
            break;
        }
        s = rest;
    }
    while let [rest @ .., last] = s {
        if !delims.contains(last) {
            break;
        }
        s = rest;
    }
    s
}

/// Checks that one pattern parses for `kind` (runtime `add acl` uses this before inserting).
pub(crate) fn validate(kind: MatchKind, flags: PatFlags, text: &str) -> Result<(), AclError> {
    check_pattern_len(text)?;
    match kind {
        MatchKind::Int | MatchKind::Len => parse_int_range(text).map(drop),
        MatchKind::Ip => parse_ip_net(text, flags.no_dns).map(drop),
        MatchKind::Bin => parse_hex(text).map(drop),
        MatchKind::Reg => regex::bytes::RegexBuilder::new(text)
            .case_insensitive(flags.icase)
            .build()
            .map(drop)
            .map_err(|e| AclError::Regex {
                pattern: text.to_owned(),
                message: e.to_string(),
            }),
        _ => Ok(()),
    }
}

fn set(patterns: Vec<String>, icase: bool) -> Result<RegexSet, AclError> {
    RegexSetBuilder::new(patterns)
        .case_insensitive(icase)
        .size_limit(MAX_REGEX_SET_SIZE)
        .dfa_size_limit(MAX_REGEX_SET_SIZE)
        .build()
        .map_err(|e| AclError::Regex {
            pattern: String::from("<set>"),
            message: e.to_string(),
        })
}

impl Matcher {
    /// Compiles `patterns` (in list order) for `kind`.
    pub(crate) fn compile<S: AsRef<str>>(
        kind: MatchKind,
        flags: PatFlags,
        patterns: &[S],
    ) -> Result<Self, AclError> {
        let icase = flags.icase;
        let texts = || patterns.iter().map(|p| p.as_ref());
        for t in texts() {
            validate(kind, flags, t)?;
        }
        let index = match kind {
            MatchKind::Found | MatchKind::Bool => Index::Nothing,
            MatchKind::Str => Index::Exact(ExactIndex::new(texts().map(str::as_bytes), icase)),
            MatchKind::Bin => {
                let bins: Vec<Vec<u8>> = texts().map(parse_hex).collect::<Result<_, _>>()?;
                Index::Exact(ExactIndex::new(bins.iter().map(Vec::as_slice), false))
            }
            MatchKind::Beg => {
                let mut trie = Trie::new(icase);
                for (i, t) in texts().enumerate() {
                    trie.insert(t.bytes(), i as u32);
                }
                Index::Prefix {
                    trie,
                    longest: !icase,
                }
            }
            MatchKind::End => {
                let mut trie = Trie::new(icase);
                for (i, t) in texts().enumerate() {
                    trie.insert(t.bytes().rev(), i as u32);
                }
                Index::Suffix(trie)
            }
            MatchKind::Dir | MatchKind::Dom => {
                let delims = if kind == MatchKind::Dir {
                    DIR_DELIMS
                } else {
                    DOM_DELIMS
                };
                let mut trie = Trie::new(icase);
                for (i, t) in texts().enumerate() {
                    let key = strip_delims(t.as_bytes(), delims);
                    if !key.is_empty() {
                        trie.insert(key.iter().copied(), i as u32);
                    }
                }
                Index::Words { trie, delims }
            }
            MatchKind::Sub => Index::Set(set(texts().map(regex::escape).collect(), icase)?),
            MatchKind::Reg => Index::Set(set(texts().map(str::to_owned).collect(), icase)?),
            MatchKind::Int | MatchKind::Len => {
                Index::Ranges(texts().map(parse_int_range).collect::<Result<_, _>>()?)
            }
            MatchKind::Ip => {
                let nets: Vec<IpNet> = texts()
                    .map(|t| parse_ip_net(t, flags.no_dns))
                    .collect::<Result<_, _>>()?;
                Index::Ip(IpTable::new(&nets))
            }
            MatchKind::Method => Index::Method(
                texts()
                    .map(|t| MethodPat {
                        known: KNOWN_METHODS.contains(&t.as_bytes()),
                        text: t.as_bytes().to_vec(),
                    })
                    .collect(),
            ),
        };
        Ok(Self { kind, icase, index })
    }

    /// Matches one sample; returns the index of the pattern HAProxy would report, or `Some(0)` for a
    /// `found`/`bool` hit. With `need_index` false, any matching index may be returned (faster).
    pub(crate) fn find(&self, sample: &Sample<'_>, need_index: bool) -> Option<u32> {
        match &self.index {
            Index::Nothing => match self.kind {
                MatchKind::Found => Some(0),
                _ => (sample.to_int()? != 0).then_some(0),
            },
            Index::Ranges(ranges) => {
                let v = if self.kind == MatchKind::Len {
                    i64::try_from(sample.to_bytes().len()).ok()?
                } else {
                    sample.to_int()?
                };
                ranges.iter().position(|r| r.contains(v)).map(|p| p as u32)
            }
            Index::Ip(table) => table.find(sample.to_ip()?),
            Index::Exact(ix) => ix.find(&sample.to_bytes()),
            Index::Prefix { trie, longest } => {
                let s = sample.to_bytes();
                let mut best: Option<u32> = None;
                trie.walk(s.iter().copied(), |_, idx| {
                    best = Some(if *longest {
                        idx
                    } else {
                        best.map_or(idx, |b| b.min(idx))
                    });
                    !need_index
                });
                best
            }
            Index::Suffix(trie) => {
                let s = sample.to_bytes();
                let mut best: Option<u32> = None;
                trie.walk(s.iter().rev().copied(), |_, idx| {
                    best = Some(best.map_or(idx, |b| b.min(idx)));
                    !need_index
                });
                best
            }
            Index::Words { trie, delims } => {
                words_find(trie, delims, &sample.to_bytes(), need_index)
            }
            Index::Set(set) => {
                let s = sample.to_bytes();
                if need_index {
                    set.matches(&s).iter().next().map(|i| i as u32)
                } else {
                    set.is_match(&s).then_some(0)
                }
            }
            Index::Method(pats) => {
                let s = sample.to_bytes();
                let known = KNOWN_METHODS.contains(&s.as_ref());
                pats.iter()
                    .position(|p| {
                        if p.known || known {
                            p.known && known && p.text == s.as_ref()
                        } else if self.icase {
                            p.text.eq_ignore_ascii_case(&s)
                        } else {
                            p.text == s.as_ref()
                        }
                    })
                    .map(|p| p as u32)
            }
        }
    }
}

/// HAProxy's `match_word` over every pattern at once: a pattern matches when it starts at the
/// beginning or right after a delimiter and ends at the end or right before one.
fn words_find(trie: &Trie, delims: &[u8], s: &[u8], need_index: bool) -> Option<u32> {
    let mut best: Option<u32> = None;
    let mut may_start = true;
    for (i, &c) in s.iter().enumerate() {
        if delims.contains(&c) {
            may_start = true;
            continue;
        }
        if !may_start {
            continue;
        }
        may_start = false;
        let rest = s.get(i..).unwrap_or_default();
        let mut done = false;
        trie.walk(rest.iter().copied(), |depth, idx| {
            if depth > 0 && rest.get(depth).is_none_or(|n| delims.contains(n)) {
                best = Some(best.map_or(idx, |b| b.min(idx)));
                done = !need_index;
            }
            done
        });
        if done {
            break;
        }
    }
    best
}

/// A straightforward, list-based matcher with HAProxy's semantics, used as the reference the indexed
/// matchers are tested against. Returns whether any pattern matches.
#[cfg(test)]
pub(crate) fn naive_match(
    kind: MatchKind,
    flags: PatFlags,
    patterns: &[&str],
    sample: &Sample<'_>,
) -> bool {
    let icase = flags.icase;
    let eq = |a: &[u8], b: &[u8]| {
        if icase {
            a.eq_ignore_ascii_case(b)
        } else {
            a == b
        }
    };
    let s = sample.to_bytes();
    let s = s.as_ref();
    patterns.iter().any(|p| {
        let pb = p.as_bytes();
        match kind {
            MatchKind::Found => true,
            MatchKind::Bool => sample.to_int().is_some_and(|v| v != 0),
            MatchKind::Str => eq(pb, s),
            MatchKind::Beg => s.len() >= pb.len() && eq(&s[..pb.len()], pb),
            MatchKind::End => s.len() >= pb.len() && eq(&s[s.len() - pb.len()..], pb),
            MatchKind::Sub => pb.is_empty() || s.windows(pb.len()).any(|w| eq(w, pb)),
            MatchKind::Dir | MatchKind::Dom => {
                let delims = if kind == MatchKind::Dir {
                    DIR_DELIMS
                } else {
                    DOM_DELIMS
                };
                let key = strip_delims(pb, delims);
                !key.is_empty()
                    && (0..s.len()).any(|i| {
                        (i == 0 || delims.contains(&s[i - 1]))
                            && !delims.contains(&s[i])
                            && s.len() - i >= key.len()
                            && eq(&s[i..i + key.len()], key)
                            && (i + key.len() == s.len() || delims.contains(&s[i + key.len()]))
                    })
            }
            MatchKind::Reg => regex::bytes::RegexBuilder::new(p)
                .case_insensitive(icase)
                .build()
                .is_ok_and(|r| r.is_match(s)),
            MatchKind::Int => sample
                .to_int()
                .is_some_and(|v| parse_int_range(p).is_ok_and(|r| r.contains(v))),
            MatchKind::Len => parse_int_range(p).is_ok_and(|r| r.contains(s.len() as i64)),
            MatchKind::Ip => sample
                .to_ip()
                .is_some_and(|ip| parse_ip_net(p, flags.no_dns).is_ok_and(|n| n.matches(ip))),
            MatchKind::Bin => parse_hex(p).is_ok_and(|b| b == s),
            MatchKind::Method => {
                let pk = KNOWN_METHODS.contains(&pb);
                let sk = KNOWN_METHODS.contains(&s);
                if pk || sk {
                    pk && sk && pb == s
                } else {
                    eq(pb, s)
                }
            }
        }
    })
}
