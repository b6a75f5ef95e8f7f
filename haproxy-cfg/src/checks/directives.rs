//! Post-parse checks of settings the model keeps as directives (`Proxy::other`,
//! `Global::other`): health-check rulesets written without their option, external checks and
//! the global server-state file, with HAProxy 2.6's texts (`check_config_validity()`).

use crate::diag::{Diagnostic, Origin};
use crate::load::Env;
use crate::model::{Config, Directive, Proxy};

/// The last `kw` line of `p`, else of the defaults sections it inherits from, nearest first.
/// A proxy keeps only its own lines, so the chain is walked here; it is at most as long as the
/// list of defaults sections.
pub(super) fn inherited<'c>(config: &'c Config, p: &'c Proxy, kw: &str) -> Option<&'c Directive> {
    let own = |p: &'c Proxy| p.other.iter().rev().find(|d| first(d) == kw);
    let mut cur = p;
    for _ in 0..=config.defaults.len() {
        if let Some(d) = own(cur) {
            return Some(d);
        }
        let (_, loc) = cur.defaults.as_ref()?;
        cur = config.defaults.iter().find(|d| &d.loc == loc)?;
    }
    None
}

/// The first word of a directive.
fn first(d: &Directive) -> &str {
    d.words.first().map_or("", String::as_str)
}

/// Whether a global on/off keyword is on: its last line wins, `no <kw>` turning it off.
pub(super) fn global_flag(config: &Config, kw: &str) -> bool {
    config
        .global
        .other
        .iter()
        .rev()
        .find_map(|d| match d.words.as_slice() {
            [k] if k == kw => Some(true),
            [no, k] if no == "no" && k == kw => Some(false),
            _ => None,
        })
        .unwrap_or(false)
}

/// Whether the global section has a line with this keyword.
fn global_has(config: &Config, kw: &str) -> bool {
    config.global.other.iter().any(|d| first(d) == kw)
}

/// The name of the check option in effect (`httpchk`, `tcp-check`...).
fn check_option(p: &Proxy) -> &str {
    p.options
        .check
        .as_ref()
        .map_or("", |(name, _)| name.as_str())
}

/// Whether `p` itself has `kw` rule lines (`http-check` options such as `disable-on-404` are
/// not rules).
fn has_rules(p: &Proxy, kw: &str) -> bool {
    p.other.iter().any(|d| {
        first(d) == kw
            && !matches!(
                d.words.get(1).map(String::as_str),
                Some("disable-on-404" | "send-state")
            )
    })
}

/// Adds a global warning with `code` and HAProxy's text `msg`.
fn warn(diags: &mut Vec<Diagnostic>, code: &'static str, msg: String) {
    diags.push(Diagnostic::warning(code, Origin::Global, msg));
}

