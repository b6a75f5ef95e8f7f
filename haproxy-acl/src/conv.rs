//! Converters applied after a fetch: `lower`, `upper`, `field`, `word`, `regsub` and the `map_*`
//! family (configuration.txt 7.3.1).

use std::borrow::Cow;
use std::sync::Arc;

use regex::bytes::{Regex, RegexBuilder};

use crate::args::{Arg, ArgSpec, ArgType};
use crate::patref::Slot;
use crate::pattern::MatchKind;
use crate::sample::{Sample, SampleType, parse_i64};

/// Longest converter output, in bytes (HAProxy's default `tune.bufsize`).
pub const MAX_CONVERTED_LEN: usize = 16384;

/// A converter with its resolved arguments.
#[derive(Debug, Clone)]
pub(crate) enum Converter {
    Lower,
    Upper,
    Field {
        index: i64,
        delims: Vec<u8>,
        count: i64,
    },
    Word {
        index: i64,
        delims: Vec<u8>,
        count: i64,
    },
    Regsub {
        re: Regex,
        subst: Vec<u8>,
        global: bool,
    },
    Map {
        slot: Arc<Slot>,
        default: Option<String>,
        out: SampleType,
    },
}

/// Argument specs of the non-map converters.
pub(crate) fn spec(name: &str) -> Option<ArgSpec> {
    Some(match name {
        "lower" | "upper" => ArgSpec { types: &[], min: 0 },
        "field" | "word" => ArgSpec {
            types: &[ArgType::Int, ArgType::Str, ArgType::Int],
            min: 2,
        },
        "regsub" => ArgSpec {
            types: &[ArgType::Regex, ArgType::Str, ArgType::Str],
            min: 2,
        },
        _ => return None,
    })
}

/// Parses a `map[_<match>][_<output>]` converter name into the match method and output type.
pub(crate) fn map_name(name: &str) -> Option<(MatchKind, SampleType)> {
    let rest = name.strip_prefix("map")?;
    let (kind_s, out_s) = match rest.strip_prefix('_') {
        None if rest.is_empty() => ("str", "str"),
        None => return None,
        Some(r) => match r.split_once('_') {
            Some((k, o)) => (k, o),
            None => match r {
                "int" | "ip" => (r, "str"),
                _ => (r, "str"),
            },
        },
    };
    let kind = MatchKind::from_name(kind_s).filter(|k| {
        !matches!(
            k,
            MatchKind::Found | MatchKind::Bool | MatchKind::Len | MatchKind::Bin
        )
    })?;
    let out = match out_s {
        "str" => SampleType::Str,
        "int" => SampleType::Int,
        "ip" => SampleType::Ip,
        _ => return None,
    };
    Some((kind, out))
}

/// The map converters' argument spec: file, optional default.
pub(crate) const MAP_SPEC: ArgSpec = ArgSpec {
    types: &[ArgType::Str, ArgType::Str],
    min: 1,
};

/// Builds a non-map converter from its parsed arguments.
pub(crate) fn build(name: &str, args: &[Arg]) -> Result<Converter, String> {
    let int = |i: usize| args.get(i).and_then(Arg::as_int);
    let text = |i: usize| args.get(i).and_then(Arg::as_str).unwrap_or_default();
    Ok(match name {
        "lower" => Converter::Lower,
        "upper" => Converter::Upper,
        "field" | "word" => {
            let index = int(0).unwrap_or(0);
            if index == 0 {
                return Err("Unexpected value 0 for index".to_owned());
            }
            let delims = text(1).as_bytes().to_vec();
            if delims.is_empty() {
                return Err("Empty separators list".to_owned());
            }
            let count = int(2).unwrap_or(1);
            if name == "field" {
                Converter::Field {
                    index,
                    delims,
                    count,
                }
            } else {
                Converter::Word {
                    index,
                    delims,
                    count,
                }
            }
        }
        "regsub" => {
            let mut global = false;
            let mut icase = false;
            for c in text(2).chars() {
                match c {
                    'g' => global = true,
                    'i' => icase = true,
                    _ => {
                        return Err(format!(
                            "invalid regex flag '{c}', only 'i' and 'g' are supported"
                        ));
                    }
                }
            }
            let re = RegexBuilder::new(text(0))
                .case_insensitive(icase)
                .build()
                .map_err(|e| e.to_string())?;
            Converter::Regsub {
                re,
                subst: text(1).as_bytes().to_vec(),
                global,
            }
        }
        _ => return Err(format!("unknown converter '{name}'")),
    })
}

impl Converter {
    /// Output type given the input type.
    pub(crate) fn out_type(&self) -> SampleType {
        match self {
            Self::Map { out, .. } => *out,
            _ => SampleType::Str,
        }
    }

