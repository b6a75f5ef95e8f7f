//! Keyword tables per section and HAProxy's "did you mean" suggestion rule.
//!
//! The tables list the keywords HAProxy 2.6.12 (Debian build: OpenSSL, Lua, splice, TPROXY; no
//! QUIC, 51Degrees, DeviceAtlas, WURFL, OpenSSL engines, zlib or memory profiling) knows in each
//! context, in the order HAProxy compares
//! them, so that [`suggest`] proposes the same word HAProxy does (it keeps the first of equally
//! close candidates).

/// Keywords registered for the `global` section, in registration order.
pub const GLOBAL_REGISTERED: &[&str] = &[
    "ca-base",
    "crt-base",
    "issuers-chain-path",
    "maxsslconn",
    "ssl-default-bind-options",
    "ssl-default-server-options",
    "ssl-dh-param-file",
    "ssl-mode-async",
    "ssl-propquery",
    "ssl-provider",
    "ssl-provider-path",
    "ssl-skip-self-issued-ca",
    "tune.ssl.cachesize",
    "tune.ssl.default-dh-param",
    "tune.ssl.force-private-cache",
    "tune.ssl.lifetime",
    "tune.ssl.maxrecord",
    "tune.ssl.hard-maxrecord",
    "tune.ssl.ssl-ctx-cache-size",
    "tune.ssl.capture-cipherlist-size",
    "tune.ssl.capture-buffer-size",
    "tune.ssl.keylog",
    "ssl-default-bind-ciphers",
    "ssl-default-server-ciphers",
    "ssl-default-bind-curves",
    "ssl-default-bind-ciphersuites",
    "ssl-default-server-ciphersuites",
    "ssl-load-extra-files",
    "ssl-load-extra-del-ext",
    "default-path",
    "stats",
    "pp2-never-send-local",
    "tune.fd.edge-triggered",
    "lua-prepend-path",
    "lua-load",
    "lua-load-per-thread",
    "tune.lua.session-timeout",
    "tune.lua.task-timeout",
    "tune.lua.service-timeout",
    "tune.lua.forced-yield",
    "tune.lua.maxmem",
    "httpclient.resolvers.id",
    "httpclient.resolvers.prefer",
    "httpclient.ssl.verify",
    "httpclient.ssl.ca-file",
    "tune.listener.multi-queue",
    "h1-accept-payload-with-any-method",
    "h1-case-adjust",
    "h1-case-adjust-file",
    "tune.h2.header-table-size",
    "tune.h2.initial-window-size",
    "tune.h2.max-concurrent-streams",
    "tune.h2.max-frame-size",
    "mworker-max-reloads",
    "tune.fail-alloc",
    "no-memory-trimming",
    // After pool.c's keywords: 2.6.12 proposes 'no-memory-trimming' for the (tied) unknown
    // 'profiling.memory', so activity.c registers later (it also links later).
    "profiling.tasks",
    "grace",
    "hard-stop-after",
    "close-spread-time",
    "tune.idle-pool.shared",
    "tune.pool-high-fd-ratio",
    "tune.pool-low-fd-ratio",
    "tune.sched.low-latency",
    "nbthread",
    "thread-group",
    "thread-groups",
    "set-var",
    "set-var-fmt",
    "tune.vars.global-max-size",
    "tune.vars.proc-max-size",
    "tune.vars.sess-max-size",
    "tune.vars.txn-max-size",
    "tune.vars.reqres-max-size",
    "tune.vars.check-max-size",
];

