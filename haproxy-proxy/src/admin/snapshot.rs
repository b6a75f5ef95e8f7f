//! Registry to [`haproxy_stats::Snapshot`]: one row set per proxy, with status texts, weights,
//! counters and check figures as HAProxy 2.6 computes them (`stats_fill_{fe,be,sv}_stats` in
//! src/stats.c).

use std::collections::BTreeMap;
use std::sync::atomic::Ordering::Relaxed;

use haproxy_lb::{Algorithm, Balancer};
use haproxy_stats::{
    BackendStats, CheckStats, FrontendStats, FrontendStatus, Mode, ModuleCounters, ProxyStats,
    Responses, ServerStateFields, ServerStats, ServerStatus, Snapshot, Timings,
};

use crate::counters::Counters;
use crate::registry::{Admin, BackendEntry, FrontendEntry, Health, Registry, ServerEntry};
use crate::settings;

fn mode(m: settings::Mode) -> Mode {
    match m {
        settings::Mode::Http => Mode::Http,
        settings::Mode::Tcp => Mode::Tcp,
    }
}

fn sat32(v: u64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

fn responses(c: &Counters) -> Responses {
    let at = |i: usize| c.http_status.get(i).map_or(0, |a| a.load(Relaxed));
    Responses {
        r1xx: at(0),
        r2xx: at(1),
        r3xx: at(2),
        r4xx: at(3),
        r5xx: at(4),
        other: at(5),
    }
}

/// Seconds since the last session, -1 when there was none (`lastsess`).
fn lastsess(c: &Counters, now: u64) -> i32 {
    match c.last_session.load(Relaxed) {
        0 => -1,
        stamp => i32::try_from(now.saturating_sub(stamp - 1)).unwrap_or(i32::MAX),
    }
}

/// HAProxy's name of a balancing algorithm (`backend_lb_algo_str()`, src/backend.c).
pub(crate) fn algo_name(lb: &Balancer) -> &'static str {
    match lb.config().algorithm {
        Algorithm::RoundRobin => "roundrobin",
        Algorithm::StaticRr => "static-rr",
        Algorithm::LeastConn => "leastconn",
        Algorithm::First => "first",
        Algorithm::Random { .. } => "random",
        Algorithm::Source => "source",
        Algorithm::Uri(_) => "uri",
        Algorithm::UrlParam(_) => "url_param",
        Algorithm::Hdr { .. } => "hdr",
        Algorithm::RdpCookie(_) => "rdp-cookie",
        _ => "unknown",
    }
}

/// `h1_open_connections`, `h1_total_connections`, `h1_total_streams`, `h1_bytes_in`,
/// `h1_bytes_out` in the module columns (HTTP proxies only: TCP streams have no H1 mux).
/// `h1_open_streams` and the spliced byte counts are not tracked and stay 0.
fn h1_modules(
    open_conns: u64,
    conns: u64,
    streams: u64,
    bytes_in: u64,
    bytes_out: u64,
) -> ModuleCounters {
    let mut m = ModuleCounters::default();
    for (i, v) in [
        (16, open_conns),
        (18, conns),
        (19, streams),
        (20, bytes_in),
        (21, bytes_out),
    ] {
        if let Some(slot) = m.get_mut(i) {
            *slot = v;
        }
    }
    m
}

/// `qtime`…`ttime` and their maxima.
fn timings(c: &Counters) -> Timings {
    let max = |i: usize| sat32(c.time_max.get(i).map_or(0, |m| m.load(Relaxed)));
    let avg = |i: usize| sat32(c.time_avg(i));
    Timings {
        qtime: avg(0),
        ctime: avg(1),
        rtime: avg(2),
        ttime: avg(3),
        qtime_max: max(0),
        ctime_max: max(1),
        rtime_max: max(2),
        ttime_max: max(3),
    }
}

