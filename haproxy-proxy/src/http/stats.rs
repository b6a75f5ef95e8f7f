//! Answering the stats page (`stats uri`) and the Prometheus exporter service from an HTTP
//! session: both are local answers built from the registry (termination `LR`).

use tokio::io::{AsyncRead, AsyncWrite};

use super::body::relay;
use super::session::{HttpService, send_reply};
use crate::errors::Reply;
use crate::facts::StreamFacts;
use crate::h1::{BodyFraming, RequestHead};
use crate::route::StreamView;
use crate::side::{Side, StreamState, Termination};
use crate::statspage::{FormResult, MAX_FORM_LEN, StatsPage};

/// The Prometheus exporter's answer to `uri` (the `scope` query parameters filter families).
pub(crate) fn prometheus_reply(reg: &crate::registry::Registry, uri: &str) -> Reply {
    let query = uri.split_once('?').map_or("", |(_, q)| q);
    let snap = crate::admin::snapshot(reg);
    let info = reg.info();
    let text = haproxy_stats::prometheus::render(
        &snap,
        &info,
        haproxy_stats::prometheus::Scopes::from_query(query),
    );
    crate::statspage::page_reply(200, "text/plain; version=0.0.4", None, text.as_bytes())
}

/// Serves a request for the stats page; returns whether the client connection stays open.
#[expect(
    clippy::too_many_arguments,
    reason = "the session's pieces, as handle_request has them"
)]
pub(super) async fn serve_stats<C, B, P>(
    svc: &HttpService<B, P>,
    page: &StatsPage,
    client: &mut C,
    buf: &mut Vec<u8>,
    req: &RequestHead,
    framing: BodyFraming,
    view: &StreamView<'_>,
    client_ka: bool,
    facts: &mut StreamFacts,
) -> bool
where
    C: AsyncRead + AsyncWrite + Unpin,
{
    let ct = svc.frontend.timeouts.client;
    facts.termination = Termination::new(Side::Local, StreamState::Request);
    let mut body_read = false;
    let reply = if let Some(challenge) = page.challenge(req.headers.get("authorization")) {
        challenge
    } else if req.method.eq_ignore_ascii_case("POST") {
        let admin = page.is_admin(view);
        let fits = matches!(framing, BodyFraming::None)
            || matches!(framing, BodyFraming::Length(n) if n <= MAX_FORM_LEN as u64);
        let mut body = Vec::new();
        let read = if fits {
            relay(client, buf, &mut body, framing, ct, None).await
        } else {
            relay(client, buf, &mut tokio::io::sink(), framing, ct, None).await
        };
        if read.is_err() {
            facts.termination = Termination::new(Side::Client, StreamState::Data);
            return false;
        }
        body_read = true;
        if fits {
            page.post(&svc.registry, admin, &body).0
        } else {
            let (mut r, _) = page.post(&svc.registry, false, &[]);
            r.headers.remove("location");
            r.headers.push(
                b"location",
                format!("{};st={}", page.uri, FormResult::Excd.code()).as_bytes(),
            );
            r
        }
    } else {
        page.get(&svc.registry, &req.uri, page.is_admin(view))
    };
    facts.status = Some(reply.status);
    facts.bytes_out += reply.body.len() as u64;
    let case = svc.frontend.case_adjust.as_deref();
    if !send_reply(client, &reply, req.version, client_ka, ct, case).await {
        return false;
    }
    if body_read {
        return client_ka;
    }
    relay(client, buf, &mut tokio::io::sink(), framing, ct, None)
        .await
        .is_ok()
        && client_ka
}