/// Keywords the `global` parser handles itself (compared after [`GLOBAL_REGISTERED`]).
pub const GLOBAL_COMMON: &[&str] = &[
    "global",
    "daemon",
    "master-worker",
    "noepoll",
    "nokqueue",
    "noevports",
    "nopoll",
    "busy-polling",
    "set-dumpable",
    "insecure-fork-wanted",
    "insecure-setuid-wanted",
    "nosplice",
    "nogetaddrinfo",
    "noreuseport",
    "quiet",
    "zero-warning",
    "tune.runqueue-depth",
    "tune.maxpollevents",
    "tune.maxaccept",
    "tune.recv_enough",
    "tune.buffers.limit",
    "tune.buffers.reserve",
    "tune.bufsize",
    "tune.maxrewrite",
    "tune.idletimer",
    "tune.rcvbuf.client",
    "tune.rcvbuf.server",
    "tune.sndbuf.client",
    "tune.sndbuf.server",
    "tune.pipesize",
    "tune.http.cookielen",
    "tune.http.logurilen",
    "tune.http.maxhdr",
    "tune.comp.maxlevel",
    "tune.pattern.cache-size",
    "uid",
    "gid",
    "external-check",
    "user",
    "group",
    "nbproc",
    "maxconn",
    "ssl-server-verify",
    "maxconnrate",
    "maxsessrate",
    "maxsslrate",
    "maxcomprate",
    "maxpipes",
    "maxzlibmem",
    "maxcompcpuusage",
    "ulimit-n",
    "chroot",
    "description",
    "node",
    "pidfile",
    "unix-bind",
    "log",
    "log-send-hostname",
    "server-state-base",
    "server-state-file",
    "log-tag",
    "spread-checks",
    "max-spread-checks",
    "cpu-map",
    "setenv",
    "presetenv",
    "unsetenv",
    "resetenv",
    "strict-limits",
    "localpeer",
    "numa-cpu-mapping",
    "defaults",
    "listen",
    "frontend",
    "backend",
    "peers",
    "resolvers",
    "cluster-secret",
];

/// Keywords registered for proxy sections (defaults, frontend, backend, listen).
pub const PROXY_REGISTERED: &[&str] = &[
    "external-check",
    "use-fcgi-app",
    "filter",
    "compression",
    "errorloc",
    "errorloc302",
    "errorloc303",
    "errorfile",
    "errorfiles",
    "http-error",
    "timeout",
    "clitimeout",
    "contimeout",
    "srvtimeout",
    "rate-limit",
    "max-keep-alive-queue",
    "declare",
    "retry-on",
    "clitcpka-cnt",
    "srvtcpka-cnt",
    "clitcpka-idle",
    "srvtcpka-idle",
    "clitcpka-intvl",
    "srvtcpka-intvl",
    "tcp-request",
    "tcp-response",
    "http-check",
    "tcp-check",
];

/// Keywords the proxy parser handles itself (compared after [`PROXY_REGISTERED`]).
pub const PROXY_COMMON: &[&str] = &[
    "listen",
    "frontend",
    "backend",
    "defaults",
    "server",
    "default-server",
    "server-template",
    "bind",
    "monitor-net",
    "monitor-uri",
    "mode",
    "id",
    "description",
    "disabled",
    "enabled",
    "bind-process",
    "acl",
    "dynamic-cookie-key",
    "cookie",
    "email-alert",
    "persist",
    "appsession",
    "load-server-state-from-file",
    "server-state-file-name",
    "max-session-srv-conns",
    "capture",
    "retries",
    "http-request",
    "http-response",
    "http-after-response",
    "http-send-name-header",
    "block",
    "redirect",
    "use_backend",
    "use-server",
    "force-persist",
    "ignore-persist",
    "force-persist",
    "stick-table",
    "stick",
    "stats",
    "option",
    "default_backend",
    "http-reuse",
    "monitor",
    "transparent",
    "maxconn",
    "backlog",
    "fullconn",
    "dispatch",
    "balance",
    "hash-type",
    "hash-balance-factor",
    "unique-id-format",
    "unique-id-header",
    "log-format",
    "log-format-sd",
    "log-tag",
    "log",
    "source",
    "usesrc",
    "error-log-format",
];

/// Simple on/off proxy options (HAProxy's `cfg_opts` then `cfg_opts2`), with the side they
/// apply to and whether they need `mode http`.
pub const SIMPLE_OPTIONS: &[(&str, Side, bool)] = &[
    ("abortonclose", Side::Backend, false),
    ("allbackups", Side::Backend, false),
    ("checkcache", Side::Backend, true),
    ("clitcpka", Side::Frontend, false),
    ("contstats", Side::Frontend, false),
    ("dontlognull", Side::Frontend, false),
    ("http-buffer-request", Side::Both, true),
    ("http-ignore-probes", Side::Frontend, true),
    ("idle-close-on-response", Side::Frontend, true),
    ("prefer-last-server", Side::Backend, true),
    ("logasap", Side::Frontend, false),
    ("nolinger", Side::Both, false),
    ("persist", Side::Backend, false),
    ("srvtcpka", Side::Backend, false),
    ("transparent", Side::Backend, false),
    ("splice-request", Side::Both, false),
    ("splice-response", Side::Both, false),
    ("splice-auto", Side::Both, false),
    ("accept-invalid-http-request", Side::Frontend, true),
    ("accept-invalid-http-response", Side::Backend, true),
    ("dontlog-normal", Side::Frontend, false),
    ("log-separate-errors", Side::Frontend, false),
    ("log-health-checks", Side::Backend, false),
    ("socket-stats", Side::Frontend, false),
    ("tcp-smart-accept", Side::Frontend, false),
    ("tcp-smart-connect", Side::Backend, false),
    ("independent-streams", Side::Both, false),
    ("http-use-proxy-header", Side::Frontend, true),
    ("http-pretend-keepalive", Side::Backend, true),
    ("http-no-delay", Side::Both, true),
    ("h1-case-adjust-bogus-client", Side::Frontend, true),
    ("h1-case-adjust-bogus-server", Side::Backend, true),
    ("disable-h2-upgrade", Side::Frontend, true),
];

