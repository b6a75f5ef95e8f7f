//! What to check, from the configuration: one haproxy-check [`ServerSpec`] per `check` server
//! (rise/fall/intervals, check `addr`/`port`, `check-ssl`/`check-sni`, PROXY headers, agent,
//! passive health), the servers that `track` another one, and the backends whose slow starts
//! need ticking. Refuses, with a message naming the server, only what cannot run.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use haproxy_cfg::model::{Config, Proxy, Server};
use haproxy_check::probe::{CheckKind, CheckTimeouts, ProxyHeader, TlsCheck};
use haproxy_check::{AgentSpec, CheckParams, Observe, OnError, Passive, ServerSpec};

use super::rules::check_kind;
use crate::ProxyError;
use crate::registry::Registry;
use crate::settings::BackendSettings;

/// HAProxy's default `agent-inter`, 2000 ms.
pub const DEFAULT_AGENT_INTER: Duration = Duration::from_millis(2000);

/// One server whose health checks run.
#[derive(Debug, Clone)]
pub struct CheckedServer {
    /// Backend index (the registry's and routing's).
    pub backend: usize,
    /// Server index within the backend.
    pub server: usize,
    /// What the scheduler runs.
    pub spec: ServerSpec,
    /// `on-marked-down shutdown-sessions`.
    pub shutdown_on_down: bool,
    /// `on-marked-up shutdown-backup-sessions`.
    pub shutdown_backups_on_up: bool,
    /// The backend's `option log-health-checks`: each change of the check's result is logged,
    /// and state changes use the short form.
    pub log_health_checks: bool,
}

/// The server a tracking server follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrackSource {
    /// A checked server, by index in [`Plan::checked`].
    Checked(usize),
    /// Another tracking server, by index in [`Plan::trackers`].
    Tracker(usize),
}

/// A server with `track [<backend>/]<server>`: it copies the tracked server's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tracker {
    /// Backend index of the tracking server.
    pub backend: usize,
    /// Its index within the backend.
    pub server: usize,
    /// The server it follows.
    pub source: TrackSource,
    /// The checked server at the root of the chain (whose parameters it uses).
    pub root: usize,
}

/// Everything the health checks of a configuration need.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// Servers with `check`, in configuration order (the scheduler's indexes).
    pub checked: Vec<CheckedServer>,
    /// Servers that follow another server's state.
    pub trackers: Vec<Tracker>,
    /// Global `spread-checks` percentage.
    pub spread_checks: u8,
    /// Global `max-spread-checks`: the most the first checks are spread over (`None`: no cap).
    pub max_spread_checks: Option<Duration>,
    /// Backends with at least one `slowstart` server (their balancers need ticks).
    pub slowstart_backends: Vec<usize>,
    /// How HAProxy names each backend in messages: `backend`, or `proxy` for a listen section.
    pub proxy_types: Vec<&'static str>,
    /// Where `http-check send-state` headers read live counts (set when the checks start).
    pub live: LiveCounts,
}

/// The registry as `http-check send-state` reads it: empty until the checks start with it.
#[derive(Debug, Clone, Default)]
pub struct LiveCounts(Arc<OnceLock<Arc<Registry>>>);

impl LiveCounts {
    /// Gives the header builders the running registry (the first call wins).
    pub(crate) fn set(&self, registry: Arc<Registry>) {
        let _ = self.0.set(registry);
    }

    /// HAProxy's `scur=<cur_sess>/<beconn - backend queue>; qcur=<server queue>` for server
    /// `s` of backend `b` (`httpchk_build_status_header()`); zeros before the checks start.
    fn of(&self, b: usize, s: usize) -> ((u32, u32), u32) {
        let Some(reg) = self.0.get() else {
            return ((0, 0), 0);
        };
        let Some(be) = reg.backends.get(b) else {
            return ((0, 0), 0);
        };
        let n = |v: u64| u32::try_from(v).unwrap_or(u32::MAX);
        let cur = be
            .servers
            .get(s)
            .map_or(0, |sv| n(sv.counters.sessions_cur.load(Relaxed)));
        let beconn = n(be.counters.sessions_cur.load(Relaxed))
            .saturating_sub(n(be.counters.queue_cur.load(Relaxed)));
        let queued = reg.balancer(b).map_or(0, |lb| lb.queued(s));
        ((cur, beconn), queued)
    }
}

impl Plan {
    /// Whether there is nothing to run.
    pub fn is_empty(&self) -> bool {
        self.checked.is_empty() && self.slowstart_backends.is_empty()
    }
}

fn ms(v: u32) -> Duration {
    Duration::from_millis(u64::from(v))
}

