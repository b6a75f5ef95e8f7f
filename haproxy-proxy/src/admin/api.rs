//! [`Admin`]: the runtime API (`haproxy_stats::cli::RuntimeApi`) over the live registry. Every
//! change goes through the registry, so the balancers and the next request see it at once.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};

use haproxy_stats::cli::{
    AdminState, ApiError, CheckKind, ErrorDirection, HealthState, Level, MatchFound, MatchReport,
    PatternEntry, PatternKind, PatternRef, RateLimit, RuntimeApi, ServerOption,
};
use haproxy_stats::{Info, Snapshot};

use super::info::{ProcessInfo, info};
use super::snapshot::snapshot;
use crate::registry::{Admin as AdminFlag, Health, Registry};

/// The `set rate-limit … global` values kept for `show info` only (the connection and session
/// limits live in the registry, where the listeners read them).
#[derive(Debug, Default, Clone, Copy)]
struct RateLimits {
    ssl_sessions: u32,
    http_compression: u32,
}

/// The runtime API of one process: cheap to clone, one clone per CLI connection.
#[derive(Debug, Clone)]
pub struct Admin {
    registry: Arc<Registry>,
    process: Arc<ProcessInfo>,
    rates: Arc<Mutex<RateLimits>>,
    cli_sessions: Arc<AtomicU32>,
    /// CLI sessions opened since the start (HAProxy's `GLOBAL` proxy's cumulated connections).
    cli_total: Arc<AtomicU64>,
    sockets: Arc<Mutex<Vec<(String, Level)>>>,
}

/// Counts one open CLI session while alive (HAProxy counts it in `Jobs`).
#[derive(Debug)]
pub(crate) struct CliSessionGuard(Arc<AtomicU32>);

impl Drop for CliSessionGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Relaxed);
    }
}

fn unsupported(what: &str) -> ApiError {
    // COMPAT: haproxy-rs cannot change this at run time yet; HAProxy would apply it.
    ApiError::Invalid(format!("'{what}' is not supported by this build."))
}

impl Admin {
    /// The runtime API over `registry`, describing the process with `process`.
    #[must_use]
    pub fn new(registry: Arc<Registry>, process: ProcessInfo) -> Admin {
        Admin {
            registry,
            process: Arc::new(process),
            rates: Arc::new(Mutex::new(RateLimits::default())),
            cli_sessions: Arc::new(AtomicU32::new(0)),
            cli_total: Arc::new(AtomicU64::new(0)),
            sockets: Arc::default(),
        }
    }

    /// The count of CLI sessions opened since the start, shared with every clone (HAProxy
    /// reports it as the cumulated connections of its `GLOBAL` proxy when it stops).
    #[must_use]
    pub fn cli_sessions_total(&self) -> Arc<AtomicU64> {
        Arc::clone(&self.cli_total)
    }

    /// The count of CLI sessions open now, shared with every clone (the current connections
    /// of HAProxy's `GLOBAL` proxy).
    #[must_use]
    pub fn cli_sessions_current(&self) -> Arc<AtomicU32> {
        Arc::clone(&self.cli_sessions)
    }

    /// The registry this API reads and changes.
    #[must_use]
    pub fn registry(&self) -> &Arc<Registry> {
        &self.registry
    }

    /// Records the open stats sockets (`show cli sockets`).
    pub(crate) fn set_sockets(&self, sockets: Vec<(String, Level)>) {
        if let Ok(mut s) = self.sockets.lock() {
            *s = sockets;
        }
    }

    /// Counts a CLI session until the guard drops.
    pub(crate) fn open_cli_session(&self) -> CliSessionGuard {
        self.cli_total.fetch_add(1, Relaxed);
        self.cli_sessions.fetch_add(1, Relaxed);
        CliSessionGuard(Arc::clone(&self.cli_sessions))
    }

    fn server(&self, backend: &str, server: &str) -> Result<(usize, usize), ApiError> {
        let (b, be) = self
            .registry
            .backend(backend)
            .ok_or(ApiError::NoSuchBackend)?;
        let s = be
            .servers
            .iter()
            .position(|s| s.name == server)
            .ok_or(ApiError::NoSuchServer)?;
        Ok((b, s))
    }

    fn entry(&self, b: usize, s: usize) -> Result<&crate::registry::ServerEntry, ApiError> {
        self.registry
            .backends
            .get(b)
            .and_then(|be| be.servers.get(s))
            .ok_or(ApiError::NoSuchServer)
    }

