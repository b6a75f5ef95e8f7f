//! Turns the counters model into rows of fields, following HAProxy 2.6's rules for which columns
//! apply to which object (`stats_fill_{fe,li,be,sv}_stats` in src/stats.c).

use crate::field::{MODULE_FIELDS, STAT_FIELDS, Tags, Value};
use crate::snapshot::{
    BackendStats, CheckStats, FrontendStats, ListenerStats, Mode, ProxyStats, Responses,
    ServerStats, Snapshot, Timings,
};

/// The kind of object a row describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjType {
    /// A `FRONTEND` row.
    Frontend,
    /// A `BACKEND` row.
    Backend,
    /// A server row.
    Server,
    /// A listener row.
    Listener,
}

impl ObjType {
    /// The `type` column value (0 frontend, 1 backend, 2 server, 3 listener).
    #[must_use]
    pub fn number(self) -> u32 {
        match self {
            ObjType::Frontend => 0,
            ObjType::Backend => 1,
            ObjType::Server => 2,
            ObjType::Listener => 3,
        }
    }

    /// The letter used by the typed output.
    #[must_use]
    pub fn letter(self) -> char {
        match self {
            ObjType::Frontend => 'F',
            ObjType::Backend => 'B',
            ObjType::Server => 'S',
            ObjType::Listener => 'L',
        }
    }

    /// The name used by the JSON output.
    #[must_use]
    pub fn json_name(self) -> &'static str {
        match self {
            ObjType::Frontend => "Frontend",
            ObjType::Backend => "Backend",
            ObjType::Server => "Server",
            ObjType::Listener => "Listener",
        }
    }
}

/// One `show stat` line as fields, with the tags each value carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// Object kind.
    pub obj: ObjType,
    /// Proxy id.
    pub iid: u32,
    /// Server or listener id; 0 for frontends and backends.
    pub sid: u32,
    /// Whether a server row is in maintenance (for `no-maint`) or usable (for `up`).
    pub server_status: Option<crate::snapshot::ServerStatus>,
    /// The static fields 0..=102.
    pub fields: Vec<(Value, Tags)>,
    /// The module fields after `-`.
    pub modules: Vec<(Value, Tags)>,
}

struct Builder {
    obj: ObjType,
    iid: u32,
    sid: u32,
    fields: Vec<(Value, Tags)>,
}

impl Builder {
    /// A row of `obj` named `svname` in proxy `px`, its key fields set.
    fn new(px: &ProxyStats, svname: &str, obj: ObjType, sid: u32) -> Self {
        let mut b = Self {
            obj,
            iid: px.iid,
            sid,
            fields: STAT_FIELDS.iter().map(|d| (Value::Empty, d.tags)).collect(),
        };
        b.keys(px, svname);
        b
    }
    /// The finished row, with its module counters read from `module`.
    fn finish(
        self,
        server_status: Option<crate::snapshot::ServerStatus>,
        module: impl Fn(usize) -> Option<u64>,
    ) -> Row {
        Row {
            obj: self.obj,
            iid: self.iid,
            sid: self.sid,
            server_status,
            fields: self.fields,
            modules: modules(module),
        }
    }
    fn set(&mut self, idx: usize, v: Value) {
        if let Some(slot) = self.fields.get_mut(idx) {
            slot.0 = v;
        }
    }
    fn tagged(&mut self, idx: usize, v: Value, tags: [u8; 3]) {
        if let Some(slot) = self.fields.get_mut(idx) {
            *slot = (v, Tags::from_code(tags));
        }
    }
    fn u32(&mut self, idx: usize, v: u32) {
        self.set(idx, Value::U32(v));
    }
    fn u64(&mut self, idx: usize, v: u64) {
        self.set(idx, Value::U64(v));
    }
    fn str(&mut self, idx: usize, v: &str) {
        self.set(idx, Value::Str(v.to_owned()));
    }
    fn responses(&mut self, r: &Responses) {
        for (i, v) in [r.r1xx, r.r2xx, r.r3xx, r.r4xx, r.r5xx, r.other]
            .into_iter()
            .enumerate()
        {
            self.u64(39 + i, v);
        }
    }
    fn timings(&mut self, t: &Timings) {
        for (i, v) in [t.qtime, t.ctime, t.rtime, t.ttime].into_iter().enumerate() {
            self.u32(58 + i, v);
        }
        for (i, v) in [t.qtime_max, t.ctime_max, t.rtime_max, t.ttime_max]
            .into_iter()
            .enumerate()
        {
            self.u32(90 + i, v);
        }
    }
    fn keys(&mut self, px: &ProxyStats, svname: &str) {
        self.str(0, &px.name);
        self.str(1, svname);
        self.u32(26, 1);
        self.u32(27, px.iid);
        self.u32(28, self.sid);
        self.u32(32, self.obj.number());
        self.str(75, px.mode.as_str());
    }
}

