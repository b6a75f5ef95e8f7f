//! Start lines written byte by byte, without the formatting machinery (once per message on the
//! request path: `write!` with `{}` costs a dynamic dispatch per piece and a generic integer
//! formatter).

use super::Version;

/// Appends `n` in decimal.
pub(crate) fn push_decimal(out: &mut Vec<u8>, n: u64) {
    // u64::MAX has 20 digits.
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut n = n;
    loop {
        at -= 1;
        if let Some(d) = digits.get_mut(at) {
            // `n % 10` is below 10: the cast keeps it whole.
            *d = b'0' + (n % 10) as u8;
        }
        n /= 10;
        if n == 0 || at == 0 {
            break;
        }
    }
    out.extend_from_slice(digits.get(at..).unwrap_or_default());
}

/// Appends `HTTP/<major>.<minor>`.
pub(crate) fn push_version(out: &mut Vec<u8>, v: Version) {
    out.extend_from_slice(b"HTTP/");
    push_decimal(out, u64::from(v.major));
    out.push(b'.');
    push_decimal(out, u64::from(v.minor));
}

/// Appends a status line, `<version> <status> <reason>\r\n`.
pub(crate) fn push_status_line(out: &mut Vec<u8>, v: Version, status: u16, reason: &str) {
    push_version(out, v);
    out.push(b' ');
    push_decimal(out, u64::from(status));
    out.push(b' ');
    out.extend_from_slice(reason.as_bytes());
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_match_the_formatter() {
        for n in [0, 1, 9, 10, 99, 100, 204, 999, 65_535, 1_000_007, u64::MAX] {
            let mut out = Vec::new();
            push_decimal(&mut out, n);
            assert_eq!(out, n.to_string().into_bytes());
        }
    }

    #[test]
    fn start_lines_match_the_formatter() {
        for (v, status, reason) in [
            (Version::HTTP_11, 200, "OK"),
            (Version::HTTP_10, 404, "Not Found"),
            (Version { major: 2, minor: 0 }, 101, ""),
            (
                Version {
                    major: 255,
                    minor: 17,
                },
                65_535,
                "x y",
            ),
        ] {
            let mut out = Vec::new();
            push_status_line(&mut out, v, status, reason);
            assert_eq!(out, format!("{v} {status} {reason}\r\n").into_bytes());
        }
    }
}
