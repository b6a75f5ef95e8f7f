//! Value syntaxes shared by many keywords: times, integers, sizes, ports and addresses.
//!
//! Each parser follows the HAProxy 2.6 function it mirrors (named in its doc) and returns an error
//! whose `Display` is HAProxy's own text where HAProxy has one, so the loader can quote it.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Largest time HAProxy accepts, in the target unit (`PARSE_TIME_OVER` above it).
pub const MAX_TIME: u32 = 0x7fff_ffff;
/// Largest TCP/UDP port.
pub const MAX_PORT: u16 = 65_535;
/// Longest socket name in a unix address (`sizeof(sun_path) - 1`): the bound of an abstract
/// (`abns@`) name; a path also leaves room for [`UNIX_TEMP_SUFFIX`] and any `unix-bind` prefix.
pub const MAX_UNIX_PATH: usize = 107;
/// Room HAProxy keeps after a unix socket path for the `.<pid>.tmp` / `.<pid>.bak` names it
/// binds and renames through (`.` + five digits + `.` + three letters).
pub const UNIX_TEMP_SUFFIX: usize = 10;

/// The unit a bare number (no suffix) is read in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeUnit {
    /// Microseconds.
    Micros,
    /// Milliseconds (timeouts, check intervals).
    Millis,
    /// Seconds.
    Seconds,
}

/// A parsed time value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Time {
    /// The value converted to the requested unit, rounded up.
    pub value: u32,
    /// A character found after a valid unit (`5sx`): HAProxy 2.6 only warns about it.
    pub trailing: Option<char>,
}

/// Why a time value was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimeError {
    /// A character that is neither a digit nor a unit; `None` for an empty value.
    UnexpectedChar(Option<char>),
    /// The value does not fit in 31 bits of the target unit.
    Overflow,
}

impl fmt::Display for TimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnexpectedChar(Some(c)) => write!(f, "unexpected character '{c}'"),
            Self::UnexpectedChar(None) => f.write_str("missing value"),
            Self::Overflow => f.write_str("timer overflow"),
        }
    }
}

impl TimeUnit {
    /// How many of this unit make one second, as (multiplier, divisor) of a seconds value.
    fn per_second(self) -> u64 {
        match self {
            Self::Micros => 1_000_000,
            Self::Millis => 1_000,
            Self::Seconds => 1,
        }
    }
}

/// Parses a time the way HAProxy's `parse_time_err()` does: digits, then an optional unit among
/// `us`, `ms`, `s`, `m`, `h`, `d`; integers only; no unit means `unit`. The result is rounded up.
///
/// # Errors
/// [`TimeError::UnexpectedChar`] names the first character that is not part of a time
/// (`1.5s` gives `.`) and [`TimeError::Overflow`] when the value reaches 2^31. Rounding up
/// means a non-zero value never becomes zero.
pub fn parse_time(text: &str, unit: TimeUnit) -> Result<Time, TimeError> {
    let bytes = text.as_bytes();
    if !bytes.first().is_some_and(u8::is_ascii_digit) {
        return Err(TimeError::UnexpectedChar(text.chars().next()));
    }
    let digits = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
    let mut value: u64 = 0;
    for b in bytes.iter().take(digits) {
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(b - b'0')))
            .ok_or(TimeError::Overflow)?;
    }
    let rest = text.get(digits..).unwrap_or("");
    // (numerator, denominator) of one input unit expressed in seconds.
    let (suffix_len, in_mul, in_div): (usize, u64, u64) = if rest.is_empty() {
        (0, 1, unit.per_second())
    } else if rest.starts_with("us") {
        (2, 1, 1_000_000)
    } else if rest.starts_with("ms") {
        (2, 1, 1_000)
    } else {
        match rest.as_bytes().first() {
            Some(b's') => (1, 1, 1),
            Some(b'm') => (1, 60, 1),
            Some(b'h') => (1, 3_600, 1),
            Some(b'd') => (1, 86_400, 1),
            _ => return Err(TimeError::UnexpectedChar(rest.chars().next())),
        }
    };
    let trailing = rest.get(suffix_len..).and_then(|t| t.chars().next());
    // result = ceil(value * in_mul * per_second / in_div)
    let num = u128::from(value) * u128::from(in_mul) * u128::from(unit.per_second());
    let den = u128::from(in_div);
    let result = num.div_ceil(den);
    if result > u128::from(MAX_TIME) {
        return Err(TimeError::Overflow);
    }
    let value = u32::try_from(result).map_err(|_| TimeError::Overflow)?;
    Ok(Time { value, trailing })
}

