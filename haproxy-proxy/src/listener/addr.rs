//! `bind` address forms: `[ip@|ipv4@|ipv6@|tcp@|tcp4@|tcp6@]addr:port[-port]`, `*:port`,
//! `:port`, `[::1]:port`, `unix@/path`, `uxst@/path`, `/path`, `abns@name`, optionally after
//! `stream+`, and `fd@N` (an inherited listening socket). Datagram forms (`udp@`, `quic4@`,
//! `uxdg@`, `dgram+`) are refused, as HAProxy does on a stream listener, and so is `sockpair@`
//! (sockets passed over a socket pair).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;

use crate::ProxyError;

/// The most ports one `bind` line may expand to (a port range).
pub const MAX_PORTS_PER_BIND: usize = 65535;

/// One socket to open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BindTarget {
    /// A TCP address.
    Tcp(SocketAddr),
    /// A unix stream socket path.
    Unix(PathBuf),
    /// A Linux abstract unix socket (`abns@name`), zero-padded to the full `sun_path` as
    /// HAProxy 2.6 binds it.
    Abstract(String),
    /// An inherited listening socket (`fd@N`).
    Fd(i32),
}

/// Prefixes of internet addresses and the family they force (4, 6, or either).
const INET_PREFIXES: &[(&str, Option<u8>)] = &[
    ("ip@", None),
    ("ipv4@", Some(4)),
    ("ipv6@", Some(6)),
    ("tcp@", None),
    ("tcp4@", Some(4)),
    ("tcp6@", Some(6)),
];

fn bad(addr: &str, reason: &str) -> ProxyError {
    ProxyError::Bind {
        addr: addr.to_owned(),
        reason: reason.to_owned(),
    }
}

/// Expands a `bind` address into the sockets to open.
///
/// # Errors
/// [`ProxyError::Bind`] for an unknown family prefix, a bad address or port, or an empty range.
pub fn parse_bind_addr(text: &str) -> Result<Vec<BindTarget>, ProxyError> {
    let whole = text;
    let text = text.strip_prefix("stream+").unwrap_or(text);
    if [
        "dgram+", "udp@", "udp4@", "udp6@", "quic4@", "quic6@", "uxdg@",
    ]
    .iter()
    .any(|p| text.starts_with(p))
    {
        return Err(bad(
            whole,
            &format!("dgram-type address not acceptable in '{whole}'"),
        ));
    }
    if let Some(path) = text
        .strip_prefix("unix@")
        .or_else(|| text.strip_prefix("uxst@"))
    {
        return if path.is_empty() {
            Err(bad(whole, "missing path"))
        } else {
            Ok(vec![BindTarget::Unix(path.into())])
        };
    }
    if let Some(name) = text.strip_prefix("abns@") {
        return if name.is_empty() {
            Err(bad(whole, "missing name"))
        } else {
            Ok(vec![BindTarget::Abstract(name.to_owned())])
        };
    }
    if text.starts_with('/') {
        return Ok(vec![BindTarget::Unix(text.into())]);
    }
    if let Some(n) = text.strip_prefix("fd@") {
        return match n.parse::<i32>() {
            Ok(fd) if fd >= 0 && n.bytes().all(|b| b.is_ascii_digit()) => {
                Ok(vec![BindTarget::Fd(fd)])
            }
            _ => Err(bad(whole, &format!("invalid file descriptor '{n}'"))),
        };
    }
    if text.starts_with("sockpair@") {
        return Err(bad(
            whole,
            "'sockpair@' (sockets received over a socket pair) is not supported",
        ));
    }
    let (family, rest) = match INET_PREFIXES
        .iter()
        .find_map(|(p, f)| text.strip_prefix(p).map(|r| (*f, r)))
    {
        Some(found) => found,
        None => match text.split_once('@') {
            Some((other, _)) => {
                return Err(bad(text, &format!("unsupported address family '{other}'")));
            }
            None => (None, text),
        },
    };
    let colon = rest.rfind(':').ok_or_else(|| bad(text, "missing port"))?;
    let (host, ports) = (
        rest.get(..colon).unwrap_or_default(),
        rest.get(colon + 1..).unwrap_or_default(),
    );
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    let ip: IpAddr = match (host, family) {
        ("" | "*", Some(6)) | ("::", _) => Ipv6Addr::UNSPECIFIED.into(),
        ("" | "*", _) => Ipv4Addr::UNSPECIFIED.into(),
        (h, _) => h.parse().map_err(|_| bad(text, "invalid address"))?,
    };
    if (family == Some(4) && ip.is_ipv6()) || (family == Some(6) && ip.is_ipv4()) {
        return Err(bad(text, "address does not match its family"));
    }
    let port = |p: &str| p.parse::<u16>().map_err(|_| bad(text, "invalid port"));
    let (lo, hi) = match ports.split_once('-') {
        Some((a, b)) => (port(a)?, port(b)?),
        None => (port(ports)?, port(ports)?),
    };
    if lo == 0 && hi != 0 || lo > hi {
        return Err(bad(text, "invalid port range"));
    }
    Ok((lo..=hi)
        .take(MAX_PORTS_PER_BIND)
        .map(|p| BindTarget::Tcp(SocketAddr::new(ip, p)))
        .collect())
}