fn frontend(reg: &Registry, i: usize, fe: &FrontendEntry) -> FrontendStats {
    let c = &fe.counters;
    let http = fe.mode == settings::Mode::Http;
    let own = fe.maxconn.load(Relaxed);
    FrontendStats {
        // A soft stop closes every listener: HAProxy 2.6 shows `STOP` from then on.
        status: if reg.frontend_stopped.get(i).is_some_and(|s| s.load(Relaxed))
            || reg.soft_stop.is_stopping()
        {
            FrontendStatus::Stop
        } else if fe.enabled.load(Relaxed) {
            FrontendStatus::Open
        } else {
            FrontendStatus::Paused
        },
        scur: sat32(c.sessions_cur.load(Relaxed)),
        smax: sat32(c.sessions_max.load(Relaxed)),
        // A frontend without its own maxconn inherits the global one.
        slim: if own > 0 {
            own
        } else {
            reg.limits.maxconn.load(Relaxed)
        },
        stot: c.sessions_total.load(Relaxed),
        bin: c.bytes_in.load(Relaxed),
        bout: c.bytes_out.load(Relaxed),
        dreq: c.denied_req.load(Relaxed),
        ereq: c.errors_req.load(Relaxed),
        responses: responses(c),
        req_tot: if http {
            c.requests_total.load(Relaxed)
        } else {
            0
        },
        conn_tot: c.sessions_total.load(Relaxed),
        rate: c.session_rate.rate(),
        rate_max: c.session_rate.max(),
        conn_rate: c.session_rate.rate(),
        conn_rate_max: c.session_rate.max(),
        req_rate: if http { c.request_rate.rate() } else { 0 },
        req_rate_max: if http { c.request_rate.max() } else { 0 },
        modules: if http {
            h1_modules(
                c.sessions_cur.load(Relaxed),
                c.sessions_total.load(Relaxed),
                c.requests_total.load(Relaxed),
                c.bytes_in.load(Relaxed),
                c.bytes_out.load(Relaxed),
            )
        } else {
            ModuleCounters::default()
        },
        rate_lim: fe.sess_rate.limit(),
        ..FrontendStats::default()
    }
}

/// The status text of a server (`srv_hlt_st` / status logic of `stats_fill_sv_stats()`).
fn server_status(sv: &ServerEntry, check: Option<&CheckStats>) -> ServerStatus {
    if sv.admin() == Admin::Maint {
        return ServerStatus::Maint;
    }
    let going = check.filter(|c| !c.paused).and_then(|c| {
        let top = c.rise + c.fall - 1;
        (c.health < top).then_some((c.health, c.rise, c.fall))
    });
    match sv.health() {
        Health::Up => match going {
            Some((h, rise, fall)) if h >= rise => {
                let failed = top_minus(h, rise, fall);
                if sv.admin() == Admin::Drain {
                    ServerStatus::DrainGoingDown(failed, fall)
                } else {
                    ServerStatus::UpGoingDown(failed, fall)
                }
            }
            _ if sv.admin() == Admin::Drain => ServerStatus::Drain,
            // A disabled check counts as none (`enable health` brings the status back).
            _ if check.is_none() || !sv.checks.health_enabled() => ServerStatus::NoCheck,
            _ => ServerStatus::Up,
        },
        Health::NoLb => match going {
            Some((h, rise, fall)) if h >= rise => {
                ServerStatus::NolbGoingDown(top_minus(h, rise, fall), fall)
            }
            _ => ServerStatus::Nolb,
        },
        Health::Down => match going {
            Some((h, rise, _)) if h > 0 => ServerStatus::DownGoingUp(h, rise),
            _ => ServerStatus::Down,
        },
    }
}

/// The first number of `UP x/y` while going down: `health - rise + 1`.
fn top_minus(health: u32, rise: u32, _fall: u32) -> u32 {
    (health + 1).saturating_sub(rise)
}

/// `srv_check_status`: the 2.6 `HCHK_STATUS_*` number of a short status (reference §3.2).
fn check_status_code(status: &str) -> u32 {
    const CODES: &[(&str, u32)] = &[
        ("UNK", 0),
        ("INI", 1),
        ("START", 2),
        ("CHECKED", 3),
        ("HANA", 4),
        ("SOCKERR", 5),
        ("L4OK", 6),
        ("L4TOUT", 7),
        ("L4CON", 8),
        ("L6OK", 9),
        ("L6TOUT", 10),
        ("L6RSP", 11),
        ("L7TOUT", 12),
        ("L7RSP", 13),
        ("L57DATA", 14),
        ("L7OK", 15),
        ("L7OKC", 16),
        ("L7STS", 17),
        ("PROCERR", 18),
        ("PROCTOUT", 19),
        ("PROCOK", 20),
    ];
    let short = status.trim_start_matches("* ");
    CODES
        .iter()
        .find(|(name, _)| *name == short)
        .map_or(0, |(_, code)| *code)
}

