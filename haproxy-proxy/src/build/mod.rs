//! `build`: turns a `haproxy_cfg` model into the proxy's runtime description: frontends with their
//! binds, backends and servers, `http-request` rules and `use_backend` conditions compiled with
//! haproxy-acl, and balancers from haproxy-lb.
//!
//! Failures carry HAProxy's wording where HAProxy has one; features the proxy does not run yet
//! are refused at startup rather than silently ignored.

mod adapters;
mod balance;
mod dynamic;
mod fullconn;
mod portless;
mod rates;
mod requeue;
mod rules;
mod sample;
mod stats;
mod stopping;
mod tcp_rules;
mod upgrade;

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use haproxy_acl::AclSet;
use haproxy_cfg::model::{self, Config, Proxy, ProxyKind};
use haproxy_cfg::values::{Address, Host, Port};

pub use adapters::{AclChooser, AclCondition, BackendBalancer, LbPicker};
pub use dynamic::{DynamicChoice, DynamicName, DynamicRule, MAX_NAME_PARTS};
pub(crate) use portless::checked_through_connect_rule;
pub use portless::portless_check_alerts;
pub use sample::StreamSample;
pub use tcp_rules::{
    ConnectionVerdict, ContentSample, Phase, TcpAction, TcpRule, TcpRules, Tri, TriCondition,
    frontend_only_rule_alerts, with_content,
};
pub use upgrade::{HttpUpgrades, UpgradeService};

use upgrade::Shared;

use crate::ProxyError;
use crate::counters::Counters;
use crate::errors::{ErrorPages, parse_errorfile};
use crate::h1::{CaseMap, H1Limits};
use crate::http::{HttpService, ServerPool};
use crate::listener::{BindOptions, BindTarget, group_id, parse_bind_addr, user_id};
use crate::registry::{BackendEntry, FrontendEntry, Registry, ServerEntry};
use crate::settings::{
    BackendSettings, ConnMode, DEFAULT_RETRIES, ForwardFor, FrontendSettings, Mode, SendProxy,
    ServerSettings, Timeouts,
};

/// The service a frontend runs: its settings, rules, chooser and the shared balancers.
pub type Service = HttpService<AclChooser, LbPicker>;

/// One `bind` line, ready to open.
#[derive(Debug, Clone)]
pub struct BindSpec {
    /// Where it was written, `file:line`.
    pub loc: String,
    /// The sockets it expands to.
    pub targets: Vec<BindTarget>,
    /// Socket options.
    pub options: BindOptions,
    /// Per-bind `maxconn` (0 = unlimited).
    pub maxconn: u32,
    /// `accept-proxy`: a PROXY header (v1 or v2) comes first and gives the client's addresses.
    pub accept_proxy: bool,
}

/// A frontend (or the frontend side of a listen section) ready to serve.
#[derive(Debug)]
pub struct FrontendRuntime {
    /// `frontend` or `proxy` (a listen section), as HAProxy names it in messages.
    pub type_str: &'static str,
    /// The frontend's `bind` lines.
    pub binds: Vec<BindSpec>,
    /// Settings, rules, routing and balancers.
    pub service: Arc<Service>,
    /// `tcp-request` rules and `inspect-delay`.
    pub tcp: Arc<TcpRules>,
    /// For a TCP frontend: the HTTP services its connections upgrade to, by HTTP backend.
    pub upgrades: Arc<HttpUpgrades>,
}

/// The whole runtime built from a configuration.
#[derive(Debug)]
pub struct Runtime {
    /// Frontends with at least one enabled `bind`, in file order.
    pub frontends: Vec<FrontendRuntime>,
    /// Global `maxconn` (0 = unlimited).
    pub global_maxconn: u32,
    /// Global `nbthread`, when given.
    pub nbthread: Option<u32>,
    /// Every frontend, backend and server with its live counters and state.
    pub registry: Arc<Registry>,
    /// The health checks to run while serving.
    pub health: crate::health::Plan,
}