/// Options with arguments or special handling (HAProxy's `common_options`, compared last).
pub const COMMON_OPTIONS: &[&str] = &[
    "httpclose",
    "http-server-close",
    "http-keep-alive",
    "redispatch",
    "httplog",
    "tcplog",
    "tcpka",
    "httpchk",
    "ssl-hello-chk",
    "smtpchk",
    "pgsql-check",
    "redis-check",
    "mysql-check",
    "ldap-check",
    "spop-check",
    "tcp-check",
    "external-check",
    "forwardfor",
    "original-to",
];

/// Keywords of a `server` / `default-server` line, in HAProxy's comparison order.
pub const SERVER_KEYWORDS: &[&str] = &[
    "allow-0rtt",
    "alpn",
    "ca-file",
    "check-alpn",
    "check-sni",
    "check-ssl",
    "ciphers",
    "ciphersuites",
    "crl-file",
    "crt",
    "force-sslv3",
    "force-tlsv10",
    "force-tlsv11",
    "force-tlsv12",
    "force-tlsv13",
    "no-check-ssl",
    "no-send-proxy-v2-ssl",
    "no-send-proxy-v2-ssl-cn",
    "no-ssl",
    "no-ssl-reuse",
    "no-sslv3",
    "no-tlsv10",
    "no-tlsv11",
    "no-tlsv12",
    "no-tlsv13",
    "no-tls-tickets",
    "npn",
    "send-proxy-v2-ssl",
    "send-proxy-v2-ssl-cn",
    "sni",
    "ssl",
    "ssl-min-ver",
    "ssl-max-ver",
    "ssl-reuse",
    "tls-tickets",
    "verify",
    "verifyhost",
    "tcp-ut",
    "addr",
    "agent-addr",
    "agent-check",
    "agent-inter",
    "agent-port",
    "agent-send",
    "check",
    "check-proto",
    "check-send-proxy",
    "check-via-socks4",
    "no-agent-check",
    "no-check",
    "no-check-send-proxy",
    "rise",
    "fall",
    "inter",
    "fastinter",
    "downinter",
    "port",
    "backup",
    "cookie",
    "disabled",
    "enabled",
    "error-limit",
    "ws",
    "id",
    "init-addr",
    "log-proto",
    "maxconn",
    "maxqueue",
    "max-reuse",
    "minconn",
    "namespace",
    "no-backup",
    "no-send-proxy",
    "no-send-proxy-v2",
    "no-tfo",
    "non-stick",
    "observe",
    "on-error",
    "on-marked-down",
    "on-marked-up",
    "pool-low-conn",
    "pool-max-conn",
    "pool-purge-delay",
    "proto",
    "proxy-v2-options",
    "redir",
    "resolve-net",
    "resolve-opts",
    "resolve-prefer",
    "resolvers",
    "send-proxy",
    "send-proxy-v2",
    "slowstart",
    "source",
    "stick",
    "tfo",
    "track",
    "socks4",
    "usesrc",
    "weight",
];

