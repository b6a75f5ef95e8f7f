//! The registry: every frontend, backend and server of the running configuration with its live
//! counters and state, shared by the streams (which record into it), the health checks (which set
//! server health) and the runtime API and stats page (which read and change it).
//!
//! Reading and recording use atomics only; a state or weight change goes through the backend's
//! haproxy-lb balancer, which recomputes only what changed.

mod admin;
mod check;
mod errors;
mod passive;
mod rate;
mod server;
mod sessions;

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, OnceLock};
use std::time::{Instant, SystemTime};

pub use admin::AdminHook;
pub use check::{CheckCommand, CheckControl, CheckSlot, LiveCheck};
pub use errors::{ErrorCaptures, MAX_CAPTURED_BYTES};
pub use passive::{MAX_EVENTS_PER_STREAM, PassiveTap};
pub use rate::RateLimit;
pub use server::{Admin, Health, ServerEntry};
pub use sessions::{
    KillPhase, LiveSession, MAX_LIVE_SESSIONS, MAX_READ_RETRIES, MAX_SHOWN_SESSIONS,
    SLOTS_PER_GRAB, SessionGuard, SessionInfo, SessionTable, serve_as,
};

use crate::build::LbPicker;
use crate::counters::Counters;
use crate::facts::StreamFacts;
use crate::settings::Mode;

/// A frontend (or the frontend side of a listen section).
#[derive(Debug)]
pub struct FrontendEntry {
    /// The name.
    pub name: String,
    /// The proxy id (`iid` in `show stat`), as HAProxy numbers proxies.
    pub id: u32,
    /// `mode`.
    pub mode: Mode,
    /// The counters the frontend's streams record into.
    pub counters: Arc<Counters>,
    /// The configured `maxconn` (0 = unlimited).
    pub maxconn: AtomicU32,
    /// False after `disable frontend` (listeners paused).
    pub enabled: AtomicBool,
    /// `rate-limit sessions`: the frontend's listeners pause while its session rate is at it.
    pub sess_rate: RateLimit,
}

/// A backend (or the backend side of a listen section) and its servers.
#[derive(Debug)]
pub struct BackendEntry {
    /// The name.
    pub name: String,
    /// The proxy id (`iid` in `show stat`).
    pub id: u32,
    /// `mode`.
    pub mode: Mode,
    /// The backend's counters.
    pub counters: Arc<Counters>,
    /// The servers, in configuration order (the balancer's indexes).
    pub servers: Vec<ServerEntry>,
}

/// Every proxy of the running configuration.
#[derive(Debug)]
pub struct Registry {
    /// Frontends, in configuration order.
    pub frontends: Vec<FrontendEntry>,
    /// Backends, in configuration order; the index is the one routing uses.
    pub backends: Vec<BackendEntry>,
    /// The balancers, by backend index.
    pub picker: LbPicker,
    /// When the process started serving (for uptimes and `lastchg`).
    pub started: Instant,
    /// The wall-clock time at `started`.
    pub started_wall: SystemTime,
    /// The process-wide connection limits (`maxconn`), read and changed by the runtime API.
    pub limits: Limits,
    /// Each backend's `fullconn` (the `slim` column), by backend index, set once at start.
    pub fullconn: OnceLock<Vec<u32>>,
    /// What the process says of itself in `show info` and on the stats page, set once at start.
    pub process: OnceLock<crate::admin::ProcessInfo>,
    /// Each backend's UP/DOWN history, by backend index.
    pub backend_states: Vec<BackendState>,
    /// Bumped after a change of `maxconn` or a frontend's enabled flag, so the accept gates
    /// follow it (see [`Registry::limits_changed`]).
    pub limit_changes: tokio::sync::watch::Sender<u64>,
    /// The ACL and map pattern references (`show/add/del/set/clear acl|map`).
    pub patterns: Arc<haproxy_acl::PatternRefs>,
    /// True for each frontend (by index) stopped by `shutdown frontend`: status `STOP`, no new
    /// connection is served again.
    pub frontend_stopped: Vec<AtomicBool>,
    /// The live streams (`show sess`, `shutdown session`).
    pub sessions: Arc<SessionTable>,
    /// The soft stop (SIGUSR1): whether it has begun and how connections are closed.
    pub soft_stop: crate::runtime::SoftStop,
    /// The last malformed request of each frontend (`show errors`).
    pub errors: ErrorCaptures,
    /// Where finished streams' outcomes go for passive health (set while checks run).
    passive: arc_swap::ArcSwapOption<PassiveTap>,
    /// Where admin changes go while health checks run.
    admin_hook: arc_swap::ArcSwapOption<AdminHook>,
}

