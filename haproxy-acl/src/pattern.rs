//! Match methods (`-m`) and the parsing of one pattern for each (configuration.txt 7.1).

use std::fmt;
#[cfg(test)]
use std::net::IpAddr;
use std::net::{Ipv4Addr, Ipv6Addr};

use crate::error::AclError;
use crate::sample::SampleType;

/// Longest single pattern accepted, in bytes.
pub const MAX_PATTERN_LEN: usize = 16384;

/// A match method: how a sample is compared with the patterns of an ACL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MatchKind {
    /// `found`: the sample exists; no pattern.
    Found,
    /// `bool`: the sample is a non-zero integer or true.
    Bool,
    /// `int`: integer ranges and `eq ge gt le lt` operators.
    Int,
    /// `ip`: IPv4/IPv6 addresses and networks.
    Ip,
    /// `bin`: exact bytes, patterns written in hexadecimal.
    Bin,
    /// `len`: the sample length against integer ranges.
    Len,
    /// `str`: exact string.
    Str,
    /// `sub`: substring.
    Sub,
    /// `beg`: prefix.
    Beg,
    /// `end`: suffix.
    End,
    /// `dir`: `/`-delimited segments.
    Dir,
    /// `dom`: `.`, `/`, `?` or `:`-delimited labels.
    Dom,
    /// `reg`: regular expression.
    Reg,
    /// The `method` ACL keyword: known methods compare as such, others as strings.
    Method,
}

impl MatchKind {
    /// Parses a `-m` method name.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "found" => Self::Found,
            "bool" => Self::Bool,
            "int" => Self::Int,
            "ip" => Self::Ip,
            "bin" => Self::Bin,
            "len" => Self::Len,
            "str" => Self::Str,
            "sub" => Self::Sub,
            "beg" => Self::Beg,
            "end" => Self::End,
            "dir" => Self::Dir,
            "dom" => Self::Dom,
            "reg" => Self::Reg,
            _ => return None,
        })
    }

    /// The method's name as `-m` and `get acl` write it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Found => "found",
            Self::Bool => "bool",
            Self::Int => "int",
            Self::Ip => "ip",
            Self::Bin => "bin",
            Self::Len => "len",
            Self::Str | Self::Method => "str",
            Self::Sub => "sub",
            Self::Beg => "beg",
            Self::End => "end",
            Self::Dir => "dir",
            Self::Dom => "dom",
            Self::Reg => "reg",
        }
    }

    /// The default method for a fetch output type; `None` for binary (HAProxy requires `-m`).
    pub fn default_for(ty: SampleType) -> Option<Self> {
        match ty {
            SampleType::Bool => Some(Self::Bool),
            SampleType::Int => Some(Self::Int),
            SampleType::Ip => Some(Self::Ip),
            SampleType::Str => Some(Self::Str),
            SampleType::Method => Some(Self::Method),
            SampleType::Bin => None,
        }
    }

    /// The sample type this method works on.
    pub(crate) fn expects(self) -> Option<SampleType> {
        match self {
            Self::Found => None,
            Self::Bool | Self::Int => Some(SampleType::Int),
            Self::Ip => Some(SampleType::Ip),
            Self::Bin => Some(SampleType::Bin),
            Self::Method => Some(SampleType::Method),
            _ => Some(SampleType::Str),
        }
    }

    /// Whether the method takes integer operators (`eq ge gt le lt`).
    pub(crate) fn takes_int(self) -> bool {
        matches!(self, Self::Int | Self::Len)
    }

    /// Whether patterns are stored in a tree in HAProxy (shown as `idx=tree` by `get acl`).
    pub(crate) fn is_tree(self, icase: bool) -> bool {
        match self {
            Self::Ip => true,
            Self::Str | Self::Beg => !icase,
            _ => false,
        }
    }
}

impl fmt::Display for MatchKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Whether HAProxy can cast a sample of type `from` to what `kind` expects (`sample_casts`).
pub(crate) fn can_cast(from: SampleType, kind: MatchKind) -> bool {
    let Some(to) = kind.expects() else {
        return true;
    };
    use SampleType as T;
    match (from, to) {
        (a, b) if a == b => true,
        (T::Bool | T::Int, T::Int) => true,
        (T::Bool, T::Ip) => false,
        (T::Method, T::Str | T::Bin) | (T::Str, T::Method) => true,
        (T::Method, _) | (_, T::Method) => false,
        _ => true,
    }
}

/// An inclusive integer range; open ends are `None`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct IntRange {
    pub(crate) min: Option<i64>,
    pub(crate) max: Option<i64>,
}

impl IntRange {
    pub(crate) fn contains(self, v: i64) -> bool {
        self.min.is_none_or(|m| v >= m) && self.max.is_none_or(|m| v <= m)
    }
}

/// An IPv4 network with an arbitrary (possibly non-contiguous) mask, or an IPv6 prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IpNet {
    V4 { addr: u32, mask: u32 },
    V6 { addr: u128, len: u8 },
}

