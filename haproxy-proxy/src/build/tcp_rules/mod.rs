//! `tcp-request connection|session|content accept|reject [if|unless COND]` and
//! `tcp-request inspect-delay`, compiled with haproxy-acl.
//!
//! Content rules are evaluated the way HAProxy does while data may still arrive: an ACL that
//! reads the request buffer and does not match yet is "missing data" rather than false, and
//! missing data propagates through `!`, `and`, `or` and `unless` (three-valued logic); the
//! inspection waits for more bytes until the delay passes. Connection and session rules see no
//! buffer: an ACL that needs one never matches there (HAProxy warns "will never match").

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use haproxy_acl::{AclSet, SampleSource};
use haproxy_cfg::model::{Proxy, ProxyKind, Rule, RuleKind};
use haproxy_cfg::values::{TimeUnit, parse_time};

use super::cfg_err;
use super::sample::StreamSample;
use crate::ProxyError;
use crate::h1::{H1Limits, Parsed, RequestHead, parse_request};
use crate::http::{RequestCondition, RequestRule, RuleAction};
use crate::route::StreamView;
use crate::tcp::client_hello_sni;

mod tri;

use tri::tri_condition;
pub use tri::{Phase, Tri, TriCondition};

/// What a `tcp-request` rule does: `accept`, `reject`, `expect-proxy layer4` (connection rules)
/// or `switch-mode http` (content rules).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcpAction {
    /// Stop evaluating this rule set and go on.
    Accept,
    /// Close the connection silently.
    Reject,
    /// `expect-proxy layer4`: a PROXY header comes first, as with `accept-proxy` on the bind;
    /// evaluation continues with the next rule.
    ExpectProxy,
    /// `switch-mode http [proto h1]` (content rules of a TCP frontend): accept, and serve the
    /// connection as HTTP with the frontend's `http-request` and `use_backend` rules.
    SwitchHttp,
}

/// What the `tcp-request connection` rules decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionVerdict {
    /// False when a `reject` applied.
    pub accept: bool,
    /// True when an `expect-proxy layer4` applied before the decision.
    pub expect_proxy: bool,
}

/// One `tcp-request <phase> accept|reject [cond]` line.
#[derive(Debug, Clone)]
pub struct TcpRule {
    /// The action.
    pub action: TcpAction,
    /// The condition; `None` always applies.
    pub cond: Option<TriCondition>,
}

/// A frontend's `tcp-request` rules.
#[derive(Debug, Clone, Default)]
pub struct TcpRules {
    /// `tcp-request connection` rules, evaluated at accept.
    pub connection: Vec<TcpRule>,
    /// `tcp-request session` rules, evaluated after the PROXY header (if any).
    pub session: Vec<TcpRule>,
    /// `tcp-request content` rules (TCP mode: evaluated here; HTTP mode: per request).
    pub content: Vec<TcpRule>,
    /// `tcp-request inspect-delay`.
    pub inspect_delay: Option<Duration>,
    /// By backend index, the `tcp-request content` rules (and `inspect-delay`) of each TCP-mode
    /// `backend` section, run on the inspected data when a stream reaches it (empty for the
    /// others); shared by every frontend.
    pub backend_content: Arc<Vec<TcpRules>>,
}

/// Evaluates `rules` in order; `Some(action)` once a final action applies (`Accept` when the
/// list ends), `None` while a condition is missing data. `expect_proxy` is set by a matching
/// `expect-proxy` rule on the way.
fn decide(
    rules: &[TcpRule],
    src: &dyn SampleSource,
    phase: Phase,
    expect_proxy: &mut bool,
) -> Option<TcpAction> {
    for rule in rules {
        let r = rule.cond.as_ref().map_or(Tri::Pass, |c| c.eval(src, phase));
        match (r, rule.action) {
            (Tri::Pass, TcpAction::ExpectProxy) => *expect_proxy = true,
            (Tri::Pass, action) => return Some(action),
            (Tri::Miss, _) => return None,
            (Tri::Fail, _) => {}
        }
    }
    Some(TcpAction::Accept)
}

impl TcpRules {
    /// What `tcp-request connection` rules decide for a connection from `src` to `dst`.
    pub fn connection_verdict(&self, src: SocketAddr, dst: SocketAddr) -> ConnectionVerdict {
        let mut expect_proxy = false;
        let accept = Self::layer4(&self.connection, src, dst, &mut expect_proxy);
        ConnectionVerdict {
            accept,
            expect_proxy,
        }
    }

    /// Whether `tcp-request connection` rules let a connection from `src` to `dst` in.
    pub fn accepts_connection(&self, src: SocketAddr, dst: SocketAddr) -> bool {
        self.connection_verdict(src, dst).accept
    }

    /// Whether `tcp-request session` rules let the session in.
    pub fn accepts_session(&self, src: SocketAddr, dst: SocketAddr) -> bool {
        Self::layer4(&self.session, src, dst, &mut false)
    }

