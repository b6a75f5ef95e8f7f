#![no_main]
//! PROXY protocol v1/v2: any input must give a header, "need more" or an error, never a panic or
//! a hang; a parsed header claims no more bytes than it was given; and every parsed header,
//! encoded again with `encode_v1` and `encode_v2`, re-parses completely to the same addresses
//! (v1 carries mixed families as `UNKNOWN`; v2 carries them as IPv4-mapped IPv6).
use std::net::{IpAddr, SocketAddr};

use haproxy_proxy::proxy_proto::{ProxyHeader, encode_v1, encode_v2, parse};

/// The header with every address as IPv6 (IPv4 mapped), to compare what v2 preserves.
fn as_v6(h: &ProxyHeader) -> ProxyHeader {
    let map = |a: &SocketAddr| {
        let ip = match a.ip() {
            IpAddr::V4(v4) => v4.to_ipv6_mapped(),
            IpAddr::V6(v6) => v6,
        };
        SocketAddr::from((ip, a.port()))
    };
    match h {
        ProxyHeader::Tcp { src, dst } => ProxyHeader::Tcp {
            src: map(src),
            dst: map(dst),
        },
        other => other.clone(),
    }
}

fn reparse(bytes: &[u8]) -> ProxyHeader {
    match parse(bytes) {
        Ok(Some((h, len))) => {
            assert_eq!(len, bytes.len(), "encoded {bytes:?}");
            h
        }
        other => panic!("encoded {bytes:?} re-parsed as {other:?}"),
    }
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(Some((header, len))) = parse(data) else {
        return;
    };
    assert!(len > 0 && len <= data.len());

    let v1 = reparse(&encode_v1(&header));
    match &header {
        ProxyHeader::Tcp { src, dst } if src.is_ipv4() == dst.is_ipv4() => assert_eq!(v1, header),
        _ => assert_eq!(v1, ProxyHeader::Unknown),
    }

    let v2 = reparse(&encode_v2(&header));
    match &header {
        ProxyHeader::Tcp {
            src: SocketAddr::V4(_),
            dst: SocketAddr::V4(_),
        } => assert_eq!(v2, header),
        _ => assert_eq!(as_v6(&v2), as_v6(&header)),
    }
});
