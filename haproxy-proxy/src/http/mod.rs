//! HTTP/1.1 streams: keep-alive on both sides, HAProxy's connection modes, request rules,
//! routing, forwarding of heads and streamed bodies, and the generated responses.
//!
//! The stages are described in `h1/LIFECYCLE.md`.

mod body;
mod buffer;
mod pool;
mod rules;
mod session;
mod stats;
#[cfg(test)]
mod tests;

pub use pool::{MAX_IDLE_PER_SERVER, ServerPool};
pub use rules::{RedirectKind, RequestCondition, RequestRule, RuleAction};
pub(crate) use session::serve_http_at;
pub use session::{HttpService, serve_http};