    /// Applies the converter; `None` means the sample is dropped (HAProxy's converter failure).
    pub(crate) fn apply<'a>(&self, s: Sample<'a>) -> Option<Sample<'a>> {
        match self {
            Self::Lower | Self::Upper => {
                let b = match s {
                    Sample::Str(b) | Sample::Bin(b) => b,
                    other => Cow::Owned(other.to_bytes().into_owned()),
                };
                let lower = matches!(self, Self::Lower);
                let needs = b.iter().any(|c| {
                    if lower {
                        c.is_ascii_uppercase()
                    } else {
                        c.is_ascii_lowercase()
                    }
                });
                if !needs {
                    return Some(Sample::Str(b));
                }
                let mut v = b.into_owned();
                if lower {
                    v.make_ascii_lowercase()
                } else {
                    v.make_ascii_uppercase()
                }
                Some(Sample::Str(Cow::Owned(v)))
            }
            Self::Field {
                index,
                delims,
                count,
            } => {
                let b = str_of(s);
                let (st, en) = field(&b, *index, delims, *count)?;
                Some(Sample::Str(sub_cow(b, st, en)))
            }
            Self::Word {
                index,
                delims,
                count,
            } => {
                let b = str_of(s);
                let (st, en) = word(&b, *index, delims, *count);
                Some(Sample::Str(sub_cow(b, st, en)))
            }
            Self::Regsub { re, subst, global } => {
                let b = str_of(s);
                let out = regsub(re, &b, subst, *global);
                Some(Sample::Str(Cow::Owned(out)))
            }
            Self::Map { slot, default, out } => {
                let v = slot.lookup_value(&s).or_else(|| default.clone())?;
                match out {
                    SampleType::Int => parse_i64(v.as_bytes()).map(Sample::Int),
                    SampleType::Ip => v.parse().ok().map(Sample::Ip),
                    _ => Some(Sample::Str(Cow::Owned(v.into_bytes()))),
                }
            }
        }
    }
}