/// Reads an integer the way C's `atol()` does, as HAProxy does for most global integers:
/// leading blanks, an optional sign, then digits up to the first other character; no digits
/// gives 0 and trailing garbage is ignored (`1k` is 1). Saturates instead of overflowing.
pub fn atol(text: &str) -> i64 {
    let t = text.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, t.get(1..).unwrap_or("")),
        Some(b'+') => (false, t.get(1..).unwrap_or("")),
        _ => (false, t),
    };
    let mut v: i64 = 0;
    for b in digits.bytes().take_while(u8::is_ascii_digit) {
        v = v.saturating_mul(10).saturating_add(i64::from(b - b'0'));
    }
    if neg { v.saturating_neg() } else { v }
}

/// [`atol`] narrowed to `i32` the way C's `atoi()` truncates on common platforms (saturating here).
pub fn atoi(text: &str) -> i32 {
    i32::try_from(atol(text).clamp(i64::from(i32::MIN), i64::from(i32::MAX))).unwrap_or(0)
}

/// Parses a strict decimal integer: optional sign, digits, nothing else (C `strtol` with an
/// end-pointer check). Returns `None` on empty input, garbage or overflow.
pub fn strict_int(text: &str) -> Option<i64> {
    let (neg, digits) = match text.as_bytes().first() {
        Some(b'-') => (true, text.get(1..)?),
        Some(b'+') => (false, text.get(1..)?),
        _ => (false, text),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let v: i64 = digits.parse().ok()?;
    Some(if neg { -v } else { v })
}

/// Parses a size with an optional `k`, `m` or `g` suffix (powers of 1024), as HAProxy's
/// `parse_size_err()` does for the keywords that document it (stick-table `size`, cache sizes).
///
/// # Errors
/// Returns the first unexpected character (`None` for an empty value or an overflow).
pub fn parse_size(text: &str) -> Result<u64, Option<char>> {
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return Err(text.chars().next());
    }
    let value: u64 = text
        .get(..digits)
        .and_then(|d| d.parse().ok())
        .ok_or(None)?;
    let rest = text.get(digits..).unwrap_or("");
    let mul: u64 = match rest.as_bytes().first() {
        None => 1,
        Some(b'k' | b'K') => 1 << 10,
        Some(b'm' | b'M') => 1 << 20,
        Some(b'g' | b'G') => 1 << 30,
        Some(_) => return Err(rest.chars().next()),
    };
    if rest.len() > 1 {
        return Err(rest.get(1..).and_then(|r| r.chars().next()));
    }
    value.checked_mul(mul).ok_or(None)
}

/// What an address may contain, as the `PA_O_*` flags of HAProxy's `str2sa_range()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AddrRules {
    /// A port may be given.
    pub port_ok: bool,
    /// A port must be given (the "missing port specification" error otherwise).
    pub port_mandatory: bool,
    /// `lo-hi` ranges are allowed (bind).
    pub port_range: bool,
    /// `+N` / `-N` port offsets are allowed (server).
    pub port_offset: bool,
    /// A host name may be given instead of an IP address (server, log).
    pub fqdn: bool,
}

impl AddrRules {
    /// The rules of a `bind` address: port mandatory, ranges allowed, no host names.
    pub const BIND: Self = Self {
        port_ok: true,
        port_mandatory: true,
        port_range: true,
        port_offset: false,
        fqdn: false,
    };
    /// The rules of a `server` address: optional port or offset, host names allowed.
    pub const SERVER: Self = Self {
        port_ok: true,
        port_mandatory: false,
        port_range: false,
        port_offset: true,
        fqdn: true,
    };
    /// The rules of a `log` target: optional port, host names allowed.
    pub const LOG: Self = Self {
        port_ok: true,
        port_mandatory: false,
        port_range: false,
        port_offset: false,
        fqdn: true,
    };
}

/// The address family a prefix such as `ipv4@` forces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// No prefix (or `ip@`, `tcp@`, `udp@`): deduced from the address.
    Any,
    /// `ipv4@`, `tcp4@`, `udp4@`, `quic4@`.
    V4,
    /// `ipv6@`, `tcp6@`, `udp6@`, `quic6@`.
    V6,
}

