//! v2: 12-byte signature, version/command, family/protocol, 16-bit length, addresses, TLVs.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};

use super::{ProxyHeader, ProxyProtoError};

/// The v2 signature.
pub const V2_SIGNATURE: &[u8; 12] = b"\r\n\r\n\0\r\nQUIT\n";
/// The longest v2 header accepted (fixed part + addresses + TLVs): one default buffer.
pub const V2_MAX_LEN: usize = crate::h1::DEFAULT_BUFSIZE;

pub(super) fn parse(buf: &[u8]) -> Result<Option<(ProxyHeader, usize)>, ProxyProtoError> {
    let Some((fixed, body)) = buf.split_first_chunk::<16>() else {
        return Ok(None);
    };
    let [.., ver_cmd, fam, l1, l2] = *fixed;
    if ver_cmd >> 4 != 2 {
        return Err(ProxyProtoError::V2Syntax("version is not 2"));
    }
    let len = usize::from(u16::from_be_bytes([l1, l2]));
    if 16 + len > V2_MAX_LEN {
        return Err(ProxyProtoError::V2Syntax("header too long"));
    }
    let Some(payload) = body.get(..len) else {
        return Ok(None);
    };
    let total = 16 + len;
    let header = match ver_cmd & 0x0f {
        0 => ProxyHeader::Unknown,
        1 => addresses(fam, payload)?,
        _ => return Err(ProxyProtoError::V2Syntax("unknown command")),
    };
    Ok(Some((header, total)))
}

fn addresses(fam: u8, payload: &[u8]) -> Result<ProxyHeader, ProxyProtoError> {
    let short = ProxyProtoError::V2Syntax("address block too short");
    let (header, rest) = match fam {
        0x11 | 0x12 => {
            let (a, rest) = payload.split_first_chunk::<12>().ok_or(short)?;
            let [s0, s1, s2, s3, d0, d1, d2, d3, sp0, sp1, dp0, dp1] = *a;
            let src = SocketAddr::from((
                Ipv4Addr::new(s0, s1, s2, s3),
                u16::from_be_bytes([sp0, sp1]),
            ));
            let dst = SocketAddr::from((
                Ipv4Addr::new(d0, d1, d2, d3),
                u16::from_be_bytes([dp0, dp1]),
            ));
            (ProxyHeader::Tcp { src, dst }, rest)
        }
        0x21 | 0x22 => {
            let (a, rest) = payload.split_first_chunk::<36>().ok_or(short)?;
            let (s, r) = a
                .split_first_chunk::<16>()
                .ok_or(ProxyProtoError::V2Syntax("ipv6"))?;
            let (d, r) = r
                .split_first_chunk::<16>()
                .ok_or(ProxyProtoError::V2Syntax("ipv6"))?;
            let [sp0, sp1, dp0, dp1] =
                <[u8; 4]>::try_from(r).map_err(|_| ProxyProtoError::V2Syntax("ipv6"))?;
            let src = SocketAddr::from((Ipv6Addr::from(*s), u16::from_be_bytes([sp0, sp1])));
            let dst = SocketAddr::from((Ipv6Addr::from(*d), u16::from_be_bytes([dp0, dp1])));
            (ProxyHeader::Tcp { src, dst }, rest)
        }
        0x31 | 0x32 => {
            let (_, rest) = payload.split_first_chunk::<216>().ok_or(short)?;
            (ProxyHeader::Unknown, rest)
        }
        0x00 => (ProxyHeader::Unknown, &[][..]),
        _ => return Err(ProxyProtoError::V2Syntax("unknown family")),
    };
    check_tlvs(rest)?;
    Ok(header)
}

/// TLVs: 1-byte type, 2-byte big-endian length, value; they must tile the rest exactly.
fn check_tlvs(mut rest: &[u8]) -> Result<(), ProxyProtoError> {
    while !rest.is_empty() {
        let (&[_, l1, l2], tail) = rest
            .split_first_chunk::<3>()
            .ok_or(ProxyProtoError::V2Syntax("truncated tlv"))?;
        let len = usize::from(u16::from_be_bytes([l1, l2]));
        rest = tail
            .get(len..)
            .ok_or(ProxyProtoError::V2Syntax("truncated tlv"))?;
    }
    Ok(())
}

/// The v2 header for `header` (what `send-proxy-v2` writes), without TLVs.
///
/// `Unknown` is sent as a LOCAL command, as HAProxy does for its own health checks.
pub fn encode_v2(header: &ProxyHeader) -> Vec<u8> {
    let mut out = V2_SIGNATURE.to_vec();
    match header {
        ProxyHeader::Tcp {
            src: SocketAddr::V4(s),
            dst: SocketAddr::V4(d),
        } => {
            out.extend_from_slice(&[0x21, 0x11, 0, 12]);
            out.extend_from_slice(&s.ip().octets());
            out.extend_from_slice(&d.ip().octets());
            out.extend_from_slice(&s.port().to_be_bytes());
            out.extend_from_slice(&d.port().to_be_bytes());
        }
        ProxyHeader::Tcp { src, dst } => {
            let v6 = |a: &SocketAddr| match a {
                SocketAddr::V4(a) => a.ip().to_ipv6_mapped(),
                SocketAddr::V6(a) => *a.ip(),
            };
            out.extend_from_slice(&[0x21, 0x21, 0, 36]);
            out.extend_from_slice(&v6(src).octets());
            out.extend_from_slice(&v6(dst).octets());
            out.extend_from_slice(&src.port().to_be_bytes());
            out.extend_from_slice(&dst.port().to_be_bytes());
        }
        ProxyHeader::Unknown => out.extend_from_slice(&[0x20, 0x00, 0, 0]),
    }
    out
}
