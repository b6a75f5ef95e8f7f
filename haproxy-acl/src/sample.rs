//! Samples (the values fetches produce) and the trait callers implement to provide them.

use std::borrow::Cow;
use std::net::{IpAddr, SocketAddr};

use crate::userlist::Userlist;

/// The type of a sample, as HAProxy names them (`bool`, `sint`, `ip`, `str`, `bin`, `meth`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SampleType {
    /// A boolean.
    Bool,
    /// A signed 64-bit integer.
    Int,
    /// An IPv4 or IPv6 address.
    Ip,
    /// A string (bytes, not necessarily UTF-8).
    Str,
    /// Raw bytes.
    Bin,
    /// An HTTP method (matched with HAProxy's method rules).
    Method,
}

impl SampleType {
    /// HAProxy's name for the type.
    pub fn name(self) -> &'static str {
        match self {
            Self::Bool => "boolean",
            Self::Int => "integer",
            Self::Ip => "ip",
            Self::Str => "str",
            Self::Bin => "bin",
            Self::Method => "meth",
        }
    }
}

/// One value produced by a fetch or a converter.
///
/// Strings borrow from the [`SampleSource`] when they can, so a lookup does not allocate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sample<'a> {
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// An address.
    Ip(IpAddr),
    /// A string.
    Str(Cow<'a, [u8]>),
    /// Raw bytes.
    Bin(Cow<'a, [u8]>),
}

impl<'a> Sample<'a> {
    /// The sample's type.
    pub fn sample_type(&self) -> SampleType {
        match self {
            Self::Bool(_) => SampleType::Bool,
            Self::Int(_) => SampleType::Int,
            Self::Ip(_) => SampleType::Ip,
            Self::Str(_) => SampleType::Str,
            Self::Bin(_) => SampleType::Bin,
        }
    }

    /// Borrowed string sample.
    pub fn str(s: &'a [u8]) -> Self {
        Self::Str(Cow::Borrowed(s))
    }

    /// The sample as bytes, converting integers, booleans and addresses to text as HAProxy casts do.
    pub fn to_bytes(&self) -> Cow<'_, [u8]> {
        match self {
            Self::Str(s) | Self::Bin(s) => Cow::Borrowed(s.as_ref()),
            Self::Int(i) => Cow::Owned(i.to_string().into_bytes()),
            Self::Bool(b) => Cow::Borrowed(if *b { b"1" } else { b"0" }),
            Self::Ip(ip) => Cow::Owned(ip.to_string().into_bytes()),
        }
    }

    /// The sample as an integer (HAProxy's `str` to `sint` cast accepts only a full decimal number).
    pub fn to_int(&self) -> Option<i64> {
        match self {
            Self::Int(i) => Some(*i),
            Self::Bool(b) => Some(i64::from(*b)),
            Self::Str(s) | Self::Bin(s) => parse_i64(s),
            Self::Ip(IpAddr::V4(v4)) => Some(i64::from(u32::from(*v4))),
            Self::Ip(IpAddr::V6(_)) => None,
        }
    }

    /// The sample as an address.
    pub fn to_ip(&self) -> Option<IpAddr> {
        match self {
            Self::Ip(ip) => Some(*ip),
            Self::Int(i) => u32::try_from(*i).ok().map(|v| IpAddr::V4(v.into())),
            Self::Str(s) | Self::Bin(s) => std::str::from_utf8(s).ok()?.parse().ok(),
            Self::Bool(_) => None,
        }
    }

    /// Turns a borrowed sample into one that owns its bytes.
    pub fn into_owned(self) -> Sample<'static> {
        match self {
            Self::Bool(b) => Sample::Bool(b),
            Self::Int(i) => Sample::Int(i),
            Self::Ip(ip) => Sample::Ip(ip),
            Self::Str(s) => Sample::Str(Cow::Owned(s.into_owned())),
            Self::Bin(s) => Sample::Bin(Cow::Owned(s.into_owned())),
        }
    }
}

/// Parses an optionally signed decimal integer that fills the whole input.
pub(crate) fn parse_i64(s: &[u8]) -> Option<i64> {
    let text = std::str::from_utf8(s).ok()?;
    if text.is_empty() || text.starts_with('+') && text.len() == 1 {
        return None;
    }
    text.parse().ok()
}

