//! The `http-request` rule framework: a condition and an action, evaluated in order.
//!
//! The wiring implements [`RequestCondition`] with haproxy-acl; new actions slot into
//! [`RuleAction`].

use std::sync::Arc;

use crate::errors::Reply;
use crate::route::StreamView;

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