/// A backend's UP/DOWN history (`chkdown`, `lastchg`, `downtime` of the `BACKEND` row).
#[derive(Debug, Default)]
pub struct BackendState {
    /// True while no server can take traffic.
    pub down: AtomicBool,
    /// UP to DOWN transitions.
    pub downs: AtomicU64,
    /// Registry seconds of the last transition.
    pub last_change: AtomicU64,
    /// Seconds spent down before the current period.
    pub downtime: AtomicU64,
}

impl BackendState {
    /// Seconds spent down, the current period included.
    pub fn downtime_at(&self, now_secs: u64) -> u64 {
        let past = self.downtime.load(Relaxed);
        if self.down.load(Relaxed) {
            past + now_secs.saturating_sub(self.last_change.load(Relaxed))
        } else {
            past
        }
    }
}

/// A stream's place in its backend's and server's current sessions; dropping it leaves.
///
/// Borrows the counters from the registry (no reference count taken and dropped per stream, or
/// per HTTP request: two locked instructions each).
#[derive(Debug)]
pub struct StreamHold<'a> {
    backend: Option<&'a Counters>,
    server: Option<&'a Counters>,
}

impl Drop for StreamHold<'_> {
    fn drop(&mut self) {
        for c in [self.backend, self.server].into_iter().flatten() {
            c.release();
        }
    }
}

/// The global `maxconn` now and as configured (`set maxconn global` moves the first), and the
/// global rate limits.
#[derive(Debug, Default)]
pub struct Limits {
    /// The current global `maxconn` (0 = unlimited).
    pub maxconn: AtomicU32,
    /// The configured global `maxconn`, the ceiling of `set maxconn global`.
    pub hard_maxconn: AtomicU32,
    /// `Maxsock`: the descriptors the process reserved at startup (0 = not settled: `show
    /// info` then reports the open-file limit).
    pub maxsock: AtomicU32,
    /// `maxconnrate` / `set rate-limit connections global`: most accepted connections per
    /// second; every listener pauses while the rate is at it.
    pub conn_rate: RateLimit,
    /// `maxsessrate` / `set rate-limit sessions global`: most new sessions (connections the
    /// `tcp-request connection` rules kept) per second; every listener pauses while at it.
    pub sess_rate: RateLimit,
}

impl Registry {
    /// A registry over the given proxies and balancers.
    pub fn new(
        frontends: Vec<FrontendEntry>,
        backends: Vec<BackendEntry>,
        picker: LbPicker,
    ) -> Registry {
        let backend_states = backends
            .iter()
            .enumerate()
            .map(|(b, be)| BackendState {
                down: AtomicBool::new(
                    !be.servers.is_empty()
                        && picker
                            .0
                            .get(b)
                            .and_then(|p| p.balancer.as_ref())
                            .is_none_or(|lb| (0..be.servers.len()).all(|s| !lb.is_usable(s))),
                ),
                ..BackendState::default()
            })
            .collect();
        let frontend_stopped = frontends.iter().map(|_| AtomicBool::new(false)).collect();
        let errors = ErrorCaptures::new(frontends.len());
        Registry {
            backend_states,
            frontend_stopped,
            frontends,
            backends,
            picker,
            started: Instant::now(),
            started_wall: SystemTime::now(),
            limits: Limits::default(),
            fullconn: OnceLock::new(),
            process: OnceLock::new(),
            soft_stop: crate::runtime::SoftStop::new(),
            limit_changes: tokio::sync::watch::channel(0).0,
            patterns: Arc::default(),
            sessions: Arc::default(),
            errors,
            passive: arc_swap::ArcSwapOption::empty(),
            admin_hook: arc_swap::ArcSwapOption::empty(),
        }
    }

    /// The same registry sharing `patterns` with the compiled ACLs (for the runtime API).
    #[must_use]
    pub fn with_patterns(mut self, patterns: Arc<haproxy_acl::PatternRefs>) -> Registry {
        self.patterns = patterns;
        self
    }