fn cfg_err(message: impl Into<String>) -> ProxyError {
    ProxyError::Config {
        message: message.into(),
    }
}

fn ms(v: Option<u32>) -> Option<Duration> {
    v.map(|m| Duration::from_millis(u64::from(m)))
}

fn count(v: Option<i64>) -> u32 {
    v.and_then(|n| u32::try_from(n).ok()).unwrap_or(0)
}

fn timeouts(t: &model::Timeouts) -> Timeouts {
    Timeouts {
        client: ms(t.client),
        server: ms(t.server),
        connect: ms(t.connect),
        client_fin: ms(t.client_fin),
        server_fin: ms(t.server_fin),
        tunnel: ms(t.tunnel),
        http_request: ms(t.http_request),
        http_keep_alive: ms(t.http_keep_alive),
        queue: ms(t.queue),
    }
}

fn mode(p: &Proxy) -> Result<Mode, ProxyError> {
    match p.mode {
        model::Mode::Tcp => Ok(Mode::Tcp),
        model::Mode::Http => Ok(Mode::Http),
        model::Mode::Health => Err(cfg_err(format!(
            "{} '{}': 'mode health' is not supported",
            p.kind.type_str(),
            p.name
        ))),
    }
}

fn conn_mode(p: &Proxy) -> ConnMode {
    match p.options.http_conn_mode {
        None | Some(model::HttpConnMode::KeepAlive) => ConnMode::KeepAlive,
        Some(model::HttpConnMode::ServerClose) => ConnMode::ServerClose,
        Some(model::HttpConnMode::Close) => ConnMode::Close,
    }
}

fn forwardfor(p: &Proxy) -> Result<Option<ForwardFor>, ProxyError> {
    let Some(ff) = &p.options.forwardfor else {
        return Ok(None);
    };
    let except = match &ff.except {
        None => None,
        Some(net) => {
            let (ip, bits) = net.split_once('/').unwrap_or((net.as_str(), ""));
            let ip: IpAddr = ip
                .parse()
                .map_err(|_| cfg_err(format!("option forwardfor: invalid network '{net}'")))?;
            let max = if ip.is_ipv4() { 32 } else { 128 };
            let bits = if bits.is_empty() {
                max
            } else {
                bits.parse::<u8>()
                    .ok()
                    .filter(|b| *b <= max)
                    .ok_or_else(|| cfg_err(format!("option forwardfor: invalid network '{net}'")))?
            };
            Some((ip, bits))
        }
    };
    Ok(Some(ForwardFor {
        except,
        header: ff.header.to_ascii_lowercase(),
        if_none: ff.if_none,
    }))
}

fn originalto(p: &Proxy) -> Option<String> {
    p.options.originalto.as_ref().map(|words| {
        words
            .iter()
            .position(|w| w == "header")
            .and_then(|i| words.get(i + 1))
            .map_or_else(|| "x-original-to".to_owned(), |h| h.to_ascii_lowercase())
    })
}

/// A server's address, and the offset to the client's destination port for a server written
/// without a port (`Some(0)`) or with `+N` / `-N`.
fn server_addr(backend: &str, s: &model::Server) -> Result<(SocketAddr, Option<i32>), ProxyError> {
    let unresolved = || {
        cfg_err(format!(
            "[{}:{}] : 'server {backend}/{}' : could not resolve address '{}'.",
            s.loc.file, s.loc.line, s.name, s.addr_text
        ))
    };
    let Address::Inet { host, port, .. } = &s.address else {
        return Err(cfg_err(format!(
            "'server {backend}/{}': only IPv4/IPv6 server addresses are supported yet",
            s.name
        )));
    };
    let (port, offset) = match port {
        Port::Range(port, _) => (*port, None),
        Port::None => (0, Some(0)),
        Port::Offset(n) => (0, Some(*n)),
    };
    let addr = match host {
        Host::Ip(ip) => SocketAddr::new(*ip, port),
        Host::Name(name) => (name.as_str(), port)
            .to_socket_addrs()
            .map_err(|_| unresolved())?
            .next()
            .ok_or_else(unresolved)?,
    };
    Ok((addr, offset))
}

