//! HAProxy-compatible load-balancing algorithms and consistent hashing, without I/O.
//!
//! Servers are addressed by their index in the list given to [`Balancer::new`]; the caller
//! maps indices to its own server objects. Picks are safe from many threads at once.
//!
//! ```
//! use haproxy_lb::{Algorithm, BalanceConfig, Balancer, Pick, RequestKey, ServerSpec};
//!
//! let servers = vec![
//!     ServerSpec::new(1, "a").with_weight(1),
//!     ServerSpec::new(2, "b").with_weight(2),
//!     ServerSpec::new(3, "c").with_weight(3),
//! ];
//! let lb = Balancer::new(BalanceConfig::new(Algorithm::RoundRobin), servers)?;
//! let mut order = String::new();
//! for _ in 0..6 {
//!     let Pick::Server(i) = lb.pick(&RequestKey::default()) else { unreachable!() };
//!     order.push_str(&lb.servers()[i].name);
//!     lb.release(i);
//! }
//! assert_eq!(order, "cbcacb"); // HAProxy 2.6's own order for weights 1/2/3
//! # Ok::<(), haproxy_lb::LbError>(())
//! ```
//!
//! This crate is part of [haproxy-rs](https://github.com/haproxy-rs/haproxy-rs); see the
//! repository README for the crate map.
#![forbid(unsafe_code)]

mod algo;
mod balancer;
mod error;
pub mod hash;
mod key;
mod server;

pub use algo::kind::{Algorithm, BalanceConfig, HashType};
pub use balancer::{Balancer, Handoff, MAX_DRAWS, MAX_QUEUE, Pick, RequestKey, dynamic_maxconn};
pub use error::LbError;
pub use hash::HashFunction;
pub use key::{Hasher, UriOptions, uri_path, url_param_value};
pub use server::{MAX_SERVERS, MAX_WEIGHT, ServerSpec, ServerState};

#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