    /// A registry with no proxy, for services built by hand (tests, embedding).
    pub fn empty() -> Arc<Registry> {
        Arc::new(Registry::new(
            Vec::new(),
            Vec::new(),
            LbPicker(Arc::new(Vec::new())),
        ))
    }

    /// Tells the accept gates that a `maxconn` or a frontend's enabled flag changed.
    pub fn limits_changed(&self) {
        self.limit_changes.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// The `show info` block of this process (its version, node, threads… as set at start).
    pub fn info(&self) -> haproxy_stats::Info {
        let none = crate::admin::ProcessInfo::default();
        crate::admin::info(self, self.process.get().unwrap_or(&none))
    }

    /// Seconds since the registry was created (the clock of slow starts and `lastchg`).
    pub fn now_secs(&self) -> u64 {
        self.started.elapsed().as_secs()
    }

    /// The backend named `name`, with its index.
    pub fn backend(&self, name: &str) -> Option<(usize, &BackendEntry)> {
        self.backends
            .iter()
            .enumerate()
            .find(|(_, b)| b.name == name)
    }

    /// The frontend named `name`, with its index.
    pub fn frontend(&self, name: &str) -> Option<(usize, &FrontendEntry)> {
        self.frontends
            .iter()
            .enumerate()
            .find(|(_, f)| f.name == name)
    }

    /// The server `backend/server` by names, with both indexes.
    pub fn server(&self, backend: &str, server: &str) -> Option<(usize, usize, &ServerEntry)> {
        let (b, be) = self.backend(backend)?;
        let (s, sv) = be
            .servers
            .iter()
            .enumerate()
            .find(|(_, s)| s.name == server)?;
        Some((b, s, sv))
    }

    /// The balancer of backend `b` (`None` for a backend without servers).
    pub fn balancer(&self, b: usize) -> Option<&haproxy_lb::Balancer> {
        self.picker.0.get(b)?.balancer.as_ref()
    }

    /// Pushes server `(b, s)`'s effective state (admin + health) to the balancer; call after
    /// changing [`ServerEntry::set_admin`] or [`ServerEntry::set_health`]. Returns whether the
    /// state the balancer sees changed.
    pub fn apply_server_state(&self, b: usize, s: usize) -> bool {
        self.apply_server_state_requeued(b, s).0
    }

    /// [`Registry::apply_server_state`], also moving the queued streams the change concerns
    /// (HAProxy's `pendconn_redistribute()` and `pendconn_grab_from_px()`); returns whether the
    /// state changed and how many queued streams left their queue (sent back to load balancing
    /// by a server going down, handed a slot by one coming up).
    pub fn apply_server_state_requeued(&self, b: usize, s: usize) -> (bool, u32) {
        let (Some(sv), Some(bal)) = (
            self.backends.get(b).and_then(|be| be.servers.get(s)),
            self.picker.0.get(b),
        ) else {
            return (false, 0);
        };
        let Some(lb) = bal.balancer.as_ref() else {
            return (false, 0);
        };
        let state = sv.lb_state();
        let now = self.now_secs();
        let was_usable = lb.is_usable(s);
        let changed = lb.set_state(s, state, now).is_ok() && sv.applied(state, now);
        let requeued = bal.server_changed(s, was_usable);
        self.note_backend(b);
        (changed, requeued)
    }

    /// Records whether backend `b` can still take traffic after a server change (a backend is
    /// DOWN when none of its servers is usable; HAProxy counts each UP to DOWN in `chkdown`).
    fn note_backend(&self, b: usize) {
        let (Some(st), Some(be)) = (self.backend_states.get(b), self.backends.get(b)) else {
            return;
        };
        let down = !be.servers.is_empty()
            && self
                .balancer(b)
                .is_none_or(|lb| (0..be.servers.len()).all(|s| !lb.is_usable(s)));
        if st.down.swap(down, Relaxed) == down {
            return;
        }
        let now = self.now_secs();
        let since = st.last_change.swap(now, Relaxed);
        if down {
            st.downs.fetch_add(1, Relaxed);
        } else {
            st.downtime.fetch_add(now.saturating_sub(since), Relaxed);
        }
    }

    /// Lets streams waiting for server `(b, s)` (in its queue or, while it is usable, the
    /// backend's) take the slots its limit leaves free now, oldest first: HAProxy's
    /// `process_srv_queue()` after `set maxconn server` raised the limit. Returns how many got
    /// a slot.
    pub fn process_server_queue(&self, b: usize, s: usize) -> u32 {
        self.picker.0.get(b).map_or(0, |bal| bal.hand_on(s, None))
    }

    /// Sets server `(b, s)`'s user weight through its balancer.
    ///
    /// # Errors
    /// The balancer's error: a static algorithm refusing the weight, out of range, no server.
    pub fn set_weight(&self, b: usize, s: usize, weight: u32) -> Result<(), haproxy_lb::LbError> {
        let done = match self.balancer(b) {
            Some(lb) => lb.set_weight(s, weight, self.now_secs()),
            None => Err(haproxy_lb::LbError::NoSuchServer { index: s }),
        };
        self.note_backend(b);
        done
    }

    /// Counts a stream on backend `b` and, once chosen, server `s` while the returned hold is
    /// alive (the `scur` / `smax` columns).
    pub fn hold(&self, b: usize, s: Option<usize>) -> StreamHold<'_> {
        self.sessions.note_route(b, s);
        let be = self.backends.get(b);
        let sv = be.and_then(|be| s.and_then(|s| be.servers.get(s)));
        // Two fields, not a list: no allocation per stream (or per HTTP request).
        StreamHold {
            backend: be.map(|be| be.counters.enter()),
            server: sv.map(|sv| sv.counters.enter()),
        }
    }