fn servers(p: &Proxy) -> Result<Vec<ServerSettings>, ProxyError> {
    p.servers
        .iter()
        .map(|s| {
            let params = &s.params;
            let send_proxy = if params.send_proxy_v2 == Some(true) {
                Some(SendProxy::V2)
            } else if params.send_proxy == Some(true) {
                Some(SendProxy::V1)
            } else {
                None
            };
            let (addr, port_offset) = server_addr(&p.name, s)?;
            Ok(ServerSettings {
                name: s.name.clone(),
                addr,
                port_offset,
                // HAProxy raises `maxconn` to a higher `minconn` (or a lone one) at startup.
                maxconn: count(params.maxconn).max(count(params.minconn)),
                maxqueue: count(params.maxqueue),
                weight: params.weight.unwrap_or(1),
                backup: params.backup == Some(true),
                send_proxy,
            })
        })
        .collect()
}

fn backend_settings(p: &Proxy, case: &Arc<CaseMap>) -> Result<BackendSettings, ProxyError> {
    Ok(BackendSettings {
        name: p.name.clone(),
        mode: mode(p)?,
        timeouts: timeouts(&p.timeouts),
        conn_mode: conn_mode(p),
        retries: p
            .retries
            .and_then(|r| u32::try_from(r).ok())
            .unwrap_or(DEFAULT_RETRIES),
        redispatch: p.options.is_set("redispatch"),
        redispatch_interval: p.options.redispatch_interval.unwrap_or(-1),
        forwardfor: forwardfor(p)?,
        originalto: originalto(p),
        servers: servers(p)?,
        errors: error_pages(p)?,
        reuse: p.http_reuse.unwrap_or_default(),
        no_delay: p.options.is_set("http-no-delay"),
        buffer_request: p.options.is_set("http-buffer-request"),
        // Set once the backend's ACLs are compiled.
        stats: None,
        rules: Arc::default(),
        case_adjust: case_adjust(p, "h1-case-adjust-bogus-server", case),
    })
}

/// The global case map for a proxy with the `option` that enables it on one side, when the map
/// respells anything: HAProxy adjusts nothing without both.
fn case_adjust(p: &Proxy, option: &str, case: &Arc<CaseMap>) -> Option<Arc<CaseMap>> {
    (p.options.is_set(option) && !case.is_empty()).then(|| Arc::clone(case))
}

fn limits(cfg: &Config) -> H1Limits {
    let t = &cfg.global.tune;
    let d = H1Limits::default();
    H1Limits {
        bufsize: t.bufsize.map_or(d.bufsize, |v| v as usize),
        maxrewrite: t.maxrewrite.map_or(d.maxrewrite, |v| v as usize),
        maxhdr: t.http_maxhdr.map_or(d.maxhdr, |v| v as usize),
    }
}

/// The ACL set of a section: pattern files (`-f`, maps) relative to the `default-path` directory
/// in force in that section (only a global section can change it), sharing the process's
/// pattern references.
fn acl_set(cfg: &Config, p: &Proxy, patterns: &Arc<haproxy_acl::PatternRefs>) -> AclSet {
    let dir = cfg.dir_at(&p.loc).map(str::to_owned);
    AclSet::with_loader(Arc::new(move |path: &str| {
        let path = match &dir {
            Some(d) if !path.starts_with('/') => format!("{}/{path}", d.trim_end_matches('/')),
            _ => path.to_owned(),
        };
        std::fs::read_to_string(path)
    }))
    .with_refs(Arc::clone(patterns))
}

fn error_pages(p: &Proxy) -> Result<ErrorPages, ProxyError> {
    let mut pages = ErrorPages::new();
    for ef in &p.errorfiles {
        if let model::ErrorFile::File {
            code,
            path,
            contents,
        } = ef
        {
            pages.set(*code, parse_errorfile(*code, path, contents)?);
        }
    }
    Ok(pages)
}

