//! The agent-check probe: connect to `agent-addr:agent-port`, send `agent-send`, read one line.

use std::net::SocketAddr;

use tokio::time::Instant;

use super::CheckTimeouts;
use super::session::{Next, Session};
use crate::agent::{AgentReply, MAX_AGENT_LINE};
use crate::{CheckOutcome, CheckStatus};

/// What one agent check produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentResult {
    /// The agent check's own status (`agent_status`, `agent_desc`, `last_agt`).
    pub outcome: CheckOutcome,
    /// The parsed reply, when the agent answered.
    pub reply: Option<AgentReply>,
}

/// Runs one agent check. Connection problems only affect the agent's own status: HAProxy
/// never marks a server down because its agent is unreachable.
pub async fn run_agent(target: SocketAddr, send: &[u8], t: CheckTimeouts) -> AgentResult {
    let start = Instant::now();
    let fail = |status, info: String| AgentResult {
        outcome: CheckOutcome::new(status, None, info, start.elapsed()),
        reply: None,
    };
    let next = if send.is_empty() {
        Next::Expect
    } else {
        Next::Send
    };
    let mut s = match Session::connect(target, &t.into(), start, next).await {
        Ok(s) => s,
        Err(e) => return fail(e.status, e.info),
    };
    if !send.is_empty()
        && let Err(e) = s.send(send).await
    {
        return fail(e.status, e.info);
    }
    loop {
        let has_line = s.buf.iter().any(|b| *b == b'\r' || *b == b'\n');
        if has_line || s.is_last() || s.buf.len() >= MAX_AGENT_LINE {
            break;
        }
        match s.fill().await {
            Ok(true) => {}
            Ok(false) => return fail(CheckStatus::L7Timeout, String::new()),
            Err(e) => return fail(e.status, e.info),
        }
    }
    if s.buf.is_empty() {
        return fail(CheckStatus::L7Rsp, "empty agent reply".to_owned());
    }
    let line = s
        .buf
        .get(..MAX_AGENT_LINE.min(s.buf.len()))
        .unwrap_or_default();
    let reply = AgentReply::parse(&String::from_utf8_lossy(line));
    AgentResult {
        outcome: reply.outcome(start.elapsed()),
        reply: Some(reply),
    }
}
