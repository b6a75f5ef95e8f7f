//! HAProxy's ACL language and maps: parse, compile and evaluate conditions on your own requests.
//!
//! Implement [`SampleSource`] on your request type, parse `acl` lines and conditions with an
//! [`AclSet`], and evaluate. Patterns are compiled into indexed matchers (hash, tries, a
//! longest-prefix table, regex sets), and pattern files and maps can be edited at runtime through
//! [`PatternRefs`] without blocking evaluations.
//!
//! ```
//! use std::net::SocketAddr;
//! use haproxy_acl::{AclSet, SampleSource};
//!
//! struct Req { uri: &'static str, host: &'static str }
//! impl SampleSource for Req {
//!     fn uri(&self) -> Option<&[u8]> { Some(self.uri.as_bytes()) }
//!     fn is_http(&self) -> bool { true }
//!     fn header(&self, i: usize) -> Option<(&[u8], &[u8])> {
//!         (i == 0).then(|| (&b"Host"[..], self.host.as_bytes()))
//!     }
//! }
//!
//! let mut set = AclSet::new();
//! set.parse_acl(&["acl", "is_api", "path_beg", "-i", "/api"])?;
//! set.parse_acl(&["acl", "is_example", "hdr_dom(host)", "example.com"])?;
//! let cond = set.parse_condition(&["if", "is_api", "is_example", "||", "{", "path", "/health", "}"])?;
//! assert!(cond.eval(&Req { uri: "/API/v1", host: "www.example.com:8080" }));
//! assert!(cond.eval(&Req { uri: "/health", host: "other" }));
//! assert!(!cond.eval(&Req { uri: "/", host: "example.com" }));
//! # Ok::<(), haproxy_acl::AclError>(())
//! ```
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod acl;
mod args;
mod cond;
mod conv;
mod error;
mod expr;
mod fetch;
#[cfg(feature = "http")]
mod http;
mod matcher;
mod patref;
mod pattern;
mod sample;
mod userlist;

pub use acl::{Acl, AclSet, FileLoader};
pub use args::{MAX_CONVERTERS, MAX_EXPR_LEN};
pub use cond::{Condition, MAX_CONDITION_WORDS};
pub use conv::MAX_CONVERTED_LEN;
pub use error::AclError;
pub use expr::SampleExpr;
#[cfg(feature = "http")]
pub use http::HttpSource;
pub use matcher::MAX_REGEX_SET_SIZE;
pub use patref::{Entry, GetReply, MAX_REF_ENTRIES, PatternRef, PatternRefs};
pub use pattern::{MAX_PATTERN_LEN, MatchKind};
pub use sample::{Sample, SampleSource, SampleType};
pub use userlist::{HashVerifier, Userlist};

/// The README's example runs as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
