//! SIGHUP: the state of every server and proxy, as HAProxy 2.6's `sig_dump_state()` prints it
//! (as warnings; HAProxy also logs each line): each proxy in declaration order, its servers
//! first, with its current and cumulated connections and what waits in its queues.

use haproxy_stats::{ProxyStats, ServerStatus, Snapshot};

/// HAProxy's `GLOBAL` proxy (the CLI), present when stats sockets exist: CLI sessions open now
/// and opened since the start, counted on both its sides.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Cli {
    pub(crate) current: u32,
    pub(crate) total: u64,
}

/// The warning lines of a SIGHUP, in order.
pub(crate) fn state_dump(snapshot: &Snapshot, cli: Option<Cli>) -> Vec<String> {
    let mut out = vec!["SIGHUP received, dumping servers states.".to_owned()];
    if let Some(c) = cli {
        out.push(format!(
            "SIGHUP: Proxy GLOBAL has no servers. Conn: act(FE+BE): {0}+{0}, 0 pend (0 unass), tot(FE+BE): {1}+{1}.",
            c.current, c.total
        ));
    }
    for px in &snapshot.proxies {
        proxy(px, &mut out);
    }
    // HAProxy's internal HTTP client proxy, which nothing uses here: its two servers idle.
    for sv in ["<HTTPCLIENT>", "<HTTPSCLIENT>"] {
        out.push(format!(
            "SIGHUP: Server <HTTPCLIENT>/{sv} is UP. Conn: 0 act, 0 pend, 0 tot."
        ));
    }
    out.push(
        "SIGHUP: Proxy <HTTPCLIENT> has no server available ! Conn: act(FE+BE): 0+0, 0 pend (0 unass), tot(FE+BE): 0+0."
            .to_owned(),
    );
    out
}

fn proxy(px: &ProxyStats, out: &mut Vec<String>) {
    let servers = &px.servers;
    let mut pending = u64::from(px.backend.as_ref().map_or(0, |b| b.qcur));
    for sv in servers {
        // HAProxy says UP for every state but stopped (maintenance is stopped too).
        let up = !matches!(
            sv.status,
            ServerStatus::Down
                | ServerStatus::DownGoingUp(..)
                | ServerStatus::DownAgent
                | ServerStatus::Maint
                | ServerStatus::MaintVia(..)
                | ServerStatus::MaintResolution
        );
        out.push(format!(
            "SIGHUP: Server {}/{} is {}. Conn: {} act, {} pend, {} tot.",
            px.name,
            sv.name,
            if up { "UP" } else { "DOWN" },
            sv.scur,
            sv.qcur,
            sv.stot
        ));
        pending += u64::from(sv.qcur);
    }
    let fe = px.frontend.as_ref();
    let be = px.backend.as_ref();
    let conn = format!(
        "Conn: act(FE+BE): {}+{}, {pending} pend ({} unass), tot(FE+BE): {}+{}.",
        fe.map_or(0, |f| f.scur),
        be.map_or(0, |b| b.scur),
        be.map_or(0, |b| b.qcur),
        fe.map_or(0, |f| f.conn_tot),
        be.map_or(0, |b| b.stot)
    );
    let (act, bck) = be.map_or((0, 0), |b| (b.act, b.bck));
    out.push(if servers.is_empty() {
        format!("SIGHUP: Proxy {} has no servers. {conn}", px.name)
    } else if act == 0 {
        let state = if bck > 0 {
            "is running on backup servers"
        } else {
            "has no server available"
        };
        format!("SIGHUP: Proxy {} {state} ! {conn}", px.name)
    } else {
        format!(
            "SIGHUP: Proxy {} has {act} active servers and {bck} backup servers available. {conn}",
            px.name
        )
    });
}