    fn is_stopped(&self, frontend: usize) -> bool {
        self.registry
            .frontend_stopped
            .get(frontend)
            .is_some_and(|s| s.load(Relaxed))
    }

    /// The pattern reference `name` (file or `#id`) of the right kind.
    fn pattern(
        &self,
        kind: PatternKind,
        name: &str,
    ) -> Result<Arc<haproxy_acl::PatternRef>, ApiError> {
        self.registry
            .patterns
            .find(name)
            .ok()
            .filter(|r| r.is_map() == (kind == PatternKind::Map))
            .ok_or(ApiError::UnknownPatternRef)
    }

    fn rates(&self) -> RateLimits {
        self.rates.lock().map(|r| *r).unwrap_or_default()
    }
}

impl RuntimeApi for Admin {
    fn version(&self) -> String {
        self.process.version.clone()
    }

    fn snapshot(&self) -> Snapshot {
        snapshot(&self.registry)
    }

    fn info(&self) -> Info {
        let mut i = info(&self.registry, &self.process);
        let r = self.rates();
        i.conn_rate_limit = self.registry.limits.conn_rate.limit();
        i.sess_rate_limit = self.registry.limits.sess_rate.limit();
        i.ssl_rate_limit = r.ssl_sessions;
        i.compress_bps_rate_lim = r.http_compression.saturating_mul(1024);
        i.jobs = i.jobs.saturating_add(self.cli_sessions.load(Relaxed));
        i
    }

    fn weight(&self, backend: &str, server: &str) -> Result<(u32, u32), ApiError> {
        let (b, s) = self.server(backend, server)?;
        let sv = self.entry(b, s)?;
        let cur = self
            .registry
            .balancer(b)
            .and_then(|lb| lb.weight(s))
            .unwrap_or(sv.initial_weight);
        Ok((cur, sv.initial_weight))
    }

    fn set_weight(&mut self, backend: &str, server: &str, weight: u32) -> Result<(), ApiError> {
        let (b, s) = self.server(backend, server)?;
        self.registry.set_weight(b, s, weight).map_err(|e| match e {
            haproxy_lb::LbError::StaticWeight => ApiError::StaticAlgorithm,
            haproxy_lb::LbError::NoSuchServer { .. } => ApiError::NoSuchServer,
            _ => ApiError::OutOfRange,
        })
    }

    fn set_admin_state(
        &mut self,
        backend: &str,
        server: &str,
        state: AdminState,
    ) -> Result<(), ApiError> {
        let (b, s) = self.server(backend, server)?;
        let sv = self.entry(b, s)?;
        sv.set_admin(match state {
            AdminState::Ready => AdminFlag::Ready,
            AdminState::Drain => AdminFlag::Drain,
            AdminState::Maint => AdminFlag::Maint,
        });
        if state == AdminState::Maint {
            sv.unchecked_health.store(0, Relaxed);
        }
        self.registry.apply_server_state(b, s);
        Ok(())
    }

    fn set_health(
        &mut self,
        backend: &str,
        server: &str,
        state: HealthState,
    ) -> Result<(), ApiError> {
        let (b, s) = self.server(backend, server)?;
        let sv = self.entry(b, s)?;
        sv.set_health(match state {
            HealthState::Up => Health::Up,
            HealthState::Stopping => Health::NoLb,
            HealthState::Down => Health::Down,
        });
        // HAProxy's counter for a server without a check: full after up/stopping, 0 when down.
        let full = if state == HealthState::Down { 0 } else { 4 };
        sv.unchecked_health.store(full, Relaxed);
        self.registry.apply_server_state(b, s);
        Ok(())
    }

    fn set_agent(&mut self, backend: &str, server: &str, up: bool) -> Result<(), ApiError> {
        let (b, s) = self.server(backend, server)?;
        let sv = self.entry(b, s)?;
        if sv.checks.agent().is_none() {
            return Err(ApiError::AgentNotEnabled);
        }
        sv.set_health(if up { Health::Up } else { Health::Down });
        self.registry.apply_server_state(b, s);
        Ok(())
    }

