//! Rules kept as words for the crates that compile them (haproxy-acl, haproxy-proxy).

use super::Location;

/// Which rule list a line belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RuleKind {
    /// `acl <name> <criterion> [flags] [values]`.
    Acl,
    /// `http-request <action> ...`.
    HttpRequest,
    /// `http-response <action> ...`.
    HttpResponse,
    /// `http-after-response <action> ...`.
    HttpAfterResponse,
    /// `tcp-request connection|session|content|inspect-delay ...`.
    TcpRequest,
    /// `tcp-response content|inspect-delay ...`.
    TcpResponse,
    /// `use_backend <name> [cond]`.
    UseBackend,
    /// `use-server <name> [cond]`.
    UseServer,
    /// `redirect location|prefix|scheme ...`.
    Redirect,
    /// `monitor fail [cond]`.
    MonitorFail,
    /// `stick on|match|store-request|store-response ...`.
    Stick,
    /// `force-persist` / `ignore-persist`.
    Persist,
}

/// An `if`/`unless` condition, as words (haproxy-acl parses them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    /// `true` for `unless`.
    pub negated: bool,
    /// The words after `if`/`unless`.
    pub words: Vec<String>,
}

/// One rule line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// Its list.
    pub kind: RuleKind,
    /// Where it was written.
    pub loc: Location,
    /// The words after the keyword, up to the condition.
    pub words: Vec<String>,
    /// The condition, if any.
    pub cond: Option<Condition>,
}

impl Rule {
    /// Splits `words` at the first `if`/`unless` (HAProxy's rule for every rule keyword).
    #[must_use]
    pub fn new(kind: RuleKind, loc: Location, mut words: Vec<String>) -> Self {
        let at = words.iter().position(|w| w == "if" || w == "unless");
        let cond = at.map(|i| {
            let tail = words.split_off(i);
            let negated = tail.first().is_some_and(|w| w == "unless");
            Condition {
                negated,
                words: tail.into_iter().skip(1).collect(),
            }
        });
        Self {
            kind,
            loc,
            words,
            cond,
        }
    }
}