/// The checks HAProxy runs before resolving `default_backend`, in its order: `http-check`
/// rules without `option httpchk`, `http-check` options a non-HTTP check ignores, external
/// checks, then incomplete `email-alert` settings. Returns whether one was fatal.
pub(super) fn before_backends(config: &Config, p: &Proxy, diags: &mut Vec<Diagnostic>) -> bool {
    let kind = p.kind.type_str();
    let mut fatal = false;
    // HAProxy marks a ruleset unused when its rules are parsed while another check is in
    // effect; the model does not keep where the option was written, so the final option
    // decides.
    if has_rules(p, "http-check") && check_option(p) != "httpchk" {
        let msg = format!(
            "{kind} '{}' uses http-check rules without 'option httpchk', so the rules are ignored.",
            p.name
        );
        warn(diags, "unused-check-rules", msg);
    }
    if NON_HTTP_RULESETS.contains(&check_option(p)) {
        for flag in ["disable-on-404", "send-state"] {
            if sub_line(config, p, "http-check", flag).is_some() {
                let msg = format!(
                    "'{flag}' will be ignored for {kind} '{}' (requires 'option httpchk').",
                    p.name
                );
                warn(diags, "unused-check-rules", msg);
            }
        }
    }
    let external = check_option(p) == "external-check";
    if external {
        if !global_has(config, "external-check") {
            let msg = format!(
                "Proxy '{}' : 'option external-check' unable to find required 'global.external-check'.",
                p.name
            );
            diags.push(Diagnostic::alert("external-check", Origin::Global, msg));
            fatal = true;
        }
        if inherited(config, p, "external-check").is_none_or(|d| ext_kind(d) != "command") {
            let msg = format!(
                "Proxy '{}' : 'option external-check' unable to find required 'external-check command'.",
                p.name
            );
            diags.push(Diagnostic::alert("external-check", Origin::Global, msg));
            fatal = true;
        }
        if !global_flag(config, "insecure-fork-wanted") {
            let msg = format!(
                "Proxy '{}' : 'insecure-fork-wanted' not enabled in the global section, 'option external-check' will likely fail.",
                p.name
            );
            warn(diags, "external-check", msg);
        }
    }
    let email = |sub: &str| sub_line(config, p, "email-alert", sub).is_some();
    if EMAIL_ALERT_SETTINGS.iter().any(|s| email(s))
        && !(email("mailers") && email("from") && email("to"))
    {
        let msg = format!(
            "'email-alert' will be ignored for {kind} '{}' (the presence any of 'email-alert from', 'email-alert level' 'email-alert mailers', 'email-alert myhostname', or 'email-alert to' requires each of 'email-alert from', 'email-alert mailers' and 'email-alert to' to be present).",
            p.name
        );
        warn(diags, "email-alert", msg);
    }
    for what in ["command", "path"] {
        let set = ext_line(config, p, what);
        if set.is_some() && !external {
            let msg = format!(
                "'external-check {what}' will be ignored for {kind} '{}' (requires 'option external-check').",
                p.name
            );
            warn(diags, "external-check", msg);
        }
        if what == "command"
            && let Some(cmd) = set
            && !cmd.starts_with('/')
            && ext_line(config, p, "path").is_none()
        {
            let msg = format!(
                "Proxy '{}': 'external-check command' does not have a leading '/' and 'external-check path' is not set.",
                p.name
            );
            diags.push(Diagnostic::alert("external-check", Origin::Global, msg));
            fatal = true;
        }
    }
    fatal
}

/// `command` or `path` of an `external-check` line.
fn ext_kind(d: &Directive) -> &str {
    d.words.get(1).map_or("", String::as_str)
}

/// The value of the last `external-check <what>` line in effect for `p`.
fn ext_line<'c>(config: &'c Config, p: &'c Proxy, what: &str) -> Option<&'c str> {
    sub_line(config, p, "external-check", what)
}

/// The third word of the last `<kw> <sub> ...` line in effect for `p` (its own, else its
/// defaults', nearest first), `""` when the line has no third word.
fn sub_line<'c>(config: &'c Config, p: &'c Proxy, kw: &str, sub: &str) -> Option<&'c str> {
    let own = |p: &'c Proxy| {
        p.other
            .iter()
            .rev()
            .find(|d| first(d) == kw && ext_kind(d) == sub)
    };
    let mut cur = p;
    for _ in 0..=config.defaults.len() {
        if let Some(d) = own(cur) {
            return Some(d.words.get(2).map_or("", String::as_str));
        }
        let (_, loc) = cur.defaults.as_ref()?;
        cur = config.defaults.iter().find(|d| &d.loc == loc)?;
    }
    None
}

/// Check options run as tcp-check rulesets that are not HTTP ones (HAProxy's
/// `PR_O2_TCPCHK_CHK` without `TCPCHK_RULES_HTTP_CHK`).
const NON_HTTP_RULESETS: &[&str] = &[
    "tcp-check",
    "ssl-hello-chk",
    "smtpchk",
    "pgsql-check",
    "redis-check",
    "mysql-check",
    "ldap-check",
    "spop-check",
];

/// The `email-alert` settings a proxy needs together.
const EMAIL_ALERT_SETTINGS: &[&str] = &["from", "level", "mailers", "myhostname", "to"];

