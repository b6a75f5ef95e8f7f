//! Unit tests of `tcp-request` rule compilation and evaluation.

use haproxy_cfg::load::{SystemEnv, load};
use haproxy_cfg::parse_str;

use super::*;

fn rules(body: &str) -> TcpRules {
    let text = format!("defaults\n mode tcp\nfrontend fe\n bind 127.0.0.1:1\n{body}");
    let loaded = load(&[parse_str("t.cfg", &text)], &SystemEnv);
    let p = loaded.config.proxies.first().unwrap();
    let mut acls = AclSet::new();
    for r in p.rules.iter().filter(|r| r.kind == RuleKind::Acl) {
        let mut w = vec!["acl".to_owned()];
        w.extend(r.words.iter().cloned());
        acls.parse_acl(&w).unwrap();
    }
    compile(p, &acls).unwrap()
}

fn content(r: &TcpRules, data: &[u8], last: bool) -> Option<bool> {
    let a = "127.0.0.1:5000".parse().unwrap();
    with_content(a, a, data, &H1Limits::default(), |s| {
        r.decide_content(s, last)
    })
    .map(|action| action != TcpAction::Reject)
}

#[test]
fn content_conditions_wait_for_data_through_negations() {
    let r = rules(
        " tcp-request inspect-delay 5s\n tcp-request content reject unless { req.len ge 4 }\n",
    );
    assert_eq!(r.inspect_delay, Some(Duration::from_secs(5)));
    assert_eq!(
        content(&r, b"ab", false),
        None,
        "unless + missing data waits"
    );
    assert_eq!(content(&r, b"abcd", false), Some(true));
    assert_eq!(content(&r, b"ab", true), Some(false), "final: decided");
    let r = rules(
        " acl sni req.ssl_sni -m found\n tcp-request content accept if sni or WAIT_END\n tcp-request content reject\n",
    );
    assert_eq!(content(&r, b"\x16\x03", false), None);
    assert_eq!(
        content(&r, b"junk", true),
        Some(true),
        "wait_end passes at the end"
    );
    let r = rules(" tcp-request content reject if { src 127.0.0.1 } !{ req.len gt 0 }\n");
    assert_eq!(content(&r, b"", false), None);
    assert_eq!(
        content(&r, b"x", false),
        Some(true),
        "layer-4 term decided, content term passes"
    );
    let r = rules(" tcp-request content reject if HTTP { path /admin }\n");
    assert_eq!(content(&r, b"GET /admin HTTP/1.1\r\n", false), None);
    assert_eq!(
        content(&r, b"GET /admin HTTP/1.1\r\nHost: a\r\n\r\n", false),
        Some(false)
    );
    assert_eq!(
        content(&r, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", true),
        Some(true)
    );
}

#[test]
fn connection_rules_see_addresses_and_never_match_on_content() {
    let r = rules(
        " tcp-request connection reject if { req.len lt 10 }\n tcp-request connection accept if { src 10.0.0.0/8 }\n tcp-request connection reject if !{ req.len gt 100 }\n",
    );
    let dst = "127.0.0.1:80".parse().unwrap();
    assert!(r.accepts_connection("10.1.2.3:5".parse().unwrap(), dst));
    assert!(!r.accepts_connection("192.0.2.1:5".parse().unwrap(), dst));
    assert!(r.content.is_empty() && r.session.is_empty());
}

#[test]
fn expect_proxy_is_remembered_and_evaluation_goes_on() {
    let r = rules(
        " tcp-request connection expect-proxy layer4 if { src 10.0.0.0/8 }\n tcp-request connection reject if { src 10.9.0.0/16 }\n",
    );
    let dst = "127.0.0.1:80".parse().unwrap();
    let v = |s: &str| r.connection_verdict(s.parse().unwrap(), dst);
    assert_eq!(
        v("10.1.0.1:5"),
        ConnectionVerdict {
            accept: true,
            expect_proxy: true
        }
    );
    assert!(!v("10.9.0.1:5").accept, "a later reject still applies");
    assert!(!v("192.0.2.1:5").expect_proxy);
}

#[test]
fn other_actions_are_refused() {
    let text = "defaults\n mode tcp\nfrontend fe\n bind 127.0.0.1:1\n tcp-request content set-var(txn.x) int(1)\n";
    let loaded = load(&[parse_str("t.cfg", text)], &SystemEnv);
    let p = loaded.config.proxies.first().unwrap();
    let err = compile(p, &AclSet::new()).unwrap_err().to_string();
    assert!(
        err.contains("'tcp-request content set-var(txn.x)' is not supported yet"),
        "{err}"
    );
    for (rule, needle) in [
        ("content switch-mode http proto h2", "(only 'h1')"),
        ("content switch-mode tcp", "expects 'http [proto h1]'"),
        (
            "content expect-proxy layer4",
            "is not allowed in 'tcp-request content'",
        ),
        ("connection expect-proxy layer3", "only supports 'layer4'"),
    ] {
        let text =
            format!("defaults\n mode tcp\nfrontend fe\n bind 127.0.0.1:1\n tcp-request {rule}\n");
        let loaded = load(&[parse_str("t.cfg", &text)], &SystemEnv);
        let p = loaded.config.proxies.first().unwrap();
        let err = compile(p, &AclSet::new()).unwrap_err().to_string();
        assert!(err.contains(needle), "{rule}: {err}");
    }
}
