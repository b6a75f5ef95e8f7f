//! HAProxy-compatible health checks: a pure rise/fall state machine plus async probes.
//!
//! The state machine ([`Health`]) has no I/O and follows HAProxy 2.6 exactly: a server starts
//! `UP 1/3` with status `INI`, the first failure takes it DOWN, the first success makes it fully UP.
//!
//! ```
//! use std::time::{Duration, Instant};
//! use haproxy_check::{CheckOutcome, CheckParams, CheckStatus, Health, Transition};
//!
//! let now = Instant::now();
//! let mut h = Health::new(CheckParams::new(2, 3)?, now);
//! assert_eq!(h.status_text(false), "UP 1/3");
//! let refused = CheckOutcome::new(CheckStatus::L4Con, None, "Connection refused", Duration::ZERO);
//! assert_eq!(h.record(refused, now), Some(Transition::Down));
//! assert_eq!(h.status_text(false), "DOWN");
//! # Ok::<(), haproxy_check::CheckError>(())
//! ```
//!
//! This crate is part of [haproxy-rs](https://github.com/haproxy-rs/haproxy-rs); see the
//! repository README for the crate map.
#![forbid(unsafe_code)]

pub mod agent;
mod error;
pub mod message;
mod params;
pub mod passive;
#[cfg(feature = "runtime")]
pub mod probe;
#[cfg(feature = "runtime")]
pub mod schedule;
pub mod spread;
mod state;
mod status;

pub use agent::{AgentAdmin, AgentOp, AgentReply};
pub use error::CheckError;
pub use message::BackendCounts;
pub use params::{CheckParams, DEFAULT_FALL, DEFAULT_INTER, DEFAULT_RISE, MAX_RISE_FALL};
pub use passive::{Observe, OnError, Passive};
#[cfg(feature = "runtime")]
pub use schedule::{AgentSpec, Report, Scheduler, ServerSpec};
pub use state::{CheckOutcome, Health, MAX_INFO_LEN, OpState, Transition};
pub use status::{CheckResult, CheckStatus};

/// The README's example, compiled as a doc test.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