    fn set_addr(
        &mut self,
        backend: &str,
        server: &str,
        addr: &str,
        port: Option<u16>,
    ) -> Result<(String, u16), ApiError> {
        let (b, s) = self.server(backend, server)?;
        let sv = self.entry(b, s)?;
        let ip: std::net::IpAddr = addr.parse().map_err(|_| {
            ApiError::Invalid(format!("Invalid addr '{addr}' by 'stats socket command'"))
        })?;
        let old = sv.current_addr();
        let new = std::net::SocketAddr::new(ip, port.unwrap_or(old.port()));
        sv.set_addr(new);
        // The health check follows the server's address; its port follows the server's
        // unless it has its own (`port`, `check-port`).
        if let Some(t) = sv.checks.target() {
            let check_port = match sv.check_port() {
                Some(p) => p,
                None if t.port() == old.port() => new.port(),
                None => t.port(),
            };
            let moved = if t.ip() == old.ip() { ip } else { t.ip() };
            sv.checks
                .set_target(std::net::SocketAddr::new(moved, check_port), true);
        }
        Ok((old.ip().to_string(), old.port()))
    }

    fn set_server_option(
        &mut self,
        backend: &str,
        server: &str,
        _option: ServerOption,
    ) -> Result<(), ApiError> {
        self.server(backend, server)?;
        Err(unsupported("set server"))
    }

    fn set_check_port(&mut self, backend: &str, server: &str, port: u16) -> Result<(), ApiError> {
        let (b, s) = self.server(backend, server)?;
        let sv = self.entry(b, s)?;
        sv.set_check_port(port);
        if let Some(t) = sv.checks.target() {
            sv.checks
                .set_target(std::net::SocketAddr::new(t.ip(), port), true);
        }
        Ok(())
    }

    fn set_check_enabled(
        &mut self,
        backend: &str,
        server: &str,
        kind: CheckKind,
        on: bool,
    ) -> Result<(), ApiError> {
        let (b, s) = self.server(backend, server)?;
        let slot = &self.entry(b, s)?.checks;
        // Disabling a check the server does not have is accepted silently, as HAProxy does;
        // enabling it is refused.
        let (agent, configured) = match kind {
            CheckKind::Health => (false, slot.health().is_some()),
            CheckKind::Agent => (true, slot.agent().is_some()),
        };
        match (configured, on) {
            (true, _) => slot.set_enabled(agent, on),
            (false, true) if agent => return Err(ApiError::AgentNotConfigured),
            (false, true) => return Err(ApiError::HealthNotConfigured),
            (false, false) => {}
        }
        Ok(())
    }

    fn set_frontend_enabled(&mut self, frontend: &str, on: bool) -> Result<(), ApiError> {
        let (i, fe) = self
            .registry
            .frontend(frontend)
            .ok_or(ApiError::NoSuchFrontend)?;
        if self.is_stopped(i) {
            return Err(if on {
                ApiError::FrontendShutDown
            } else {
                ApiError::FrontendShutDownCannotDisable
            });
        }
        match (fe.enabled.swap(on, Relaxed), on) {
            (true, true) => Err(ApiError::AlreadyEnabled),
            (false, false) => Err(ApiError::AlreadyDisabled),
            _ => {
                self.registry.limits_changed();
                Ok(())
            }
        }
    }

    fn shutdown_frontend(&mut self, frontend: &str) -> Result<(), ApiError> {
        let (i, fe) = self
            .registry
            .frontend(frontend)
            .ok_or(ApiError::NoSuchFrontend)?;
        let stopped = self
            .registry
            .frontend_stopped
            .get(i)
            .ok_or(ApiError::NoSuchFrontend)?;
        if stopped.swap(true, Relaxed) {
            return Err(ApiError::FrontendAlreadyShutDown);
        }
        // COMPAT: the listening sockets stay open but accept nothing more, which is what a
        // client of HAProxy 2.6.12 sees too (a connect that is never answered).
        fe.enabled.store(false, Relaxed);
        self.registry.limits_changed();
        Ok(())
    }

    fn set_frontend_maxconn(&mut self, frontend: &str, maxconn: u32) -> Result<(), ApiError> {
        let (_, fe) = self
            .registry
            .frontend(frontend)
            .ok_or(ApiError::NoSuchFrontend)?;
        fe.maxconn.store(maxconn, Relaxed);
        self.registry.limits_changed();
        Ok(())
    }

    fn set_server_maxconn(
        &mut self,
        backend: &str,
        server: &str,
        maxconn: u32,
    ) -> Result<(), ApiError> {
        let (b, s) = self.server(backend, server)?;
        self.entry(b, s)?.maxconn.store(maxconn, Relaxed);
        // The balancer takes the slots: the next connection obeys the new limit, and streams
        // already waiting take the room a raise made at once (HAProxy 2.6 runs
        // `process_srv_queue()` there, not at the next release).
        if let Some(lb) = self.registry.balancer(b) {
            lb.set_maxconn(s, maxconn)
                .map_err(|_| ApiError::NoSuchServer)?;
            self.registry.process_server_queue(b, s);
        }
        Ok(())
    }

