//! The HTML statistics page (`stats enable`, `stats uri`): the process information block,
//! legends, display options and one table per proxy with HAProxy's columns and state colours
//! (reference §4.4). The markup follows HAProxy 2.6's layout row by row and cell by cell; the
//! tooltips are reduced to their main line.

use std::fmt::Write as _;

use crate::info::Info;
use crate::snapshot::{
    BackendStats, FrontendStats, ListenerStats, ProxyStats, ServerStats, ServerStatus, Snapshot,
};

/// Page options, from the `stats …` keywords and the URI suffixes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageOptions {
    /// `stats uri` (the prefix the page was requested with).
    pub uri: String,
    /// `stats refresh`, in seconds (the proxy sends the `refresh` header).
    pub refresh: Option<u32>,
    /// `;norefresh` was given.
    pub no_refresh: bool,
    /// `;up`: hide servers that are down.
    pub up_only: bool,
    /// `stats hide-version`.
    pub hide_version: bool,
    /// `stats show-node [name]`: the node name to show.
    pub show_node: Option<String>,
    /// `stats show-desc [desc]`: the description to show.
    pub show_desc: Option<String>,
    /// `stats show-legends`: addresses, cookies, algorithms in tooltips.
    pub show_legends: bool,
    /// `stats scope`: proxy names to show; `.` is the proxy serving the page. Empty = all.
    pub scope: Vec<String>,
    /// Name of the proxy serving the page (for `stats scope .`).
    pub self_proxy: String,
    /// `stats admin` granted: checkboxes and the action form.
    pub admin: bool,
}

/// The admin actions offered by the form, with their labels.
pub const ADMIN_ACTIONS: [(&str, &str); 13] = [
    ("ready", "Set state to READY"),
    ("drain", "Set state to DRAIN"),
    ("maint", "Set state to MAINT"),
    ("dhlth", "Health: disable checks"),
    ("ehlth", "Health: enable checks"),
    ("hrunn", "Health: force UP"),
    ("hnolb", "Health: force NOLB"),
    ("hdown", "Health: force DOWN"),
    ("dagent", "Agent: disable checks"),
    ("eagent", "Agent: enable checks"),
    ("arunn", "Agent: force UP"),
    ("adown", "Agent: force DOWN"),
    ("shutdown", "Kill Sessions"),
];

