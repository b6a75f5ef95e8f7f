//! The passive-health tap: when health checks run with `observe`, the registry hands every
//! finished stream's connection and response outcome to them (one atomic load per stream when no
//! tap is installed).

use std::fmt;

use haproxy_check::passive::Event;

use crate::facts::StreamFacts;
use crate::side::{Side, StreamState};

/// Most connect errors one stream reports (its retries are bounded by `retries` anyway).
pub const MAX_EVENTS_PER_STREAM: u32 = 16;

type TapFn = dyn Fn(usize, usize, Event) + Send + Sync;

/// Receives `(backend, server, event)` for passive health.
pub struct PassiveTap(Box<TapFn>);

impl fmt::Debug for PassiveTap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PassiveTap")
    }
}

impl PassiveTap {
    /// A tap calling `f(backend, server, event)`.
    pub fn new(f: impl Fn(usize, usize, Event) + Send + Sync + 'static) -> PassiveTap {
        PassiveTap(Box::new(f))
    }

    /// Feeds the outcomes of one finished stream: its failed connects, then a successful
    /// connect, then the response (status, or how reading it failed).
    pub fn feed(&self, facts: &StreamFacts) {
        let (Some(b), Some(s)) = (facts.backend, facts.server) else {
            return;
        };
        let server_side = matches!(facts.termination.side, Side::Server | Side::ServerTimeout);
        let connected = facts.timers.tc.is_some();
        // Every attempt before the last one failed: on the server the stream ended on, or, when
        // a redispatch (which happens on the last retry) moved it, on the server it left.
        let before = facts.redispatched_from.unwrap_or(s);
        for _ in 0..facts.retries.min(MAX_EVENTS_PER_STREAM) {
            (self.0)(b, before, Event::ConnectError);
        }
        if !connected {
            if server_side && facts.termination.state == StreamState::Connect {
                (self.0)(b, s, Event::ConnectError);
            }
            return;
        }
        (self.0)(b, s, Event::ConnectOk);
        match (
            facts.status,
            facts.termination.side,
            facts.termination.state,
        ) {
            (_, Side::ServerTimeout, StreamState::Headers) => (self.0)(b, s, Event::ReadTimeout),
            (_, Side::Server, StreamState::Headers) => (self.0)(b, s, Event::BrokenPipe),
            (_, Side::Proxy, StreamState::Headers) => (self.0)(b, s, Event::HttpInvalid),
            (Some(st), _, _) => (self.0)(b, s, Event::HttpStatus(st)),
            _ => {}
        }
    }
}
