//! Error wording, checked against what `haproxy -c` (2.6.12) printed for the same lines.

use haproxy_acl::{AclError, AclSet, MAX_CONDITION_WORDS};

fn acl_err(words: &[&str]) -> String {
    let mut set = AclSet::new();
    let mut w = vec!["acl", "x"];
    w.extend_from_slice(words);
    set.parse_acl(&w).unwrap_err().to_string()
}

fn cond_err(words: &[&str]) -> String {
    AclSet::new()
        .parse_condition(words)
        .unwrap_err()
        .to_string()
}

#[test]
fn acl_line_errors_use_haproxy_wording() {
    assert_eq!(
        acl_err(&["nosuchfetch", "foo"]),
        "unknown fetch method 'nosuchfetch' in ACL expression 'nosuchfetch'"
    );
    assert_eq!(
        acl_err(&["src", "1.2.3.4.5"]),
        "'1.2.3.4.5' is not a valid IPv4 or IPv6 address"
    );
    assert_eq!(
        acl_err(&["src", "10.12", "300.1.1.1"]),
        "'300.1.1.1' is not a valid IPv4 or IPv6 address"
    );
    assert_eq!(acl_err(&["src_port", "foo"]), "'foo' is not a number");
    assert_eq!(
        acl_err(&["src_port", "10:foo"]),
        "'10:foo' is not a valid number range"
    );
    assert_eq!(
        acl_err(&["path", "-m", "foo", "x"]),
        "unknown matching method 'foo' when parsing ACL expression"
    );
    assert_eq!(
        acl_err(&["path,nosuchconv", "x"]),
        "ACL keyword 'path' : unknown converter 'nosuchconv'."
    );
    assert_eq!(
        acl_err(&["path(x)", "x"]),
        "ACL keyword 'path' : expected ')' before 'x)'"
    );
    assert_eq!(
        acl_err(&["hdr(host,x)", "foo"]),
        "ACL keyword 'hdr' : failed to parse 'x' as type 'integer' at position 2"
    );
    assert_eq!(
        acl_err(&["path", "-m", "bin", "zz"]),
        "an hex digit is expected (found 'z')"
    );
    assert_eq!(
        acl_err(&["path", "-f", "/nonexistent/file"]),
        "failed to open pattern file </nonexistent/file>"
    );
    assert_eq!(
        acl_err(&["path", "-f", "/dev/null", "-m", "beg"]),
        "'-m' must only be specified before patterns and files in parsing ACL expression"
    );
    assert_eq!(
        acl_err(&["path", "-x", "a"]),
        "'-x' is not a valid ACL option. Please use '--' before any pattern beginning with a '-'"
    );
    let mut set = AclSet::new();
    assert!(matches!(
        set.parse_acl(&["acl", "bad name", "path", "/"]),
        Err(AclError::InvalidName { ch: ' ' })
    ));
}

#[test]
fn condition_errors_use_haproxy_wording() {
    assert_eq!(cond_err(&["if", "a7"]), "no such ACL : 'a7'");
    assert_eq!(
        cond_err(&["if", "{", "path", "/x"]),
        "missing closing '}' in condition"
    );
    assert_eq!(cond_err(&["if", "TRUE", "}"]), "no such ACL : '}'");
    assert_eq!(
        cond_err(&["if", "{", "}"]),
        "missing fetch method in ACL expression ''"
    );
}

#[test]
fn haproxy_accepts_these_odd_conditions() {
    let set = AclSet::new();
    for w in [&["if", "TRUE", "or"][..], &["if", "!"], &["if"]] {
        assert!(set.parse_condition(w).is_ok(), "{w:?}");
    }
    // An empty condition never matches; `unless` inverts it.
    let r = crate::req::Req::get("/");
    assert!(!set.parse_condition(&["if"]).unwrap().eval(&r));
    assert!(set.parse_condition(&["unless"]).unwrap().eval(&r));
}

#[test]
fn condition_word_limit() {
    let set = AclSet::new();
    let mut w = vec!["if"];
    w.resize(MAX_CONDITION_WORDS, "TRUE");
    assert!(set.parse_condition(&w).is_ok());
    w.push("TRUE");
    assert!(matches!(
        set.parse_condition(&w),
        Err(AclError::TooLarge { .. })
    ));
}

#[test]
fn binary_fetch_needs_a_method_and_u_must_be_unique() {
    let mut set = AclSet::new();
    set.parse_acl(&["acl", "a", "path", "-u", "7", "/x"])
        .unwrap();
    assert_eq!(
        set.parse_acl(&["acl", "b", "path", "-u", "7", "/y"])
            .unwrap_err()
            .to_string(),
        "the id is already used"
    );
    assert_eq!(
        set.parse_acl(&["acl", "b", "path", "-u", "z", "/y"])
            .unwrap_err()
            .to_string(),
        "the argument of -u must be an integer"
    );
}