/// The port part of an internet address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Port {
    /// No port given.
    None,
    /// One port, or an inclusive range `lo-hi` (equal bounds for a single port).
    Range(u16, u16),
    /// `+N` or `-N`: relative to the port the client connected to.
    Offset(i32),
}

/// Where an internet address points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    /// A literal IP address (`*` and the empty host are the unspecified address).
    Ip(IpAddr),
    /// A name resolved later (servers, log targets).
    Name(String),
}

/// One address, as written on a `bind`, `server` or `log` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Address {
    /// An IPv4/IPv6 address or host name with a port.
    Inet {
        /// Forced family, if a prefix was given.
        family: Family,
        /// `true` for datagram prefixes (`udp@`, `udp4@`, ...).
        dgram: bool,
        /// The host.
        host: Host,
        /// The port, range or offset.
        port: Port,
    },
    /// A unix socket path (`unix@`, `uxst@`, `uxdg@` or a path starting with `/`).
    Unix(String),
    /// An abstract unix socket name (`abns@`).
    Abns(String),
    /// An inherited file descriptor (`fd@N`), kept as written (it may hold a variable's value).
    Fd(String),
    /// A socket pair (`sockpair@N`).
    SockPair(String),
}

/// Why an address was refused; `Display` is HAProxy's `str2sa_range()` text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddrError {
    /// The address expands to nothing.
    Empty(String),
    /// A port was given where none is allowed.
    PortNotPermitted(String),
    /// A mandatory port is missing.
    MissingPort(String),
    /// A range was given where only one port is allowed.
    RangeNotPermitted(String),
    /// A port outside 1..=65535 (0 allowed when the port is optional).
    InvalidPort(String),
    /// `lo-hi` with lo > hi.
    InvalidRange(u32, u32),
    /// An offset where none is allowed.
    OffsetNotPermitted(String),
    /// A non-digit at the start of the port: (char, port text, whole address).
    BadPortChar(char, String, String),
    /// Not an IP address, and host names are not allowed here: (host, whole address).
    InvalidAddress(String, String),
    /// `fd@` / `sockpair@` with a non-integer.
    BadFd(String, String),
    /// A unix socket path that is too long: (whole address, the longest allowed; negative when
    /// a `unix-bind` prefix alone is too long, as HAProxy prints it).
    PathTooLong(String, i64),
}

impl fmt::Display for AddrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty(s) => write!(
                f,
                "'{s}' resolves to an empty address (environment variable missing?)"
            ),
            Self::PortNotPermitted(s) => {
                write!(f, "port specification not permitted here in '{s}'")
            }
            Self::MissingPort(s) => write!(f, "missing port specification in '{s}'"),
            Self::RangeNotPermitted(s) => write!(f, "port range not permitted here in '{s}'"),
            Self::InvalidPort(p) => write!(f, "invalid port '{p}'"),
            Self::InvalidRange(l, h) => write!(f, "invalid port range '{l}-{h}'"),
            Self::OffsetNotPermitted(s) => write!(f, "port offset not permitted here in '{s}'"),
            Self::BadPortChar(c, p, s) => {
                write!(f, "invalid character '{c}' in port number '{p}' in '{s}'")
            }
            Self::InvalidAddress(h, s) => write!(f, "invalid address: '{h}' in '{s}'"),
            Self::BadFd(v, s) => write!(f, "file descriptor '{v}' is not a valid integer in '{s}'"),
            Self::PathTooLong(s, max) => write!(f, "socket path '{s}' too long (max {max})"),
        }
    }
}

impl AddrError {
    /// HAProxy ends a few of these messages with a newline of its own, which shows as an empty
    /// line after the ALERT when the caller does not trim it (server lines do not).
    pub fn has_trailing_newline(&self) -> bool {
        matches!(
            self,
            Self::BadPortChar(..)
                | Self::InvalidAddress(..)
                | Self::BadFd(..)
                | Self::PathTooLong(..)
                | Self::Empty(_)
        )
    }
}