fn refuse(backend: &str, s: &Server, why: impl std::fmt::Display) -> ProxyError {
    ProxyError::Config {
        message: format!(
            "[{}:{}] : 'server {backend}/{}' : {why}.",
            s.loc.file, s.loc.line, s.name
        ),
    }
}

fn params(p: &Proxy, s: &Server) -> Result<CheckParams, ProxyError> {
    let sp = &s.params;
    let bad = |e: haproxy_check::CheckError| refuse(&p.name, s, e);
    let count = |v: Option<i64>, d: u32| v.map_or(Ok(d), |n| u32::try_from(n).or(Ok(0)));
    let rise = count(sp.rise, haproxy_check::DEFAULT_RISE).map_err(bad)?;
    let fall = count(sp.fall, haproxy_check::DEFAULT_FALL).map_err(bad)?;
    let mut c = CheckParams::new(rise, fall).map_err(bad)?;
    if let Some(v) = sp.inter {
        c = c.with_inter(ms(v)).map_err(bad)?;
    }
    if let Some(v) = sp.fastinter {
        c = c.with_fastinter(ms(v)).map_err(bad)?;
    }
    if let Some(v) = sp.downinter {
        c = c.with_downinter(ms(v)).map_err(bad)?;
    }
    Ok(c)
}

/// An `addr` value: an IP, optionally with `:port` (IPv4) or in brackets (IPv6).
fn parse_ip(text: &str) -> Option<IpAddr> {
    if let Ok(ip) = text.parse() {
        return Some(ip);
    }
    let t = text.trim_start_matches('[');
    let host = match t.split_once(']') {
        Some((h, _)) => h,
        None => text.rsplit_once(':').map_or(text, |(h, _)| h),
    };
    host.parse().ok()
}

fn passive(p: &Proxy, s: &Server) -> Result<Option<Passive>, ProxyError> {
    let x = s.params.extra();
    let Some(mode) = &x.observe else {
        return Ok(None);
    };
    let observe = match mode.as_str() {
        "layer4" => Observe::Layer4,
        "layer7" => Observe::Layer7,
        "none" => return Ok(None),
        other => {
            return Err(refuse(
                &p.name,
                s,
                format!("unknown 'observe' mode '{other}'"),
            ));
        }
    };
    let on_error = match x.on_error.as_deref() {
        None | Some("fail-check") => OnError::FailCheck,
        Some("fastinter") => OnError::FastInter,
        Some("sudden-death") => OnError::SuddenDeath,
        Some("mark-down") => OnError::MarkDown,
        Some(other) => {
            return Err(refuse(
                &p.name,
                s,
                format!("unknown 'on-error' mode '{other}'"),
            ));
        }
    };
    let limit = s
        .params
        .error_limit
        .map_or(
            Ok(haproxy_check::passive::DEFAULT_ERROR_LIMIT),
            u32::try_from,
        )
        .unwrap_or(0);
    Passive::new(observe, limit, on_error)
        .map(Some)
        .map_err(|e| refuse(&p.name, s, e))
}

/// The sum of the backend's configured weights (the `weight=w/total` of `send-state`).
fn total_weight(p: &Proxy) -> u32 {
    p.servers
        .iter()
        .map(|s| s.params.weight.unwrap_or(1))
        .fold(0u32, u32::saturating_add)
}