/// `user`/`uid` and `group`/`gid` of a unix-socket bind, with HAProxy's messages for unknown names;
/// the global `unix-bind` owner where the bind names none.
fn bind_owner(b: &model::Bind, section: &str) -> Result<(Option<u32>, Option<u32>), ProxyError> {
    let o = &b.options;
    let at = |what: &str, kind: &str, name: &str| {
        cfg_err(format!(
            "parsing [{}:{}] : 'bind {}' in section '{section}' : '{what}' : unknown {kind} name '{name}'",
            b.loc.file, b.loc.line, b.text
        ))
    };
    let other = |kw: &str| {
        o.other
            .iter()
            .position(|w| w == kw)
            .and_then(|i| o.other.get(i + 1))
    };
    let uid = match (&o.user, other("uid")) {
        (Some(name), _) => Some(user_id(name).ok_or_else(|| at("user", "user", name))?),
        (None, Some(n)) => Some(n.parse::<u32>().map_err(|_| at("uid", "user", n))?),
        (None, None) => b.unix_defaults.uid,
    };
    let gid = match (&o.group, other("gid")) {
        (Some(name), _) => Some(group_id(name).ok_or_else(|| at("group", "group", name))?),
        (None, Some(n)) => Some(n.parse::<u32>().map_err(|_| at("gid", "group", n))?),
        // The global `unix-bind` owner in force when the line was read.
        (None, None) => b.unix_defaults.gid,
    };
    Ok((uid, gid))
}

/// A listener's backlog as HAProxy 2.6 picks it (`listener_backlog()`): the bind's `backlog`, the
/// frontend's, the bind's `maxconn`, the frontend's `maxconn` (which defaults to the global one);
/// `None` leaves [`DEFAULT_BACKLOG`](crate::listener::DEFAULT_BACKLOG).
fn backlog(o: &model::BindOptions, p: &Proxy, global_maxconn: Option<i64>) -> Option<u32> {
    [o.backlog, p.backlog, o.maxconn, p.maxconn, global_maxconn]
        .into_iter()
        .flatten()
        .find(|v| *v > 0)
        .and_then(|v| u32::try_from(v).ok())
}

/// The paths a bind's unix sockets are created at: the model's addresses carry the global
/// `unix-bind prefix` in force at the line. A relative result stays relative to the startup
/// directory, where HAProxy is back when it binds (`default-path` does not apply).
fn unix_paths(b: &model::Bind, targets: &mut [BindTarget]) {
    let mut prefixed = b.addresses.iter().filter_map(|a| match a {
        Address::Unix(path) => Some(path),
        _ => None,
    });
    for t in targets {
        if let BindTarget::Unix(path) = t
            && let Some(p) = prefixed.next()
        {
            *path = p.into();
        }
    }
}

fn bind_specs(cfg: &Config, p: &Proxy) -> Result<Vec<BindSpec>, ProxyError> {
    let global_maxconn = cfg.global.maxconn;
    p.binds
        .iter()
        .map(|b| {
            let mut targets = Vec::new();
            for part in b.text.split(',') {
                targets.extend(parse_bind_addr(part)?);
            }
            unix_paths(b, &mut targets);
            let o = &b.options;
            if o.ssl {
                return Err(cfg_err(format!(
                    "[{}:{}] : 'bind {}' : 'ssl' is not supported yet",
                    b.loc.file, b.loc.line, b.text
                )));
            }
            let (unix_uid, unix_gid) = bind_owner(b, p.kind.as_str())?;
            let v6only = if o.v6only {
                Some(true)
            } else if o.v4v6 {
                Some(false)
            } else {
                None
            };
            Ok(BindSpec {
                loc: format!("{}:{}", b.loc.file, b.loc.line),
                targets,
                options: BindOptions {
                    backlog: backlog(o, p, global_maxconn),
                    v6only,
                    reuseport: true,
                    // HAProxy leaves the mode alone at 0 (`unix-bind mode 0`, `mode x`).
                    unix_mode: o.mode.or(b.unix_defaults.mode).filter(|&m| m != 0),
                    unix_uid,
                    unix_gid,
                },
                maxconn: count(o.maxconn),
                accept_proxy: o.accept_proxy,
            })
        })
        .collect()
}

