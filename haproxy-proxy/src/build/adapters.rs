//! The adapters between the proxy's extension points and the leaf crates: haproxy-acl conditions
//! for `http-request` rules and `use_backend`, haproxy-lb balancers for server picks, connection
//! slots and queues.

use std::sync::Arc;

use haproxy_acl::{Condition, SampleSource};
use haproxy_lb::{Algorithm, Balancer, Handoff, Pick, RequestKey};

use super::dynamic::{DynamicChoice, DynamicRule};
use super::sample::StreamSample;
use crate::http::RequestCondition;
use crate::route::{ChooseBackend, PickServer, RetryPolicy, StreamView, Take};
use crate::slot::{Handoffs, ServerSlot, SlotOwner};

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
    /// The rules with a fixed name: a condition (`None` = always) and the backend's index.
    pub rules: Vec<(Option<Condition>, usize)>,
    /// The rules with a log-format name, each knowing its place among all `use_backend` lines.
    pub dynamic: Vec<DynamicRule>,
    /// `default_backend` (or the listen section itself).
    pub default: Option<usize>,
}

impl AclChooser {
    /// The backend for a stream seen through any sample source (TCP mode passes the inspected
    /// request buffer, so `use_backend ... if { req.ssl_sni ... }` works).
    pub fn choose_sample(&self, sample: &dyn SampleSource) -> Option<usize> {
        let mut fixed = self.rules.iter();
        let mut dynamic = self.dynamic.iter().peekable();
        for position in 0..self.rules.len() + self.dynamic.len() {
            if let Some(d) = dynamic.next_if(|d| d.position == position) {
                match d.choose(sample) {
                    DynamicChoice::Skip => continue,
                    DynamicChoice::Backend(i) => return Some(i),
                    DynamicChoice::Unknown => break,
                }
            }
            if let Some((c, i)) = fixed.next()
                && c.as_ref().is_none_or(|c| c.eval(sample))
            {
                return Some(*i);
            }
        }
        self.default
    }
}

impl ChooseBackend for AclChooser {
    fn choose(&self, stream: &StreamView<'_>) -> Option<usize> {
        self.choose_sample(&StreamSample(stream))
    }
}

/// One backend's balancer, the header its `hdr(<name>)` algorithm hashes, and its queue.
///
/// It counts connection slots: [`ServerSlot`]s it hands out release through it, and a release
/// passes the slot to the oldest queued stream (server `maxconn`, HAProxy's server and backend
/// queues).
#[derive(Debug)]
pub struct BackendBalancer {
    /// The haproxy-lb balancer (`None` for a backend without servers).
    pub balancer: Option<Balancer>,
    /// The header name for `balance hdr(<name>)`.
    pub hdr_name: Option<String>,
    /// `balance hash <expr>`: the sample whose bytes are hashed; the balancer runs them through
    /// its whole-URI hash, which is the same `gen_hash()` (and avalanche) HAProxy applies.
    pub hash_expr: Option<haproxy_acl::SampleExpr>,
    /// `option abortonclose`: a client that closes while queued leaves the queue.
    pub abort_on_close: bool,
    /// `option redispatch` without `option persist`: a server that stops being usable sends
    /// the streams in its own queue back to load balancing.
    pub redistribute: bool,
    pub(super) handoffs: Handoffs,
}

impl BackendBalancer {
    /// A backend's balancer with an empty queue.
    pub fn new(balancer: Option<Balancer>, hdr_name: Option<String>, abort_on_close: bool) -> Self {
        BackendBalancer {
            balancer,
            hdr_name,
            hash_expr: None,
            abort_on_close,
            redistribute: false,
            handoffs: Handoffs::default(),
        }
    }

    /// Sets [`BackendBalancer::hash_expr`].
    #[must_use]
    pub fn with_hash_expr(mut self, expr: Option<haproxy_acl::SampleExpr>) -> Self {
        self.hash_expr = expr;
        self
    }

    /// Sets [`BackendBalancer::redistribute`].
    #[must_use]
    pub fn with_redistribute(mut self, redistribute: bool) -> Self {
        self.redistribute = redistribute;
        self
    }