/// `srv_check_result`: 0 unknown, 2 failed, 3 passed, 4 conditionally passed.
fn check_result(status: &str) -> u32 {
    match check_status_code(status) {
        6 | 9 | 15 | 20 => 3,
        16 => 4,
        0..=3 => 0,
        _ => 2,
    }
}

fn server(reg: &Registry, b: usize, s: usize, sv: &ServerEntry) -> ServerStats {
    let c = &sv.counters;
    let now = reg.now_secs();
    let lb = reg.balancer(b);
    let uweight = lb.and_then(|l| l.weight(s)).unwrap_or(sv.initial_weight);
    let health = sv.checks.health();
    let maint = sv.admin() == Admin::Maint;
    let check = health.clone().map(|mut h| {
        // In maintenance the check is paused: its columns are blank.
        h.paused |= maint;
        h
    });
    let agent = sv.checks.agent().map(|mut a| {
        a.paused |= maint;
        a
    });
    let status = server_status(sv, health.as_ref());
    let op_state = match (sv.admin(), sv.health()) {
        (Admin::Maint, _) | (_, Health::Down) => 0,
        (_, Health::NoLb) => 3,
        _ => 2,
    };
    let admin_state = match sv.admin() {
        Admin::Ready => 0,
        Admin::Drain => 0x08,
        Admin::Maint => 0x01,
    };
    // CHK_ST_CONFIGURED (2), ENABLED (4) unless disabled, PAUSED (8) in maintenance.
    let check_state = match &health {
        None => 0,
        Some(_) if !sv.checks.health_enabled() => 0x02,
        Some(h) if h.paused || maint => 0x08,
        Some(_) => 0x06,
    };
    // The agent's state adds CHK_ST_AGENT (16).
    let agent_state = match sv.checks.agent() {
        None => 0,
        Some(_) if !sv.checks.agent_enabled() => 0x12,
        Some(_) => 0x16,
    };
    ServerStats {
        name: sv.name.clone(),
        sid: sv.id,
        status,
        qcur: lb.map_or(0, |l| l.queued(s)),
        scur: sat32(c.sessions_cur.load(Relaxed)),
        smax: sat32(c.sessions_max.load(Relaxed)),
        maxconn: Some(sv.maxconn.load(Relaxed)).filter(|m| *m > 0),
        stot: c.sessions_total.load(Relaxed),
        bin: c.bytes_in.load(Relaxed),
        bout: c.bytes_out.load(Relaxed),
        econ: c.errors_conn.load(Relaxed),
        eresp: c.errors_resp.load(Relaxed),
        wretr: c.retries.load(Relaxed),
        wredis: c.redispatches.load(Relaxed),
        weight: uweight,
        uweight,
        backup: sv.backup,
        chkfail: sv.checks.chkfail.load(Relaxed),
        chkdown: sv.checks.chkdown.load(Relaxed),
        lastchg: sat32(now.saturating_sub(sv.last_change())),
        downtime: sat32(sv.checks.downtime.load(Relaxed)),
        check,
        agent,
        lbtot: c.sessions_total.load(Relaxed),
        rate: c.session_rate.rate(),
        rate_max: c.session_rate.max(),
        responses: responses(c),
        req_tot: c.requests_total.load(Relaxed),
        lastsess: lastsess(c, now),
        timings: timings(c),
        addr: sv.current_addr().to_string(),
        connect: c.sessions_total.load(Relaxed),
        state: ServerStateFields {
            addr: sv.current_addr().ip().to_string(),
            op_state,
            admin_state,
            iweight: sv.initial_weight,
            check_status: health.as_ref().map_or(1, |h| check_status_code(&h.status)),
            check_result: health.as_ref().map_or(0, |h| check_result(&h.status)),
            check_health: health
                .as_ref()
                .map_or_else(|| sv.unchecked_health.load(Relaxed), |h| h.health),
            check_state,
            agent_state,
            port: sv.current_addr().port(),
            check_port: sv.check_port().unwrap_or(0),
            ..ServerStateFields::default()
        },
        ..ServerStats::default()
    }
}

