use super::*;
use crate::diag::Severity;

/// A test environment: no files, names resolve unless they end in `.invalid`.
struct FakeEnv;

impl Env for FakeEnv {
    fn read_file(&self, path: &str) -> std::io::Result<Vec<u8>> {
        if path == "errors/503.http" {
            Ok(b"HTTP/1.1 503 Service Unavailable\r\n\r\n".to_vec())
        } else {
            Err(std::io::Error::from(std::io::ErrorKind::NotFound))
        }
    }
    fn resolves(&self, host: &str) -> bool {
        !host.ends_with(".invalid")
            && host.parse::<std::net::IpAddr>().is_err()
            && !host.starts_with("300.")
    }
    fn user_exists(&self, name: &str) -> bool {
        name == "root"
    }
    fn group_exists(&self, name: &str) -> bool {
        name == "root"
    }
}

fn run(text: &str) -> Loaded {
    load(&[crate::parse_str("t.cfg", text)], &FakeEnv)
}

fn texts(l: &Loaded) -> Vec<String> {
    l.diagnostics.iter().map(Diagnostic::haproxy_text).collect()
}

const TIMEOUTS: &str = "defaults\n    mode http\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n";

#[test]
fn a_valid_config_builds_the_model() {
    let l = run(&format!(
        "global\n    maxconn 1k\n{TIMEOUTS}frontend fe\n    bind 127.0.0.1:80\n    default_backend be\nbackend be\n    balance leastconn\n    server s1 127.0.0.1:81 check weight 10\n"
    ));
    assert_eq!(l.outcome, Outcome::Valid, "{:?}", texts(&l));
    assert!(l.diagnostics.is_empty());
    assert_eq!(l.config.global.maxconn, Some(1), "lenient like atol");
    let be = l.config.backend("be").expect("backend");
    assert_eq!(be.balance, Some(crate::model::Balance::LeastConn));
    assert_eq!(be.timeouts.connect, Some(5000), "inherited from defaults");
    let s = be.servers.first().expect("server");
    assert_eq!((s.params.check, s.params.weight), (Some(true), Some(10)));
    assert_eq!(l.config.frontend("fe").map(|f| f.binds.len()), Some(1));
}

#[test]
fn unknown_keywords_get_haproxys_suggestions_and_summary_lines() {
    let l = run("global\n    daemom\nfrontend fe\n    balanse roundrobin\n");
    assert_eq!(l.outcome, Outcome::Invalid);
    assert_eq!(
        texts(&l),
        [
            "parsing [t.cfg:2] : unknown keyword 'daemom' in 'global' section; did you mean 'daemon' maybe ?",
            "parsing [t.cfg:4] : unknown keyword 'balanse' in 'frontend' section; did you mean 'balance' maybe ?",
            "Error(s) found in configuration file : t.cfg",
            "Fatal errors found in configuration.",
        ]
    );
    assert_eq!((l.diagnostics[0].line, l.diagnostics[0].col), (2, 5));
}

#[test]
fn legacy_timeouts_are_mapped_with_a_warning() {
    let l = run(
        "defaults\n    mode http\n    contimeout 5000\n    clitimeout 50000\n    srvtimeout 50000\nlisten x\n    bind :80\n    server s 127.0.0.1:1\n",
    );
    assert_eq!(l.outcome, Outcome::Valid, "{:?}", texts(&l));
    assert!(
        l.diagnostics
            .iter()
            .all(|d| d.severity == Severity::Warning && d.code == "legacy-keyword")
    );
    let p = l.config.proxies.first().expect("listen");
    assert_eq!(
        (p.timeouts.connect, p.timeouts.client, p.timeouts.server),
        (Some(5000), Some(50000), Some(50000))
    );
    assert!(l.diagnostics.iter().all(|d| {
        d.help
            .as_deref()
            .is_some_and(|h| h.starts_with("write 'timeout "))
    }));
}

#[test]
fn missing_backend_and_mode_conflicts_are_post_parse_errors() {
    let l = run(&format!(
        "{TIMEOUTS}frontend fe\n    bind :80\n    default_backend nope\nbackend b\n    mode tcp\n    server s 127.0.0.1:1\nfrontend f2\n    bind :81\n    default_backend b\n"
    ));
    assert_eq!(
        texts(&l),
        [
            "Proxy 'fe': unable to find required default_backend: 'nope'.",
            "http frontend 'f2' (t.cfg:12) tries to use incompatible tcp backend 'b' (t.cfg:9) as its default backend (see 'mode').",
            "Fatal errors found in configuration.",
        ]
    );
}

#[test]
fn no_listener_is_exit_code_two() {
    let l = run(&format!("{TIMEOUTS}backend b\n    server s 127.0.0.1:1\n"));
    assert_eq!(l.outcome, Outcome::NoListener);
    assert_eq!(l.outcome.exit_code(), 2);
}

#[test]
fn defaults_from_an_unknown_section_aborts() {
    let l = run("frontend f from nosuch\n    bind :80\nfrontend g\n    daemom\n");
    assert_eq!(
        texts(&l),
        [
            "parsing [t.cfg:1] : defaults section 'nosuch' not found for frontend 'f'.",
            "Error(s) found in configuration file : t.cfg"
        ]
    );
}

#[test]
fn unresolvable_servers_fail_after_the_checks() {
    let l = run(&format!(
        "{TIMEOUTS}listen x\n    bind :80\n    server s1 nosuch.invalid:80\n"
    ));
    assert_eq!(
        texts(&l),
        [
            "[t.cfg:8] : 'server x/s1' : could not resolve address 'nosuch.invalid'.",
            "Failed to initialize server(s) addr."
        ]
    );
    assert_eq!(l.outcome, Outcome::Invalid);
}

#[test]
fn fatal_errors_stop_after_the_limit() {
    let mut text = String::from("global\n");
    for _ in 0..MAX_FATAL_ERRORS + 10 {
        text.push_str("    nosuch\n");
    }
    let l = run(&text);
    assert_eq!(
        l.diagnostics
            .iter()
            .filter(|d| d.code == "unknown-keyword")
            .count(),
        MAX_FATAL_ERRORS
    );
}

/// `WITH_ARG` only says how many words a keyword takes; the keyword itself must be one the table
/// of known keywords (used for "did you mean") accepts, or it could never be reached.
#[test]
fn every_keyword_with_an_argument_is_a_known_keyword() {
    for (with_arg, known, table) in [
        (
            bind::WITH_ARG,
            crate::keywords::BIND_KEYWORDS,
            "BIND_KEYWORDS",
        ),
        (
            server::WITH_ARG,
            crate::keywords::SERVER_KEYWORDS,
            "SERVER_KEYWORDS",
        ),
    ] {
        for kw in with_arg {
            assert!(known.contains(kw), "{kw} is missing from {table}");
        }
    }
}

#[test]
fn fd_hard_limit_is_kept_as_atol_reads_it_and_a_set_value_is_not_replaced() {
    let global = |lines: &str| run(&format!("global\n{lines}{TIMEOUTS}"));
    assert_eq!(
        global("    fd-hard-limit 5000\n")
            .config
            .global
            .fd_hard_limit,
        Some(5000)
    );
    assert_eq!(
        global("    fd-hard-limit 5k\n").config.global.fd_hard_limit,
        Some(5)
    );
    let l = global("    fd-hard-limit 0\n    fd-hard-limit 300\n    fd-hard-limit 400\n");
    assert_eq!(l.config.global.fd_hard_limit, Some(300));
    assert_eq!(
        texts(&l),
        ["parsing [t.cfg:4] : 'fd-hard-limit' already specified. Continuing."]
    );
}
