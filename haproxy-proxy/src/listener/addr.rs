//! `bind` address forms: `[ipv4@|ipv6@]addr:port[-port]`, `*:port`, `:port`, `[::1]:port`,
//! `unix@/path`, `/path`.

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
}

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
    if let Some(path) = text.strip_prefix("unix@") {
        return if path.is_empty() {
            Err(bad(text, "missing path"))
        } else {
            Ok(vec![BindTarget::Unix(path.into())])
        };
    }
    if text.starts_with('/') {
        return Ok(vec![BindTarget::Unix(text.into())]);
    }
    if text.starts_with("fd@") || text.starts_with("sockpair@") {
        return Err(bad(
            text,
            "inherited sockets ('fd@', 'sockpair@') are not supported: taking ownership of a raw \
             file descriptor needs unsafe code, which this crate forbids",
        ));
    }
    let (family, rest) = match text.split_once('@') {
        Some(("ipv4", r)) => (Some(4), r),
        Some(("ipv6", r)) => (Some(6), r),
        Some((other, _)) => {
            return Err(bad(text, &format!("unsupported address family '{other}'")));
        }
        None => (None, text),
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
