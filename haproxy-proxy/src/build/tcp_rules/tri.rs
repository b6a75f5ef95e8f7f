//! Three-valued conditions: a condition split into its terms, each knowing whether it reads the
//! request buffer, so "not yet" (missing data) can be told from "no" while inspecting.

use haproxy_acl::{AclSet, Condition, SampleSource};
use haproxy_cfg::model::{Proxy, Rule, RuleKind};

use super::at;
use crate::ProxyError;

/// A three-valued ACL result, as HAProxy's `acl_exec_cond` computes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tri {
    /// The condition holds.
    Pass,
    /// It does not, and will not with more data.
    Fail,
    /// It does not hold yet, but more data could change that.
    Miss,
}

impl Tri {
    fn not(self) -> Tri {
        match self {
            Tri::Pass => Tri::Fail,
            Tri::Fail => Tri::Pass,
            Tri::Miss => Tri::Miss,
        }
    }
}

/// When a condition is evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// At accept (`tcp-request connection`) or after the PROXY header (`session`): no buffer.
    Connection,
    /// While inspecting content; `last` once no more data will be waited for.
    Content {
        /// No more data will come (delay passed, buffer full, client closed).
        last: bool,
    },
}

/// What an ACL reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Needs {
    /// Addresses, server states: known at accept.
    Layer4,
    /// The request buffer (payload, TLS hello, or an HTTP request parsed from it).
    Content,
    /// `wait_end`: true only once the inspection is over.
    WaitEnd,
}

/// Fetches known at accept time; every other fetch reads the request.
const LAYER4_FETCHES: &[&str] = &[
    "always_true",
    "always_false",
    "src",
    "src_port",
    "dst",
    "dst_port",
    "nbsrv",
    "be_conn",
    "fe_conn",
    "queue",
    "avg_queue",
    "connslots",
    "srv_is_up",
    "ssl_fc",
    "ssl_fc_sni",
];

fn needs_of_criterion(criterion: &str) -> Needs {
    let end = criterion.find(['(', ',']).unwrap_or(criterion.len());
    match criterion.get(..end).unwrap_or(criterion) {
        "wait_end" => Needs::WaitEnd,
        f if LAYER4_FETCHES.contains(&f) => Needs::Layer4,
        _ => Needs::Content,
    }
}

fn needs_of_named(p: &Proxy, name: &str) -> Needs {
    let lines: Vec<&Rule> = p
        .rules
        .iter()
        .filter(|r| r.kind == RuleKind::Acl && r.words.first().is_some_and(|n| n == name))
        .collect();
    if lines.is_empty() {
        // A predefined ACL.
        return match name {
            "TRUE" | "FALSE" | "LOCALHOST" => Needs::Layer4,
            "WAIT_END" => Needs::WaitEnd,
            _ => Needs::Content,
        };
    }
    lines
        .iter()
        .map(|r| needs_of_criterion(r.words.get(1).map_or("", String::as_str)))
        .max()
        .unwrap_or(Needs::Layer4)
}

#[derive(Debug, Clone)]
struct Term {
    neg: bool,
    cond: Condition,
    needs: Needs,
}

/// A condition split into its terms so each can be "missing data".
#[derive(Debug, Clone)]
pub struct TriCondition {
    unless: bool,
    suites: Vec<Vec<Term>>,
}

impl TriCondition {
    /// Evaluates the condition on `src` in `phase`.
    pub fn eval(&self, src: &dyn SampleSource, phase: Phase) -> Tri {
        let term = |t: &Term| {
            let raw = match (t.needs, phase) {
                (Needs::Content | Needs::WaitEnd, Phase::Connection) => Tri::Fail,
                (Needs::WaitEnd, Phase::Content { last }) => {
                    if last {
                        Tri::Pass
                    } else {
                        Tri::Miss
                    }
                }
                (needs, _) => match (t.cond.eval(src), needs, phase) {
                    (true, _, _) => Tri::Pass,
                    (false, Needs::Content, Phase::Content { last: false }) => Tri::Miss,
                    (false, _, _) => Tri::Fail,
                },
            };
            if t.neg { raw.not() } else { raw }
        };
        let mut any_miss = false;
        for suite in &self.suites {
            let mut all = Tri::Pass;
            for t in suite {
                match term(t) {
                    Tri::Fail => {
                        all = Tri::Fail;
                        break;
                    }
                    Tri::Miss => all = Tri::Miss,
                    Tri::Pass => {}
                }
            }
            match all {
                Tri::Pass => return if self.unless { Tri::Fail } else { Tri::Pass },
                Tri::Miss => any_miss = true,
                Tri::Fail => {}
            }
        }
        match (any_miss, self.unless) {
            (true, _) => Tri::Miss,
            (false, false) => Tri::Fail,
            (false, true) => Tri::Pass,
        }
    }
}

/// Splits a parsed condition into terms (from its normalised words) and compiles each alone.
pub(super) fn tri_condition(
    p: &Proxy,
    rule: &Rule,
    acls: &AclSet,
) -> Result<Option<TriCondition>, ProxyError> {
    let Some(cond) = &rule.cond else {
        return Ok(None);
    };
    let mut words = vec![if cond.negated { "unless" } else { "if" }.to_owned()];
    words.extend(cond.words.iter().cloned());
    let whole = acls.parse_condition(&words).map_err(|e| at(rule, e))?;
    let normal = whole.to_words();
    let mut suites = vec![Vec::new()];
    let mut it = normal.iter().skip(1);
    let mut neg = false;
    while let Some(w) = it.next() {
        let (one, needs) = match w.as_str() {
            "or" => {
                suites.push(Vec::new());
                continue;
            }
            "!" => {
                neg = true;
                continue;
            }
            "{" => {
                let mut inner = Vec::new();
                for x in it.by_ref() {
                    if x == "}" {
                        break;
                    }
                    inner.push(x.clone());
                }
                let needs = needs_of_criterion(inner.first().map_or("", String::as_str));
                let mut one = vec!["if".to_owned(), "{".to_owned()];
                one.extend(inner);
                one.push("}".to_owned());
                (one, needs)
            }
            named => {
                let (n, name) = match named.strip_prefix('!') {
                    Some(rest) => (true, rest),
                    None => (false, named),
                };
                neg |= n;
                (
                    vec!["if".to_owned(), name.to_owned()],
                    needs_of_named(p, name),
                )
            }
        };
        let cond = acls.parse_condition(&one).map_err(|e| at(rule, e))?;
        if let Some(suite) = suites.last_mut() {
            suite.push(Term { neg, cond, needs });
        }
        neg = false;
    }
    Ok(Some(TriCondition {
        unless: whole.is_unless(),
        suites,
    }))
}