/// Parses a leading integer the way HAProxy's `strl2ic` does: digits after an optional sign, stopping
/// at the first other byte (used by `hdr_val`).
pub(crate) fn parse_leading_i64(s: &[u8]) -> i64 {
    let (neg, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, s),
    };
    let mut v: i64 = 0;
    for &b in digits.iter().take_while(|b| b.is_ascii_digit()) {
        v = v.wrapping_mul(10).wrapping_add(i64::from(b - b'0'));
    }
    if neg { v.wrapping_neg() } else { v }
}

/// What a request (or a stream) offers to the ACL engine.
///
/// The caller implements this on whatever holds its request: the proxy on its stream, tests on plain
/// structs, the optional `http` feature on [`http::Request`](https://docs.rs/http). Every method has a
/// default that means "not available", so a source only provides what it knows. Byte slices are
/// borrowed: fetching does not allocate.
pub trait SampleSource {
    /// Client address (`src`, `src_port`).
    fn src(&self) -> Option<SocketAddr> {
        None
    }
    /// Local address the client connected to (`dst`, `dst_port`).
    fn dst(&self) -> Option<SocketAddr> {
        None
    }
    /// Whether the request was parsed as HTTP (`req.proto_http`).
    fn is_http(&self) -> bool {
        false
    }
    /// The request method as received (`method`).
    fn method(&self) -> Option<&[u8]> {
        None
    }
    /// The request URI exactly as received, e.g. `/a/b?x=1` or `http://h/a` (`url`, `path`, `urlp`).
    fn uri(&self) -> Option<&[u8]> {
        None
    }
    /// The HTTP version without the `HTTP/` prefix, e.g. `1.1` (`req.ver`).
    fn version(&self) -> Option<&[u8]> {
        None
    }
    /// The request header line at `index` (0-based, in order of arrival), as (name, value).
    fn header(&self, index: usize) -> Option<(&[u8], &[u8])> {
        let _ = index;
        None
    }
    /// Bytes of request body available (`req.len`).
    fn body_len(&self) -> Option<u64> {
        None
    }
    /// Whether the client connection uses TLS (`ssl_fc`).
    fn ssl_fc(&self) -> bool {
        false
    }
    /// SNI sent in the TLS handshake the proxy terminated (`ssl_fc_sni`).
    fn ssl_fc_sni(&self) -> Option<&[u8]> {
        None
    }
    /// SNI read from a raw ClientHello in the request buffer (`req.ssl_sni`).
    fn req_ssl_sni(&self) -> Option<&[u8]> {
        None
    }
    /// Number of RDP cookies in the request buffer (`req.rdp_cookie_cnt`).
    fn rdp_cookie_count(&self) -> Option<i64> {
        None
    }
    /// Usable servers in `backend` (the current one when `None`) (`nbsrv`).
    fn nbsrv(&self, backend: Option<&str>) -> Option<i64> {
        let _ = backend;
        None
    }
    /// Established connections on `backend` (`be_conn`).
    fn be_conn(&self, backend: Option<&str>) -> Option<i64> {
        let _ = backend;
        None
    }
    /// Established connections on `frontend` (`fe_conn`).
    fn fe_conn(&self, frontend: Option<&str>) -> Option<i64> {
        let _ = frontend;
        None
    }
    /// Queued connections on `backend` (`queue`).
    fn queue(&self, backend: Option<&str>) -> Option<i64> {
        let _ = backend;
        None
    }
    /// Average queue per server of `backend` (`avg_queue`).
    fn avg_queue(&self, backend: Option<&str>) -> Option<i64> {
        let _ = backend;
        None
    }
    /// Free connection plus queue slots in `backend`, -1 when any limit is unlimited (`connslots`).
    fn connslots(&self, backend: Option<&str>) -> Option<i64> {
        let _ = backend;
        None
    }
    /// Whether `server` of `backend` is up (`srv_is_up(backend/server)`).
    fn srv_is_up(&self, backend: &str, server: &str) -> Option<bool> {
        let _ = (backend, server);
        None
    }
    /// The userlist named `name`, for `http_auth` and `http_auth_group`.
    fn userlist(&self, name: &str) -> Option<&Userlist> {
        let _ = name;
        None
    }
}