    /// Counts a stream on server `s` of backend `b` only (its backend hold was taken when the
    /// backend was chosen, so queued streams count there as in HAProxy).
    pub fn hold_server(&self, b: usize, s: usize) -> StreamHold<'_> {
        self.sessions.note_route(b, Some(s));
        let sv = self.backends.get(b).and_then(|be| be.servers.get(s));
        StreamHold {
            backend: None,
            server: sv.map(|sv| sv.counters.enter()),
        }
    }

    /// Records a finished stream (or HTTP request) into its backend's and server's counters
    /// (the frontend's are recorded by the frontend itself).
    pub fn record(&self, facts: &StreamFacts) {
        self.record_at(facts, Instant::now());
    }

    /// [`Registry::record`] with the clock read by the caller (once per stream for every
    /// counter it touches).
    pub(crate) fn record_at(&self, facts: &StreamFacts, now: Instant) {
        let Some(be) = facts.backend.and_then(|b| self.backends.get(b)) else {
            return;
        };
        let stamp = now
            .saturating_duration_since(self.started)
            .as_secs()
            .saturating_add(1);
        let ms = crate::counters::ms_at(now);
        be.counters.sessions_total.fetch_add(1, Relaxed);
        be.counters.session_rate.add_at(ms);
        be.counters.last_session.store(stamp, Relaxed);
        be.counters.record_at(facts, ms);
        if let Some(sv) = facts.server.and_then(|s| be.servers.get(s)) {
            sv.counters.sessions_total.fetch_add(1, Relaxed);
            sv.counters.session_rate.add_at(ms);
            sv.counters.last_session.store(stamp, Relaxed);
            sv.counters.record_at(facts, ms);
        }
        if let Some(tap) = &*self.passive.load() {
            tap.feed(facts);
        }
    }

    /// Installs (or with `None` removes) the hook [`Registry::change_admin`] goes through.
    pub fn set_admin_hook(&self, hook: Option<Arc<AdminHook>>) {
        self.admin_hook.store(hook);
    }

    /// Changes server `(b, s)`'s administrative state as the runtime API does: through the
    /// health checks when they run (checks pause in maintenance, HAProxy's lines such as
    /// `Server be/s is going DOWN for maintenance. ...` are written), else directly on the entry
    /// and the balancer. Returns whether the state changed.
    pub fn change_admin(&self, b: usize, s: usize, admin: Admin) -> bool {
        if let Some(hook) = &*self.admin_hook.load() {
            return hook.apply(b, s, admin);
        }
        let Some(sv) = self.backends.get(b).and_then(|be| be.servers.get(s)) else {
            return false;
        };
        if sv.admin() == admin {
            return false;
        }
        sv.set_admin(admin);
        self.apply_server_state(b, s);
        true
    }

    /// Installs (or with `None` removes) the passive-health tap that [`Registry::record`] feeds.
    pub fn set_passive_tap(&self, tap: Option<Arc<PassiveTap>>) {
        self.passive.store(tap);
    }
}

#[cfg(test)]
mod tests;
