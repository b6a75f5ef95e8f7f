//! An in-memory model of the recorded configuration (tests/data/haproxy-2.6/rec.cfg) holding
//! the counter values HAProxy reported in the recording, and implementing `RuntimeApi` on it.
#![expect(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers outside #[test] fns: a missing fixture must fail loudly"
)]

use std::collections::BTreeMap;

use haproxy_stats::cli::{
    AdminState, ApiError, CheckKind, ErrorDirection, HealthState, MatchFound, MatchReport,
    PatternEntry, PatternKind, PatternRef, RateLimit, RuntimeApi, ServerOption,
};
use haproxy_stats::{
    BackendStats, CheckStats, FrontendStats, Info, ListenerStats, Mode, ProxyStats, Responses,
    ServerStateFields, ServerStats, ServerStatus, Snapshot, Timings,
};

pub(crate) fn data(name: &str) -> String {
    let path = format!(
        "{}/tests/data/haproxy-2.6/out/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A recorded HTTP response: its head and its de-chunked body.
pub(crate) fn http_body(name: &str) -> (String, String) {
    let path = format!(
        "{}/tests/data/haproxy-2.6/out/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let raw = std::fs::read(path).unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut rest = &raw[split + 4..];
    if !head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        return (head, String::from_utf8_lossy(rest).into_owned());
    }
    let mut body = Vec::new();
    loop {
        let eol = rest.windows(2).position(|w| w == b"\r\n").unwrap();
        let size = usize::from_str_radix(std::str::from_utf8(&rest[..eol]).unwrap(), 16).unwrap();
        if size == 0 {
            break;
        }
        body.extend_from_slice(&rest[eol + 2..eol + 2 + size]);
        rest = &rest[eol + 2 + size + 2..];
    }
    (head, String::from_utf8(body).unwrap())
}

pub(crate) fn port(name: &str) -> u16 {
    data("ports.env")
        .lines()
        .find_map(|l| {
            l.strip_prefix(&format!("{name}="))
                .map(|v| v.parse().unwrap())
        })
        .unwrap()
}

fn server(name: &str, sid: u32, port_var: &str, weight: u32) -> ServerStats {
    let port = port(port_var);
    ServerStats {
        name: name.into(),
        sid,
        weight,
        uweight: weight,
        lastsess: -1,
        lastchg: 3,
        addr: format!("127.0.0.1:{port}"),
        state: ServerStateFields {
            addr: "127.0.0.1".into(),
            op_state: 2,
            iweight: weight,
            check_status: 1,
            check_health: 0,
            port,
            ..ServerStateFields::default()
        },
        ..ServerStats::default()
    }
}

fn maint(mut s: ServerStats) -> ServerStats {
    s.status = ServerStatus::Maint;
    s.state.op_state = 0;
    s.state.admin_state = 5;
    s.state.check_state = 8;
    s
}

fn http_fe(slim: u32) -> FrontendStats {
    FrontendStats {
        slim,
        ..FrontendStats::default()
    }
}

fn empty_be(algo: &str, slim: u32) -> BackendStats {
    BackendStats {
        up: true,
        slim,
        lastsess: -1,
        algo: algo.into(),
        ..BackendStats::default()
    }
}

/// The snapshot at the time of `show stat` in the recording.
pub(crate) fn recorded_snapshot() -> Snapshot {
    let mut snap = snapshot_values();
    for px in &mut snap.proxies {
        if let Some(be) = &mut px.backend {
            be.lastchg = 3;
        }
    }
    snap
}

fn snapshot_values() -> Snapshot {
    let mut fe_http = FrontendStats {
        smax: 1,
        slim: 9982,
        stot: 6,
        bin: 504,
        bout: 726,
        rate_max: 6,
        responses: Responses {
            r2xx: 4,
            r5xx: 2,
            ..Responses::default()
        },
        req_rate_max: 6,
        req_tot: 6,
        conn_rate_max: 6,
        conn_tot: 6,
        ..FrontendStats::default()
    };
    fe_http.modules[18] = 6;
    fe_http.modules[19] = 6;
    fe_http.modules[20] = 486;
    fe_http.modules[21] = 804;
    let sock = ListenerStats {
        name: "sock-1".into(),
        sid: 1,
        addr: format!("127.0.0.1:{}", port("FE_PORT")),
        smax: 1,
        stot: 6,
        bin: 504,
        bout: 726,
        ..ListenerStats::default()
    };
    let fe_tcp = FrontendStats {
        smax: 1,
        slim: 9982,
        stot: 2,
        bin: 158,
        bout: 132,
        rate_max: 2,
        conn_rate_max: 2,
        conn_tot: 2,
        ..FrontendStats::default()
    };
    let mut s1 = server("s1", 1, "O1", 10);
    s1.smax = 1;
    s1.stot = 4;
    s1.bin = 330;
    s1.bout = 292;
    s1.lbtot = 4;
    s1.rate_max = 4;
    s1.responses.r2xx = 4;
    s1.req_tot = 4;
    s1.lastsess = 2;
    s1.cookie = Some("c1".into());
    s1.connect = 4;
    s1.srv_icur = 2;
    s1.idle_conn_cur = 2;
    s1.need_conn_est = 1;
    s1.check = Some(CheckStats {
        status: "L7OK".into(),
        code: Some(200),
        duration: Some(0),
        desc: "Layer7 check passed".into(),
        rise: 2,
        fall: 3,
        health: 4,
        ..CheckStats::default()
    });
    s1.state.check_status = 15;
    s1.state.check_result = 3;
    s1.state.check_health = 4;
    s1.state.check_state = 6;
    let s2 = maint(server("s2", 2, "O2", 20));
    let mut s3 = server("s3", 3, "DEAD", 1);
    s3.status = ServerStatus::Down;
    s3.chkfail = 1;
    s3.chkdown = 1;
    s3.downtime = 3;
    s3.need_conn_est = 1;
    s3.check = Some(CheckStats {
        status: "L4CON".into(),
        duration: Some(0),
        desc: "Layer4 connection problem".into(),
        last: "Connection refused".into(),
        rise: 2,
        fall: 3,
        health: 0,
        ..CheckStats::default()
    });
    s3.state.op_state = 0;
    s3.state.check_status = 8;
    s3.state.check_result = 2;
    s3.state.check_state = 6;
    let mut bk = server("bk", 4, "O3", 1);
    bk.status = ServerStatus::NoCheck;
    bk.backup = true;
    bk.maxconn = Some(50);
    bk.state.check_health = 2;
    let mut be_rr = BackendStats {
        up: true,
        has_servers: true,
        smax: 1,
        slim: 1,
        stot: 4,
        bin: 330,
        bout: 292,
        weight: 10,
        uweight: 10,
        act: 1,
        bck: 1,
        lbtot: 4,
        rate_max: 4,
        responses: Responses {
            r2xx: 4,
            ..Responses::default()
        },
        req_tot: 4,
        lastsess: 2,
        cookie: Some("SRV".into()),
        algo: "roundrobin".into(),
        connect: 4,
        ..BackendStats::default()
    };
    be_rr.modules[16] = 2;
    be_rr.modules[18] = 12;
    be_rr.modules[19] = 12;
    be_rr.modules[20] = 604;
    be_rr.modules[21] = 390;
    let mut a = server("a", 1, "O1", 1);
    a.status = ServerStatus::NoCheck;
    a.smax = 1;
    a.stot = 2;
    a.bin = 158;
    a.bout = 132;
    a.lbtot = 2;
    a.rate_max = 2;
    a.lastsess = 2;
    a.timings = Timings {
        ttime: 1,
        ttime_max: 1,
        ..Timings::default()
    };
    a.connect = 2;
    a.need_conn_est = 1;
    a.state.check_health = 2;
    let b = maint(server("b", 2, "O2", 1));
    let be_static = BackendStats {
        up: true,
        has_servers: true,
        smax: 1,
        slim: 999,
        stot: 2,
        bin: 158,
        bout: 132,
        weight: 1,
        uweight: 1,
        act: 1,
        lbtot: 2,
        rate_max: 2,
        lastsess: 2,
        timings: Timings {
            ttime: 1,
            ttime_max: 1,
            ..Timings::default()
        },
        algo: "static-rr".into(),
        connect: 2,
        ..BackendStats::default()
    };
    let be_empty = BackendStats {
        smax: 1,
        slim: 1,
        stot: 2,
        bin: 174,
        bout: 434,
        econ: 2,
        rate_max: 2,
        responses: Responses {
            r5xx: 2,
            ..Responses::default()
        },
        req_tot: 2,
        ..empty_be("roundrobin", 1)
    };
    let px = |name: &str, iid: u32, mode: Mode| ProxyStats {
        name: name.into(),
        iid,
        mode,
        ..ProxyStats::default()
    };
    Snapshot {
        proxies: vec![
            ProxyStats {
                frontend: Some(fe_http),
                listeners: vec![sock],
                ..px("fe_http", 2, Mode::Http)
            },
            ProxyStats {
                frontend: Some(fe_tcp),
                ..px("fe_tcp", 3, Mode::Tcp)
            },
            ProxyStats {
                backend: Some(be_rr),
                servers: vec![s1, s2, s3, bk],
                ..px("be_rr", 4, Mode::Http)
            },
            ProxyStats {
                backend: Some(be_static),
                servers: vec![a, b],
                ..px("be_static", 5, Mode::Tcp)
            },
            ProxyStats {
                backend: Some(be_empty),
                ..px("be_empty", 6, Mode::Http)
            },
            ProxyStats {
                frontend: Some(http_fe(9982)),
                backend: Some(empty_be("roundrobin", 999)),
                ..px("stats", 7, Mode::Http)
            },
            ProxyStats {
                frontend: Some(http_fe(9982)),
                backend: Some(empty_be("roundrobin", 999)),
                ..px("stats_admin", 8, Mode::Http)
            },
        ],
        module_columns: true,
    }
}

/// `show info` values of the recording (volatile ones are masked by the tests).
pub(crate) fn recorded_info() -> Info {
    Info {
        name: "HAProxy".into(),
        version: "2.6.12-1+deb12u4".into(),
        release_date: "2026/10/17".into(),
        nbthread: 2,
        nbproc: 1,
        process_num: 1,
        uptime: "0d 0h00m03s".into(),
        node: "rec-node".into(),
        listeners: 7,
        build_info: "2.6.12-1+deb12u4".into(),
        tainted: "0".into(),
        ..Info::default()
    }
}

#[derive(Debug, Clone)]
struct Pattern {
    id: u32,
    kind: PatternKind,
    file: String,
    desc: String,
    entries: Vec<PatternEntry>,
    entry_cnt: u32,
}

/// The runtime state the recorded exchanges act on.
#[derive(Debug)]
pub(crate) struct Model {
    pub(crate) snap: Snapshot,
    patterns: Vec<Pattern>,
    next_ref: u64,
    maxconn: u32,
    fe_state: BTreeMap<String, &'static str>,
}

impl Model {
    pub(crate) fn new() -> Self {
        let e = |r: u64, k: &str, v: Option<&str>| PatternEntry {
            reference: r,
            key: k.into(),
            value: v.map(Into::into),
        };
        let inline = |id: u32, what: &str, file: &str, line: u32, n: u32| Pattern {
            id,
            kind: PatternKind::Acl,
            file: String::new(),
            desc: format!("acl '{what}' file '{file}' line {line}"),
            entries: Vec::new(),
            entry_cnt: n,
        };
        Self {
            snap: recorded_snapshot(),
            patterns: vec![
                Pattern {
                    id: 0,
                    kind: PatternKind::Acl,
                    file: "blocked.acl".into(),
                    desc: "pattern loaded from file 'blocked.acl' used by acl at file 'rec.cfg' line 18".into(),
                    entries: vec![e(1, "10.0.0.0/8", None), e(2, "192.168.1.1", None)],
                    entry_cnt: 2,
                },
                inline(1, "src", "rec.cfg", 18, 0),
                inline(2, "path", "rec.cfg", 53, 1),
                inline(3, "always_true", "rec.cfg", 62, 0),
                inline(4, "var", "httpclient", 0, 1),
                inline(5, "var", "httpclient", 0, 1),
                Pattern {
                    id: 6,
                    kind: PatternKind::Map,
                    file: "paths.map".into(),
                    desc: "pattern loaded from file 'paths.map' used by map at file 'rec.cfg' line 20".into(),
                    entries: vec![e(3, "/api", Some("be_empty")), e(4, "/static", Some("be_rr"))],
                    entry_cnt: 2,
                },
            ],
            next_ref: 5,
            maxconn: 9982,
            fe_state: BTreeMap::new(),
        }
    }

    fn server_mut(
        &mut self,
        be: &str,
        sv: &str,
    ) -> Result<(&mut BackendStats, &mut ServerStats), ApiError> {
        let px = self
            .snap
            .proxies
            .iter_mut()
            .find(|p| p.name == be && p.backend.is_some())
            .ok_or(ApiError::NoSuchBackend)?;
        let s = px
            .servers
            .iter_mut()
            .find(|s| s.name == sv)
            .ok_or(ApiError::NoSuchServer)?;
        Ok((px.backend.as_mut().unwrap(), s))
    }

    fn frontend(&self, fe: &str) -> Result<(), ApiError> {
        self.snap
            .proxies
            .iter()
            .any(|p| p.name == fe && p.frontend.is_some())
            .then_some(())
            .ok_or(ApiError::NoSuchFrontend)
    }

    fn pattern(&mut self, kind: PatternKind, name: &str) -> Result<&mut Pattern, ApiError> {
        self.patterns
            .iter_mut()
            .find(|p| {
                p.kind == kind
                    && (p.file == name || name.strip_prefix('#') == Some(&p.id.to_string()))
            })
            .ok_or(ApiError::UnknownPatternRef)
    }
}

fn ipv4(s: &str) -> Option<u32> {
    s.parse::<std::net::Ipv4Addr>().ok().map(u32::from)
}

fn cidr_match(pattern: &str, ip: u32) -> bool {
    let (net, bits) = pattern
        .split_once('/')
        .map_or((pattern, 32), |(n, b)| (n, b.parse().unwrap_or(32)));
    let mask = if bits == 0 {
        0
    } else {
        u32::MAX << (32 - bits)
    };
    ipv4(net).is_some_and(|n| n & mask == ip & mask)
}

impl RuntimeApi for Model {
    fn version(&self) -> String {
        "2.6.12-1+deb12u4".into()
    }
    fn snapshot(&self) -> Snapshot {
        self.snap.clone()
    }
    fn info(&self) -> Info {
        recorded_info()
    }
    fn weight(&self, be: &str, sv: &str) -> Result<(u32, u32), ApiError> {
        let px = self
            .snap
            .proxies
            .iter()
            .find(|p| p.name == be && p.backend.is_some())
            .ok_or(ApiError::NoSuchBackend)?;
        let s = px
            .servers
            .iter()
            .find(|s| s.name == sv)
            .ok_or(ApiError::NoSuchServer)?;
        Ok((s.uweight, s.state.iweight))
    }
    fn set_weight(&mut self, be: &str, sv: &str, w: u32) -> Result<(), ApiError> {
        let (b, s) = self.server_mut(be, sv)?;
        if b.algo == "static-rr" && w != 0 && w != s.state.iweight {
            return Err(ApiError::StaticAlgorithm);
        }
        s.uweight = w;
        s.weight = w;
        Ok(())
    }
    fn set_admin_state(&mut self, be: &str, sv: &str, st: AdminState) -> Result<(), ApiError> {
        let (_, s) = self.server_mut(be, sv)?;
        s.state.admin_state = match st {
            AdminState::Ready => s.state.admin_state & !0x09,
            AdminState::Drain => (s.state.admin_state & !0x01) | 0x08,
            AdminState::Maint => s.state.admin_state | 0x01,
        };
        s.lastchg = 0;
        Ok(())
    }
    fn set_health(&mut self, be: &str, sv: &str, _st: HealthState) -> Result<(), ApiError> {
        self.server_mut(be, sv).map(|_| ())
    }
    fn set_agent(&mut self, be: &str, sv: &str, _up: bool) -> Result<(), ApiError> {
        let (_, s) = self.server_mut(be, sv)?;
        if s.agent.is_none() {
            return Err(ApiError::AgentNotEnabled);
        }
        Ok(())
    }
    fn set_addr(
        &mut self,
        be: &str,
        sv: &str,
        addr: &str,
        port: Option<u16>,
    ) -> Result<(String, u16), ApiError> {
        let (_, s) = self.server_mut(be, sv)?;
        let old = std::mem::replace(&mut s.state.addr, addr.into());
        let old_port = s.state.port;
        if let Some(p) = port {
            s.state.port = p;
        }
        Ok((old, old_port))
    }
    fn set_server_option(
        &mut self,
        be: &str,
        sv: &str,
        option: ServerOption,
    ) -> Result<(), ApiError> {
        let (_, s) = self.server_mut(be, sv)?;
        match option {
            // The recorded servers have no ssl settings and there is no resolvers section.
            ServerOption::Ssl(_) => Err(ApiError::SslNotConfigurable),
            ServerOption::Fqdn(_) => Err(ApiError::NoResolution),
            ServerOption::CheckAddr(a, _) => {
                s.state.check_addr = Some(a);
                Ok(())
            }
            ServerOption::AgentAddr(_)
            | ServerOption::AgentPort(_)
            | ServerOption::AgentSend(_) => Ok(()),
        }
    }
    fn set_check_port(&mut self, be: &str, sv: &str, port: u16) -> Result<(), ApiError> {
        self.server_mut(be, sv)?.1.state.check_port = port;
        Ok(())
    }
    fn set_check_enabled(
        &mut self,
        be: &str,
        sv: &str,
        kind: CheckKind,
        on: bool,
    ) -> Result<(), ApiError> {
        let (_, s) = self.server_mut(be, sv)?;
        match kind {
            CheckKind::Agent if on && s.agent.is_none() => Err(ApiError::AgentNotConfigured),
            CheckKind::Health if on && s.check.is_none() => Err(ApiError::HealthNotConfigured),
            _ => Ok(()),
        }
    }
    fn set_frontend_enabled(&mut self, fe: &str, on: bool) -> Result<(), ApiError> {
        self.frontend(fe)?;
        let cur = self.fe_state.get(fe).copied().unwrap_or("open");
        let next = match (cur, on) {
            ("stop", true) => return Err(ApiError::FrontendShutDown),
            ("open", true) => return Err(ApiError::AlreadyEnabled),
            ("paused", false) | ("stop", false) => return Err(ApiError::AlreadyDisabled),
            (_, true) => "open",
            (_, false) => "paused",
        };
        self.fe_state.insert(fe.into(), next);
        Ok(())
    }
    fn shutdown_frontend(&mut self, fe: &str) -> Result<(), ApiError> {
        self.frontend(fe)?;
        self.fe_state.insert(fe.into(), "stop");
        Ok(())
    }
    fn set_frontend_maxconn(&mut self, fe: &str, _n: u32) -> Result<(), ApiError> {
        self.frontend(fe)
    }
    fn set_server_maxconn(&mut self, be: &str, sv: &str, n: u32) -> Result<(), ApiError> {
        self.server_mut(be, sv)?.1.maxconn = Some(n);
        Ok(())
    }
    fn set_global_maxconn(&mut self, n: u32) -> Result<(), ApiError> {
        if n > 9982 {
            return Err(ApiError::OutOfRange);
        }
        self.maxconn = if n == 0 { 9982 } else { n };
        Ok(())
    }
    fn set_rate_limit(&mut self, _which: RateLimit, _value: u32) -> Result<(), ApiError> {
        Ok(())
    }
    fn set_cli_timeout(&mut self, _seconds: u32) {}
    fn clear_counters(&mut self, _all: bool) {}
    fn shutdown_session(&mut self, _id: u64) -> Result<(), ApiError> {
        Err(ApiError::NoSuchSession)
    }
    fn shutdown_server_sessions(&mut self, be: &str, sv: &str) -> Result<(), ApiError> {
        self.server_mut(be, sv).map(|_| ())
    }
    fn sessions(&self) -> String {
        "0x1: proto=unix_stream src=unix:1 fe=GLOBAL be=<NONE> srv=<none>\n".into()
    }
    fn errors(
        &self,
        proxy: Option<&str>,
        _direction: Option<ErrorDirection>,
    ) -> Result<String, ApiError> {
        match proxy {
            Some(p) if !self.snap.proxies.iter().any(|x| x.name == p) => Err(ApiError::NoSuchProxy),
            _ => Ok("Total events captured on [21/Nov/2026:00:00:00.000] : 0\n".into()),
        }
    }
    fn pools(&self) -> String {
        "Dumping pools usage. Use SIGQUIT to flush them.\n".into()
    }
    fn environment(&self) -> Vec<(String, String)> {
        vec![("HAPX_REC_VAR".into(), "recorded-value".into())]
    }
    fn pattern_refs(&self, kind: PatternKind) -> Vec<PatternRef> {
        self.patterns
            .iter()
            .filter(|p| p.kind == kind)
            .map(|p| PatternRef {
                id: p.id,
                file: p.file.clone(),
                description: p.desc.clone(),
                curr_ver: 0,
                next_ver: 0,
                entry_cnt: p.entry_cnt,
            })
            .collect()
    }
    fn pattern_entries(
        &self,
        kind: PatternKind,
        name: &str,
    ) -> Result<Vec<PatternEntry>, ApiError> {
        self.patterns
            .iter()
            .find(|p| p.kind == kind && p.file == name)
            .map(|p| p.entries.clone())
            .ok_or(ApiError::UnknownPatternRef)
    }
    fn add_pattern(
        &mut self,
        kind: PatternKind,
        name: &str,
        key: &str,
        value: Option<&str>,
    ) -> Result<(), ApiError> {
        if kind == PatternKind::Acl && ipv4(key.split('/').next().unwrap_or("")).is_none() {
            self.pattern(kind, name)?;
            return Err(ApiError::Invalid(format!(
                "'{key}' is not a valid IPv4 or IPv6 address."
            )));
        }
        let reference = self.next_ref;
        self.next_ref += 1;
        let p = self.pattern(kind, name)?;
        p.entries.push(PatternEntry {
            reference,
            key: key.into(),
            value: value.map(Into::into),
        });
        // HAProxy 2.6 counts map additions in entry_cnt but not single `add acl` ones (recorded).
        if kind == PatternKind::Map {
            p.entry_cnt += 1;
        }
        Ok(())
    }
    fn del_pattern(&mut self, kind: PatternKind, name: &str, key: &str) -> Result<(), ApiError> {
        let p = self.pattern(kind, name)?;
        let before = p.entries.len();
        p.entries.retain(|e| e.key != key);
        if p.entries.len() == before {
            Err(ApiError::KeyNotFound)
        } else {
            Ok(())
        }
    }
    fn set_map(&mut self, name: &str, key: &str, value: &str) -> Result<(), ApiError> {
        let p = self.pattern(PatternKind::Map, name)?;
        let e = p
            .entries
            .iter_mut()
            .find(|e| e.key == key)
            .ok_or(ApiError::EntryNotFound)?;
        e.value = Some(value.into());
        Ok(())
    }
    fn clear_patterns(&mut self, kind: PatternKind, name: &str) -> Result<(), ApiError> {
        self.pattern(kind, name)?.entries.clear();
        Ok(())
    }
    fn match_pattern(
        &self,
        kind: PatternKind,
        name: &str,
        sample: &str,
    ) -> Result<MatchReport, ApiError> {
        let p = self
            .patterns
            .iter()
            .find(|p| p.kind == kind && p.file == name)
            .ok_or(ApiError::UnknownPatternRef)?;
        Ok(match kind {
            PatternKind::Acl => MatchReport {
                method: "ip".into(),
                case_sensitive: true,
                found: ipv4(sample)
                    .and_then(|ip| p.entries.iter().find(|e| cidr_match(&e.key, ip)))
                    .map(|e| MatchFound {
                        index: "tree".into(),
                        pattern: e.key.clone(),
                        value: None,
                    }),
            },
            PatternKind::Map => MatchReport {
                method: "beg".into(),
                case_sensitive: true,
                found: p
                    .entries
                    .iter()
                    .filter(|e| sample.starts_with(&e.key))
                    .max_by_key(|e| e.key.len())
                    .map(|e| MatchFound {
                        index: "tree".into(),
                        pattern: e.key.clone(),
                        value: Some((e.value.clone().unwrap_or_default(), "str".into())),
                    }),
            },
        })
    }
}