/// The checks HAProxy runs after resolving the backends, in its order: `tcp-check` rules
/// without `option tcp-check`, then `load-server-state-from-file global` without a global
/// `server-state-file`.
pub(super) fn after_backends(config: &Config, p: &Proxy, diags: &mut Vec<Diagnostic>) {
    let kind = p.kind.type_str();
    if has_rules(p, "tcp-check") && check_option(p) != "tcp-check" {
        let msg = format!(
            "{kind} '{}' uses tcp-check rules without 'option tcp-check', so the rules are ignored.",
            p.name
        );
        warn(diags, "unused-check-rules", msg);
    }
    let from_global = inherited(config, p, "load-server-state-from-file")
        .is_some_and(|d| d.words.get(1).is_some_and(|w| w == "global"));
    if p.kind.has_backend() && from_global && !global_has(config, "server-state-file") {
        let msg = format!(
            "backend '{}' configured to load server state file from global section 'server-state-file' directive. Unfortunately, 'server-state-file' is not set!",
            p.name
        );
        warn(diags, "server-state-file", msg);
    }
}

/// HAProxy opens the global `server-state-file` (under `server-state-base` when relative)
/// before it resolves server addresses, then the own file of each enabled backend with servers
/// and `load-server-state-from-file local` (its `server-state-file-name`, by default the
/// backend's name), and warns for each it cannot open. Their contents are not read here.
pub(super) fn server_state_file(config: &Config, env: &dyn Env, diags: &mut Vec<Diagnostic>) {
    let value = |kw: &str| {
        config
            .global
            .other
            .iter()
            .rev()
            .find(|d| first(d) == kw)
            .and_then(|d| d.words.get(1))
    };
    let base = value("server-state-base");
    // HAProxy's `srv_state_get_filepath()`.
    let path = |file: &str| match base {
        Some(base) if !file.starts_with('/') => {
            let sep = if base.ends_with('/') { "" } else { "/" };
            format!("{base}{sep}{file}")
        }
        _ => file.to_owned(),
    };
    // strerror(): the error's text without Rust's " (os error N)" tail.
    let open_error = |path: &str| {
        // Read after parsing, when HAProxy is back in its startup directory: `default-path`
        // does not apply.
        env.read_file(path).err().map(|e| {
            let text = e.to_string();
            text.split(" (os error").next().unwrap_or(&text).to_owned()
        })
    };
    if let Some(file) = value("server-state-file") {
        let path = path(file);
        if let Some(reason) = open_error(&path) {
            let msg = format!("config: Can't open global server state file '{path}': {reason}");
            warn(diags, "server-state-file", msg);
        }
    }
    for p in &config.proxies {
        let local = inherited(config, p, "load-server-state-from-file")
            .is_some_and(|d| d.words.get(1).is_some_and(|w| w == "local"));
        if !local || !p.kind.has_backend() || p.disabled || p.servers.is_empty() {
            continue;
        }
        let name = inherited(config, p, "server-state-file-name")
            .and_then(|d| d.words.get(1))
            .filter(|n| *n != "use-backend-name")
            .map_or(p.name.as_str(), String::as_str);
        let path = path(name);
        if let Some(reason) = open_error(&path) {
            let msg = format!(
                "Proxy '{}': Can't open server state file '{path}': {reason}.",
                p.name
            );
            warn(diags, "server-state-file", msg);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::{SystemEnv, load};

    fn config(text: &str) -> Config {
        load(&[crate::parse_str("t.cfg", text)], &SystemEnv).config
    }

    #[test]
    fn inherited_walks_the_defaults_chain_nearest_first() {
        let c = config(
            "defaults a\n    external-check path /a\ndefaults b from a\n    mode http\nbackend x from b\n",
        );
        let x = c.proxies.first().expect("backend");
        let d = inherited(&c, x, "external-check").expect("from a");
        assert_eq!(d.words, ["external-check", "path", "/a"]);
        assert_eq!(ext_line(&c, x, "path"), Some("/a"));
        assert_eq!(ext_line(&c, x, "command"), None);
        assert!(inherited(&c, x, "load-server-state-from-file").is_none());
    }

    #[test]
    fn global_flags_follow_their_last_line() {
        let c = config("global\n    insecure-fork-wanted\n    no insecure-fork-wanted\n");
        assert!(!global_flag(&c, "insecure-fork-wanted"));
        let c = config("global\n    no insecure-fork-wanted\n    insecure-fork-wanted\n");
        assert!(global_flag(&c, "insecure-fork-wanted"));
        assert!(!global_flag(&c, "busy-polling"));
    }
}
