//! The typed model: loading never panics on generated configurations built from real keywords
//! and hostile arguments, and a few model facts a proxy relies on.

use haproxy_cfg::diag::{CheckOptions, render_check};
use haproxy_cfg::keywords::{
    BIND_KEYWORDS, GLOBAL_COMMON, PROXY_COMMON, PROXY_REGISTERED, SERVER_KEYWORDS,
};
use haproxy_cfg::load::{Env, Outcome, load};
use haproxy_cfg::model::{Balance, RuleKind};
use proptest::prelude::*;

/// No file system, no DNS: every lookup fails, deterministically.
struct NoEnv;

impl Env for NoEnv {
    fn read_file(&self, _: &str) -> std::io::Result<Vec<u8>> {
        Err(std::io::Error::from(std::io::ErrorKind::NotFound))
    }
    fn resolves(&self, _: &str) -> bool {
        false
    }
    fn user_exists(&self, _: &str) -> bool {
        false
    }
    fn group_exists(&self, _: &str) -> bool {
        false
    }
}

const SECTIONS: &[&str] = &[
    "global",
    "defaults",
    "defaults d1",
    "defaults d2 from d1",
    "frontend fe",
    "frontend fe from d1",
    "backend be",
    "listen li",
    "userlist ul",
    "peers p",
    "frontend fe 127.0.0.1:1",
    "backend",
];

const ARGS: &[&str] = &[
    "",
    "0",
    "-1",
    "1",
    "65536",
    "99999999999999999999",
    "1.5s",
    "5s",
    "30x",
    "10k",
    "127.0.0.1:80",
    ":80",
    "[::1]:443",
    "127.0.0.1:1-2",
    "unix@/x",
    "fd@x",
    "*:",
    "if",
    "unless",
    "{",
    "}",
    "TRUE",
    "be",
    "fe",
    "d1",
    "http",
    "tcp",
    "len",
    "check",
    "header",
    "except",
    "from",
    "roundrobin",
    "uri",
    "random(0)",
    "hdr(",
    "consistent",
    "insert",
    "rewrite",
    "%[src]",
    "a,b",
    "/",
    "server",
    "no",
    "option",
    "httplog",
];

fn word() -> impl Strategy<Value = String> {
    let all: Vec<&'static str> = [
        PROXY_REGISTERED,
        PROXY_COMMON,
        GLOBAL_COMMON,
        SERVER_KEYWORDS,
        BIND_KEYWORDS,
        ARGS,
    ]
    .concat();
    prop_oneof![4 => prop::sample::select(all).prop_map(str::to_owned), 1 => "[a-z0-9:./-]{0,8}"]
}

fn line() -> impl Strategy<Value = String> {
    prop_oneof![
        1 => prop::sample::select(SECTIONS).prop_map(str::to_owned),
        6 => prop::collection::vec(word(), 1..7).prop_map(|w| format!("    {}", w.join(" "))),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn loading_and_rendering_never_panic(lines in prop::collection::vec(line(), 0..40)) {
        let text = lines.join("\n");
        let docs = [haproxy_cfg::parse_str("p.cfg", &text), haproxy_cfg::parse_str("q.cfg", &text)];
        let loaded = load(&docs, &NoEnv);
        let opts = CheckOptions { quiet: false, zero_warning: true, pid: 1, version: "v", exe: "e" };
        let out = render_check(&loaded, &opts);
        let expected = if loaded.has_warnings() && loaded.outcome != Outcome::Invalid { 1 } else { loaded.outcome.exit_code() };
        prop_assert_eq!(out.code, expected);
        prop_assert!(loaded.diagnostics.iter().all(|d| !d.message.is_empty()));
    }
}

#[test]
fn rules_keep_their_condition_apart_for_later_crates() {
    let text = "defaults\n    mode http\n    timeout connect 1s\n    timeout client 1s\n    timeout server 1s\n\
                frontend fe\n    bind :80\n    acl api path_beg /api\n    use_backend be if api !{ src 10.0.0.0/8 }\n    \
                http-request deny unless api\n    default_backend be\nbackend be\n    balance uri len 10 whole\n    \
                server s 127.0.0.1:1\n";
    let loaded = load(&[haproxy_cfg::parse_str("m.cfg", text)], &NoEnv);
    assert_eq!(loaded.outcome, Outcome::Valid);
    let fe = loaded.config.frontend("fe").expect("fe");
    let ub = fe
        .rules
        .iter()
        .find(|r| r.kind == RuleKind::UseBackend)
        .expect("use_backend");
    assert_eq!(ub.words, ["be"]);
    let cond = ub.cond.as_ref().expect("condition");
    assert!(!cond.negated);
    assert_eq!(cond.words, ["api", "!{", "src", "10.0.0.0/8", "}"]);
    let deny = fe
        .rules
        .iter()
        .find(|r| r.kind == RuleKind::HttpRequest)
        .expect("http-request");
    assert!(
        deny.cond
            .as_ref()
            .is_some_and(|c| c.negated && c.words == ["api"])
    );
    assert_eq!(deny.loc.line, 10);
    let be = loaded.config.backend("be").expect("be");
    assert_eq!(
        be.balance,
        Some(Balance::Uri {
            len: Some(10),
            depth: None,
            whole: true,
            path_only: false
        })
    );
}