    fn set_global_maxconn(&mut self, maxconn: u32) -> Result<(), ApiError> {
        let limits = &self.registry.limits;
        let hard = limits.hard_maxconn.load(Relaxed);
        let v = if maxconn == 0 { hard } else { maxconn };
        if hard > 0 && v > hard {
            return Err(ApiError::OutOfRange);
        }
        limits.maxconn.store(v, Relaxed);
        self.registry.limits_changed();
        Ok(())
    }

    fn set_rate_limit(&mut self, which: RateLimit, value: u32) -> Result<(), ApiError> {
        let mut r = self.rates.lock().map_err(|_| ApiError::OutOfRange)?;
        match which {
            // The listeners waiting on a rate look again at once (HAProxy's
            // `dequeue_all_listeners()`).
            RateLimit::Connections => {
                self.registry.limits.conn_rate.set_limit(value);
                self.registry.limits_changed();
            }
            RateLimit::Sessions => {
                self.registry.limits.sess_rate.set_limit(value);
                self.registry.limits_changed();
            }
            RateLimit::SslSessions => r.ssl_sessions = value,
            RateLimit::HttpCompression => r.http_compression = value,
        }
        Ok(())
    }

    fn set_cli_timeout(&mut self, _seconds: u32) {
        // The session applies it to its own connection (haproxy_stats::cli::Cli::timeout_secs).
    }

    fn clear_counters(&mut self, all: bool) {
        let reg = &self.registry;
        for fe in &reg.frontends {
            fe.counters.clear(all);
        }
        for be in &reg.backends {
            be.counters.clear(all);
            for sv in &be.servers {
                sv.counters.clear(all);
            }
        }
    }

    fn shutdown_session(&mut self, id: u64) -> Result<(), ApiError> {
        if self.registry.sessions.kill(id) {
            Ok(())
        } else {
            Err(ApiError::NoSuchSession)
        }
    }

    fn shutdown_server_sessions(&mut self, backend: &str, server: &str) -> Result<(), ApiError> {
        let (b, s) = self.server(backend, server)?;
        self.registry.sessions.kill_server(b, s);
        Ok(())
    }

    fn sessions(&self) -> String {
        // HAProxy's line, up to `age=`: the buffer and connection flags that follow describe
        // HAProxy's own internals and have no counterpart here.
        let reg = &self.registry;
        let mut out = String::new();
        for l in reg.sessions.list() {
            let fe = reg
                .frontends
                .get(l.frontend)
                .map_or("?", |f| f.name.as_str());
            let be = l.backend.and_then(|b| reg.backends.get(b));
            let srv = be
                .zip(l.server)
                .and_then(|(be, s)| be.servers.get(s))
                .map_or("<none>", |s| s.name.as_str());
            let proto = if l.is_ipv4() { "tcpv4" } else { "tcpv6" };
            out.push_str(&format!(
                "0x{:x}: proto={proto} src={} fe={fe} be={} srv={srv} ts=00 epoch=0 age={}s\n",
                l.id,
                l.src,
                be.map_or(fe, |b| b.name.as_str()),
                l.age.as_secs(),
            ));
        }
        out
    }

    fn errors(
        &self,
        proxy: Option<&str>,
        direction: Option<ErrorDirection>,
    ) -> Result<String, ApiError> {
        let reg = &self.registry;
        let known =
            |name: &str, id: u32| proxy.is_none_or(|p| p == name || p.parse::<u32>() == Ok(id));
        if proxy.is_some()
            && !reg.frontends.iter().any(|f| known(&f.name, f.id))
            && !reg.backends.iter().any(|b| known(&b.name, b.id))
        {
            return Err(ApiError::NoSuchProxy);
        }
        // Only requests are captured (no response is parsed as an error here yet).
        let frontends: Vec<(usize, &str, u32)> = if direction == Some(ErrorDirection::Response) {
            Vec::new()
        } else {
            reg.frontends
                .iter()
                .enumerate()
                .filter(|(_, f)| known(&f.name, f.id))
                .map(|(i, f)| (i, f.name.as_str(), f.id))
                .collect()
        };
        Ok(reg.errors.dump(&frontends))
    }

    fn pools(&self) -> String {
        // COMPAT: no HAProxy-style pools: the total is the process's resident memory.
        let rss = super::info::resident_bytes();
        format!(
            "Dumping pools usage. Use SIGQUIT to flush them.\nTotal: 0 pools, {rss} bytes allocated, {rss} used (~0 by thread caches).\n"
        )
    }

