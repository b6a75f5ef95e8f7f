//! v1: `"PROXY" SP ("TCP4" | "TCP6") SP src SP dst SP sport SP dport CRLF` or `"PROXY UNKNOWN" ... CRLF`.

use std::net::{IpAddr, SocketAddr};

use super::{ProxyHeader, ProxyProtoError};

/// The longest v1 line, CRLF included.
pub const V1_MAX_LEN: usize = 107;

pub(super) fn parse(buf: &[u8]) -> Result<Option<(ProxyHeader, usize)>, ProxyProtoError> {
    let window = buf.get(..buf.len().min(V1_MAX_LEN)).unwrap_or(buf);
    let Some(lf) = window.iter().position(|&b| b == b'\n') else {
        return if window.len() >= V1_MAX_LEN {
            Err(ProxyProtoError::V1TooLong)
        } else {
            Ok(None)
        };
    };
    let line = window.get(..lf).unwrap_or_default();
    let line = line
        .strip_suffix(b"\r")
        .ok_or(ProxyProtoError::V1Syntax("line must end with crlf"))?;
    let line = std::str::from_utf8(line).map_err(|_| ProxyProtoError::V1Syntax("not ascii"))?;
    let rest = line
        .strip_prefix("PROXY ")
        .ok_or(ProxyProtoError::V1Syntax("missing PROXY"))?;
    if rest == "UNKNOWN" || rest.starts_with("UNKNOWN ") {
        return Ok(Some((ProxyHeader::Unknown, lf + 1)));
    }
    let mut words = rest.split(' ');
    let (Some(proto), Some(src), Some(dst), Some(sport), Some(dport), None) = (
        words.next(),
        words.next(),
        words.next(),
        words.next(),
        words.next(),
        words.next(),
    ) else {
        return Err(ProxyProtoError::V1Syntax("wrong number of fields"));
    };
    let (src, dst): (IpAddr, IpAddr) = match proto {
        "TCP4" => (ip4(src)?.into(), ip4(dst)?.into()),
        "TCP6" => (ip6(src)?.into(), ip6(dst)?.into()),
        _ => return Err(ProxyProtoError::V1Syntax("unknown protocol")),
    };
    let header = ProxyHeader::Tcp {
        src: SocketAddr::new(src, port(sport)?),
        dst: SocketAddr::new(dst, port(dport)?),
    };
    Ok(Some((header, lf + 1)))
}

fn ip4(s: &str) -> Result<std::net::Ipv4Addr, ProxyProtoError> {
    s.parse()
        .map_err(|_| ProxyProtoError::V1Syntax("bad ipv4 address"))
}

fn ip6(s: &str) -> Result<std::net::Ipv6Addr, ProxyProtoError> {
    s.parse()
        .map_err(|_| ProxyProtoError::V1Syntax("bad ipv6 address"))
}

/// A decimal port without leading zeros.
fn port(s: &str) -> Result<u16, ProxyProtoError> {
    let ok = !s.is_empty()
        && s.len() <= 5
        && s.bytes().all(|b| b.is_ascii_digit())
        && (s == "0" || !s.starts_with('0'));
    if !ok {
        return Err(ProxyProtoError::V1Syntax("bad port"));
    }
    s.parse().map_err(|_| ProxyProtoError::V1Syntax("bad port"))
}

/// The v1 line for `header` (what `send-proxy` writes before the first byte to the server).
///
/// Mixed families are sent as `UNKNOWN`, as no single protocol word can describe them.
pub fn encode_v1(header: &ProxyHeader) -> Vec<u8> {
    let line = match header {
        ProxyHeader::Tcp {
            src: SocketAddr::V4(s),
            dst: SocketAddr::V4(d),
        } => {
            format!(
                "PROXY TCP4 {} {} {} {}\r\n",
                s.ip(),
                d.ip(),
                s.port(),
                d.port()
            )
        }
        ProxyHeader::Tcp {
            src: SocketAddr::V6(s),
            dst: SocketAddr::V6(d),
        } => {
            format!(
                "PROXY TCP6 {} {} {} {}\r\n",
                s.ip(),
                d.ip(),
                s.port(),
                d.port()
            )
        }
        _ => "PROXY UNKNOWN\r\n".to_owned(),
    };
    line.into_bytes()
}