#[expect(
    clippy::too_many_arguments,
    reason = "the facts of one server line that a check spec gathers"
)]
fn spec(
    p: &Proxy,
    s: &Server,
    addr: SocketAddr,
    kind: &CheckKind,
    timeout_connect: Option<Duration>,
    timeout_check: Option<Duration>,
    params: CheckParams,
    agent: Option<AgentSpec>,
    node: &str,
    live: (&LiveCounts, usize, usize),
) -> Result<ServerSpec, ProxyError> {
    let sp = &s.params;
    let x = sp.extra();
    let check_ip = match &x.addr {
        Some(a) => Some(
            parse_ip(a).ok_or_else(|| refuse(&p.name, s, format!("invalid check addr '{a}'")))?,
        ),
        None => None,
    };
    if addr.port() == 0 && sp.port.is_none() && !crate::build::checked_through_connect_rule(kind) {
        // HAProxy 2.6.12: `config: proxy 'l': server 's1' has neither service port nor check
        // port.` (observed).
        return Err(ProxyError::Config {
            message: format!(
                "config: {} '{}': server '{}' has neither service port nor check port.",
                p.kind.type_str(),
                p.name,
                s.name
            ),
        });
    }
    let redirected = check_ip.is_some() || sp.port.is_some();
    let target = SocketAddr::new(
        check_ip.unwrap_or(addr.ip()),
        sp.port.unwrap_or(addr.port()),
    );
    let mut spec = ServerSpec::new(target, kind.clone(), params);
    spec.timeouts = CheckTimeouts::new(params.inter(), timeout_connect, timeout_check);
    spec.disabled = sp.disabled == Some(true);
    spec.passive = passive(p, s)?;
    spec.agent = agent;
    let check_send_proxy = x.other.iter().any(|w| w == "check-send-proxy");
    spec.send_proxy = if check_send_proxy || !redirected {
        if sp.send_proxy_v2 == Some(true) {
            Some(ProxyHeader::V2)
        } else if sp.send_proxy == Some(true) || check_send_proxy {
            Some(ProxyHeader::V1)
        } else {
            None
        }
    } else {
        None
    };
    if let CheckKind::Http(h) = kind
        && h.sends_state()
    {
        let name = format!("{}/{}", p.name, s.name);
        let weight = (sp.weight.unwrap_or(1), total_weight(p));
        let node = node.to_owned();
        let (counts, b, i) = (live.0.clone(), live.1, live.2);
        spec.state_header = Some(Arc::new(move |health| {
            let (scur, qcur) = counts.of(b, i);
            haproxy_check::probe::server_state_value(
                &health.status_text(false),
                addr,
                &name,
                &node,
                weight,
                scur,
                qcur,
            )
        }));
    }
    let tls = sp.check_ssl == Some(true) || (sp.ssl == Some(true) && !redirected);
    if tls {
        if x.verify.as_deref() != Some("none") {
            return Err(refuse(
                &p.name,
                s,
                "TLS health checks need 'verify none' (certificate verification with a CA file is not supported yet)",
            ));
        }
        spec.tls =
            Some(TlsCheck::verify_none(x.check_sni.as_deref()).map_err(|e| refuse(&p.name, s, e))?);
    }
    Ok(spec)
}

fn agent(
    p: &Proxy,
    s: &Server,
    addr: SocketAddr,
    timeout_connect: Option<Duration>,
    timeout_check: Option<Duration>,
) -> Result<Option<AgentSpec>, ProxyError> {
    let sp = &s.params;
    if sp.agent_check != Some(true) {
        return Ok(None);
    }
    let x = sp.extra();
    let Some(port) = sp.agent_port else {
        return Err(refuse(&p.name, s, "'agent-check' needs an 'agent-port'"));
    };
    let ip = match &x.agent_addr {
        Some(a) => {
            parse_ip(a).ok_or_else(|| refuse(&p.name, s, format!("invalid agent-addr '{a}'")))?
        }
        None => addr.ip(),
    };
    let inter = sp.agent_inter.map_or(DEFAULT_AGENT_INTER, ms);
    if inter.is_zero() {
        return Err(refuse(
            &p.name,
            s,
            "'agent-inter' must be greater than zero",
        ));
    }
    Ok(Some(AgentSpec {
        addr: SocketAddr::new(ip, port),
        send: x.agent_send.clone().unwrap_or_default().into_bytes(),
        inter,
        timeouts: CheckTimeouts::new(inter, timeout_connect, timeout_check),
    }))
}

/// A `track` line waiting for its target: backend, server, target, backend name, server line.
type PendingTrack<'a> = (usize, usize, String, String, &'a Server);