/// Standard operators usable before integer patterns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IntOp {
    Eq,
    Ge,
    Gt,
    Le,
    Lt,
}

impl IntOp {
    pub(crate) fn from_word(w: &str) -> Option<Self> {
        Some(match w {
            "eq" => Self::Eq,
            "ge" => Self::Ge,
            "gt" => Self::Gt,
            "le" => Self::Le,
            "lt" => Self::Lt,
            _ => return None,
        })
    }
}

/// Rewrites an integer pattern written after an operator into HAProxy's range syntax, as
/// `parse_acl_expr` does (`gt 5` becomes `6:`).
pub(crate) fn apply_int_op(op: IntOp, word: &str) -> Result<String, AclError> {
    if op == IntOp::Eq || word.contains([':', '-']) {
        return Ok(word.to_owned());
    }
    let head = word.split('.').next().unwrap_or_default();
    let v: i64 = head.parse().map_err(|_| AclError::Pattern {
        pattern: word.to_owned(),
        message: format!("'{word}' is neither a number nor a supported operator"),
    })?;
    Ok(match op {
        IntOp::Eq => word.to_owned(),
        IntOp::Gt => format!("{}:", v.saturating_add(1)),
        IntOp::Ge => format!("{v}:"),
        IntOp::Lt => format!(":{}", v.saturating_sub(1)),
        IntOp::Le => format!(":{v}"),
    })
}

fn num(s: &str) -> Option<i64> {
    if s.is_empty() {
        return None;
    }
    s.parse().ok()
}

/// Parses `N`, `A:B`, `:B`, `A:` (or `-` as separator) like HAProxy's `pat_parse_int`.
pub(crate) fn parse_int_range(text: &str) -> Result<IntRange, AclError> {
    let bad_range = || AclError::Pattern {
        pattern: text.to_owned(),
        message: format!("'{text}' is not a valid number range"),
    };
    if text.is_empty() {
        return Err(bad_range());
    }
    let Some(sep) = text.find([':', '-']) else {
        let v = num(text).ok_or_else(|| AclError::Pattern {
            pattern: text.to_owned(),
            message: format!("'{text}' is not a number"),
        })?;
        return Ok(IntRange {
            min: Some(v),
            max: Some(v),
        });
    };
    let (a, b) = (
        text.get(..sep).unwrap_or_default(),
        text.get(sep + 1..).unwrap_or_default(),
    );
    match (a.is_empty(), b.is_empty()) {
        (true, false) => Ok(IntRange {
            min: None,
            max: Some(num(b).ok_or_else(bad_range)?),
        }),
        (_, true) => Ok(IntRange {
            min: Some(num(a).ok_or_else(bad_range)?),
            max: None,
        }),
        (false, false) => {
            let (lo, hi) = (num(a).ok_or_else(bad_range)?, num(b).ok_or_else(bad_range)?);
            if lo > hi {
                return Err(bad_range());
            }
            Ok(IntRange {
                min: Some(lo),
                max: Some(hi),
            })
        }
    }
}

fn bad_ip(text: &str) -> AclError {
    AclError::Pattern {
        pattern: text.to_owned(),
        message: format!("'{text}' is not a valid IPv4 or IPv6 address"),
    }
}

/// Parses an IPv4 address the way `inet_aton` (used by HAProxy's resolver fallback) does for the
/// abbreviated forms `a`, `a.b` (b fills 24 bits) and `a.b.c` (c fills 16 bits), decimal only.
fn parse_v4_abbrev(text: &str) -> Option<u32> {
    let parts: Vec<&str> = text.split('.').collect();
    let nums: Option<Vec<u32>> = parts
        .iter()
        .map(|p| {
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                None
            } else {
                p.parse().ok()
            }
        })
        .collect();
    let nums = nums?;
    match nums.as_slice() {
        [a] => Some(*a),
        [a, b] if *a < 256 && *b < (1 << 24) => Some(a << 24 | b),
        [a, b, c] if *a < 256 && *b < 256 && *c < (1 << 16) => Some(a << 24 | b << 16 | c),
        [a, b, c, d] if [a, b, c, d].iter().all(|x| **x < 256) => {
            Some(a << 24 | b << 16 | c << 8 | d)
        }
        _ => None,
    }
}

fn len_to_mask4(len: u32) -> u32 {
    if len == 0 {
        0
    } else {
        u32::MAX << (32 - len.min(32))
    }
}

