use super::*;

#[test]
fn domain_only_keeps_the_label_before_the_last_dot() {
    assert_eq!(domain_part(b"haproxy.1wt.eu"), b"1wt");
    assert_eq!(domain_part(b"a.b"), b"a");
    assert_eq!(domain_part(b"nodot"), b"nodot");
    // HAProxy never looks at the first byte as the ending dot.
    assert_eq!(domain_part(b".x"), b".x");
    // Nor at the byte just before the last dot as a starting one.
    assert_eq!(domain_part(b"a..b"), b"a.");
    assert_eq!(domain_part(b"a.b."), b"b");
}

#[test]
fn url_param_finds_the_first_match() {
    assert_eq!(url_param_value(b"/p?a=1&b=2&b=3", b"b"), Some(&b"2"[..]));
    assert_eq!(url_param_value(b"/p?ab=1", b"b"), None);
    assert_eq!(url_param_value(b"/p?b=", b"b"), Some(&b""[..]));
    assert_eq!(url_param_value(b"/p", b"b"), None);
}

#[test]
fn uri_limits_stop_at_query_depth_and_len() {
    let h = Hasher::default();
    let plain = |s: &[u8]| h.hash(s);
    assert_eq!(h.uri(b"/a/b?x", UriOptions::default()), plain(b"/a/b"));
    let whole = UriOptions {
        whole: true,
        ..UriOptions::default()
    };
    assert_eq!(h.uri(b"/a/b?x", whole), plain(b"/a/b?x"));
    let depth = UriOptions {
        depth: Some(1),
        ..UriOptions::default()
    };
    assert_eq!(h.uri(b"/a/b/c", depth), plain(b"/a"));
    let len = UriOptions {
        len: 3,
        ..UriOptions::default()
    };
    assert_eq!(h.uri(b"/abcdef", len), plain(b"/ab"));
}

#[test]
fn path_only_drops_scheme_and_authority() {
    assert_eq!(uri_path(b"http://h:80/p?q"), b"/p?q");
    assert_eq!(uri_path(b"/p"), b"/p");
    assert_eq!(uri_path(b"http://h"), b"");
}

#[test]
fn source_xors_big_endian_words() {
    let h = Hasher::default();
    assert_eq!(h.source(&[10, 0, 0, 1]), 0x0a00_0001);
    let v6 = [0u8, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 4, 0, 0, 0, 8];
    assert_eq!(h.source(&v6), 15);
}