    /// HAProxy's `process_srv_queue()` for server `server`: hands `first` (a slot a release
    /// passed on) and then as many free slots of the server as its limit allows to the oldest
    /// waiters of its own queue and the backend's. Returns how many waiters got a slot.
    pub(crate) fn hand_on(self: &Arc<Self>, server: usize, first: Option<Handoff>) -> u32 {
        let Some(lb) = &self.balancer else { return 0 };
        self.hand_out(first, || lb.dequeue(server))
    }

    /// HAProxy's `pendconn_grab_from_px()` for server `server`, which just became usable: the
    /// oldest waiters of the backend's queue take slots on it at once, as many as its limit
    /// allows, when it may serve that queue (backup rules). Returns how many got a slot.
    pub(crate) fn grab(self: &Arc<Self>, server: usize) -> u32 {
        let Some(lb) = &self.balancer else { return 0 };
        self.hand_out(None, || lb.grab(server))
    }

    /// The handoff both share: gives `first`, then each slot `next` takes off a queue, to its
    /// waiter, until `next` has none. A waiter that already left gives its slot back; it is
    /// released again (to the next waiter of that server, as a release does).
    ///
    /// Every turn takes a waiter off a queue, so the loop ends.
    fn hand_out(
        self: &Arc<Self>,
        first: Option<Handoff>,
        mut next_handoff: impl FnMut() -> Option<Handoff>,
    ) -> u32 {
        let Some(lb) = &self.balancer else { return 0 };
        let mut next = first;
        let mut handed = 0;
        loop {
            let Some(h) = next.take().or_else(&mut next_handoff) else {
                return handed;
            };
            let slot = ServerSlot::tracked(h.server, Arc::clone(self) as Arc<dyn SlotOwner>);
            match self.handoffs.deliver(h.ticket, slot) {
                Some(back) => next = lb.release(back.disarm()),
                None => handed += 1,
            }
        }
    }
}

impl SlotOwner for BackendBalancer {
    fn release(self: Arc<Self>, server: usize) {
        let Some(lb) = &self.balancer else { return };
        // Once the freed slot is handed on (or dropped), a dynamic limit that grew with the
        // backend's load lets further waiters in, as HAProxy's `process_srv_queue` does
        // (`dequeue` is `None` at once for a static limit).
        let first = lb.release(server);
        self.hand_on(server, first);
    }

    fn abandon(&self, ticket: u64) {
        let still_queued = self.balancer.as_ref().is_some_and(|lb| lb.cancel(ticket));
        // A slot handed over in the meantime is released as it drops here.
        drop(self.handoffs.abandon(ticket, still_queued));
    }
}

/// The balancers of every backend, shared by all frontends (round robin state, connection
/// counts and queues are per backend).
#[derive(Debug, Clone)]
pub struct LbPicker(pub Arc<Vec<Arc<BackendBalancer>>>);

impl LbPicker {
    /// One pick from `bal`'s balancer, passing over `avoid` as the balancer's algorithm does
    /// (HAProxy's `srvtoavoid`).
    fn take_from(
        bal: &Arc<BackendBalancer>,
        stream: &StreamView<'_>,
        avoid: Option<usize>,
    ) -> Take {
        let Some(lb) = bal.balancer.as_ref() else {
            return Take::NoServer;
        };
        let (v4, v6);
        let source: &[u8] = match stream.src.ip() {
            std::net::IpAddr::V4(a) => {
                v4 = a.octets();
                &v4
            }
            std::net::IpAddr::V6(a) => {
                v6 = a.octets();
                &v6
            }
        };
        let header = match (&bal.hdr_name, stream.request) {
            (Some(name), Some(req)) => req.headers.get(name),
            _ => None,
        };
        // `balance hash <expr>`: the sample's bytes go where the balancer hashes a whole URI.
        let sampled = bal
            .hash_expr
            .as_ref()
            .map(|e| e.eval(&StreamSample(stream)).map(|s| sample_bin(&s)));
        // Only `balance random` draws; the others skip the cost of a draw.
        let random = match lb.config().algorithm {
            Algorithm::Random { .. } => [random_u32()],
            _ => [0],
        };
        let key = RequestKey {
            source: Some(source),
            uri: match &sampled {
                Some(s) => s.as_deref(),
                None => stream.request.map(|r| r.uri.as_bytes()),
            },
            header,
            rdp_cookie: None,
            random: &random,
        };
        let owner = || Arc::clone(bal) as Arc<dyn SlotOwner>;
        match lb.pick_avoiding(&key, avoid) {
            Pick::Server(i) => Take::Ready(ServerSlot::tracked(i, owner())),
            Pick::Queued { ticket, server } => {
                Take::Queued(
                    bal.handoffs
                        .ticket(ticket, server, bal.abort_on_close, owner()),
                )
            }
            Pick::QueueFull { server } => Take::QueueFull { server },
            Pick::NoServer => Take::NoServer,
        }
    }
}

