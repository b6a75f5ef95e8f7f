//! The `http-request` rule framework: a condition and an action, evaluated in order.
//!
//! The wiring implements [`RequestCondition`] with haproxy-acl; new actions slot into
//! [`RuleAction`].

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};

use super::body::{body_arrived, relay, take_arrived};
use super::session::{HttpService, send_reply};
use crate::counters::Counters;
use crate::errors::{Reply, redirect_reply};
use crate::facts::StreamFacts;
use crate::h1::{BodyFraming, DEFAULT_BUFSIZE, RequestHead};
use crate::route::{ChooseBackend, StreamView};
use crate::side::{Side, StreamState, Termination};

/// A compiled `if` / `unless` condition.
pub trait RequestCondition: Send + Sync + std::fmt::Debug {
    /// True when the condition holds for this stream and request.
    fn matches(&self, stream: &StreamView<'_>) -> bool;
}

/// What a `redirect` rule builds its `location` from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedirectKind {
    /// `redirect location <url>`: the URL as is.
    Location(String),
    /// `redirect prefix <pfx>`: the prefix before the request URI (`/` means "same URI").
    Prefix(String),
    /// `redirect scheme <sch>`: `<sch>://<first Host><uri>`.
    Scheme(String),
}

/// An `http-request` action.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RuleAction {
    /// `allow`: stop evaluating this section's rules.
    Allow,
    /// `deny [deny_status N]` (403 by default).
    Deny {
        /// The status of the error page sent.
        status: u16,
    },
    /// `return ...`: a prepared reply.
    Return(Reply),
    /// `tcp-request content reject` in an HTTP frontend: close without a response.
    Reject,
    /// `redirect ... [code N]` (302 by default).
    Redirect {
        /// How the location is built.
        kind: RedirectKind,
        /// The status code.
        code: u16,
    },
    /// `use-service prometheus-exporter`: the metrics of every proxy in Prometheus' text format.
    PrometheusExporter,
}

/// One `http-request <action> [if|unless <cond>]` line.
#[derive(Debug, Clone)]
pub struct RequestRule {
    /// The condition; `None` always matches.
    pub cond: Option<Arc<dyn RequestCondition>>,
    /// True for `unless`.
    pub negate: bool,
    /// The action.
    pub action: RuleAction,
}

impl RequestRule {
    /// True when the rule applies.
    pub fn applies(&self, stream: &StreamView<'_>) -> bool {
        self.cond
            .as_ref()
            .is_none_or(|c| c.matches(stream) != self.negate)
    }
}

impl RedirectKind {
    /// The `location` value for a request to `uri` with the first Host value `host`.
    pub fn location(&self, uri: &str, host: Option<&[u8]>) -> String {
        match self {
            RedirectKind::Location(l) => l.clone(),
            RedirectKind::Prefix(p) if p == "/" => uri.to_owned(),
            RedirectKind::Prefix(p) => format!("{p}{uri}"),
            RedirectKind::Scheme(s) => {
                format!(
                    "{s}://{}{uri}",
                    String::from_utf8_lossy(host.unwrap_or_default())
                )
            }
        }
    }
}

/// A local answer decided by a rule: the reply (`None` closes silently) and who ended the stream.
pub(super) type Decision = (Option<Reply>, Side);

/// Runs `rules` in order: the first that applies decides; `allow` ends the evaluation with no
/// answer. A deny counts on the frontend and, for a backend's rules, on `backend` too.
pub(super) fn decide<B: ChooseBackend, P>(
    svc: &HttpService<B, P>,
    rules: &[RequestRule],
    view: &StreamView<'_>,
    req: &RequestHead,
    be: Option<usize>,
    backend: Option<&Counters>,
) -> Option<Decision> {
    let denied = || {
        svc.counters.denied_req.fetch_add(1, Relaxed);
        if let Some(b) = backend {
            b.denied_req.fetch_add(1, Relaxed);
        }
    };
    let rule = rules.iter().find(|r| r.applies(view))?;
    match &rule.action {
        RuleAction::Allow => None,
        RuleAction::Deny { status } => {
            denied();
            Some((super::session::error_page(svc, be, *status), Side::Proxy))
        }
        RuleAction::Reject => {
            denied();
            Some((None, Side::Proxy))
        }
        RuleAction::Return(r) => Some((Some(r.clone()), Side::Local)),
        RuleAction::Redirect { kind, code } => Some((
            Some(redirect_reply(
                *code,
                &kind.location(&req.uri, req.headers.get("host")),
            )),
            Side::Local,
        )),
        RuleAction::PrometheusExporter => Some((
            Some(super::stats::prometheus_reply(&svc.registry, &req.uri)),
            Side::Local,
        )),
    }
}

/// Sends a rule's answer; returns whether the client connection stays open. As HAProxy 2.6.12
/// does, the answer keeps the connection only when the whole request body has arrived (it is
/// then drained; a body still coming gets `connection: close`), and a redirect of a request
/// with a body never keeps it.
#[expect(
    clippy::too_many_arguments,
    reason = "the session's state at the point a rule answers"
)]
pub(super) async fn answer<C: AsyncRead + AsyncWrite + Unpin>(
    (reply, term): Decision,
    client: &mut C,
    buf: &mut Vec<u8>,
    req: &RequestHead,
    framing: BodyFraming,
    keep: bool,
    (ct, case): (Option<Duration>, Option<&crate::h1::CaseMap>),
    facts: &mut StreamFacts,
) -> bool {
    facts.termination = Termination::new(term, StreamState::Request);
    let Some(r) = reply else { return false };
    facts.status = Some(r.status);
    take_arrived(client, buf, DEFAULT_BUFSIZE).await;
    // Only a redirect's answer carries a `location` (`return` sets no header).
    let redirect = term == Side::Local && r.headers.contains("location");
    let keep = keep && body_arrived(framing, buf) && !(redirect && framing != BodyFraming::None);
    if !send_reply(client, &r, req.version, keep, ct, case).await {
        return false;
    }
    keep && relay(client, buf, &mut tokio::io::sink(), framing, ct, None)
        .await
        .is_ok()
}