fn backend(reg: &Registry, b: usize, be: &BackendEntry) -> BackendStats {
    let c = &be.counters;
    let now = reg.now_secs();
    let lb = reg.balancer(b);
    let usable = |backup: bool| {
        be.servers
            .iter()
            .enumerate()
            .filter(|(s, sv)| sv.backup == backup && lb.is_some_and(|l| l.is_usable(*s)))
            .map(|(s, _)| lb.and_then(|l| l.weight(s)).unwrap_or(0))
            .collect::<Vec<u32>>()
    };
    let (act, bck) = (usable(false), usable(true));
    // Backups carry the weight only when no active server is usable.
    let weight: u32 = if act.is_empty() {
        bck.iter().sum()
    } else {
        act.iter().sum()
    };
    let state = reg.backend_states.get(b);
    let http = be.mode == settings::Mode::Http;
    BackendStats {
        has_servers: !be.servers.is_empty(),
        up: be.servers.is_empty() || weight > 0,
        // HAProxy's BACKEND row shows the backend's own queue (requests not yet given a
        // server), not the sum of the servers' queues.
        qcur: sat32(c.queue_cur.load(Relaxed)),
        qmax: sat32(c.queue_max.load(Relaxed)),
        scur: sat32(c.sessions_cur.load(Relaxed)),
        smax: sat32(c.sessions_max.load(Relaxed)),
        slim: reg
            .fullconn
            .get()
            .and_then(|f| f.get(b).copied())
            .unwrap_or(1),
        stot: c.sessions_total.load(Relaxed),
        bin: c.bytes_in.load(Relaxed),
        bout: c.bytes_out.load(Relaxed),
        dreq: c.denied_req.load(Relaxed),
        econ: c.errors_conn.load(Relaxed),
        eresp: c.errors_resp.load(Relaxed),
        wretr: c.retries.load(Relaxed),
        wredis: c.redispatches.load(Relaxed),
        weight,
        uweight: weight,
        act: u32::try_from(act.len()).unwrap_or(u32::MAX),
        bck: u32::try_from(bck.len()).unwrap_or(u32::MAX),
        chkdown: state.map_or(0, |st| st.downs.load(Relaxed)),
        lastchg: sat32(now.saturating_sub(state.map_or(0, |st| st.last_change.load(Relaxed)))),
        downtime: sat32(state.map_or(0, |st| st.downtime_at(now))),
        lbtot: c.sessions_total.load(Relaxed),
        rate: c.session_rate.rate(),
        rate_max: c.session_rate.max(),
        responses: responses(c),
        req_tot: if http {
            c.requests_total.load(Relaxed)
        } else {
            0
        },
        lastsess: lastsess(c, now),
        timings: timings(c),
        algo: lb.map_or("roundrobin", algo_name).to_owned(),
        connect: c.sessions_total.load(Relaxed),
        // Server-side H1 figures: streams, and bytes from (in) and to (out) the servers. Server
        // connections are not counted apart from streams, so their two columns stay 0.
        modules: if http {
            h1_modules(
                0,
                0,
                c.requests_total.load(Relaxed),
                c.bytes_out.load(Relaxed),
                c.bytes_in.load(Relaxed),
            )
        } else {
            ModuleCounters::default()
        },
        ..BackendStats::default()
    }
}

/// A statistics snapshot of every proxy in the registry, in proxy-id order, for `show stat`,
/// `show servers state`, the stats page and Prometheus.
#[must_use]
pub fn snapshot(reg: &Registry) -> Snapshot {
    let mut proxies: BTreeMap<(u32, String), ProxyStats> = BTreeMap::new();
    for (i, fe) in reg.frontends.iter().enumerate() {
        let px = proxies
            .entry((fe.id, fe.name.clone()))
            .or_insert_with(|| ProxyStats {
                name: fe.name.clone(),
                iid: fe.id,
                mode: mode(fe.mode),
                ..ProxyStats::default()
            });
        px.frontend = Some(frontend(reg, i, fe));
    }
    for (b, be) in reg.backends.iter().enumerate() {
        let servers: Vec<ServerStats> = be
            .servers
            .iter()
            .enumerate()
            .map(|(s, sv)| server(reg, b, s, sv))
            .collect();
        let stats = backend(reg, b, be);
        let px = proxies
            .entry((be.id, be.name.clone()))
            .or_insert_with(|| ProxyStats {
                name: be.name.clone(),
                iid: be.id,
                mode: mode(be.mode),
                ..ProxyStats::default()
            });
        px.servers = servers;
        px.backend = Some(stats);
    }
    Snapshot {
        proxies: proxies.into_values().collect(),
        module_columns: true,
    }
}
