//! `stats auth user:password`: HTTP Basic credentials, checked against the configured pairs.

/// The longest `Authorization` value decoded; longer ones are refused unread.
pub const MAX_AUTH_LEN: usize = 1024;

/// Decodes standard base64 (with or without padding); `None` on any invalid character.
fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let val = |c: u8| -> Option<u32> {
        Some(u32::from(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        }))
    };
    let bytes = s.trim_end_matches('=').as_bytes();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let mut acc = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            acc |= val(c)? << (18 - 6 * i);
        }
        let [_, a, b, c] = acc.to_be_bytes();
        match chunk.len() {
            4 => out.extend_from_slice(&[a, b, c]),
            3 => out.extend_from_slice(&[a, b]),
            2 => out.push(a),
            _ => return None,
        }
    }
    Some(out)
}

/// True when `authorization` (the header value) carries Basic credentials equal to one of
/// `users` (`user:password` pairs).
pub fn authorized(authorization: Option<&[u8]>, users: &[String]) -> bool {
    let Some(value) = authorization else {
        return false;
    };
    if value.len() > MAX_AUTH_LEN {
        return false;
    }
    let Ok(value) = std::str::from_utf8(value) else {
        return false;
    };
    let mut parts = value.trim().splitn(2, ' ');
    let scheme = parts.next().unwrap_or_default();
    let Some(encoded) = parts.next() else {
        return false;
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return false;
    }
    let Some(decoded) = base64_decode(encoded.trim()) else {
        return false;
    };
    users.iter().any(|u| u.as_bytes() == decoded.as_slice())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_match_configured_pairs() {
        let users = vec!["admin:secret".to_owned(), "ops:x y".to_owned()];
        // "admin:secret" and "ops:x y"
        assert!(authorized(Some(b"Basic YWRtaW46c2VjcmV0"), &users));
        assert!(authorized(Some(b"basic b3BzOnggeQ=="), &users));
        assert!(!authorized(Some(b"Basic YWRtaW46c2VjcmV1"), &users));
        assert!(!authorized(Some(b"Bearer YWRtaW46c2VjcmV0"), &users));
        assert!(!authorized(Some(b"Basic !!!"), &users));
        assert!(!authorized(Some(b"Basic"), &users));
        assert!(!authorized(None, &users));
        let long = vec![b'A'; MAX_AUTH_LEN + 1];
        assert!(!authorized(Some(&long), &users));
    }

    #[test]
    fn base64_handles_every_tail_length() {
        assert_eq!(base64_decode("YQ==").unwrap(), b"a");
        assert_eq!(base64_decode("YWI=").unwrap(), b"ab");
        assert_eq!(base64_decode("YWJj").unwrap(), b"abc");
        assert_eq!(base64_decode("YWJjZA").unwrap(), b"abcd");
        assert!(base64_decode("Y").is_none());
    }
}