    fn layer4(rules: &[TcpRule], src: SocketAddr, dst: SocketAddr, expect: &mut bool) -> bool {
        let view = StreamView {
            src,
            dst,
            request: None,
        };
        decide(rules, &StreamSample(&view), Phase::Connection, expect) != Some(TcpAction::Reject)
    }

    /// The content rules' decision on `sample`: `Accept`, `Reject` or `SwitchHttp`, or `None`
    /// to wait for more data (never when `last`).
    pub fn decide_content(&self, sample: &dyn SampleSource, last: bool) -> Option<TcpAction> {
        decide(&self.content, sample, Phase::Content { last }, &mut false)
    }

    /// Whether a content rule may switch the connection to HTTP.
    pub fn may_switch_to_http(&self) -> bool {
        self.content
            .iter()
            .any(|r| r.action == TcpAction::SwitchHttp)
    }

    /// The content rules as `http-request`-style rules for an HTTP frontend: each `reject`
    /// becomes a [`RuleAction::Reject`] guarded by its condition and by "no earlier `accept`
    /// applied"; they run before the `http-request` rules.
    pub fn http_rules(&self) -> Vec<RequestRule> {
        let mut out = Vec::new();
        let mut accepts: Vec<Option<TriCondition>> = Vec::new();
        for rule in &self.content {
            match rule.action {
                // An HTTP frontend is already in HTTP mode: `switch-mode http` only ends the list.
                TcpAction::Accept | TcpAction::SwitchHttp => accepts.push(rule.cond.clone()),
                // Connection rules only; never among content rules.
                TcpAction::ExpectProxy => {}
                TcpAction::Reject => out.push(RequestRule {
                    cond: Some(Arc::new(ContentGuard {
                        cond: rule.cond.clone(),
                        accepted_before: accepts.clone(),
                    }) as Arc<dyn RequestCondition>),
                    negate: false,
                    action: RuleAction::Reject,
                }),
            }
        }
        out
    }
}

/// A content `reject` in an HTTP frontend: its condition holds and no earlier `accept` applied.
#[derive(Debug)]
struct ContentGuard {
    cond: Option<TriCondition>,
    accepted_before: Vec<Option<TriCondition>>,
}

impl RequestCondition for ContentGuard {
    fn matches(&self, stream: &StreamView<'_>) -> bool {
        let s = StreamSample(stream);
        let last = Phase::Content { last: true };
        let passes =
            |c: &Option<TriCondition>| c.as_ref().is_none_or(|c| c.eval(&s, last) == Tri::Pass);
        !self.accepted_before.iter().any(passes) && passes(&self.cond)
    }
}

/// The request buffer of a TCP stream seen by haproxy-acl: addresses, `req.len`, `req.ssl_sni`,
/// and the HTTP fetches when the buffer holds a complete HTTP/1 request head.
#[derive(Debug)]
pub struct ContentSample<'a, 'b> {
    inner: StreamSample<'a, 'b>,
    data: &'a [u8],
}

impl SampleSource for ContentSample<'_, '_> {
    fn src(&self) -> Option<SocketAddr> {
        self.inner.src()
    }
    fn dst(&self) -> Option<SocketAddr> {
        self.inner.dst()
    }
    fn is_http(&self) -> bool {
        self.inner.is_http()
    }
    fn method(&self) -> Option<&[u8]> {
        self.inner.method()
    }
    fn uri(&self) -> Option<&[u8]> {
        self.inner.uri()
    }
    fn version(&self) -> Option<&[u8]> {
        self.inner.version()
    }
    fn header(&self, index: usize) -> Option<(&[u8], &[u8])> {
        self.inner.header(index)
    }
    fn body_len(&self) -> Option<u64> {
        Some(self.data.len() as u64)
    }
    fn req_ssl_sni(&self) -> Option<&[u8]> {
        client_hello_sni(self.data)
    }
}

/// Runs `f` on the sample of a TCP stream from `src` to `dst` whose client sent `data` so far.
pub fn with_content<R>(
    src: SocketAddr,
    dst: SocketAddr,
    data: &[u8],
    limits: &H1Limits,
    f: impl FnOnce(&dyn SampleSource) -> R,
) -> R {
    let head: Option<RequestHead> = match parse_request(data, limits) {
        Ok(Parsed::Complete { head, .. }) => Some(head),
        _ => None,
    };
    let view = StreamView {
        src,
        dst,
        request: head.as_ref(),
    };
    let sample = ContentSample {
        inner: StreamSample(&view),
        data,
    };
    f(&sample)
}

