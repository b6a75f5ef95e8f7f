//! Async probes (behind the `runtime` feature): connect, HTTP, tcp-check sequences, protocol checks.

mod agent;
mod http;
mod proto;
mod session;
mod tcpcheck;
mod timeouts;
#[cfg(feature = "tls")]
mod tls;

use std::net::SocketAddr;

pub use agent::{AgentResult, run_agent};
pub use http::{
    HttpCheck, HttpExpect, HttpMatch, HttpSequence, HttpStep, MAX_HTTP_STEPS, MAX_RESPONSE_HEADERS,
    MAX_SEND_HEADERS, MAX_STATUS_RANGES, server_state_value,
};
pub use proto::{
    Custom, MAX_NAME_LEN, MysqlProto, ldap_check, mysql_check, pgsql_check, redis_check,
    smtp_check, ssl_client_hello, ssl_hello_check,
};
pub use session::MAX_RESPONSE;
pub use tcpcheck::{ConnectRule, Expect, MAX_RULES, Matcher, TcpCheck, TcpRule, parse_hex};
pub use timeouts::{CheckConn, CheckTimeouts, ProxyHeader};
#[cfg(feature = "tls")]
pub use tls::TlsCheck;

use crate::CheckOutcome;

/// The kind of active check a server runs.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum CheckKind {
    /// `check` alone: a TCP connect (L4OK / L4CON / L4TOUT).
    Connect,
    /// `option httpchk` and `http-check ...`.
    Http(HttpCheck),
    /// `http-check connect` sequences.
    HttpSeq(HttpSequence),
    /// `option tcp-check` and the protocol checks built on it.
    Tcp(TcpCheck),
}

impl CheckKind {
    /// Runs one check against `target`; `state` feeds `http-check send-state`.
    pub async fn run(
        &self,
        target: SocketAddr,
        conn: impl Into<CheckConn>,
        state: Option<&str>,
    ) -> CheckOutcome {
        let t = conn.into();
        match self {
            Self::Connect => TcpCheck::default().run(target, t).await,
            Self::Http(h) => h.run(target, t, state).await,
            Self::HttpSeq(q) => q.run(target, t, state).await,
            Self::Tcp(c) => c.run(target, t).await,
        }
    }
}