impl PickServer for LbPicker {
    fn pick(&self, backend: usize, stream: &StreamView<'_>, avoid: Option<usize>) -> Option<usize> {
        // The slot is released as it drops: a pick that holds nothing.
        match self.take(backend, stream, avoid) {
            Take::Ready(slot) => Some(slot.server()),
            _ => None,
        }
    }

    /// HAProxy's `srvtoavoid`: the balancer passes over `avoid` by its algorithm's rule
    /// (another server with room when there is one; map-based hashing with a key keeps the
    /// key's server, as HAProxy's does).
    fn take(&self, backend: usize, stream: &StreamView<'_>, avoid: Option<usize>) -> Take {
        let Some(bal) = self.0.get(backend) else {
            return Take::NoServer;
        };
        Self::take_from(bal, stream, avoid)
    }

    fn retry_policy(&self, backend: usize) -> RetryPolicy {
        let Some(lb) = self.0.get(backend).and_then(|b| b.balancer.as_ref()) else {
            return RetryPolicy::default();
        };
        let active = lb
            .servers()
            .iter()
            .enumerate()
            .filter(|(i, s)| !s.backup && lb.is_usable(*i))
            .count();
        RetryPolicy {
            several_active: active > 1,
            hashing: lb.config().algorithm.is_hash(),
        }
    }
}

