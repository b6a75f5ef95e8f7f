//! Dynamic `use_backend` names: a log-format string such as
//! `be_%[req.hdr(host),lower,map_dom(/etc/haproxy/hosts.map,www)]` rendered per stream and looked
//! up among the backend names.
//!
//! The sample expressions are haproxy-acl's, parsed with the process' pattern references, so maps
//! edited over the runtime API (`set map`, `add map`) change routing at once.

use std::collections::HashMap;
use std::sync::Arc;

use haproxy_acl::{AclSet, Condition, SampleExpr, SampleSource};

/// The most `%[...]` expressions one dynamic name may hold.
pub const MAX_NAME_PARTS: usize = 16;

/// One piece of a log-format name.
#[derive(Debug, Clone)]
enum Part {
    /// Literal text.
    Text(String),
    /// A `%[...]` sample expression.
    Sample(SampleExpr),
}

/// A parsed log-format backend name.
#[derive(Debug, Clone)]
pub struct DynamicName {
    parts: Vec<Part>,
}

impl DynamicName {
    /// Parses `text%[expr]text...` (`%%` is a literal `%`); expressions go through `acls` so
    /// their maps are the shared, runtime-editable pattern references.
    ///
    /// # Errors
    /// An unterminated `%[`, a `%` not followed by `[` or `%`, too many expressions, or an
    /// expression haproxy-acl refuses; the message is ready for a startup error.
    pub fn parse(text: &str, acls: &AclSet) -> Result<DynamicName, String> {
        let mut parts = Vec::new();
        let mut lit = String::new();
        let mut rest = text;
        while let Some(at) = rest.find('%') {
            lit.push_str(rest.get(..at).unwrap_or_default());
            let after = rest.get(at + 1..).unwrap_or_default();
            if let Some(r) = after.strip_prefix('%') {
                lit.push('%');
                rest = r;
                continue;
            }
            let Some(body) = after.strip_prefix('[') else {
                return Err(format!(
                    "invalid log-format '{text}': only '%[...]' sample expressions are supported in a backend name"
                ));
            };
            let end = closing_bracket(body)
                .ok_or_else(|| format!("invalid log-format '{text}': missing ']'"))?;
            let expr = body.get(..end).unwrap_or_default();
            if !lit.is_empty() {
                parts.push(Part::Text(std::mem::take(&mut lit)));
            }
            if parts
                .iter()
                .filter(|p| matches!(p, Part::Sample(_)))
                .count()
                >= MAX_NAME_PARTS
            {
                return Err(format!(
                    "invalid log-format '{text}': more than {MAX_NAME_PARTS} sample expressions"
                ));
            }
            let sample = acls
                .parse_sample(expr)
                .map_err(|e| format!("failed to parse sample expression <{expr}> : {e}"))?;
            parts.push(Part::Sample(sample));
            rest = body.get(end + 1..).unwrap_or_default();
        }
        lit.push_str(rest);
        if !lit.is_empty() {
            parts.push(Part::Text(lit));
        }
        Ok(DynamicName { parts })
    }

    /// The name for this stream; a sample that cannot be fetched renders as `-`, as in logs.
    pub fn render(&self, src: &dyn SampleSource) -> String {
        let mut out = String::new();
        for p in &self.parts {
            match p {
                Part::Text(t) => out.push_str(t),
                Part::Sample(e) => match e.eval(src) {
                    Some(s) => out.push_str(&String::from_utf8_lossy(&s.to_bytes())),
                    None => out.push('-'),
                },
            }
        }
        out
    }
}

/// The index of the `]` closing a `%[` whose body starts `body`, skipping parenthesised
/// converter arguments.
fn closing_bracket(body: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, c) in body.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ']' if depth == 0 => return Some(i),
            _ => {}
        }
    }
    None
}

/// `use_backend <log-format> [if|unless cond]`.
#[derive(Debug, Clone)]
pub struct DynamicRule {
    /// Its place among the section's `use_backend` lines (0 = first).
    pub position: usize,
    /// The condition (`None` = always).
    pub cond: Option<Condition>,
    /// The name to render.
    pub name: DynamicName,
    /// Backend names to indexes (only the backends this frontend may use).
    pub names: Arc<HashMap<String, usize>>,
}

/// What a dynamic rule decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DynamicChoice {
    /// The condition does not hold: try the next rule.
    Skip,
    /// The name is a backend.
    Backend(usize),
    /// The name is no backend: HAProxy stops the rules and uses `default_backend`.
    Unknown,
}

impl DynamicRule {
    /// Evaluates the rule for a stream.
    pub fn choose(&self, src: &dyn SampleSource) -> DynamicChoice {
        if self.cond.as_ref().is_some_and(|c| !c.eval(src)) {
            return DynamicChoice::Skip;
        }
        match self.names.get(&self.name.render(src)) {
            Some(i) => DynamicChoice::Backend(*i),
            None => DynamicChoice::Unknown,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Req(&'static str);
    impl SampleSource for Req {
        fn is_http(&self) -> bool {
            true
        }
        fn uri(&self) -> Option<&[u8]> {
            Some(b"/api/x")
        }
        fn header(&self, i: usize) -> Option<(&[u8], &[u8])> {
            (i == 0).then(|| (&b"Host"[..], self.0.as_bytes()))
        }
    }

    #[test]
    fn renders_text_and_samples() {
        let acls = AclSet::new();
        let n = DynamicName::parse("be_%[req.hdr(host),lower]_%%x", &acls).unwrap();
        assert_eq!(n.render(&Req("WWW")), "be_www_%x");
        let n = DynamicName::parse("%[req.hdr(x-none)]", &acls).unwrap();
        assert_eq!(n.render(&Req("a")), "-");
    }

    #[test]
    fn refuses_bad_formats() {
        let acls = AclSet::new();
        assert!(DynamicName::parse("%[req.hdr(host)", &acls).is_err());
        assert!(DynamicName::parse("%H", &acls).is_err());
        assert!(DynamicName::parse("%[nosuchfetch]", &acls).is_err());
    }

    #[test]
    fn part_limit() {
        let acls = AclSet::new();
        let at_limit = "%[path]".repeat(MAX_NAME_PARTS);
        assert!(DynamicName::parse(&at_limit, &acls).is_ok());
        let over = "%[path]".repeat(MAX_NAME_PARTS + 1);
        assert!(DynamicName::parse(&over, &acls).is_err());
    }

    #[test]
    fn unknown_name_stops() {
        let acls = AclSet::new();
        let names = Arc::new(HashMap::from([("www".to_owned(), 3)]));
        let rule = |cond| DynamicRule {
            position: 0,
            cond,
            name: DynamicName::parse("%[req.hdr(host),lower]", &acls).unwrap(),
            names: Arc::clone(&names),
        };
        assert_eq!(rule(None).choose(&Req("WWW")), DynamicChoice::Backend(3));
        assert_eq!(rule(None).choose(&Req("other")), DynamicChoice::Unknown);
        let never = acls.parse_condition(&["if", "FALSE"]).unwrap();
        assert_eq!(rule(Some(never)).choose(&Req("www")), DynamicChoice::Skip);
    }
}
