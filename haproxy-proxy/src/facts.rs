//! Per-stream facts recorded for logs, stats and the runtime API (reference §7.3-§7.4).

use std::time::Duration;

use crate::side::Termination;

/// HAProxy's log timers; `None` is HAProxy's `-1` (the event never happened).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Timers {
    /// `Th`: handshake time.
    pub th: Option<Duration>,
    /// `Ti`: idle time before the request.
    pub ti: Option<Duration>,
    /// `TR`: time to receive the request head.
    pub tr_req: Option<Duration>,
    /// `Tw`: time in queues.
    pub tw: Option<Duration>,
    /// `Tc`: time to connect to the server.
    pub tc: Option<Duration>,
    /// `Tr`: time for the server to send the response head.
    pub tr_resp: Option<Duration>,
    /// `Ta`: active time of the request.
    pub ta: Option<Duration>,
    /// `Tt`: total session time.
    pub tt: Option<Duration>,
}

/// Renders a timer as HAProxy logs it: milliseconds, or `-1`.
pub fn timer_ms(t: Option<Duration>) -> i64 {
    t.map_or(-1, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Everything a log line or a stats update needs about one stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamFacts {
    /// The timers.
    pub timers: Timers,
    /// The termination state.
    pub termination: Termination,
    /// Bytes received from the client.
    pub bytes_in: u64,
    /// Bytes sent to the client.
    pub bytes_out: u64,
    /// Connection retries.
    pub retries: u32,
    /// True when the last retry went to another server.
    pub redispatched: bool,
    /// The chosen backend.
    pub backend: Option<usize>,
    /// The chosen server.
    pub server: Option<usize>,
    /// The server of the first connection attempts when `option redispatch` moved the stream
    /// to `server` (they failed there; passive health counts them).
    pub redispatched_from: Option<usize>,
    /// The HTTP status sent to the client.
    pub status: Option<u16>,
}

impl Default for StreamFacts {
    fn default() -> Self {
        StreamFacts {
            timers: Timers::default(),
            termination: Termination::NORMAL,
            bytes_in: 0,
            bytes_out: 0,
            retries: 0,
            redispatched: false,
            backend: None,
            server: None,
            redispatched_from: None,
            status: None,
        }
    }
}
