//! Sample expressions (`fetch[,converter...]`) and ACL expressions (a sample expression plus its
//! match method and patterns).

use std::fmt;
use std::sync::Arc;

use crate::conv::Converter;
use crate::fetch::Fetch;
use crate::patref::Slot;
use crate::pattern::MatchKind;
use crate::sample::{Sample, SampleSource, SampleType};

/// A fetch followed by converters, e.g. `req.hdr(host),lower,map(hosts.map,default)`.
///
/// Build one with [`AclSet::parse_sample`](crate::AclSet::parse_sample).
#[derive(Debug, Clone)]
pub struct SampleExpr {
    pub(crate) text: String,
    pub(crate) fetch: Fetch,
    pub(crate) convs: Vec<Converter>,
    pub(crate) out: SampleType,
}

impl SampleExpr {
    /// The output type after converters.
    pub fn out_type(&self) -> SampleType {
        self.out
    }

    /// Evaluates the expression in sample context (one value, e.g. the last `hdr` occurrence).
    pub fn eval<'s>(&self, src: &'s dyn SampleSource) -> Option<Sample<'s>> {
        let mut out = None;
        self.each(src, false, &mut |s| {
            out = Some(s);
            true
        });
        out
    }

    /// Visits each value (every occurrence when `all`), after converters.
    pub(crate) fn each<'s>(
        &self,
        src: &'s dyn SampleSource,
        all: bool,
        f: &mut dyn FnMut(Sample<'s>) -> bool,
    ) -> bool {
        if self.convs.is_empty() {
            return self.fetch.each(src, all, f);
        }
        self.fetch.each(src, all, &mut |s| {
            let mut cur = Some(s);
            for c in &self.convs {
                cur = cur.and_then(|v| c.apply(v));
            }
            cur.is_some_and(&mut *f)
        })
    }
}

impl fmt::Display for SampleExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// One `acl` line's test: a sample expression, a match method and pattern sets.
#[derive(Debug, Clone)]
pub(crate) struct AclExpr {
    pub(crate) expr: SampleExpr,
    pub(crate) kind: MatchKind,
    pub(crate) slots: Vec<Arc<Slot>>,
}

impl AclExpr {
    /// Whether any value of the sample matches any pattern.
    #[inline]
    pub(crate) fn matches(&self, src: &dyn SampleSource) -> bool {
        let found = self.kind == MatchKind::Found;
        self.expr.each(src, true, &mut |s| {
            if found {
                return true;
            }
            self.slots.iter().any(|slot| slot.find(&s, false).is_some())
        })
    }
}