/// Proxy ids as HAProxy assigns them: an explicit `id`, else the lowest free number from 1, in
/// configuration order; indexed like `cfg.proxies` (`0` for defaults sections).
fn proxy_ids(cfg: &Config) -> Vec<u32> {
    let explicit: Vec<u32> = cfg
        .proxies
        .iter()
        .filter_map(|p| p.id.and_then(|v| u32::try_from(v).ok()))
        .collect();
    // With a stats socket, HAProxy's internal CLI proxy `GLOBAL` takes id 1 (reference §4.1).
    let mut next = if cfg.global.stats_sockets.is_empty() {
        1u32
    } else {
        2
    };
    cfg.proxies
        .iter()
        .map(|p| {
            if p.kind == ProxyKind::Defaults {
                return 0;
            }
            if let Some(id) = p.id.and_then(|v| u32::try_from(v).ok()) {
                return id;
            }
            while explicit.contains(&next) {
                next += 1;
            }
            next += 1;
            next - 1
        })
        .collect()
}

/// Server ids within a backend: an explicit `id`, else the lowest free number from 1.
fn server_ids(p: &Proxy) -> Vec<u32> {
    let explicit: Vec<u32> = p
        .servers
        .iter()
        .filter_map(|s| s.params.id.and_then(|v| u32::try_from(v).ok()))
        .collect();
    let mut next = 1u32;
    p.servers
        .iter()
        .map(|s| {
            if let Some(id) = s.params.id.and_then(|v| u32::try_from(v).ok()) {
                return id;
            }
            while explicit.contains(&next) {
                next += 1;
            }
            next += 1;
            next - 1
        })
        .collect()
}

fn backend_entry(p: &Proxy, id: u32, settings: &BackendSettings) -> BackendEntry {
    let ids = server_ids(p);
    BackendEntry {
        name: p.name.clone(),
        id,
        mode: settings.mode,
        counters: Counters::new(),
        servers: settings
            .servers
            .iter()
            .zip(&p.servers)
            .zip(ids)
            .map(|((s, m), sid)| {
                ServerEntry::new(
                    s.name.clone(),
                    sid,
                    s.addr,
                    s.backup,
                    s.weight,
                    m.params.disabled == Some(true),
                )
            })
            .collect(),
    }
}

/// A frontend built up to the point where it needs the registry.
struct Pending {
    type_str: &'static str,
    binds: Vec<BindSpec>,
    frontend: FrontendSettings,
    rules: Vec<crate::http::RequestRule>,
    chooser: AclChooser,
    counters: Arc<Counters>,
    tcp: TcpRules,
    switch_rules: Option<Vec<crate::http::RequestRule>>,
}

