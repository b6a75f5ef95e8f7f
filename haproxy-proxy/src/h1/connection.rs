//! The `Connection` header as HAProxy's H1 mux rewrites it on the way through.

use super::Headers;

/// Rewrites `connection` fields as HAProxy's H1 parser does (`H1_MF_CLEAN_CONN_HDR`): the
/// `close` and `keep-alive` tokens go; the other tokens stay, the text kept as sent up to the
/// first removed token and joined with `,` after it; a field left empty is removed.
pub(crate) fn clean_connection_headers(headers: &mut Headers) {
    // In place: the other fields are not copied (a response from a keep-alive server always
    // carries `connection: keep-alive`, so this runs for nearly every message).
    let mut i = 0;
    while let Some((name, value)) = headers.at(i) {
        if !name.eq_ignore_ascii_case(b"connection") {
            i += 1;
            continue;
        }
        let cleaned = clean_connection_value(value);
        if cleaned.is_empty() {
            headers.remove_at(i);
        } else {
            headers.set_value_at(i, &cleaned);
            i += 1;
        }
    }
}

fn clean_connection_value(value: &[u8]) -> Vec<u8> {
    let mut out: Vec<u8> = Vec::new();
    // True while nothing was removed: the text is then kept exactly as sent.
    let mut verbatim = true;
    let mut pos = 0usize;
    while pos < value.len() {
        let end = value
            .get(pos..)
            .and_then(|rest| rest.iter().position(|&b| b == b','))
            .map_or(value.len(), |i| pos + i);
        let word = value.get(pos..end).unwrap_or_default().trim_ascii();
        let drop = word.eq_ignore_ascii_case(b"close") || word.eq_ignore_ascii_case(b"keep-alive");
        if drop {
            verbatim = false;
        } else if !word.is_empty() {
            if verbatim {
                out = value.get(..end).unwrap_or_default().to_vec();
            } else {
                if !out.is_empty() {
                    out.push(b',');
                }
                out.extend_from_slice(word);
            }
        }
        pos = end + 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::clean_connection_value;

    #[test]
    fn close_and_keep_alive_tokens_go_and_the_rest_stays() {
        for (input, want) in [
            (&b"close"[..], &b""[..]),
            (b"keep-alive, X-Foo", b"X-Foo"),
            (b"X-Foo , close", b"X-Foo "),
            (b"X-Foo, Bar", b"X-Foo, Bar"),
            (b"close, X-Foo, Bar", b"X-Foo,Bar"),
            (b"Upgrade", b"Upgrade"),
        ] {
            assert_eq!(
                clean_connection_value(input),
                want,
                "{}",
                String::from_utf8_lossy(input)
            );
        }
    }
}