fn modules(values: impl Fn(usize) -> Option<u64>) -> Vec<(Value, Tags)> {
    MODULE_FIELDS
        .iter()
        .enumerate()
        .map(|(i, d)| (values(i).map_or(Value::Empty, Value::U64), d.tags))
        .collect()
}

/// Options that change what the rows contain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowOptions {
    /// Print addresses, cookies and algorithms (`STAT_SHLGNDS`: CLI level operator or admin,
    /// or `stats show-legends` on the page).
    pub show_legends: bool,
}

impl Default for RowOptions {
    fn default() -> Self {
        Self { show_legends: true }
    }
}

/// Builds the frontend row.
#[must_use]
pub fn frontend_row(px: &ProxyStats, fe: &FrontendStats) -> Row {
    let mut b = Builder::new(px, "FRONTEND", ObjType::Frontend, 0);
    let http = px.mode == Mode::Http;
    b.u32(4, fe.scur);
    b.u32(5, fe.smax);
    b.u32(6, fe.slim);
    b.u64(7, fe.stot);
    b.u64(8, fe.bin);
    b.u64(9, fe.bout);
    b.u64(10, fe.dreq);
    b.u64(11, fe.dresp);
    b.u64(12, fe.ereq);
    b.u64(81, fe.dcon);
    b.u64(82, fe.dses);
    b.str(17, fe.status.as_str());
    b.u32(33, fe.rate);
    b.u32(34, fe.rate_lim);
    b.u32(35, fe.rate_max);
    b.u64(83, fe.wrew);
    b.u64(94, fe.eint);
    if http {
        b.responses(&fe.responses);
        b.u64(80, fe.intercepted);
        b.u64(86, fe.cache_lookups);
        b.u64(87, fe.cache_hits);
    }
    b.u32(46, fe.req_rate);
    b.u32(47, fe.req_rate_max);
    b.u64(48, fe.req_tot);
    b.u64(51, fe.comp_in);
    b.u64(52, fe.comp_out);
    b.u64(53, fe.comp_byp);
    b.u64(54, fe.comp_rsp);
    b.u32(77, fe.conn_rate);
    b.u32(78, fe.conn_rate_max);
    b.u64(79, fe.conn_tot);
    b.finish(None, |i| fe.modules.get(i).copied())
}

/// Builds a listener row.
#[must_use]
pub fn listener_row(px: &ProxyStats, li: &ListenerStats, opts: RowOptions) -> Row {
    let mut b = Builder::new(px, &li.name, ObjType::Listener, li.sid);
    b.u32(4, li.scur);
    b.u32(5, li.smax);
    b.u32(6, li.slim);
    b.u64(7, li.stot);
    b.u64(8, li.bin);
    b.u64(9, li.bout);
    b.u64(10, li.dreq);
    b.u64(11, li.dresp);
    b.u64(12, li.ereq);
    b.u64(81, li.dcon);
    b.u64(82, li.dses);
    b.str(17, li.status.as_str());
    b.u64(83, li.wrew);
    b.u64(94, li.eint);
    if opts.show_legends {
        b.str(73, &li.addr);
    }
    b.finish(None, |i| li.ssl.get(i).copied())
}