/// Builds the runtime from a loaded, valid configuration.
///
/// # Errors
/// [`ProxyError::Config`] for a construct the proxy cannot run (with HAProxy's message when it
/// has one), [`ProxyError::Bind`] for a bind address the listener cannot parse, and
/// [`ProxyError::Errorfile`] for an unusable errorfile.
pub fn build(cfg: &Config) -> Result<Runtime, ProxyError> {
    let ids = proxy_ids(cfg);
    let id_of = |p: &Proxy| {
        cfg.proxies
            .iter()
            .position(|q| std::ptr::eq(q, p))
            .and_then(|i| ids.get(i).copied())
            .unwrap_or(0)
    };
    let backend_proxies: Vec<&Proxy> = cfg
        .proxies
        .iter()
        .filter(|p| matches!(p.kind, ProxyKind::Backend | ProxyKind::Listen) && !p.disabled)
        .collect();
    let case = Arc::new(CaseMap::new(cfg.global.h1_case_adjust.iter().cloned()));
    let mut backends = backend_proxies
        .iter()
        .map(|p| backend_settings(p, &case))
        .collect::<Result<Vec<_>, _>>()?;
    // One set of pattern references for the process, as HAProxy has: the runtime API edits them,
    // and every rule, dynamic backend name and `balance hash` expression reads them.
    let patterns = Arc::new(haproxy_acl::PatternRefs::default());
    let fullconn = fullconn::derive(cfg, &backend_proxies);
    let balancers = backend_proxies
        .iter()
        .zip(&fullconn)
        .map(|(p, &full)| balance::balancer(p, acl_set(cfg, p, &patterns), full))
        .collect::<Result<Vec<_>, _>>()?;
    let health = crate::health::plan(
        cfg,
        &backend_proxies
            .iter()
            .copied()
            .zip(&backends)
            .collect::<Vec<_>>(),
    )?;
    let picker = LbPicker(Arc::new(balancers));
    let backend_entries: Vec<BackendEntry> = backend_proxies
        .iter()
        .zip(&backends)
        .map(|(p, settings)| backend_entry(p, id_of(p), settings))
        .collect();
    let mut frontend_entries = Vec::new();
    let mut keep_idle = Vec::new();
    let mut pending = Vec::new();
    let index_of = |name: &str| backend_proxies.iter().position(|p| p.name == name);
    let limits = limits(cfg);
    let mut frontends = Vec::new();
    // Each backend's http-request rules and stats page, compiled against its own ACLs (a listen
    // section's page is served by its frontend side).
    // A `backend` section's `tcp-request content` rules run when a stream reaches it: in TCP
    // mode on the inspected data (kept by index for every frontend), in HTTP mode per request
    // before its `http-request` rules. A listen section's run as its frontend's.
    let mut be_tcp = Vec::with_capacity(backend_proxies.len());
    for (p, settings) in backend_proxies.iter().zip(&mut backends) {
        let mut acls = acl_set(cfg, p, &patterns);
        let mut http_rules = rules::compile_backend(p, &mut acls, cfg.dir_at(&p.loc))?;
        let tcp = match p.kind {
            ProxyKind::Backend => tcp_rules::compile(p, &acls)?,
            _ => TcpRules::default(),
        };
        if mode(p)? == Mode::Http {
            let mut all = tcp.http_rules();
            all.append(&mut http_rules);
            http_rules = all;
            be_tcp.push(TcpRules::default());
        } else {
            be_tcp.push(tcp);
        }
        settings.rules = http_rules.into();
        settings.stats = match p.kind {
            ProxyKind::Backend => stats::page(p, &acls)?.map(Arc::new),
            _ => None,
        };
    }
    let be_tcp = Arc::new(be_tcp);
    let names: Arc<HashMap<String, usize>> = Arc::new(
        backend_proxies
            .iter()
            .enumerate()
            .map(|(i, p)| (p.name.clone(), i))
            .collect(),
    );
    for p in cfg
        .proxies
        .iter()
        .filter(|p| matches!(p.kind, ProxyKind::Frontend | ProxyKind::Listen) && !p.disabled)
    {
        let binds = bind_specs(cfg, p)?;
        if binds.is_empty() {
            continue;
        }
        let mut acls = acl_set(cfg, p, &patterns);
        let compiled = rules::compile(p, &mut acls, &index_of, &names, cfg.dir_at(&p.loc))?;
        let stats = stats::page(p, &acls)?.map(Arc::new);
        let mut tcp = tcp_rules::compile(p, &acls)?;
        tcp.backend_content = Arc::clone(&be_tcp);
        let mut chooser = compiled.chooser;
        chooser.default = match (&p.default_backend, p.kind) {
            (Some((name, _)), _) => Some(index_of(name).ok_or_else(|| {
                cfg_err(format!(
                    "Proxy '{}': unable to find required default_backend: '{name}'.",
                    p.name
                ))
            })?),
            (None, ProxyKind::Listen) => index_of(&p.name),
            (None, _) => None,
        };
        let fe_mode = mode(p)?;
        // In HTTP mode the content rules run per request, before the `http-request` rules.
        let mut request_rules = match fe_mode {
            Mode::Http => tcp.http_rules(),
            Mode::Tcp => Vec::new(),
        };
        let switch_rules =
            (fe_mode == Mode::Tcp && tcp.may_switch_to_http()).then(|| compiled.rules.clone());
        request_rules.extend(compiled.rules);
        // HAProxy drops the HTTP options and the stats page of a TCP frontend at startup (with a
        // warning) unless a `switch-mode http` rule may make it HTTP: a stream its HTTP backend
        // upgrades does not get them.
        let http_options = fe_mode == Mode::Http || tcp.may_switch_to_http();
        let counters = Counters::new();
        let index = frontend_entries.len();
        keep_idle.push(p.options.is_set("idle-close-on-response"));
        frontend_entries.push(FrontendEntry {
            name: p.name.clone(),
            id: id_of(p),
            mode: fe_mode,
            counters: Arc::clone(&counters),
            maxconn: std::sync::atomic::AtomicU32::new(count(p.maxconn)),
            enabled: std::sync::atomic::AtomicBool::new(true),
            sess_rate: crate::registry::RateLimit::new(rates::frontend_sessions(cfg, p)),
        });
        let frontend = FrontendSettings {
            name: p.name.clone(),
            mode: fe_mode,
            timeouts: timeouts(&p.timeouts),
            conn_mode: conn_mode(p),
            forwardfor: forwardfor(p)?.filter(|_| http_options),
            originalto: originalto(p).filter(|_| http_options),
            maxconn: count(p.maxconn),
            limits,
            errors: error_pages(p)?,
            index,
            stats: stats.filter(|_| http_options),
            no_delay: http_options && p.options.is_set("http-no-delay"),
            buffer_request: http_options && p.options.is_set("http-buffer-request"),
            own_backend: (p.kind == ProxyKind::Listen)
                .then(|| index_of(&p.name))
                .flatten(),
            case_adjust: case_adjust(p, "h1-case-adjust-bogus-client", &case),
        };
        pending.push(Pending {
            type_str: p.kind.type_str(),
            binds,
            frontend,
            rules: request_rules,
            chooser,
            counters,
            tcp,
            switch_rules,
        });
    }
    let registry = Arc::new(
        Registry::new(frontend_entries, backend_entries, picker.clone()).with_patterns(patterns),
    );
    stopping::configure(&registry.soft_stop, cfg, keep_idle);
    // The global rate limits; `set rate-limit connections|sessions global` changes them later.
    let global_rates = &registry.limits;
    global_rates
        .conn_rate
        .set_limit(rates::global(cfg, "maxconnrate"));
    global_rates
        .sess_rate
        .set_limit(rates::global(cfg, "maxsessrate"));
    // The `slim` column shows the `fullconn` the balancers use (set before the runtime's start,
    // which leaves a value already set).
    let _ = registry.fullconn.set(fullconn);
    for f in pending {
        let shared = Shared {
            backends: &backends,
            picker: &picker,
            counters: &f.counters,
            registry: &registry,
        };
        let mut upgrades = HttpUpgrades::build(&f.frontend, &f.chooser, &shared);
        if let Some(rules) = f.switch_rules {
            upgrades = upgrades.with_switch(&f.frontend, &f.chooser, rules, &shared);
        }
        let Pending {
            type_str,
            binds,
            frontend,
            rules,
            chooser,
            counters,
            tcp,
            ..
        } = f;
        frontends.push(FrontendRuntime {
            type_str,
            binds,
            service: Arc::new(HttpService {
                frontend,
                backends: backends.clone(),
                rules,
                chooser,
                picker: picker.clone(),
                pool: ServerPool::new(),
                counters,
                registry: Arc::clone(&registry),
            }),
            tcp: Arc::new(tcp),
            upgrades: Arc::new(upgrades),
        });
    }
    Ok(Runtime {
        registry,
        health,
        frontends,
        global_maxconn: count(cfg.global.maxconn),
        nbthread: cfg.global.nbthread,
    })
}