/// Compiles the `tcp-request` lines of a frontend, listen or backend section; `acls` already
/// holds the section's `acl` lines.
///
/// # Errors
/// [`ProxyError::Config`] for an action other than `accept`/`reject` (and the frontend's
/// `expect-proxy`/`switch-mode`), for `connection`/`session` rules or `switch-mode` in a backend
/// section (HAProxy's parse errors), and for a condition haproxy-acl refuses.
pub(super) fn compile(p: &Proxy, acls: &AclSet) -> Result<TcpRules, ProxyError> {
    let mut out = TcpRules::default();
    for rule in p.rules.iter().filter(|r| r.kind == RuleKind::TcpRequest) {
        let phase = rule.words.first().map(String::as_str).unwrap_or_default();
        let action = rule.words.get(1).map(String::as_str).unwrap_or_default();
        if phase == "inspect-delay" {
            let t = parse_time(action, TimeUnit::Millis)
                .map_err(|_| at(rule, "'tcp-request inspect-delay' expects a delay"))?;
            out.inspect_delay = Some(Duration::from_millis(u64::from(t.value)));
            continue;
        }
        if let Some(message) = frontend_only(p, rule) {
            return Err(at(rule, message));
        }
        let mut extra = rule.words.get(2);
        let action = match action {
            "accept" => TcpAction::Accept,
            "reject" => TcpAction::Reject,
            "expect-proxy" if phase == "connection" => {
                if extra.map(String::as_str) != Some("layer4") {
                    return Err(at(
                        rule,
                        format!(
                            "'tcp-request connection expect-proxy' only supports 'layer4' in {} '{}' (got '{}')",
                            p.kind.type_str(),
                            p.name,
                            extra.map_or("", String::as_str)
                        ),
                    ));
                }
                extra = rule.words.get(3);
                TcpAction::ExpectProxy
            }
            "switch-mode" if phase == "content" => {
                match (
                    extra.map(String::as_str),
                    rule.words.get(3).map(String::as_str),
                ) {
                    (Some("http"), None) => extra = None,
                    (Some("http"), Some("proto")) => match rule.words.get(4).map(String::as_str) {
                        Some("h1") => extra = rule.words.get(5),
                        other => {
                            return Err(at(
                                rule,
                                format!(
                                    "'tcp-request content switch-mode http proto {}' is not supported yet (only 'h1')",
                                    other.unwrap_or_default()
                                ),
                            ));
                        }
                    },
                    _ => {
                        return Err(at(
                            rule,
                            "'tcp-request content switch-mode' expects 'http [proto h1]'",
                        ));
                    }
                }
                TcpAction::SwitchHttp
            }
            "expect-proxy" => {
                return Err(at(
                    rule,
                    format!(
                        "'expect-proxy layer4' is not allowed in 'tcp-request {phase}' rules in {} '{}'",
                        p.kind.type_str(),
                        p.name
                    ),
                ));
            }
            other => {
                return Err(at(
                    rule,
                    format!("'tcp-request {phase} {other}' is not supported yet"),
                ));
            }
        };
        if let Some(extra) = extra {
            return Err(at(
                rule,
                format!("'tcp-request {phase}': unexpected '{extra}'"),
            ));
        }
        let compiled = TcpRule {
            action,
            cond: tri_condition(p, rule, acls)?,
        };
        match phase {
            "connection" => out.connection.push(compiled),
            "session" => out.session.push(compiled),
            _ => out.content.push(compiled),
        }
    }
    Ok(out)
}

/// HAProxy 2.6's parse error for a `tcp-request` rule only a frontend may have, written in a
/// `backend` section (`connection`/`session` rules, `switch-mode`).
pub(crate) fn frontend_only(p: &Proxy, rule: &Rule) -> Option<String> {
    if p.kind != ProxyKind::Backend || rule.kind != RuleKind::TcpRequest {
        return None;
    }
    let phase = rule.words.first().map(String::as_str).unwrap_or_default();
    let action = rule.words.get(1).map(String::as_str).unwrap_or_default();
    if matches!(phase, "connection" | "session") {
        return Some(format!(
            "tcp-request {phase} is not allowed because backend {} is not a frontend",
            p.name
        ));
    }
    (phase == "content" && action == "switch-mode").then(|| {
        format!(
            "'tcp-request switch-mode' not allowed because backend '{}' has no frontend capability",
            p.name
        )
    })
}

/// HAProxy's parse alerts for `tcp-request` rules only a frontend may have, written in `backend`
/// sections: (file, `parsing [file:line] : ...`), in configuration order. `haproxy -c` prints
/// them as startup does.
#[must_use]
pub fn frontend_only_rule_alerts(cfg: &haproxy_cfg::model::Config) -> Vec<(String, String)> {
    cfg.proxies
        .iter()
        .filter(|p| !p.disabled)
        .flat_map(|p| {
            p.rules.iter().filter_map(move |r| {
                let m = frontend_only(p, r)?;
                let line = format!("parsing [{}:{}] : {m}", r.loc.file, r.loc.line);
                Some((r.loc.file.to_string(), line))
            })
        })
        .collect()
}

fn at(rule: &Rule, message: impl std::fmt::Display) -> ProxyError {
    cfg_err(format!(
        "parsing [{}:{}] : {message}",
        rule.loc.file, rule.loc.line
    ))
}

#[cfg(test)]
mod tests;