/// Keywords of a `bind` line, in HAProxy's comparison order.
pub const BIND_KEYWORDS: &[&str] = &[
    "allow-0rtt",
    "alpn",
    "ca-file",
    "ca-verify-file",
    "ca-ignore-err",
    "ca-sign-file",
    "ca-sign-pass",
    "ciphers",
    "ciphersuites",
    "crl-file",
    "crt",
    "crt-ignore-err",
    "crt-list",
    "curves",
    "ecdhe",
    "force-sslv3",
    "force-tlsv10",
    "force-tlsv11",
    "force-tlsv12",
    "force-tlsv13",
    "generate-certificates",
    "no-ca-names",
    "no-sslv3",
    "no-tlsv10",
    "no-tlsv11",
    "no-tlsv12",
    "no-tlsv13",
    "no-tls-tickets",
    "ssl",
    "ssl-min-ver",
    "ssl-max-ver",
    "strict-sni",
    "tls-ticket-keys",
    "verify",
    "npn",
    "prefer-client-ciphers",
    "defer-accept",
    "interface",
    "mss",
    "tcp-ut",
    "tfo",
    "transparent",
    "v4v6",
    "v6only",
    "namespace",
    "gid",
    "group",
    "mode",
    "uid",
    "user",
    "level",
    "expose-fd",
    "severity-output",
    "accept-netscaler-cip",
    "accept-proxy",
    "backlog",
    "id",
    "maxconn",
    "name",
    "nice",
    "process",
    "proto",
    "shards",
    "thread",
];

/// Actions of `http-request`, in the order HAProxy lists them when an action is unknown
/// (`(*)` marks a prefix: `set-var(*)` accepts `set-var(txn.x)`).
pub const HTTP_REQUEST_ACTIONS: &[&str] = &[
    "wait-for-handshake",
    "ot-group",
    "set-log-level",
    "set-nice",
    "use-service",
    "sc-inc-gpc(*)",
    "sc-inc-gpc0(*)",
    "sc-inc-gpc1(*)",
    "sc-set-gpt(*)",
    "sc-set-gpt0(*)",
    "send-spoe-group",
    "do-resolve(*)",
    "cache-use",
    "add-acl(*)",
    "add-header",
    "allow",
    "auth",
    "capture",
    "del-acl(*)",
    "del-header",
    "del-map(*)",
    "deny",
    "disable-l7-retry",
    "early-hint",
    "normalize-uri",
    "redirect",
    "reject",
    "replace-header",
    "replace-path",
    "replace-pathq",
    "replace-uri",
    "replace-value",
    "return",
    "set-header",
    "set-map(*)",
    "set-method",
    "set-path",
    "set-pathq",
    "set-query",
    "set-uri",
    "strict-mode",
    "tarpit",
    "track-sc(*)",
    "set-timeout",
    "wait-for-body",
    "set-var-fmt(*)",
    "set-var(*)",
    "unset-var(*)",
    "set-dst",
    "set-dst-port",
    "set-mark",
    "set-src",
    "set-src-port",
    "set-tos",
    "silent-drop",
    "set-priority-class",
    "set-priority-offset",
];

/// Actions of `http-response`, in HAProxy's order.
pub const HTTP_RESPONSE_ACTIONS: &[&str] = &[
    "ot-group",
    "set-log-level",
    "set-nice",
    "sc-inc-gpc(*)",
    "sc-inc-gpc0(*)",
    "sc-inc-gpc1(*)",
    "sc-set-gpt(*)",
    "sc-set-gpt0(*)",
    "send-spoe-group",
    "cache-store",
    "add-acl(*)",
    "add-header",
    "allow",
    "capture",
    "del-acl(*)",
    "del-header",
    "del-map(*)",
    "deny",
    "redirect",
    "replace-header",
    "replace-value",
    "return",
    "set-header",
    "set-map(*)",
    "set-status",
    "strict-mode",
    "track-sc(*)",
    "wait-for-body",
    "set-var-fmt(*)",
    "set-var(*)",
    "unset-var(*)",
    "set-mark",
    "set-tos",
    "silent-drop",
];

/// Actions of `http-after-response`, in HAProxy's order.
pub const HTTP_AFTER_RESPONSE_ACTIONS: &[&str] = &[
    "ot-group",
    "add-header",
    "allow",
    "capture",
    "del-header",
    "replace-header",
    "replace-value",
    "set-header",
    "set-status",
    "strict-mode",
    "set-var-fmt(*)",
    "set-var(*)",
    "unset-var(*)",
];

/// The actions of `tcp-request content`, as HAProxy lists them when one is unknown.
pub const TCP_REQUEST_CONTENT_ACTIONS: &str = "'accept', 'reject', 'capture', 'expect-proxy', 'expect-netscaler-cip', 'track-sc0' ... 'track-sc2', 'ot-group', 'set-log-level', 'set-nice', 'switch-mode', 'use-service', 'sc-inc-gpc(*)', 'sc-inc-gpc0(*)', 'sc-inc-gpc1(*)', 'sc-set-gpt(*)', 'sc-set-gpt0(*)', 'send-spoe-group', 'do-resolve(*)', 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)', 'set-src', 'set-src-port', 'set-dst', 'set-dst-port', 'set-mark', 'set-tos', 'silent-drop', 'set-priority-class', 'set-priority-offset'";