fn str_of(s: Sample<'_>) -> Cow<'_, [u8]> {
    match s {
        Sample::Str(b) | Sample::Bin(b) => b,
        other => Cow::Owned(other.to_bytes().into_owned()),
    }
}

fn sub_cow(b: Cow<'_, [u8]>, st: usize, en: usize) -> Cow<'_, [u8]> {
    match b {
        Cow::Borrowed(x) => Cow::Borrowed(x.get(st..en).unwrap_or_default()),
        Cow::Owned(x) => Cow::Owned(x.get(st..en).unwrap_or_default().to_vec()),
    }
}

/// HAProxy's `sample_conv_field`; returns the byte range or `None` when the field does not exist.
pub(crate) fn field(s: &[u8], index: i64, delims: &[u8], mut count: i64) -> Option<(usize, usize)> {
    let is_d = |c: Option<&u8>| c.is_some_and(|c| delims.contains(c));
    if index < 0 {
        let mut fld = -1i64;
        let (mut start, mut end) = (s.len(), s.len());
        while start > 0 {
            if is_d(s.get(start - 1)) {
                if fld == index {
                    if count == 1 {
                        return Some((start, end));
                    } else if count > 1 {
                        count -= 1;
                    }
                } else {
                    end = start - 1;
                    fld -= 1;
                }
            }
            start -= 1;
        }
        (fld == index).then_some((start, end))
    } else {
        let mut fld = 1i64;
        let (mut start, mut end) = (0usize, 0usize);
        while end < s.len() {
            if is_d(s.get(end)) {
                if fld == index {
                    if count == 1 {
                        return Some((start, end));
                    } else if count > 1 {
                        count -= 1;
                    }
                } else {
                    start = end + 1;
                    fld += 1;
                }
            }
            end += 1;
        }
        (fld == index).then_some((start, end))
    }
}

/// HAProxy's `sample_conv_word`: like `field` but runs of delimiters separate one word; an absent
/// word gives an empty string.
pub(crate) fn word(s: &[u8], index: i64, delims: &[u8], mut count: i64) -> (usize, usize) {
    let is_d = |c: Option<&u8>| c.is_some_and(|c| delims.contains(c));
    let mut w = 0i64;
    let mut inword = false;
    if index < 0 {
        let (mut start, mut end) = (s.len(), s.len());
        while start > 0 {
            let sep = is_d(s.get(start - 1));
            if !inword {
                if !sep {
                    if w != index {
                        w -= 1;
                        end = start;
                    }
                    inword = true;
                }
            } else if sep {
                if w == index {
                    if count == 1 {
                        return (start, end);
                    } else if count > 1 {
                        count -= 1;
                    }
                }
                inword = false;
            }
            start -= 1;
        }
        if w != index { (0, 0) } else { (start, end) }
    } else {
        let (mut start, mut end) = (0usize, 0usize);
        while end < s.len() {
            let sep = is_d(s.get(end));
            if !inword {
                if !sep {
                    if w != index {
                        w += 1;
                        start = end;
                    }
                    inword = true;
                }
            } else if sep {
                if w == index {
                    if count == 1 {
                        return (start, end);
                    } else if count > 1 {
                        count -= 1;
                    }
                }
                inword = false;
            }
            end += 1;
        }
        if w != index { (0, 0) } else { (start, end) }
    }
}

/// `regsub`: replaces the first (or every, with `g`) match; `\0`..`\9` in `subst` insert groups.
fn regsub(re: &Regex, s: &[u8], subst: &[u8], global: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut last = 0;
    for caps in re.captures_iter(s) {
        let Some(m) = caps.get(0) else { break };
        out.extend_from_slice(s.get(last..m.start()).unwrap_or_default());
        let mut i = 0;
        while let Some(&c) = subst.get(i) {
            let d = subst.get(i + 1).copied();
            if c == b'\\' && d.is_some_and(|d| d.is_ascii_digit()) {
                let g = usize::from(d.unwrap_or(b'0') - b'0');
                if let Some(gm) = caps.get(g) {
                    out.extend_from_slice(gm.as_bytes());
                }
                i += 2;
            } else {
                out.push(c);
                i += 1;
            }
        }
        last = m.end();
        if !global || out.len() > MAX_CONVERTED_LEN {
            break;
        }
    }
    out.extend_from_slice(s.get(last..).unwrap_or_default());
    out.truncate(MAX_CONVERTED_LEN);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f<'a>(s: &'a str, i: i64, d: &str, c: i64) -> Option<&'a str> {
        field(s.as_bytes(), i, d.as_bytes(), c).map(|(a, b)| &s[a..b])
    }
    fn w<'a>(s: &'a str, i: i64, d: &str, c: i64) -> &'a str {
        let (a, b) = word(s.as_bytes(), i, d.as_bytes(), c);
        &s[a..b]
    }

    #[test]
    fn field_matches_haproxy() {
        assert_eq!(f("a,b,c", 2, ",", 1), Some("b"));
        assert_eq!(f("a,b,c", -1, ",", 1), Some("c"));
        assert_eq!(f("a,b,c", 1, ",", 2), Some("a,b"));
        assert_eq!(f("a,b,c", 4, ",", 1), None);
        assert_eq!(f("a,,c", 2, ",", 1), Some(""));
        assert_eq!(f("a,b,c", 2, ",", 0), Some("b,c"));
    }

    #[test]
    fn word_skips_empty_runs() {
        assert_eq!(w("/a//b/c", 2, "/", 1), "b");
        assert_eq!(w("/a//b/c", -1, "/", 1), "c");
        assert_eq!(w("/a//b/c", 1, "/", 2), "a//b");
        assert_eq!(w("/a", 3, "/", 1), "");
    }

    #[test]
    fn regsub_and_case() {
        let c = build(
            "regsub",
            &[
                Arg::Str("(a|b)".into()),
                Arg::Str("<\\1>".into()),
                Arg::Str("g".into()),
            ],
        )
        .unwrap();
        assert_eq!(
            c.apply(Sample::str(b"xaybz")).unwrap(),
            Sample::str(b"x<a>y<b>z")
        );
        let one = build("regsub", &[Arg::Str("o".into()), Arg::Str("0".into())]).unwrap();
        assert_eq!(one.apply(Sample::str(b"foo")).unwrap(), Sample::str(b"f0o"));
        assert!(
            build(
                "regsub",
                &[
                    Arg::Str("o".into()),
                    Arg::Str("0".into()),
                    Arg::Str("x".into())
                ]
            )
            .is_err()
        );
        assert_eq!(
            Converter::Lower.apply(Sample::str(b"AbC")).unwrap(),
            Sample::str(b"abc")
        );
        assert_eq!(
            Converter::Upper.apply(Sample::str(b"AbC")).unwrap(),
            Sample::str(b"ABC")
        );
        assert!(build("field", &[Arg::Int(0), Arg::Str(",".into())]).is_err());
    }

    #[test]
    fn regsub_output_is_bounded() {
        let c = build(
            "regsub",
            &[
                Arg::Str("a".into()),
                Arg::Str("aaaa".into()),
                Arg::Str("g".into()),
            ],
        )
        .unwrap();
        let input = vec![b'a'; MAX_CONVERTED_LEN];
        let out = c.apply(Sample::Str(Cow::Owned(input))).unwrap();
        assert_eq!(out.to_bytes().len(), MAX_CONVERTED_LEN);
    }

    #[test]
    fn map_names() {
        assert_eq!(map_name("map"), Some((MatchKind::Str, SampleType::Str)));
        assert_eq!(map_name("map_beg"), Some((MatchKind::Beg, SampleType::Str)));
        assert_eq!(
            map_name("map_ip_int"),
            Some((MatchKind::Ip, SampleType::Str)).map(|(k, _)| (k, SampleType::Int))
        );
        assert_eq!(map_name("map_int"), Some((MatchKind::Int, SampleType::Str)));
        assert_eq!(map_name("mapx"), None);
        assert_eq!(map_name("map_found"), None);
    }
}