/// Prefixes understood before an address, with the family and datagram flag they force.
const PREFIXES: &[(&str, Family, bool)] = &[
    ("ip@", Family::Any, false),
    ("ipv4@", Family::V4, false),
    ("ipv6@", Family::V6, false),
    ("tcp4@", Family::V4, false),
    ("tcp6@", Family::V6, false),
    ("tcp@", Family::Any, false),
    ("udp4@", Family::V4, true),
    ("udp6@", Family::V6, true),
    ("udp@", Family::Any, true),
    ("quic4@", Family::V4, true),
    ("quic6@", Family::V6, true),
];

/// Parses one address (no commas) as HAProxy's `str2sa_range()` does.
///
/// # Errors
/// Returns an [`AddrError`] whose text is HAProxy's.
pub fn parse_address(text: &str, rules: AddrRules) -> Result<Address, AddrError> {
    parse_address_in(text, rules, None)
}

/// The longest unix socket path `str2sa_range()` accepts after a `unix-bind` prefix of
/// `prefix_len` bytes (an abstract name has no prefix and no temporary suffix).
#[must_use]
pub fn max_unix_path(prefix_len: usize, abstract_name: bool) -> i64 {
    let max = MAX_UNIX_PATH as i64;
    if abstract_name {
        return max;
    }
    let reserve = i64::try_from(prefix_len)
        .unwrap_or(i64::MAX / 2)
        .saturating_add(UNIX_TEMP_SUFFIX as i64);
    max.saturating_sub(reserve)
}

/// [`parse_address`] for a `bind` line under a global `unix-bind prefix`: the prefix is put
/// before every unix socket path (not abstract names), literally, and shortens the longest
/// path allowed by its length, as `str2sa_range()` does with its `pfx` argument.
///
/// # Errors
/// Returns an [`AddrError`] whose text is HAProxy's.
pub fn parse_address_in(
    text: &str,
    rules: AddrRules,
    unix_prefix: Option<&str>,
) -> Result<Address, AddrError> {
    let pfx = unix_prefix.unwrap_or("");
    let too_long = |path: &str, abstract_name: bool| {
        let max = max_unix_path(if abstract_name { 0 } else { pfx.len() }, abstract_name);
        i64::try_from(path.len())
            .map_or(true, |n| n > max)
            .then(|| AddrError::PathTooLong(text.to_owned(), max))
    };
    if text.is_empty() {
        return Err(AddrError::Empty(text.to_owned()));
    }
    let body = text
        .strip_prefix("stream+")
        .or_else(|| text.strip_prefix("dgram+"))
        .unwrap_or(text);
    for (scheme, unix) in [
        ("unix@", true),
        ("uxst@", true),
        ("uxdg@", true),
        ("abns@", false),
    ] {
        if let Some(path) = body.strip_prefix(scheme) {
            if let Some(e) = too_long(path, !unix) {
                return Err(e);
            }
            return Ok(if unix {
                Address::Unix(format!("{pfx}{path}"))
            } else {
                Address::Abns(path.to_owned())
            });
        }
    }
    for (pfx, sockpair) in [("fd@", false), ("sockpair@", true)] {
        if let Some(fd) = body.strip_prefix(pfx) {
            if fd.is_empty() || !fd.bytes().all(|b| b.is_ascii_digit()) {
                return Err(AddrError::BadFd(fd.to_owned(), text.to_owned()));
            }
            return Ok(if sockpair {
                Address::SockPair(fd.to_owned())
            } else {
                Address::Fd(fd.to_owned())
            });
        }
    }
    if body.starts_with('/') {
        if let Some(e) = too_long(body, false) {
            return Err(e);
        }
        return Ok(Address::Unix(format!("{pfx}{body}")));
    }
    let (family, dgram, rest) = PREFIXES
        .iter()
        .find_map(|(p, fam, dg)| body.strip_prefix(p).map(|r| (*fam, *dg, r)))
        .unwrap_or((Family::Any, false, body));
    inet(text, rest, family, dgram, rules)
}