/// The actions of `tcp-request connection`, as HAProxy lists them when one is unknown.
pub const TCP_REQUEST_CONNECTION_ACTIONS: &str = "'accept', 'reject', 'capture', 'expect-proxy', 'expect-netscaler-cip', 'track-sc0' ... 'track-sc2', 'sc-inc-gpc(*)', 'sc-inc-gpc0(*)', 'sc-inc-gpc1(*)', 'sc-set-gpt(*)', 'sc-set-gpt0(*)', 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)', 'set-dst', 'set-dst-port', 'set-mark', 'set-src', 'set-src-port', 'set-tos', 'silent-drop'";

/// The actions of `tcp-request session`, as HAProxy lists them when one is unknown.
pub const TCP_REQUEST_SESSION_ACTIONS: &str = "'accept', 'reject', 'capture', 'expect-proxy', 'expect-netscaler-cip', 'track-sc0' ... 'track-sc2', 'sc-inc-gpc(*)', 'sc-inc-gpc0(*)', 'sc-inc-gpc1(*)', 'sc-set-gpt(*)', 'sc-set-gpt0(*)', 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)', 'set-dst', 'set-dst-port', 'set-mark', 'set-src', 'set-src-port', 'set-tos', 'silent-drop'";

/// The actions of `tcp-response content`, as HAProxy lists them when one is unknown.
pub const TCP_RESPONSE_CONTENT_ACTIONS: &str = "'accept', 'close', 'reject', 'ot-group', 'set-log-level', 'set-nice', 'sc-inc-gpc(*)', 'sc-inc-gpc0(*)', 'sc-inc-gpc1(*)', 'sc-set-gpt(*)', 'sc-set-gpt0(*)', 'send-spoe-group', 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)', 'set-mark', 'set-tos', 'silent-drop'";

/// Whether `action` is one of the actions of a TCP rule list (as listed in the `TCP_*_ACTIONS`
/// texts; `'track-sc0' ... 'track-sc2'` covers the three trackers).
#[must_use]
pub fn is_tcp_action(action: &str, listed: &str) -> bool {
    if action.is_empty() {
        return false;
    }
    if listed.contains("'track-sc0' ... 'track-sc2'")
        && matches!(action, "track-sc0" | "track-sc1" | "track-sc2")
    {
        return true;
    }
    let names: Vec<&str> = listed.split(", ").map(|n| n.trim_matches('\'')).collect();
    is_action(action, &names)
}

/// Whether `action` is one of `actions` (entries ending in `(*)` match as prefixes).
#[must_use]
pub fn is_action(action: &str, actions: &[&str]) -> bool {
    !action.is_empty()
        && actions.iter().any(|k| match k.strip_suffix("(*)") {
            Some(prefix) => action.starts_with(prefix),
            None => action == *k,
        })
}

/// Which side of a proxy a keyword or option applies to (HAProxy's `PR_CAP_FE` / `PR_CAP_BE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// Frontend capability (frontend, listen, defaults).
    Frontend,
    /// Backend capability (backend, listen, defaults).
    Backend,
    /// Both.
    Both,
}

/// A 32x32 table of letter-class transitions, as HAProxy's `make_word_fingerprint()` builds.
type Fingerprint = [u8; 1024];

/// The class of one byte: 1..=26 letters (any case), 27 digits, 28 anything else.
fn class(b: u8) -> usize {
    match b.to_ascii_lowercase() {
        c @ b'a'..=b'z' => usize::from(c - b'a') + 1,
        b'0'..=b'9' => 27,
        _ => 28,
    }
}

/// Builds a word's fingerprint: each class seen, and each transition counted (28 = begin/end).
fn fingerprint(word: &str) -> Fingerprint {
    let mut fp = [0u8; 1024];
    let mut from = 28;
    for b in word.bytes() {
        let to = class(b);
        if let Some(slot) = fp.get_mut(to) {
            *slot = 1;
        }
        if let Some(slot) = fp.get_mut(32 * from + to) {
            *slot = slot.wrapping_add(1);
        }
        from = to;
    }
    if let Some(slot) = fp.get_mut(32 * from + 28) {
        *slot = slot.wrapping_add(1);
    }
    fp
}

