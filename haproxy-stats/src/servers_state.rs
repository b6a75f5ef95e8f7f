//! `show servers state [<backend>]`: format version 1 (reference §4.3).

use std::fmt::Write as _;

use crate::snapshot::{ProxyStats, Snapshot};

/// The header line after the version line.
pub const HEADER: &str = "# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port";

fn dash(s: Option<&String>) -> &str {
    s.map_or("-", |v| if v.is_empty() { "-" } else { v.as_str() })
}

fn push_proxy(out: &mut String, px: &ProxyStats) {
    for sv in &px.servers {
        let st = &sv.state;
        let _ = writeln!(
            out,
            "{} {} {} {} {} {} {} {} {} {} {} {} {} {} {} {} {} {} {} {} {} {} {} {} {}",
            px.iid,
            px.name,
            sv.sid,
            sv.name,
            if st.addr.is_empty() {
                "-"
            } else {
                st.addr.as_str()
            },
            st.op_state,
            st.admin_state,
            sv.uweight,
            st.iweight,
            sv.lastchg,
            st.check_status,
            st.check_result,
            st.check_health,
            st.check_state,
            st.agent_state,
            u8::from(st.bk_forced_id),
            u8::from(st.srv_forced_id),
            dash(st.fqdn.as_ref()),
            st.port,
            dash(st.srvrecord.as_ref()),
            u8::from(st.use_ssl),
            st.check_port,
            dash(st.check_addr.as_ref()),
            dash(st.agent_addr.as_ref()),
            st.agent_port,
        );
    }
}

/// Renders the whole state dump, or only `backend` when given.
///
/// Returns `None` when `backend` names no proxy with a backend (the CLI answers
/// `Can't find backend.`).
#[must_use]
pub fn render(snap: &Snapshot, backend: Option<&str>) -> Option<String> {
    let mut out = format!("1\n{HEADER}\n");
    match backend {
        Some(name) => {
            let px = snap
                .proxies
                .iter()
                .find(|p| p.name == name && p.backend.is_some())?;
            push_proxy(&mut out, px);
        }
        None => {
            for px in snap.proxies.iter().filter(|p| p.backend.is_some()) {
                push_proxy(&mut out, px);
            }
        }
    }
    Some(out)
}
