//! The adapters between the proxy's extension points and the leaf crates: haproxy-acl conditions
//! for `http-request` rules and `use_backend`, haproxy-lb balancers for server picks.

use std::sync::Arc;

use haproxy_acl::{Condition, SampleSource};
use haproxy_lb::{Algorithm, Balancer, Pick, RequestKey};

use super::sample::StreamSample;
use crate::http::RequestCondition;
use crate::route::{ChooseBackend, PickServer, StreamView};

/// A compiled `if|unless` condition (the `unless` is inside the condition).
#[derive(Debug)]
pub struct AclCondition(pub Condition);

impl RequestCondition for AclCondition {
    fn matches(&self, stream: &StreamView<'_>) -> bool {
        self.0.eval(&StreamSample(stream))
    }
}

/// `use_backend NAME if|unless COND` lines in order, then `default_backend`.
#[derive(Debug, Default, Clone)]
pub struct AclChooser {
    /// The rules: a condition (`None` = always) and the backend's index.
    pub rules: Vec<(Option<Condition>, usize)>,
    /// `default_backend` (or the listen section itself).
    pub default: Option<usize>,
}

impl AclChooser {
    /// The backend for a stream seen through any sample source (TCP mode passes the inspected
    /// request buffer, so `use_backend ... if { req.ssl_sni ... }` works).
    pub fn choose_sample(&self, sample: &dyn SampleSource) -> Option<usize> {
        self.rules
            .iter()
            .find(|(c, _)| c.as_ref().is_none_or(|c| c.eval(sample)))
            .map(|(_, i)| *i)
            .or(self.default)
    }
}

impl ChooseBackend for AclChooser {
    fn choose(&self, stream: &StreamView<'_>) -> Option<usize> {
        self.choose_sample(&StreamSample(stream))
    }
}

/// One backend's balancer and the header its `hdr(<name>)` algorithm hashes.
#[derive(Debug)]
pub struct BackendBalancer {
    /// The haproxy-lb balancer (`None` for a backend without servers).
    pub balancer: Option<Balancer>,
    /// The header name for `balance hdr(<name>)`.
    pub hdr_name: Option<String>,
}

/// The balancers of every backend, shared by all frontends (round robin state is per backend).
#[derive(Debug, Clone)]
pub struct LbPicker(pub Arc<Vec<BackendBalancer>>);

impl LbPicker {
    fn pick_once(&self, bal: &BackendBalancer, stream: &StreamView<'_>) -> Option<usize> {
        let lb = bal.balancer.as_ref()?;
        let source = match stream.src.ip() {
            std::net::IpAddr::V4(a) => a.octets().to_vec(),
            std::net::IpAddr::V6(a) => a.octets().to_vec(),
        };
        let header = match (&bal.hdr_name, stream.request) {
            (Some(name), Some(req)) => req.headers.get(name),
            _ => None,
        };
        let random = [random_u32()];
        let key = RequestKey {
            source: Some(&source),
            uri: stream.request.map(|r| r.uri.as_bytes()),
            header,
            rdp_cookie: None,
            random: &random,
        };
        match lb.pick(&key) {
            Pick::Server(i) => {
                // Connections are not tracked per server yet (no server queue): the slot is
                // handed back at once, so leastconn/first see idle servers.
                let _ = lb.release(i);
                Some(i)
            }
            Pick::Queued { ticket, .. } => {
                let _ = lb.cancel(ticket);
                None
            }
            Pick::QueueFull { .. } | Pick::NoServer => None,
        }
    }
}

/// The most picks tried to find a server other than the one to avoid (`option redispatch`).
pub const MAX_REDISPATCH_PICKS: usize = 8;

impl PickServer for LbPicker {
    fn pick(&self, backend: usize, stream: &StreamView<'_>, avoid: Option<usize>) -> Option<usize> {
        let bal = self.0.get(backend)?;
        let first = self.pick_once(bal, stream)?;
        if avoid != Some(first) {
            return Some(first);
        }
        (1..MAX_REDISPATCH_PICKS)
            .filter_map(|_| self.pick_once(bal, stream))
            .find(|i| Some(*i) != avoid)
            .or(Some(first))
    }
}

/// A cheap per-process random number for `balance random` (not cryptographic).
fn random_u32() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or_default(),
    );
    h.finish() as u32
}

/// Whether an algorithm hashes a header (its name is needed at pick time).
pub(crate) fn hdr_name(algo: &Algorithm) -> Option<String> {
    match algo {
        Algorithm::Hdr { name, .. } => Some(name.clone()),
        _ => None,
    }
}
