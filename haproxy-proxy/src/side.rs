//! Who ended a stream, and in which state: HAProxy's two-letter termination state (reference §7.4).

use std::fmt;

/// The party to blame for the end of a stream (the first letter of the termination state).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Side {
    /// The client aborted (`C`).
    Client,
    /// The server aborted or refused (`S`).
    Server,
    /// The proxy aborted: deny, limit, security check (`P`).
    Proxy,
    /// A local answer: redirect, return, stats (`L`).
    Local,
    /// A resource was exhausted (`R`).
    Resource,
    /// An internal error (`I`).
    Internal,
    /// The client side timed out (`c`).
    ClientTimeout,
    /// The server side timed out (`s`).
    ServerTimeout,
    /// Killed because the server was marked down (`on-marked-down shutdown-sessions`, `D`).
    ServerDown,
    /// Killed because an active server came up (`on-marked-up shutdown-backup-sessions`, `U`).
    ServerUp,
    /// Killed by the administrator (`shutdown session`) or by `hard-stop-after` (`K`).
    Killed,
    /// Nobody: the stream ended normally (`-`).
    Normal,
}

impl Side {
    /// HAProxy's letter for this side.
    pub fn code(self) -> char {
        match self {
            Side::Client => 'C',
            Side::Server => 'S',
            Side::Proxy => 'P',
            Side::Local => 'L',
            Side::Resource => 'R',
            Side::Internal => 'I',
            Side::ClientTimeout => 'c',
            Side::ServerTimeout => 's',
            Side::ServerDown => 'D',
            Side::ServerUp => 'U',
            Side::Killed => 'K',
            Side::Normal => '-',
        }
    }
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Side::Client | Side::ClientTimeout => "client",
            Side::Server | Side::ServerTimeout => "server",
            Side::ServerDown => "server down",
            Side::ServerUp => "server up",
            Side::Killed => "killed",
            Side::Proxy => "proxy",
            Side::Local => "local",
            Side::Resource => "resource",
            Side::Internal => "internal",
            Side::Normal => "none",
        };
        f.write_str(s)
    }
}

/// The stream state when it ended (the second letter of the termination state).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StreamState {
    /// Waiting for the request (`R`).
    Request,
    /// Queued for a server (`Q`).
    Queue,
    /// Connecting to the server (`C`).
    Connect,
    /// Waiting for the response headers (`H`).
    Headers,
    /// Transferring data (`D`).
    Data,
    /// Transferring the last data (`L`).
    LastData,
    /// Tarpitted (`T`).
    Tarpit,
    /// Nothing special (`-`).
    Normal,
}

impl StreamState {
    /// HAProxy's letter for this state.
    pub fn code(self) -> char {
        match self {
            StreamState::Request => 'R',
            StreamState::Queue => 'Q',
            StreamState::Connect => 'C',
            StreamState::Headers => 'H',
            StreamState::Data => 'D',
            StreamState::LastData => 'L',
            StreamState::Tarpit => 'T',
            StreamState::Normal => '-',
        }
    }
}

/// A full termination state: who ended the stream and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Termination {
    /// Who ended it.
    pub side: Side,
    /// In which state.
    pub state: StreamState,
}

impl Termination {
    /// A normally ended stream (`--`).
    pub const NORMAL: Termination = Termination {
        side: Side::Normal,
        state: StreamState::Normal,
    };

    /// Creates a termination state.
    pub fn new(side: Side, state: StreamState) -> Self {
        Termination { side, state }
    }
}

impl fmt::Display for Termination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.side.code(), self.state.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn termination_states_print_as_haproxy_logs_them() {
        assert_eq!(
            Termination::new(Side::ClientTimeout, StreamState::Request).to_string(),
            "cR"
        );
        assert_eq!(
            Termination::new(Side::Server, StreamState::Headers).to_string(),
            "SH"
        );
        assert_eq!(
            Termination::new(Side::Proxy, StreamState::Request).to_string(),
            "PR"
        );
        assert_eq!(
            Termination::new(Side::ServerTimeout, StreamState::Queue).to_string(),
            "sQ"
        );
        assert_eq!(Termination::NORMAL.to_string(), "--");
    }
}
