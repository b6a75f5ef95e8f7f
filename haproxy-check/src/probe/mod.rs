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

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::CheckOutcome;

/// The future a [`Probe`] returns.
pub type ProbeFuture<'a> = Pin<Box<dyn Future<Output = CheckOutcome> + Send + 'a>>;

/// A user-supplied check, for protocols HAProxy has no built-in check for (gRPC health, ...).
///
/// The outcome's status drives the rise/fall counter like any built-in check.
pub trait Probe: Send + Sync + fmt::Debug {
    /// Runs one check against `target` using `conn`'s deadlines.
    fn probe<'a>(&'a self, target: SocketAddr, conn: &'a CheckConn) -> ProbeFuture<'a>;
}

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
    /// A caller-supplied probe.
    Custom(Arc<dyn Probe>),
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
            Self::Custom(p) => p.probe(target, &t).await,
            Self::Tcp(c) => c.run(target, t).await,
        }
    }
}