/// Parses an `ip` pattern: IPv4 with optional `/len` or `/dotted.mask`, or IPv6 with optional `/len`.
///
/// Without `-n`, abbreviated IPv4 forms such as `10.12` are accepted as HAProxy's resolver does
/// (`10.0.0.12`). Host names are not resolved (COMPAT: this crate does no I/O).
pub(crate) fn parse_ip_net(text: &str, no_dns: bool) -> Result<IpNet, AclError> {
    let (addr_s, mask_s) = match text.rsplit_once('/') {
        Some((a, m)) => (a, Some(m)),
        None => (text, None),
    };
    let v4_mask = match mask_s {
        None => Some(u32::MAX),
        Some(m) if m.contains('.') => m.parse::<Ipv4Addr>().ok().map(u32::from),
        Some(m) => m
            .parse::<u32>()
            .ok()
            .filter(|l| *l <= 32 && !m.is_empty())
            .map(len_to_mask4),
    };
    if let Some(mask) = v4_mask {
        let addr = addr_s.parse::<Ipv4Addr>().ok().map(u32::from).or_else(|| {
            if no_dns {
                None
            } else {
                parse_v4_abbrev(addr_s)
            }
        });
        if let Some(addr) = addr {
            return Ok(IpNet::V4 {
                addr: addr & mask,
                mask,
            });
        }
    }
    let addr6: Ipv6Addr = addr_s.parse().map_err(|_| bad_ip(text))?;
    let len = match mask_s {
        None => 128,
        Some(m) => m
            .parse::<u8>()
            .ok()
            .filter(|l| *l <= 128)
            .ok_or_else(|| bad_ip(text))?,
    };
    let mask = if len == 0 {
        0
    } else {
        u128::MAX << (128 - u32::from(len))
    };
    Ok(IpNet::V6 {
        addr: u128::from(addr6) & mask,
        len,
    })
}

impl IpNet {
    /// Whether the v4 mask is a contiguous prefix; returns its length.
    pub(crate) fn v4_prefix_len(mask: u32) -> Option<u8> {
        let len = mask.leading_ones();
        (len2(len) == mask).then_some(len as u8)
    }

    #[cfg(test)]
    /// Straightforward containment test with HAProxy's v4/v6 mapping rules (used by the list
    /// fallback and as the reference in tests).
    pub(crate) fn matches(self, ip: IpAddr) -> bool {
        match (self, ip) {
            (Self::V4 { addr, mask }, IpAddr::V4(v4)) => (u32::from(v4) ^ addr) & mask == 0,
            (Self::V4 { addr, mask }, IpAddr::V6(v6)) => {
                v6_to_v4(v6).is_some_and(|v| (v ^ addr) & mask == 0)
            }
            (Self::V6 { addr, len }, IpAddr::V6(v6)) => prefix_match(u128::from(v6), addr, len),
            (Self::V6 { addr, len }, IpAddr::V4(v4)) => {
                prefix_match(u128::from(v4.to_ipv6_mapped()), addr, len)
            }
        }
    }
}

fn len2(len: u32) -> u32 {
    len_to_mask4(len)
}

#[cfg(test)]
fn prefix_match(v: u128, addr: u128, len: u8) -> bool {
    let mask = if len == 0 {
        0
    } else {
        u128::MAX << (128 - u32::from(len))
    };
    v & mask == addr
}

/// Extracts the IPv4 address HAProxy sees in a v6 sample: `::ffff:a.b.c.d`, `::a.b.c.d`, or 6to4
/// `2002:AABB:CCDD::`.
pub(crate) fn v6_to_v4(v6: Ipv6Addr) -> Option<u32> {
    let o = v6.octets();
    let v = u128::from(v6);
    let top64 = (v >> 64) as u64;
    let mid32 = (v >> 32) as u32;
    if top64 == 0 && (mid32 == 0 || mid32 == 0xffff) {
        return Some(v as u32);
    }
    if o.first() == Some(&0x20) && o.get(1) == Some(&0x02) {
        return Some((v >> 80) as u32);
    }
    None
}

/// Parses a `bin` pattern (hexadecimal digits, even count).
pub(crate) fn parse_hex(text: &str) -> Result<Vec<u8>, AclError> {
    let err = |message: String| AclError::Pattern {
        pattern: text.to_owned(),
        message,
    };
    if !text.len().is_multiple_of(2) {
        return Err(err("an even number of hex digit is expected".to_owned()));
    }
    let digit = |c: u8| -> Result<u8, AclError> {
        (c as char)
            .to_digit(16)
            .map(|d| d as u8)
            .ok_or_else(|| err(format!("an hex digit is expected (found '{}')", c as char)))
    };
    text.as_bytes()
        .chunks(2)
        .map(|p| Ok(digit(*p.first().unwrap_or(&b'?'))? << 4 | digit(*p.get(1).unwrap_or(&b'?'))?))
        .collect()
}

/// Checks the length of one pattern.
pub(crate) fn check_pattern_len(text: &str) -> Result<(), AclError> {
    if text.len() > MAX_PATTERN_LEN {
        return Err(AclError::TooLarge {
            what: "pattern length",
            limit: MAX_PATTERN_LEN,
        });
    }
    Ok(())
}

/// The known HTTP methods, which the `method` keyword matches by identity.
pub(crate) const KNOWN_METHODS: &[&[u8]] = &[
    b"OPTIONS", b"GET", b"HEAD", b"POST", b"PUT", b"DELETE", b"TRACE", b"CONNECT",
];