/// Sum of the absolute differences of two fingerprints.
fn distance(a: &Fingerprint, b: &Fingerprint) -> usize {
    a.iter()
        .zip(b.iter())
        .map(|(x, y)| usize::from(x.abs_diff(*y)))
        .sum()
}

/// Proposes the closest keyword to `word` among `lists` (compared in order; the first of equally
/// close candidates wins), or `None` when even the best is too far: HAProxy's
/// `cfg_find_best_match()` rule (distance at most twice the length of both words).
///
/// ```
/// use haproxy_cfg::keywords::{suggest, PROXY_COMMON, PROXY_REGISTERED, SERVER_KEYWORDS};
/// assert_eq!(suggest("balanse", &[PROXY_REGISTERED, PROXY_COMMON]), Some("balance"));
/// assert_eq!(suggest("dall", &[SERVER_KEYWORDS]), Some("fall"));
/// assert_eq!(suggest("frobnicate", &[PROXY_REGISTERED, PROXY_COMMON]), None);
/// ```
pub fn suggest(word: &str, lists: &[&[&'static str]]) -> Option<&'static str> {
    let sig = fingerprint(word);
    let mut best: Option<(&'static str, usize)> = None;
    for cand in lists.iter().flat_map(|l| l.iter()) {
        let d = distance(&sig, &fingerprint(cand));
        if best.is_none_or(|(_, bd)| d < bd) {
            best = Some((cand, d));
        }
    }
    let (cand, d) = best?;
    (d <= 2 * word.len() && d <= 2 * cand.len()).then_some(cand)
}

/// Suggestion for an unknown `global` keyword.
pub fn suggest_global(word: &str) -> Option<&'static str> {
    suggest(word, &[GLOBAL_REGISTERED, GLOBAL_COMMON])
}

/// Suggestion for an unknown keyword in a defaults, frontend, backend or listen section.
pub fn suggest_proxy(word: &str) -> Option<&'static str> {
    suggest(word, &[PROXY_REGISTERED, PROXY_COMMON])
}

/// Suggestion for an unknown `option`.
pub fn suggest_option(word: &str) -> Option<&'static str> {
    let simple: Vec<&'static str> = SIMPLE_OPTIONS.iter().map(|(n, _, _)| *n).collect();
    suggest(word, &[&simple, COMMON_OPTIONS])
}

/// Looks up a simple option by name.
pub fn simple_option(name: &str) -> Option<(Side, bool)> {
    SIMPLE_OPTIONS
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, s, h)| (*s, *h))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_match_what_haproxy_printed() {
        // Each pair was observed with the real haproxy 2.6.12 (see tests/data/invalid).
        assert_eq!(suggest_global("daemom"), Some("daemon"));
        assert_eq!(suggest_global("foobar"), None);
        assert_eq!(suggest_global("bind"), Some("unix-bind"));
        assert_eq!(suggest_global("notasection"), None);
        assert_eq!(suggest_proxy("balanse"), Some("balance"));
        assert_eq!(suggest_proxy("sever"), Some("server"));
        assert_eq!(suggest_proxy("frobnicate"), None);
        assert_eq!(suggest_option("forwardfr"), Some("forwardfor"));
        assert_eq!(suggest_option("nosuchthing"), None);
        assert_eq!(suggest("dall", &[SERVER_KEYWORDS]), Some("fall"));
        assert_eq!(suggest("chek", &[SERVER_KEYWORDS]), Some("check"));
        assert_eq!(suggest("nosuchopt", &[BIND_KEYWORDS]), None);
    }

    #[test]
    fn fingerprints_count_transitions_and_ignore_case() {
        assert_eq!(fingerprint("ABC"), fingerprint("abc"));
        assert_eq!(distance(&fingerprint("abc"), &fingerprint("abc")), 0);
        assert!(distance(&fingerprint("abc"), &fingerprint("abd")) > 0);
        assert_eq!(fingerprint("a1").get(32 + 27), Some(&1));
    }

    #[test]
    fn an_empty_word_gets_no_suggestion_and_no_panic() {
        assert_eq!(suggest("", &[SERVER_KEYWORDS]), None);
        assert_eq!(suggest("x", &[]), None);
    }

    #[test]
    fn every_simple_option_is_found() {
        for (name, side, http) in SIMPLE_OPTIONS {
            assert_eq!(simple_option(name), Some((*side, *http)));
        }
        assert_eq!(simple_option("httplog"), None);
    }
}