/// Builds the backend row.
#[must_use]
pub fn backend_row(px: &ProxyStats, be: &BackendStats, opts: RowOptions) -> Row {
    let mut b = Builder::new(px, "BACKEND", ObjType::Backend, 0);
    let http = px.mode == Mode::Http;
    b.u32(2, be.qcur);
    b.u32(3, be.qmax);
    b.u32(4, be.scur);
    b.u32(5, be.smax);
    b.u32(6, be.slim);
    b.u64(7, be.stot);
    b.u64(8, be.bin);
    b.u64(9, be.bout);
    b.u64(10, be.dreq);
    b.u64(11, be.dresp);
    b.u64(13, be.econ);
    b.u64(14, be.eresp);
    b.u64(15, be.wretr);
    b.u64(16, be.wredis);
    b.u64(83, be.wrew);
    b.u64(94, be.eint);
    b.u64(84, be.connect);
    b.u64(85, be.reuse);
    b.str(17, if be.up { "UP" } else { "DOWN" });
    b.u32(100, 0);
    b.u32(101, 0);
    b.u32(102, 0);
    b.u32(18, be.weight);
    b.u32(99, be.uweight);
    b.tagged(19, Value::U32(be.act), *b"MGP");
    b.tagged(20, Value::U32(be.bck), *b"MGP");
    b.u64(22, be.chkdown);
    b.u32(23, be.lastchg);
    if be.has_servers {
        b.u32(24, be.downtime);
    }
    b.u64(30, be.lbtot);
    b.tagged(33, Value::U32(be.rate), *b"MGP");
    b.tagged(35, Value::U32(be.rate_max), *b"MGP");
    if opts.show_legends {
        if let Some(c) = &be.cookie {
            b.str(74, c);
        }
        b.str(76, &be.algo);
    }
    if http {
        b.u64(48, be.req_tot);
        b.responses(&be.responses);
        b.u64(86, be.cache_lookups);
        b.u64(87, be.cache_hits);
    }
    b.u64(49, be.cli_abrt);
    b.u64(50, be.srv_abrt);
    b.u64(51, be.comp_in);
    b.u64(52, be.comp_out);
    b.u64(53, be.comp_byp);
    b.u64(54, be.comp_rsp);
    b.set(55, Value::S32(be.lastsess));
    b.timings(&be.timings);
    b.finish(None, |i| be.modules.get(i).copied())
}

/// Column positions of one check block (health check or agent check).
struct CheckCols {
    status: usize,
    code: usize,
    duration: usize,
    desc: usize,
    last: usize,
    /// `rise`; `fall` and `health` follow it.
    rise: usize,
}

fn check_columns(b: &mut Builder, chk: &CheckStats, at: &CheckCols) {
    let prefix = if chk.in_progress { "* " } else { "" };
    b.str(at.status, &format!("{prefix}{}", chk.status));
    if let Some(c) = chk.code {
        b.u32(at.code, c);
    }
    if let Some(d) = chk.duration {
        b.u64(at.duration, d);
    }
    b.str(at.desc, &chk.desc);
    b.str(at.last, &chk.last);
    b.u32(at.rise, chk.rise);
    b.u32(at.rise + 1, chk.fall);
    b.u32(at.rise + 2, chk.health);
}

const CHECK_COLS: CheckCols = CheckCols {
    status: 36,
    code: 37,
    duration: 38,
    desc: 65,
    last: 56,
    rise: 67,
};
const AGENT_COLS: CheckCols = CheckCols {
    status: 62,
    code: 63,
    duration: 64,
    desc: 66,
    last: 57,
    rise: 70,
};

/// Builds a server row.
#[must_use]
pub fn server_row(px: &ProxyStats, sv: &ServerStats, opts: RowOptions) -> Row {
    let mut b = Builder::new(px, &sv.name, ObjType::Server, sv.sid);
    let http = px.mode == Mode::Http;
    b.u32(2, sv.qcur);
    b.u32(3, sv.qmax);
    b.u32(4, sv.scur);
    b.u32(5, sv.smax);
    if let Some(m) = sv.maxconn.filter(|m| *m > 0) {
        b.u32(6, m);
    }
    b.u32(88, sv.srv_icur);
    if let Some(l) = sv.src_ilim {
        b.u32(89, l);
    }
    b.u64(7, sv.stot);
    b.u64(8, sv.bin);
    b.u64(9, sv.bout);
    b.u64(11, sv.dresp);
    b.u64(13, sv.econ);
    b.u64(14, sv.eresp);
    b.u64(15, sv.wretr);
    b.u64(16, sv.wredis);
    b.u64(83, sv.wrew);
    b.u64(94, sv.eint);
    b.u64(84, sv.connect);
    b.u64(85, sv.reuse);
    b.u32(95, sv.idle_conn_cur);
    b.u32(96, sv.safe_conn_cur);
    b.u32(97, sv.used_conn_cur);
    b.u32(98, sv.need_conn_est);
    b.str(17, &sv.status.text());
    b.u32(23, sv.lastchg);
    b.u32(18, sv.weight);
    b.u32(99, sv.uweight);
    b.u32(19, u32::from(!sv.backup));
    b.u32(20, u32::from(sv.backup));
    if sv.check.is_some() {
        b.u64(21, sv.chkfail);
        b.u64(22, sv.chkdown);
        b.u32(24, sv.downtime);
    }
    if let Some(q) = sv.maxqueue.filter(|q| *q > 0) {
        b.u32(25, q);
    }
    if let Some(t) = sv.throttle {
        b.u32(29, t);
    }
    b.u64(30, sv.lbtot);
    if let Some(t) = &sv.tracked {
        b.str(31, t);
    }
    b.u32(33, sv.rate);
    b.u32(35, sv.rate_max);
    if let Some(chk) = sv.check.as_ref().filter(|c| c.is_shown()) {
        check_columns(&mut b, chk, &CHECK_COLS);
    }
    if let Some(agt) = sv.agent.as_ref().filter(|c| c.is_shown()) {
        check_columns(&mut b, agt, &AGENT_COLS);
    }
    if http {
        b.u64(48, sv.req_tot);
        b.responses(&sv.responses);
    }
    if let Some(h) = sv.hanafail {
        b.u64(45, h);
    }
    b.u64(49, sv.cli_abrt);
    b.u64(50, sv.srv_abrt);
    b.set(55, Value::S32(sv.lastsess));
    b.timings(&sv.timings);
    if opts.show_legends {
        b.str(73, &sv.addr);
        if let Some(c) = &sv.cookie {
            b.str(74, c);
        }
    }
    b.finish(Some(sv.status.clone()), |i| sv.ssl.get(i).copied())
}