/// A sample as HAProxy casts it to binary for `balance hash`: strings as they are, integers
/// and booleans as 8 big-endian bytes, addresses as their 4 or 16 bytes.
fn sample_bin(s: &haproxy_acl::Sample<'_>) -> Vec<u8> {
    use haproxy_acl::Sample;
    match s {
        Sample::Str(b) | Sample::Bin(b) => b.to_vec(),
        Sample::Int(i) => i.to_be_bytes().to_vec(),
        Sample::Bool(b) => i64::from(*b).to_be_bytes().to_vec(),
        Sample::Ip(std::net::IpAddr::V4(a)) => a.octets().to_vec(),
        Sample::Ip(std::net::IpAddr::V6(a)) => a.octets().to_vec(),
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

#[cfg(test)]
mod tests {
    use haproxy_lb::{Algorithm, BalanceConfig, Balancer, ServerSpec};

    use super::*;

    fn backend(algo: Algorithm, servers: Vec<ServerSpec>) -> LbPicker {
        let lb = Balancer::new(BalanceConfig::new(algo), servers).unwrap();
        LbPicker(Arc::new(vec![Arc::new(BackendBalancer::new(
            Some(lb),
            None,
            false,
        ))]))
    }

    fn view() -> StreamView<'static> {
        StreamView {
            src: "127.0.0.1:4000".parse().unwrap(),
            dst: "127.0.0.1:80".parse().unwrap(),
            request: None,
        }
    }

    fn parts(p: &LbPicker) -> (&Balancer, &Handoffs) {
        let b = p.0.first().unwrap();
        (b.balancer.as_ref().unwrap(), &b.handoffs)
    }

    #[tokio::test]
    async fn a_release_hands_the_slot_to_the_oldest_waiter() {
        let p = backend(
            Algorithm::RoundRobin,
            vec![ServerSpec::new(1, "a").with_limits(1, 0)],
        );
        let Take::Ready(first) = p.take(0, &view(), None) else {
            panic!("free server")
        };
        let Take::Queued(mut t1) = p.take(0, &view(), None) else {
            panic!("full server queues")
        };
        let Take::Queued(mut t2) = p.take(0, &view(), None) else {
            panic!("full server queues")
        };
        drop(first);
        let s1 = t1.wait().await.unwrap();
        assert_eq!(s1.server(), 0);
        let (lb, handoffs) = parts(&p);
        assert_eq!(lb.connections(0), 1, "the slot moved, it was not freed");
        drop(s1);
        let s2 = t2.wait().await.unwrap();
        drop(s2);
        assert_eq!((lb.connections(0), handoffs.len()), (0, 0));
    }

    #[tokio::test]
    async fn a_waiter_that_leaves_gives_back_what_it_was_handed() {
        let p = backend(
            Algorithm::LeastConn,
            vec![ServerSpec::new(1, "a").with_limits(1, 0)],
        );
        let Take::Ready(first) = p.take(0, &view(), None) else {
            panic!("free server")
        };
        let Take::Queued(left_early) = p.take(0, &view(), None) else {
            panic!("queued")
        };
        let Take::Queued(handed) = p.take(0, &view(), None) else {
            panic!("queued")
        };
        // Leaves while queued: out of the queue, nothing handed to it later.
        drop(left_early);
        // Handed a slot (release) but dropped before collecting it: the slot comes back.
        drop(first);
        drop(handed);
        let (lb, handoffs) = parts(&p);
        assert_eq!((lb.connections(0), handoffs.len()), (0, 0));
        assert!(matches!(p.take(0, &view(), None), Take::Ready(_)));
    }

    #[test]
    fn a_full_server_queue_is_refused_and_avoid_prefers_another_server() {
        let p = backend(
            Algorithm::Source,
            vec![ServerSpec::new(1, "a").with_limits(1, 1)],
        );
        let _busy = p.take(0, &view(), None);
        let _queued = p.take(0, &view(), None);
        assert!(matches!(
            p.take(0, &view(), None),
            Take::QueueFull { server: Some(0) }
        ));
        let p = backend(
            Algorithm::RoundRobin,
            vec![ServerSpec::new(1, "a"), ServerSpec::new(2, "b")],
        );
        for _ in 0..4 {
            assert_eq!(p.pick(0, &view(), Some(0)), Some(1));
        }
        let (lb, _) = parts(&p);
        assert_eq!(
            lb.connections(0) + lb.connections(1),
            0,
            "pick holds nothing"
        );
        assert!(p.retry_policy(0).redispatch_every_retry());
        // `first` sends everything to `a` while it has room, but not a request avoiding it.
        let p = backend(
            Algorithm::First,
            vec![ServerSpec::new(1, "a"), ServerSpec::new(2, "b")],
        );
        assert_eq!(p.pick(0, &view(), None), Some(0));
        assert_eq!(p.pick(0, &view(), Some(0)), Some(1));
        let (lb, _) = parts(&p);
        assert_eq!(lb.connections(0) + lb.connections(1), 0);
    }

    #[test]
    fn a_consistent_hash_redispatch_leaves_the_keys_server_and_a_map_keeps_it() {
        let servers = || vec![ServerSpec::new(1, "a"), ServerSpec::new(2, "b")];
        let lb = Balancer::new(
            BalanceConfig::new(Algorithm::Source).with_hash(
                haproxy_lb::HashType::Consistent,
                haproxy_lb::Hasher {
                    function: haproxy_lb::HashFunction::Sdbm,
                    avalanche: true,
                },
            ),
            servers(),
        )
        .unwrap();
        let p = LbPicker(Arc::new(vec![Arc::new(BackendBalancer::new(
            Some(lb),
            None,
            false,
        ))]));
        let home = p.pick(0, &view(), None).unwrap();
        assert_eq!(p.pick(0, &view(), Some(home)), Some(1 - home));
        let p = backend(Algorithm::Source, servers());
        let home = p.pick(0, &view(), None).unwrap();
        assert_eq!(p.pick(0, &view(), Some(home)), Some(home));
    }
}