/// Builds the plan; `backends` are the backend sections in routing order with their settings.
///
/// # Errors
/// [`ProxyError::Config`] for a check the proxy cannot run, naming the server or directive.
pub(crate) fn plan(
    cfg: &Config,
    backends: &[(&Proxy, &BackendSettings)],
) -> Result<Plan, ProxyError> {
    let mut out = Plan {
        spread_checks: cfg.global.spread_checks.unwrap_or(0),
        max_spread_checks: cfg
            .global
            .max_spread_checks
            .map(|ms| Duration::from_millis(u64::from(ms))),
        ..Plan::default()
    };
    let mut pending_tracks: Vec<PendingTrack<'_>> = Vec::new();
    let node = cfg.global.node.as_deref().unwrap_or_default();
    out.proxy_types = backends.iter().map(|(p, _)| p.kind.type_str()).collect();
    for (b, (p, settings)) in backends.iter().enumerate() {
        let mut kind = None;
        let tc = p.timeouts.connect.map(ms);
        let tk = p.timeouts.check.map(ms);
        if p.servers
            .iter()
            .any(|s| s.params.slowstart.is_some_and(|v| v > 0))
        {
            out.slowstart_backends.push(b);
        }
        for (i, (s, set)) in p.servers.iter().zip(&settings.servers).enumerate() {
            let sp = &s.params;
            let x = sp.extra();
            if let Some(t) = &x.track {
                if sp.check == Some(true) {
                    return Err(refuse(
                        &p.name,
                        s,
                        "unable to enable checks and tracking at the same time",
                    ));
                }
                pending_tracks.push((b, i, t.clone(), p.name.clone(), s));
                continue;
            }
            if sp.check != Some(true) {
                if sp.agent_check == Some(true) {
                    return Err(refuse(
                        &p.name,
                        s,
                        "'agent-check' without 'check' is not supported yet",
                    ));
                }
                continue;
            }
            let kind = match &kind {
                Some(k) => k,
                None => {
                    let defaults = p
                        .defaults
                        .as_ref()
                        .and_then(|(name, _)| cfg.defaults.iter().rev().find(|d| &d.name == name));
                    kind.insert(check_kind(p, defaults)?)
                }
            };
            let agent = agent(p, s, set.addr, tc, tk)?;
            let live = (&out.live, b, i);
            let spec = spec(
                p,
                s,
                set.addr,
                kind,
                tc,
                tk,
                params(p, s)?,
                agent,
                node,
                live,
            )?;
            let word = |v: &Option<String>, want: &str| -> Result<bool, ProxyError> {
                match v.as_deref() {
                    None => Ok(false),
                    Some(w) if w == want => Ok(true),
                    Some(w) => Err(refuse(&p.name, s, format!("unsupported action '{w}'"))),
                }
            };
            out.checked.push(CheckedServer {
                backend: b,
                server: i,
                spec,
                shutdown_on_down: word(&x.on_marked_down, "shutdown-sessions")?,
                shutdown_backups_on_up: word(&x.on_marked_up, "shutdown-backup-sessions")?,
                log_health_checks: p.options.is_set("log-health-checks"),
            });
        }
    }
    // Resolve `track` lines: a target is a checked server or another tracking server, which may
    // itself be resolved later; each pass resolves at least one line or the rest cannot be.
    let mut pending: Vec<Option<PendingTrack<'_>>> = pending_tracks.into_iter().map(Some).collect();
    let mut slot_of: Vec<Option<usize>> = vec![None; pending.len()];
    loop {
        let mut progress = false;
        for k in 0..pending.len() {
            let Some(Some((b, i, target, own, s))) = pending.get(k) else {
                continue;
            };
            let (be, sv) = target
                .split_once('/')
                .unwrap_or((own.as_str(), target.as_str()));
            let Some(tb) = backends.iter().position(|(p, _)| p.name == be) else {
                return Err(refuse(
                    own,
                    s,
                    format!("unable to find {be}/{sv} for tracking"),
                ));
            };
            let Some(ts) = backends
                .get(tb)
                .and_then(|(p, _)| p.servers.iter().position(|x| x.name == sv))
            else {
                return Err(refuse(
                    own,
                    s,
                    format!("unable to find {be}/{sv} for tracking"),
                ));
            };
            let found = match out
                .checked
                .iter()
                .position(|c| c.backend == tb && c.server == ts)
            {
                Some(c) => Some((TrackSource::Checked(c), c)),
                None => out
                    .trackers
                    .iter()
                    .position(|t| t.backend == tb && t.server == ts)
                    .and_then(|t| Some((TrackSource::Tracker(t), out.trackers.get(t)?.root))),
            };
            if let Some((source, root)) = found {
                out.trackers.push(Tracker {
                    backend: *b,
                    server: *i,
                    source,
                    root,
                });
                if let Some(slot) = slot_of.get_mut(k) {
                    *slot = Some(out.trackers.len() - 1);
                }
                if let Some(p) = pending.get_mut(k) {
                    *p = None;
                }
                progress = true;
            }
        }
        if !progress {
            break;
        }
    }
    if let Some((_, _, target, own, s)) = pending.into_iter().flatten().next() {
        return Err(refuse(
            &own,
            s,
            format!("unable to use {target} for tracking as it does not have any check enabled"),
        ));
    }
    // Keep declaration order (HAProxy's tracker lists depend on it).
    let order: Vec<usize> = slot_of.into_iter().flatten().collect();
    let mut sorted: Vec<Tracker> = Vec::with_capacity(order.len());
    let mut new_index = vec![0usize; order.len()];
    for (pos, old) in order.iter().enumerate() {
        if let (Some(t), Some(n)) = (out.trackers.get(*old), new_index.get_mut(*old)) {
            sorted.push(*t);
            *n = pos;
        }
    }
    for t in &mut sorted {
        if let TrackSource::Tracker(k) = &mut t.source {
            *k = new_index.get(*k).copied().unwrap_or(*k);
        }
    }
    out.trackers = sorted;
    Ok(out)
}