/// Which objects `show stat` prints (`show stat [<iid>|<proxy>] <type> <sid>`, `up`, `no-maint`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StatFilter {
    /// Only this proxy (by name or id).
    pub proxy: Option<ProxySelector>,
    /// Type bitmask: 1 frontends, 2 backends, 4 servers; `None` = all (-1).
    pub types: Option<u32>,
    /// Only this server id; `None` = all (-1).
    pub sid: Option<u32>,
    /// Keep only servers that are up or not checked.
    pub up: bool,
    /// Hide servers in maintenance.
    pub no_maint: bool,
}

/// A proxy chosen by name or by numeric id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProxySelector {
    /// `iid`.
    Id(u32),
    /// Proxy name.
    Name(String),
}

impl StatFilter {
    fn wants_proxy(&self, px: &ProxyStats) -> bool {
        match &self.proxy {
            None => true,
            Some(ProxySelector::Id(id)) => px.iid == *id,
            Some(ProxySelector::Name(n)) => px.name == *n,
        }
    }
    fn wants_type(&self, bit: u32) -> bool {
        self.types.is_none_or(|t| t & bit != 0)
    }
}

/// Produces the rows of `show stat` in HAProxy's order: per proxy, frontend, listeners,
/// servers, backend.
#[must_use]
pub fn rows(snap: &Snapshot, filter: &StatFilter, opts: RowOptions) -> Vec<Row> {
    let mut out = Vec::new();
    for px in snap.proxies.iter().filter(|p| filter.wants_proxy(p)) {
        if let Some(fe) = px.frontend.as_ref().filter(|_| filter.wants_type(1)) {
            out.push(frontend_row(px, fe));
        }
        // Listeners have their own type bit (8), which `-1` includes.
        if px.frontend.is_some() && filter.wants_type(8) {
            for li in &px.listeners {
                out.push(listener_row(px, li, opts));
            }
        }
        if filter.wants_type(4) {
            for sv in &px.servers {
                if filter.sid.is_some_and(|s| s != sv.sid)
                    || (filter.no_maint && sv.status.is_maint())
                    || (filter.up && !is_up_or_unchecked(sv))
                {
                    continue;
                }
                out.push(server_row(px, sv, opts));
            }
        }
        if let Some(be) = px.backend.as_ref().filter(|_| filter.wants_type(2)) {
            let mut row = backend_row(px, be, opts);
            if filter.up || filter.no_maint {
                // With `up` / `no-maint`, HAProxy appends "(usable/total)" servers.
                let usable = px.servers.iter().filter(|s| is_running(s)).count();
                if let Some((Value::Str(st), _)) = row.fields.get_mut(17) {
                    st.push_str(&format!(" ({usable}/{})", px.servers.len()));
                }
            }
            out.push(row);
        }
    }
    out
}

fn is_running(sv: &ServerStats) -> bool {
    use crate::snapshot::ServerStatus as S;
    !matches!(sv.status, S::Down | S::DownGoingUp(..) | S::DownAgent) && !sv.status.is_maint()
}

fn is_up_or_unchecked(sv: &ServerStats) -> bool {
    use crate::snapshot::ServerStatus as S;
    matches!(
        sv.status,
        S::Up | S::UpGoingDown(..) | S::NoCheck | S::Nolb | S::NolbGoingDown(..)
    )
}
