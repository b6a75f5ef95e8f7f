//! Conditions: `if|unless` followed by ACL names, `!`, `or`/`||` and anonymous `{ ... }` ACLs
//! (configuration.txt 7.2). A condition is a disjunction of conjunctions; there are no parentheses.

use std::fmt;
use std::sync::Arc;

use crate::acl::Acl;
use crate::sample::SampleSource;

/// Most words in one condition.
pub const MAX_CONDITION_WORDS: usize = 4096;

/// One term of a condition: an ACL, maybe negated.
#[derive(Debug, Clone)]
pub(crate) struct Term {
    pub(crate) neg: bool,
    pub(crate) acl: Arc<Acl>,
    /// `None` for a named ACL; the words between the braces for an anonymous one.
    pub(crate) anon: Option<Vec<String>>,
}

/// A parsed `if`/`unless` condition.
///
/// Build one with [`AclSet::parse_condition`](crate::AclSet::parse_condition).
#[derive(Debug, Clone)]
pub struct Condition {
    pub(crate) unless: bool,
    pub(crate) suites: Vec<Vec<Term>>,
}

impl Condition {
    /// Whether the condition is `unless`.
    pub fn is_unless(&self) -> bool {
        self.unless
    }

    /// Evaluates the condition on a request: true when the guarded rule applies.
    pub fn eval(&self, src: &dyn SampleSource) -> bool {
        let any = self
            .suites
            .iter()
            .any(|suite| suite.iter().all(|t| t.acl.matches(src) != t.neg));
        any != self.unless
    }

    /// The condition as config words (`if`/`unless` first), normalised: `||` is written `or`,
    /// negations are one `!` glued to the term.
    pub fn to_words(&self) -> Vec<String> {
        let mut w = vec![if self.unless { "unless" } else { "if" }.to_owned()];
        for (i, suite) in self.suites.iter().enumerate() {
            if i > 0 {
                w.push("or".to_owned());
            }
            for t in suite {
                match &t.anon {
                    None => w.push(format!("{}{}", if t.neg { "!" } else { "" }, t.acl.name())),
                    Some(words) => {
                        if t.neg {
                            w.push("!".to_owned());
                        }
                        w.push("{".to_owned());
                        w.extend(words.iter().cloned());
                        w.push("}".to_owned());
                    }
                }
            }
        }
        w
    }
}

/// Quotes a word so HAProxy's tokenizer reads it back unchanged.
fn quote(word: &str) -> String {
    if !word.is_empty()
        && !word
            .bytes()
            .any(|b| b.is_ascii_whitespace() || b"\"'\\#$".contains(&b))
    {
        return word.to_owned();
    }
    if !word.contains('\'') {
        return format!("'{word}'");
    }
    let mut s = String::from("\"");
    for c in word.chars() {
        if matches!(c, '"' | '\\' | '$') {
            s.push('\\');
        }
        s.push(c);
    }
    s.push('"');
    s
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let words: Vec<String> = self.to_words().iter().map(|w| quote(w)).collect();
        f.write_str(&words.join(" "))
    }
}