/// The IPv4/IPv6 branch of [`parse_address`].
fn inet(
    text: &str,
    rest: &str,
    family: Family,
    dgram: bool,
    rules: AddrRules,
) -> Result<Address, AddrError> {
    // The last ':' or ']' decides whether a port follows.
    let sep = rest.char_indices().rfind(|(_, c)| *c == ':' || *c == ']');
    let (host, port_text) = match sep {
        Some((i, ':')) => {
            if !rules.port_ok {
                return Err(AddrError::PortNotPermitted(text.to_owned()));
            }
            (rest.get(..i).unwrap_or(""), rest.get(i + 1..).unwrap_or(""))
        }
        _ => {
            if rules.port_mandatory {
                return Err(AddrError::MissingPort(text.to_owned()));
            }
            (rest, "")
        }
    };
    let port = parse_port_part(text, port_text, rules)?;
    let host = match parse_ip(host, family) {
        Some(ip) => Host::Ip(ip),
        None if rules.fqdn && !host.is_empty() => Host::Name(host.to_owned()),
        None => return Err(AddrError::InvalidAddress(host.to_owned(), text.to_owned())),
    };
    Ok(Address::Inet {
        family,
        dgram,
        host,
        port,
    })
}

/// Parses the text after the port separator.
fn parse_port_part(text: &str, p: &str, rules: AddrRules) -> Result<Port, AddrError> {
    let min = u32::from(rules.port_mandatory);
    match p.as_bytes().first() {
        Some(b) if b.is_ascii_digit() => {
            let (lo_s, hi_s) = match p.split_once('-') {
                Some((l, h)) => {
                    if !rules.port_range {
                        return Err(AddrError::RangeNotPermitted(text.to_owned()));
                    }
                    (l, h)
                }
                None => (p, p),
            };
            let lo = u32::try_from(atol(lo_s).max(-1)).unwrap_or(u32::MAX);
            let hi = u32::try_from(atol(hi_s).max(-1)).unwrap_or(u32::MAX);
            if lo < min || lo > u32::from(MAX_PORT) {
                return Err(AddrError::InvalidPort(lo_s.to_owned()));
            }
            if hi < min || hi > u32::from(MAX_PORT) {
                return Err(AddrError::InvalidPort(hi_s.to_owned()));
            }
            if lo > hi {
                return Err(AddrError::InvalidRange(lo, hi));
            }
            let to16 = |v: u32| u16::try_from(v).unwrap_or(MAX_PORT);
            Ok(Port::Range(to16(lo), to16(hi)))
        }
        Some(b'-' | b'+') => {
            if !rules.port_offset {
                return Err(AddrError::OffsetNotPermitted(text.to_owned()));
            }
            Ok(Port::Offset(atoi(p)))
        }
        Some(_) => {
            let c = p.chars().next().unwrap_or(' ');
            Err(AddrError::BadPortChar(c, p.to_owned(), text.to_owned()))
        }
        None if rules.port_mandatory => Err(AddrError::MissingPort(text.to_owned())),
        None => Ok(Port::None),
    }
}

/// Parses a literal IP as HAProxy's `str2ip2()` without resolution: `*` and the empty string are
/// the unspecified address; IPv6 may be bracketed.
pub fn parse_ip(host: &str, family: Family) -> Option<IpAddr> {
    if host.is_empty() || host == "*" {
        return Some(match family {
            Family::V6 => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
            _ => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        });
    }
    let inner = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    match family {
        Family::V4 => inner.parse::<Ipv4Addr>().ok().map(IpAddr::V4),
        Family::V6 => inner.parse::<Ipv6Addr>().ok().map(IpAddr::V6),
        Family::Any => inner.parse::<IpAddr>().ok(),
    }
}

/// Parses a network `ADDR[/MASK]` (mask as a prefix length or a dotted mask), as used by
/// `option forwardfor except`, `monitor-net` and `src` ACLs.
pub fn parse_network(text: &str) -> Option<(IpAddr, u8)> {
    let (addr, mask) = match text.split_once('/') {
        Some((a, m)) => (a, Some(m)),
        None => (text, None),
    };
    let ip: IpAddr = addr.parse().ok()?;
    let max: u8 = if ip.is_ipv4() { 32 } else { 128 };
    let len = match mask {
        None => max,
        Some(m) => match m.parse::<u8>() {
            Ok(l) if l <= max => l,
            Ok(_) => return None,
            Err(_) => {
                let dotted: Ipv4Addr = m.parse().ok()?;
                let bits = u32::from(dotted);
                if bits.leading_ones() + bits.trailing_zeros() != 32 {
                    return None;
                }
                u8::try_from(bits.leading_ones()).ok()?
            }
        },
    };
    Some((ip, len))
}

#[cfg(test)]
mod tests;