    fn cli_sockets(&self) -> Vec<(String, Level)> {
        self.sockets.lock().map(|s| s.clone()).unwrap_or_default()
    }

    fn environment(&self) -> Vec<(String, String)> {
        std::env::vars_os()
            .map(|(k, v)| {
                (
                    k.to_string_lossy().into_owned(),
                    v.to_string_lossy().into_owned(),
                )
            })
            .collect()
    }

    fn pattern_refs(&self, kind: PatternKind) -> Vec<PatternRef> {
        self.registry
            .patterns
            .list()
            .iter()
            .filter(|r| r.is_map() == (kind == PatternKind::Map))
            .map(|r| {
                // `<id> (<file>) <description>. curr_ver=0 next_ver=0 entry_cnt=<n>`
                let line = r.show_line();
                let head = format!("{} ({}) ", r.id(), r.name());
                let description = line
                    .strip_prefix(&head)
                    .and_then(|rest| rest.rsplit_once(". curr_ver="))
                    .map_or_else(String::new, |(d, _)| d.to_owned());
                PatternRef {
                    id: r.id(),
                    file: r.name().to_owned(),
                    description,
                    curr_ver: 0,
                    next_ver: 0,
                    entry_cnt: u32::try_from(r.entries().len()).unwrap_or(u32::MAX),
                }
            })
            .collect()
    }

    fn pattern_entries(
        &self,
        kind: PatternKind,
        name: &str,
    ) -> Result<Vec<PatternEntry>, ApiError> {
        Ok(self
            .pattern(kind, name)?
            .entries()
            .into_iter()
            .map(|e| PatternEntry {
                reference: e.id,
                key: e.key,
                value: e.value.filter(|_| kind == PatternKind::Map),
            })
            .collect())
    }

    fn add_pattern(
        &mut self,
        kind: PatternKind,
        name: &str,
        key: &str,
        value: Option<&str>,
    ) -> Result<(), ApiError> {
        self.pattern(kind, name)?
            .add(key, value)
            .map(|_| ())
            .map_err(|e| ApiError::Invalid(format!("{e}.")))
    }

    fn del_pattern(&mut self, kind: PatternKind, name: &str, key: &str) -> Result<(), ApiError> {
        self.pattern(kind, name)?
            .delete(key)
            .map(|_| ())
            .map_err(|_| ApiError::KeyNotFound)
    }

    fn set_map(&mut self, name: &str, key: &str, value: &str) -> Result<(), ApiError> {
        self.pattern(PatternKind::Map, name)?
            .set(key, value)
            .map_err(|_| ApiError::EntryNotFound)
    }

    fn clear_patterns(&mut self, kind: PatternKind, name: &str) -> Result<(), ApiError> {
        self.pattern(kind, name)?.clear();
        Ok(())
    }

    fn match_pattern(
        &self,
        kind: PatternKind,
        name: &str,
        sample: &str,
    ) -> Result<MatchReport, ApiError> {
        let r = self.pattern(kind, name)?;
        let reply = r
            .get(sample)
            .into_iter()
            .next()
            .ok_or(ApiError::UnknownPatternRef)?;
        Ok(match_report(&reply.to_string()))
    }
}

/// Reads haproxy-acl's `get acl|map` line back into the CLI's report:
/// `type=<m>, case=<c>, match|found=yes|no[, idx=<i>, pattern="<p>" | key="<k>", value="<v>",
/// type="<t>"]`.
fn match_report(line: &str) -> MatchReport {
    let field = |name: &str| -> Option<String> {
        let at = line.find(&format!("{name}="))? + name.len() + 1;
        let rest = line.get(at..)?;
        match rest.strip_prefix('"') {
            Some(q) => q.split_once('"').map(|(v, _)| v.to_owned()),
            None => Some(rest.split(',').next().unwrap_or("").to_owned()),
        }
    };
    let yes = field("match").or_else(|| field("found")).as_deref() == Some("yes");
    MatchReport {
        method: field("type").unwrap_or_default(),
        case_sensitive: field("case").as_deref() != Some("insensitive"),
        found: yes.then(|| MatchFound {
            index: field("idx").unwrap_or_default(),
            pattern: field("pattern")
                .or_else(|| field("key"))
                .unwrap_or_default(),
            value: field("value").map(|v| (v, "str".to_owned())),
        }),
    }
}
