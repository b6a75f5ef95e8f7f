//! `req.ssl_sni`: the server name of a TLS ClientHello read raw from the request buffer.
//!
//! Grammar (RFC 8446 §4.1.2, RFC 6066 §3): a handshake record (`0x16`, version, length) holding a
//! ClientHello (type 1, 24-bit length, version, 32-byte random, session id, cipher suites,
//! compression methods, extensions); extension 0 is the server name list, whose `host_name`
//! entry (type 0) is the answer. Only the first record is looked at, as HAProxy does.

/// Reads `len` bytes at `*at`, advancing; `None` when the buffer is too short.
fn take<'a>(buf: &'a [u8], at: &mut usize, len: usize) -> Option<&'a [u8]> {
    let end = at.checked_add(len)?;
    let out = buf.get(*at..end)?;
    *at = end;
    Some(out)
}

fn u8_at(buf: &[u8], at: &mut usize) -> Option<usize> {
    take(buf, at, 1)
        .and_then(|b| b.first())
        .map(|b| usize::from(*b))
}

fn u16_at(buf: &[u8], at: &mut usize) -> Option<usize> {
    take(buf, at, 2).map(|b| b.iter().fold(0usize, |acc, x| (acc << 8) | usize::from(*x)))
}

/// The SNI host name of the ClientHello at the start of `buf`, or `None` when the buffer does
/// not (yet) hold a complete handshake record with a server name extension.
pub fn client_hello_sni(buf: &[u8]) -> Option<&[u8]> {
    let mut at = 0;
    if u8_at(buf, &mut at)? != 0x16 {
        return None;
    }
    let _version = take(buf, &mut at, 2)?;
    let record_len = u16_at(buf, &mut at)?;
    let record = take(buf, &mut at, record_len)?;
    let mut at = 0;
    if u8_at(record, &mut at)? != 1 {
        return None;
    }
    let hs_len = take(record, &mut at, 3)?
        .iter()
        .fold(0usize, |acc, x| (acc << 8) | usize::from(*x));
    // A ClientHello longer than its record is not decodable from this record alone.
    let hello = take(record, &mut at, hs_len)?;
    let mut at = 2 + 32; // client_version, random
    let sid = u8_at(hello, &mut at)?;
    take(hello, &mut at, sid)?;
    let suites = u16_at(hello, &mut at)?;
    take(hello, &mut at, suites)?;
    let comp = u8_at(hello, &mut at)?;
    take(hello, &mut at, comp)?;
    let ext_len = u16_at(hello, &mut at)?;
    let exts = take(hello, &mut at, ext_len)?;
    let mut at = 0;
    while at < exts.len() {
        let kind = u16_at(exts, &mut at)?;
        let len = u16_at(exts, &mut at)?;
        let data = take(exts, &mut at, len)?;
        if kind != 0 {
            continue;
        }
        let mut p = 0;
        let list_len = u16_at(data, &mut p)?;
        let list = take(data, &mut p, list_len)?;
        let mut p = 0;
        while p < list.len() {
            let name_type = u8_at(list, &mut p)?;
            let name_len = u16_at(list, &mut p)?;
            let name = take(list, &mut p, name_len)?;
            if name_type == 0 {
                return Some(name);
            }
        }
        return None;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::client_hello_sni;

    /// A minimal ClientHello record with an optional server name.
    fn hello(sni: Option<&str>) -> Vec<u8> {
        let mut exts = Vec::new();
        if let Some(name) = sni {
            let n = name.len() as u16;
            exts.extend_from_slice(&[0, 0]);
            exts.extend_from_slice(&(n + 5).to_be_bytes());
            exts.extend_from_slice(&(n + 3).to_be_bytes());
            exts.push(0);
            exts.extend_from_slice(&n.to_be_bytes());
            exts.extend_from_slice(name.as_bytes());
        }
        // An unrelated extension first (supported_versions), so the walk is exercised.
        let mut all = vec![0, 43, 0, 3, 2, 3, 4];
        all.extend_from_slice(&exts);
        let mut body = vec![3, 3];
        body.extend_from_slice(&[7u8; 32]);
        body.push(0); // session id
        body.extend_from_slice(&[0, 2, 0x13, 0x01]); // one suite
        body.extend_from_slice(&[1, 0]); // null compression
        body.extend_from_slice(&(all.len() as u16).to_be_bytes());
        body.extend_from_slice(&all);
        let mut hs = vec![1];
        hs.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
        hs.extend_from_slice(&body);
        let mut rec = vec![0x16, 3, 1];
        rec.extend_from_slice(&(hs.len() as u16).to_be_bytes());
        rec.extend_from_slice(&hs);
        rec
    }

    #[test]
    fn sni_is_found_only_in_a_complete_record() {
        let rec = hello(Some("www.example.com"));
        assert_eq!(
            client_hello_sni(&rec),
            Some(&b"www.example.com"[..]),
            "complete record"
        );
        for cut in 0..rec.len() {
            assert_eq!(client_hello_sni(&rec[..cut]), None, "truncated at {cut}");
        }
        assert_eq!(client_hello_sni(&hello(None)), None);
        assert_eq!(client_hello_sni(b"GET / HTTP/1.1\r\n\r\n"), None);
        let mut wrong = rec.clone();
        wrong[5] = 2; // a ServerHello
        assert_eq!(client_hello_sni(&wrong), None);
    }
}
