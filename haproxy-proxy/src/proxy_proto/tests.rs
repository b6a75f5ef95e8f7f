use std::net::SocketAddr;

use proptest::prelude::*;

use super::*;

fn tcp(src: &str, dst: &str) -> ProxyHeader {
    ProxyHeader::Tcp {
        src: src.parse().unwrap(),
        dst: dst.parse().unwrap(),
    }
}

#[test]
fn v1_examples() {
    let line = b"PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\nGET /";
    assert_eq!(
        parse(line),
        Ok(Some((tcp("192.168.0.1:56324", "192.168.0.11:443"), 47)))
    );
    assert_eq!(
        parse(b"PROXY UNKNOWN\r\n"),
        Ok(Some((ProxyHeader::Unknown, 15)))
    );
    assert_eq!(
        parse(b"PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n").map(|o| o.map(|x| x.0)),
        Ok(Some(ProxyHeader::Unknown))
    );
    let v6 = b"PROXY TCP6 ::1 2001:db8::1 1 65535\r\n";
    assert_eq!(
        parse(v6),
        Ok(Some((tcp("[::1]:1", "[2001:db8::1]:65535"), v6.len())))
    );
    assert_eq!(parse(b"PROXY TCP4 1.2.3.4"), Ok(None));
    assert_eq!(parse(b"PRO"), Ok(None));
}

#[test]
fn v1_rejects_bad_lines() {
    for bad in [
        &b"PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n"[..],
        b"PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n",
        b"PROXY TCP4 1.2.3.4 5.6.7.8 1 65536\r\n",
        b"PROXY TCP4 ::1 5.6.7.8 1 2\r\n",
        b"PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n",
        b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n",
        b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n",
        b"GET / HTTP/1.1\r\n",
    ] {
        assert!(parse(bad).is_err(), "{}", String::from_utf8_lossy(bad));
    }
}

#[test]
fn v1_bound_is_107_bytes() {
    let mut at = b"PROXY UNKNOWN ".to_vec();
    at.resize(V1_MAX_LEN - 2, b'x');
    at.extend_from_slice(b"\r\n");
    assert_eq!(at.len(), 107);
    assert_eq!(parse(&at), Ok(Some((ProxyHeader::Unknown, 107))));
    let mut over = at[..105].to_vec();
    over.extend_from_slice(b"xx\r\n");
    assert_eq!(parse(&over), Err(ProxyProtoError::V1TooLong));
    // The longest real line (two full IPv6 addresses) fits.
    let h = tcp(
        "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535",
        "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535",
    );
    assert!(encode_v1(&h).len() <= V1_MAX_LEN);
}

#[test]
fn v2_examples() {
    let h = tcp("10.0.0.1:1234", "10.0.0.2:80");
    let mut wire = encode_v2(&h);
    assert_eq!(wire.len(), 28);
    wire.extend_from_slice(b"payload");
    assert_eq!(parse(&wire), Ok(Some((h, 28))));
    assert_eq!(parse(&wire[..20]), Ok(None));
    assert_eq!(
        parse(&encode_v2(&ProxyHeader::Unknown)),
        Ok(Some((ProxyHeader::Unknown, 16)))
    );
    // A TLV (NOOP) after the addresses is skipped.
    let mut tlv = encode_v2(&tcp("1.1.1.1:1", "2.2.2.2:2"));
    tlv[15] += 5;
    tlv.extend_from_slice(&[0x04, 0, 2, 0, 0]);
    assert!(matches!(
        parse(&tlv),
        Ok(Some((ProxyHeader::Tcp { .. }, 33)))
    ));
    tlv[15] -= 1;
    assert!(parse(&tlv).is_err());
}

#[test]
fn v2_rejects_bad_headers() {
    let mut w = encode_v2(&tcp("1.1.1.1:1", "2.2.2.2:2"));
    w[12] = 0x31;
    assert!(parse(&w).is_err());
    let mut w = encode_v2(&tcp("1.1.1.1:1", "2.2.2.2:2"));
    w[12] = 0x22;
    assert!(parse(&w).is_err());
    let mut w = encode_v2(&tcp("1.1.1.1:1", "2.2.2.2:2"));
    w[15] = 4;
    assert!(parse(&w).is_err());
}

#[tokio::test]
async fn read_header_returns_the_bytes_after_it() {
    let (mut a, mut b) = tokio::io::duplex(64);
    tokio::io::AsyncWriteExt::write_all(&mut a, b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\nhello")
        .await
        .unwrap();
    let (h, rest) = read_header(&mut b, std::time::Duration::from_secs(1))
        .await
        .unwrap();
    assert_eq!(h, tcp("1.2.3.4:1", "5.6.7.8:2"));
    assert_eq!(rest, b"hello");
    drop(a);
    let (_a2, mut b2) = tokio::io::duplex(64);
    assert_eq!(
        read_header(&mut b2, std::time::Duration::from_millis(20)).await,
        Err(ProxyProtoError::Timeout)
    );
}

fn addr() -> impl Strategy<Value = SocketAddr> {
    prop_oneof![
        (any::<[u8; 4]>(), any::<u16>()).prop_map(|(ip, p)| SocketAddr::from((ip, p))),
        (any::<[u8; 16]>(), any::<u16>()).prop_map(|(ip, p)| SocketAddr::from((ip, p))),
    ]
}

proptest! {
    #[test]
    fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = parse(&bytes);
    }

    #[test]
    fn v1_and_v2_round_trip(src in addr(), dst in addr()) {
        let h = ProxyHeader::Tcp { src, dst };
        let line = encode_v1(&h);
        prop_assert!(line.len() <= V1_MAX_LEN);
        let same_family = src.is_ipv4() == dst.is_ipv4();
        let want1 = if same_family { h.clone() } else { ProxyHeader::Unknown };
        prop_assert_eq!(parse(&line), Ok(Some((want1, line.len()))));
        let bin = encode_v2(&h);
        let (got, len) = parse(&bin).unwrap().unwrap();
        prop_assert_eq!(len, bin.len());
        if same_family && src.is_ipv4() {
            prop_assert_eq!(got, h);
        } else {
            let is_tcp = matches!(got, ProxyHeader::Tcp { .. });
            prop_assert!(is_tcp);
        }
    }
}
