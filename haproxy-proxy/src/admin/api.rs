//! [`Admin`]: the runtime API (`haproxy_stats::cli::RuntimeApi`) over the live registry. Every
//! change goes through the registry, so the balancers and the next request see it at once.

use std::sync::atomic::{AtomicU32, Ordering::Relaxed};
use std::sync::{Arc, Mutex};

use haproxy_stats::cli::{
    AdminState, ApiError, CheckKind, ErrorDirection, HealthState, MatchReport, PatternEntry,
    PatternKind, PatternRef, RateLimit, RuntimeApi, ServerOption,
};
use haproxy_stats::{Info, Snapshot};

use super::info::{ProcessInfo, info};
use super::snapshot::snapshot;
use crate::registry::{Admin as AdminFlag, Health, Registry};

/// The `set rate-limit … global` values (shown by `show info`).
#[derive(Debug, Default, Clone, Copy)]
struct RateLimits {
    connections: u32,
    sessions: u32,
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
        }
    }

    /// The registry this API reads and changes.
    #[must_use]
    pub fn registry(&self) -> &Arc<Registry> {
        &self.registry
    }

    /// Counts a CLI session until the guard drops.
    pub(crate) fn open_cli_session(&self) -> CliSessionGuard {
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
        i.conn_rate_limit = r.connections;
        i.sess_rate_limit = r.sessions;
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
        _addr: &str,
        _port: Option<u16>,
    ) -> Result<(String, u16), ApiError> {
        self.server(backend, server)?;
        Err(unsupported("set server addr"))
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

    fn set_check_port(&mut self, backend: &str, server: &str, _port: u16) -> Result<(), ApiError> {
        self.server(backend, server)?;
        Err(unsupported("set server check-port"))
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
        match kind {
            CheckKind::Health => {
                let mut h = slot.health().ok_or(ApiError::HealthNotConfigured)?;
                h.paused = !on;
                slot.set_health(Some(h));
            }
            CheckKind::Agent => {
                let mut a = slot.agent().ok_or(ApiError::AgentNotConfigured)?;
                a.paused = !on;
                slot.set_agent(Some(a));
            }
        }
        Ok(())
    }

    fn set_frontend_enabled(&mut self, frontend: &str, on: bool) -> Result<(), ApiError> {
        let (_, fe) = self
            .registry
            .frontend(frontend)
            .ok_or(ApiError::NoSuchFrontend)?;
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
        self.registry
            .frontend(frontend)
            .ok_or(ApiError::NoSuchFrontend)?;
        Err(unsupported("shutdown frontend"))
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
            RateLimit::Connections => r.connections = value,
            RateLimit::Sessions => r.sessions = value,
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

    fn shutdown_session(&mut self, _id: u64) -> Result<(), ApiError> {
        // Streams are not listed by `show sess` yet, so no id names one.
        Err(ApiError::NoSuchSession)
    }

    fn shutdown_server_sessions(&mut self, backend: &str, server: &str) -> Result<(), ApiError> {
        self.server(backend, server)?;
        Err(unsupported("shutdown sessions server"))
    }

    fn sessions(&self) -> String {
        String::new()
    }

    fn errors(
        &self,
        proxy: Option<&str>,
        _direction: Option<ErrorDirection>,
    ) -> Result<String, ApiError> {
        if let Some(p) = proxy {
            let reg = &self.registry;
            let known = |name: &str, id: u32| p == name || p.parse::<u32>() == Ok(id);
            if !reg.frontends.iter().any(|f| known(&f.name, f.id))
                && !reg.backends.iter().any(|b| known(&b.name, b.id))
            {
                return Err(ApiError::NoSuchProxy);
            }
        }
        Err(unsupported("show errors"))
    }

    fn pools(&self) -> String {
        // The proxy keeps no HAProxy-style memory pools: buffers come from the allocator.
        "Dumping pools usage. Use SIGQUIT to flush them.\nTotal: 0 pools, 0 bytes allocated, 0 used (~0 by thread caches).\n".into()
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

    fn pattern_refs(&self, _kind: PatternKind) -> Vec<PatternRef> {
        // The build step keeps no pattern references for run-time edits yet.
        Vec::new()
    }

    fn pattern_entries(
        &self,
        _kind: PatternKind,
        _name: &str,
    ) -> Result<Vec<PatternEntry>, ApiError> {
        Err(ApiError::UnknownPatternRef)
    }

    fn add_pattern(
        &mut self,
        _kind: PatternKind,
        _name: &str,
        _key: &str,
        _value: Option<&str>,
    ) -> Result<(), ApiError> {
        Err(ApiError::UnknownPatternRef)
    }

    fn del_pattern(&mut self, _kind: PatternKind, _name: &str, _key: &str) -> Result<(), ApiError> {
        Err(ApiError::UnknownPatternRef)
    }

    fn set_map(&mut self, _name: &str, _key: &str, _value: &str) -> Result<(), ApiError> {
        Err(ApiError::UnknownPatternRef)
    }

    fn clear_patterns(&mut self, _kind: PatternKind, _name: &str) -> Result<(), ApiError> {
        Err(ApiError::UnknownPatternRef)
    }

    fn match_pattern(
        &self,
        _kind: PatternKind,
        _name: &str,
        _sample: &str,
    ) -> Result<MatchReport, ApiError> {
        Err(ApiError::UnknownPatternRef)
    }
}