const STYLE: &str = "body { font-family: arial, helvetica, sans-serif; font-size: 12px; }
th,td { font-size: 10px; }
h2 { font-style: italic; color: #6020a0; }
h3 { color: #b00040; background: #e8e8d0; }
.titre { background: #20D0D0; color: #000000; font-weight: bold; text-align: center; }
.frontend { background: #e8e8d0; }
.socket { background: #d0d0d0; }
.backend { background: #e8e8d0; }
.active_down { background: #ff9090; }
.active_going_up { background: #ffd020; }
.active_going_down { background: #ffffa0; }
.active_up { background: #c0ffc0; }
.active_nolb { background: #20a0ff; }
.active_draining { background: #20a0FF; }
.active_no_check { background: #e0e0e0; }
.backup_down { background: #ff9090; }
.backup_going_up { background: #ff80ff; }
.backup_going_down { background: #c060ff; }
.backup_up { background: #b0d0ff; }
.backup_nolb { background: #90b0e0; }
.backup_draining { background: #cc9900; }
.backup_no_check { background: #e0e0e0; }
.maintain { background: #c07820; }
table.tbl { border-collapse: collapse; }
table.tbl td { text-align: right; border: 1px solid gray; padding: 2px 3px; white-space: nowrap; }
table.tbl td.ac { text-align: center; }
table.tbl th { border: 1px solid gray; }
table.tbl th.pxname { background: #b00040; color: #ffff40; font-weight: bold; }
table.tbl th.empty { border-style: none; background: white; }
a.px { color: #ffff40; text-decoration: none; }
a.lfsb { color: #000000; text-decoration: none; }
div.tips { display: block; visibility: hidden; position: absolute; background: #f0f060; }
u:hover div.tips { visibility: visible; }
";

/// Escapes text for HTML.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// HAProxy's `human_time`: the two largest units, e.g. `3s`, `1m5s`, `2h10m`, `1d3h`.
#[must_use]
pub fn human_time(secs: u32) -> String {
    let (d, h, m, s) = (secs / 86_400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    if d > 0 {
        format!("{d}d{h}h")
    } else if h > 0 {
        format!("{h}h{m}m")
    } else if m > 0 {
        format!("{m}m{s}s")
    } else {
        format!("{s}s")
    }
}

fn limit(v: Option<u32>) -> String {
    v.filter(|v| *v > 0)
        .map_or_else(|| "-".into(), |v| v.to_string())
}

fn last_sess(v: i32) -> String {
    u32::try_from(v).map_or_else(|_| "?".into(), human_time)
}

/// The state colour class of a server row.
#[must_use]
pub fn server_class(sv: &ServerStatus, backup: bool) -> &'static str {
    let (a, b) = match sv {
        ServerStatus::Maint | ServerStatus::MaintVia(..) | ServerStatus::MaintResolution => {
            return "maintain";
        }
        ServerStatus::Up => ("active_up", "backup_up"),
        ServerStatus::UpGoingDown(..) => ("active_going_down", "backup_going_down"),
        ServerStatus::Down | ServerStatus::DownAgent => ("active_down", "backup_down"),
        ServerStatus::DownGoingUp(..) => ("active_going_up", "backup_going_up"),
        ServerStatus::Nolb | ServerStatus::NolbGoingDown(..) => ("active_nolb", "backup_nolb"),
        ServerStatus::Drain | ServerStatus::DrainGoingDown(..) | ServerStatus::DrainAgent => {
            ("active_draining", "backup_draining")
        }
        ServerStatus::NoCheck => ("active_no_check", "backup_no_check"),
    };
    if backup { b } else { a }
}

/// Renders the whole page.
#[must_use]
pub fn render(snap: &Snapshot, info: &Info, opts: &PageOptions) -> String {
    let mut o = String::new();
    let node = opts.show_node.as_deref();
    let title = node.map_or_else(
        || "Statistics Report for HAProxy".to_owned(),
        |n| format!("Statistics Report for HAProxy on {}", esc(n)),
    );
    let _ = write!(
        o,
        "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01 Transitional//EN\"\n\"http://www.w3.org/TR/html4/loose.dtd\">\n\
         <html><head><title>{title}</title>\n<link rel=\"icon\" href=\"data:,\">\n\
         <meta http-equiv=\"content-type\" content=\"text/html; charset=iso-8859-1\">\n\
         <style type=\"text/css\"><!--\n{STYLE}-->\n</style></head>\n"
    );
    let h1 = if opts.hide_version {
        "HAProxy".to_owned()
    } else {
        format!(
            "HAProxy version {}, released {}",
            esc(&info.version),
            esc(&info.release_date)
        )
    };
    let _ = writeln!(
        o,
        "<body><h1><a href=\"http://www.haproxy.org/\" style=\"text-decoration: none;\">{h1}</a></h1>"
    );
    let mut h2 = format!("Statistics Report for pid {}", info.pid);
    if let Some(n) = node {
        let _ = write!(h2, " on {}", esc(n));
    }
    if let Some(d) = &opts.show_desc {
        let _ = write!(h2, ": {}", esc(d));
    }
    let _ = writeln!(o, "<h2>{h2}</h2>\n<hr width=\"100%\" class=\"hr\">");
    info_block(&mut o, info, opts);
    for px in snap.proxies.iter().filter(|p| in_scope(p, opts)) {
        proxy_table(&mut o, px, opts);
    }
    o.push_str("</body></html>\n");
    o
}

fn in_scope(px: &ProxyStats, opts: &PageOptions) -> bool {
    opts.scope.is_empty()
        || opts
            .scope
            .iter()
            .any(|s| *s == px.name || (s == "." && px.name == opts.self_proxy))
}

fn info_block(o: &mut String, info: &Info, opts: &PageOptions) {
    let _ = write!(
        o,
        "<h3>&gt; General process information</h3>\n<table border=0><tr><td align=\"left\" nowrap width=\"1%\">\n\
         <p><b>pid = </b> {} (process #{}, nbproc = {}, nbthread = {})<br>\n<b>uptime = </b> {}<br>\n\
         <b>system limits:</b> memmax = {}; ulimit-n = {}<br>\n\
         <b>maxsock = </b> {}; <b>maxconn = </b> {}; <b>maxpipes = </b> {}<br>\n\
         current conns = {}; current pipes = {}/{}; conn rate = {}/sec<br>\n\
         Running tasks: {}/{}; idle = {} %<br>\n</td><td align=\"center\" nowrap>\n",
        info.pid,
        info.process_num,
        info.nbproc,
        info.nbthread,
        esc(&info.uptime),
        if info.memmax_mb == 0 {
            "unlimited".to_owned()
        } else {
            format!("{}MB", info.memmax_mb)
        },
        info.ulimit_n,
        info.maxsock,
        info.maxconn,
        info.maxpipes,
        info.curr_conns,
        info.pipes_used,
        info.pipes_used + info.pipes_free,
        info.conn_rate,
        info.run_queue,
        info.tasks,
        info.idle_pct,
    );
    o.push_str(
        "<table class=\"lgd\"><tr>\n\
         <td class=\"active_up\">&nbsp;</td><td class=\"noborder\">active UP </td><td class=\"backup_up\">&nbsp;</td><td class=\"noborder\">backup UP </td></tr><tr>\n\
         <td class=\"active_going_down\"></td><td class=\"noborder\">active UP, going down </td><td class=\"backup_going_down\"></td><td class=\"noborder\">backup UP, going down </td></tr><tr>\n\
         <td class=\"active_going_up\"></td><td class=\"noborder\">active DOWN, going up </td><td class=\"backup_going_up\"></td><td class=\"noborder\">backup DOWN, going up </td></tr><tr>\n\
         <td class=\"active_down\"></td><td class=\"noborder\">active or backup DOWN &nbsp;</td><td class=\"active_no_check\"></td><td class=\"noborder\">not checked </td></tr><tr>\n\
         <td class=\"maintain\"></td><td class=\"noborder\" colspan=\"3\">active or backup DOWN for maintenance (MAINT) &nbsp;</td></tr><tr>\n\
         <td class=\"active_draining\"></td><td class=\"noborder\" colspan=\"3\">active or backup SOFT STOPPED for maintenance &nbsp;</td></tr></table>\n\
         Note: \"NOLB\"/\"DRAIN\" = UP with load-balancing disabled.</td>",
    );
    let uri = esc(&opts.uri);
    let refresh = opts.refresh.is_some() && !opts.no_refresh;
    let keep = |base: &str| -> String {
        let mut s = base.to_owned();
        if opts.up_only {
            s.push_str(";up");
        }
        if opts.refresh.is_some() && opts.no_refresh {
            s.push_str(";norefresh");
        }
        s
    };
    o.push_str(
        "<td align=\"left\" valign=\"top\" nowrap width=\"1%\"><b>Display option:</b><ul style=\"margin-top: 0.25em;\">\
         <li><form method=\"GET\">Scope : <input value=\"\" name=\"scope\" size=\"8\" maxlength=\"20\" tabindex=\"1\"/></form>\n",
    );
    if opts.up_only {
        let _ = writeln!(
            o,
            "<li><a href=\"{}\">Show all servers</a><br>",
            keep(&uri).replace(";up", "")
        );
    } else {
        let _ = writeln!(
            o,
            "<li><a href=\"{};up\">Hide 'DOWN' servers</a><br>",
            keep(&uri)
        );
    }
    if refresh {
        let _ = writeln!(
            o,
            "<li><a href=\"{};norefresh\">Disable refresh</a><br>",
            keep(&uri)
        );
    } else if opts.refresh.is_some() {
        let _ = writeln!(
            o,
            "<li><a href=\"{}\">Enable refresh</a><br>",
            keep(&uri).replace(";norefresh", "")
        );
    }
    let _ = writeln!(o, "<li><a href=\"{}\">Refresh now</a><br>", keep(&uri));
    let nr = if opts.refresh.is_some() {
        ";norefresh"
    } else {
        ""
    };
    let _ = writeln!(o, "<li><a href=\"{uri};csv{nr}\">CSV export</a><br>");
    let _ = writeln!(
        o,
        "<li><a href=\"{uri};json{nr}\">JSON export</a> (<a href=\"{uri};json-schema\">schema</a>)<br>"
    );
    o.push_str(
        "</ul></td><td align=\"left\" valign=\"top\" nowrap width=\"1%\"><b>External resources:</b><ul style=\"margin-top: 0.25em;\">\n\
         <li><a href=\"http://www.haproxy.org/\">Primary site</a><br>\n\
         <li><a href=\"http://www.haproxy.org/#down\">Updates (v2.6)</a><br>\n\
         <li><a href=\"http://www.haproxy.org/#docs\">Online manual</a><br>\n\
         </ul></td></tr></table>\n",
    );
}

const HEADERS: &str = "<th colspan=3>Queue</th><th colspan=3>Session rate</th><th colspan=6>Sessions</th><th colspan=2>Bytes</th><th colspan=2>Denied</th><th colspan=3>Errors</th><th colspan=2>Warnings</th><th colspan=9>Server</th></tr>\n\
<tr class=\"titre\"><th>Cur</th><th>Max</th><th>Limit</th><th>Cur</th><th>Max</th><th>Limit</th><th>Cur</th><th>Max</th><th>Limit</th><th>Total</th><th>LbTot</th><th>Last</th><th>In</th><th>Out</th><th>Req</th><th>Resp</th><th>Req</th><th>Conn</th><th>Resp</th><th>Retr</th><th>Redis</th><th>Status</th><th>LastChk</th><th>Wght</th><th>Act</th><th>Bck</th><th>Chk</th><th>Dwn</th><th>Dwntme</th><th>Thrtle</th>\n</tr>";

fn proxy_table(o: &mut String, px: &ProxyStats, opts: &PageOptions) {
    let name = esc(&px.name);
    // With `stats admin`, every table gets a checkbox column; proxies with servers also get
    // the form and its action list.
    let admin = opts.admin && px.backend.is_some() && !px.servers.is_empty();
    let admin_col = opts.admin;
    let cap = match (px.frontend.is_some(), px.backend.is_some()) {
        (true, true) => "frontend, backend",
        (true, false) => "frontend",
        _ => "backend",
    };
    if admin {
        o.push_str("<form method=\"post\">");
    }
    let title = if opts.show_legends {
        format!(
            "<u><a class=px href=\"#{name}\">{name}</a><div class=tips>cap: {cap}, mode: {}, id: {}</div></u>",
            px.mode.as_str(),
            px.iid
        )
    } else {
        format!("<a class=px href=\"#{name}\">{name}</a>")
    };
    let _ = write!(
        o,
        "<table class=\"tbl\" width=\"100%\">\n<tr class=\"titre\"><th class=\"pxname\" width=\"10%\"><a name=\"{name}\"></a>{title}</th><th class=\"empty\" width=\"90%\"></th></tr>\n</table>\n<table class=\"tbl\" width=\"100%\">\n<tr class=\"titre\">"
    );
    if admin {
        let _ = write!(
            o,
            "<th rowspan=2 width=1><input type=\"checkbox\" onclick=\"for(c in document.getElementsByClassName('{name}-checkbox')) document.getElementsByClassName('{name}-checkbox').item(c).checked = this.checked\"></th>"
        );
    } else if admin_col {
        o.push_str("<th rowspan=2></th>");
    }
    let _ = write!(o, "<th rowspan=2></th>{HEADERS}");
    let check_cell = |o: &mut String| {
        if admin_col {
            o.push_str("<td></td>");
        }
    };
    if let Some(fe) = &px.frontend {
        o.push_str("<tr class=\"frontend\">");
        check_cell(o);
        frontend_cells(o, px, fe);
        for li in &px.listeners {
            o.push_str("<tr class=socket>");
            check_cell(o);
            listener_cells(o, px, li, opts);
        }
    }
    for sv in &px.servers {
        if opts.up_only
            && matches!(
                sv.status,
                ServerStatus::Down | ServerStatus::DownGoingUp(..) | ServerStatus::DownAgent
            )
        {
            continue;
        }
        let _ = write!(o, "<tr class=\"{}\">", server_class(&sv.status, sv.backup));
        if admin {
            let _ = write!(
                o,
                "<td><input class='{name}-checkbox' type=\"checkbox\" name=\"s\" value=\"{}\"></td>",
                esc(&sv.name)
            );
        }
        server_cells(o, px, sv, opts);
    }
    if let Some(be) = &px.backend {
        o.push_str("<tr class=\"backend\">");
        check_cell(o);
        backend_cells(o, px, be, opts);
    }
    o.push_str("</table>");
    if admin {
        o.push_str("Choose the action to perform on the checked servers : <select name=action><option value=\"\"></option>");
        for (v, label) in ADMIN_ACTIONS {
            let _ = write!(o, "<option value=\"{v}\">{label}</option>");
        }
        let _ = write!(
            o,
            "</select><input type=\"hidden\" name=\"b\" value=\"#{}\">&nbsp;<input type=\"submit\" value=\"Apply\"></form>",
            px.iid
        );
    }
    o.push_str("<p>\n");
}

fn td(o: &mut String, v: impl std::fmt::Display) {
    let _ = write!(o, "<td>{v}</td>");
}

fn name_cell(o: &mut String, px: &str, anchor: &str, label: &str, tip: Option<String>) {
    let (px, anchor, label) = (esc(px), esc(anchor), esc(label));
    match tip {
        Some(t) => {
            let _ = write!(
                o,
                "<td class=ac><a name=\"{px}/{anchor}\"></a><u><a class=lfsb href=\"#{px}/{anchor}\">{label}</a><div class=tips>{}</div></u></td>",
                esc(&t)
            );
        }
        None => {
            let _ = write!(
                o,
                "<td class=ac><a name=\"{px}/{anchor}\"></a><a class=lfsb href=\"#{px}/{anchor}\">{label}</a></td>"
            );
        }
    }
}

fn frontend_cells(o: &mut String, px: &ProxyStats, fe: &FrontendStats) {
    name_cell(o, &px.name, "Frontend", "Frontend", None);
    o.push_str("<td colspan=3></td>");
    td(o, fe.rate);
    td(o, fe.rate_max);
    td(o, limit(Some(fe.rate_lim)));
    td(o, fe.scur);
    td(o, fe.smax);
    td(o, fe.slim);
    td(o, fe.stot);
    o.push_str("<td></td><td></td>");
    let counts = [fe.bin, fe.bout, fe.dreq, fe.dresp, fe.ereq];
    front_tail(o, counts, fe.status.as_str());
}

fn listener_cells(o: &mut String, px: &ProxyStats, li: &ListenerStats, opts: &PageOptions) {
    let tip = opts
        .show_legends
        .then(|| format!("{}: {}, id: {}", addr_family(&li.addr), li.addr, li.sid));
    name_cell(o, &px.name, &format!("+{}", li.name), &li.name, tip);
    o.push_str("<td colspan=3></td><td colspan=3>&nbsp;</td>");
    td(o, li.scur);
    td(o, li.smax);
    td(o, li.slim);
    td(o, li.stot);
    o.push_str("<td>&nbsp;</td><td>&nbsp;</td>");
    let counts = [li.bin, li.bout, li.dreq, li.dresp, li.ereq];
    front_tail(o, counts, li.status.as_str());
}

/// The cells a frontend and a listener row end with alike: bytes in/out, denied requests and
/// responses, request errors, four empty cells, then the status.
fn front_tail(o: &mut String, counts: [u64; 5], status: &str) {
    for v in counts {
        td(o, v);
    }
    o.push_str("<td></td><td></td><td></td><td></td>");
    let _ = write!(
        o,
        "<td class=ac>{status}</td><td class=ac colspan=8></td></tr>"
    );
}

fn addr_family(addr: &str) -> &'static str {
    if addr.starts_with('[') {
        "IPv6"
    } else if addr.starts_with("unix") || addr.starts_with('/') {
        "unix"
    } else {
        "IPv4"
    }
}

fn server_cells(o: &mut String, px: &ProxyStats, sv: &ServerStats, opts: &PageOptions) {
    let tip = opts.show_legends.then(|| {
        let mut t = format!("{}: {}, id: {}", addr_family(&sv.addr), sv.addr, sv.sid);
        if let Some(c) = &sv.cookie {
            let _ = write!(t, ", cookie: '{c}'");
        }
        t
    });
    name_cell(o, &px.name, &sv.name, &sv.name, tip);
    td(o, sv.qcur);
    td(o, sv.qmax);
    td(o, limit(sv.maxqueue));
    td(o, sv.rate);
    td(o, sv.rate_max);
    o.push_str("<td></td>");
    td(o, sv.scur);
    td(o, sv.smax);
    td(o, limit(sv.maxconn));
    td(o, sv.stot);
    td(o, sv.lbtot);
    td(o, last_sess(sv.lastsess));
    td(o, sv.bin);
    td(o, sv.bout);
    o.push_str("<td></td>");
    td(o, sv.dresp);
    o.push_str("<td></td>");
    td(o, sv.econ);
    td(o, sv.eresp);
    td(o, sv.wretr);
    td(o, sv.wredis);
    if sv.status == ServerStatus::NoCheck {
        o.push_str("<td class=ac><i>no check</i></td>");
    } else {
        let _ = write!(
            o,
            "<td class=ac>{} {}</td>",
            human_time(sv.lastchg),
            esc(&sv.status.text())
        );
    }
    match sv
        .check
        .as_ref()
        .filter(|c| c.is_shown() && !sv.status.is_maint())
    {
        Some(c) => {
            let code = c.code.map(|v| format!("/{v}")).unwrap_or_default();
            let dur = c.duration.map(|d| format!(" in {d}ms")).unwrap_or_default();
            let desc = if c.last.is_empty() {
                c.desc.clone()
            } else {
                format!("{}: {}", c.desc, c.last)
            };
            let _ = write!(
                o,
                "<td class=ac><u> {}{code}{dur}<div class=tips>{}</div></u></td>",
                esc(&c.status),
                esc(&desc)
            );
        }
        None => o.push_str("<td></td>"),
    }
    let _ = write!(o, "<td class=ac>{}/{}</td>", sv.weight, sv.uweight);
    let _ = write!(
        o,
        "<td class=ac>{}</td><td class=ac>{}</td>",
        if sv.backup { "-" } else { "Y" },
        if sv.backup { "Y" } else { "-" }
    );
    if sv.check.is_some() && !sv.status.is_maint() {
        let _ = write!(
            o,
            "<td><u>{}<div class=tips>Failed Health Checks</div></u></td>",
            sv.chkfail
        );
        td(o, sv.chkdown);
        td(o, human_time(sv.downtime));
    } else {
        o.push_str("<td colspan=3></td>");
    }
    let _ = writeln!(
        o,
        "<td class=ac>{}</td></tr>",
        sv.throttle.map_or_else(|| "-".into(), |t| format!("{t} %"))
    );
}

fn backend_cells(o: &mut String, px: &ProxyStats, be: &BackendStats, opts: &PageOptions) {
    let tip = opts.show_legends.then(|| {
        let mut t = format!("balancing: {}", be.algo);
        if let Some(c) = &be.cookie {
            let _ = write!(t, ", cookie: '{c}'");
        }
        t
    });
    name_cell(o, &px.name, "Backend", "Backend", tip);
    td(o, be.qcur);
    td(o, be.qmax);
    o.push_str("<td></td>");
    td(o, be.rate);
    td(o, be.rate_max);
    o.push_str("<td></td>");
    td(o, be.scur);
    td(o, be.smax);
    td(o, be.slim);
    td(o, be.stot);
    td(o, be.lbtot);
    td(o, last_sess(be.lastsess));
    td(o, be.bin);
    td(o, be.bout);
    td(o, be.dreq);
    td(o, be.dresp);
    o.push_str("<td></td>");
    td(o, be.econ);
    td(o, be.eresp);
    td(o, be.wretr);
    td(o, be.wredis);
    let _ = write!(
        o,
        "<td class=ac>{} {}</td>",
        human_time(be.lastchg),
        if be.up { "UP" } else { "DOWN" }
    );
    o.push_str("<td class=ac>&nbsp;</td>");
    let _ = write!(
        o,
        "<td class=ac>{}/{}</td><td class=ac>{}</td><td class=ac>{}</td>",
        be.weight, be.uweight, be.act, be.bck
    );
    o.push_str("<td class=ac>&nbsp;</td>");
    td(o, be.chkdown);
    if be.has_servers {
        td(o, human_time(be.downtime));
    } else {
        o.push_str("<td>&nbsp;</td>");
    }
    o.push_str("<td></td></tr>");
}
