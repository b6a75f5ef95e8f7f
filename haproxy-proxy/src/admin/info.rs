//! `show info`: the process figures HAProxy 2.6 prints, from the registry and the process.

use std::sync::atomic::Ordering::Relaxed;
use std::time::UNIX_EPOCH;

use haproxy_stats::Info;

use crate::registry::Registry;

/// What `show info` says about the process that the registry does not know.
#[derive(Debug, Clone, Default)]
pub struct ProcessInfo {
    /// The version string (`Version`, `Build info`, `show version`).
    pub version: String,
    /// The release date, `YYYY/MM/DD`.
    pub release_date: String,
    /// Worker threads.
    pub nbthread: u32,
    /// `node` (the host name when not configured).
    pub node: String,
    /// `description`, when configured.
    pub description: Option<String>,
    /// Listening sockets, stats sockets included (`Listeners`).
    pub listeners: u32,
}

/// `0d 0h00m04s`, as HAProxy formats `Uptime`.
fn uptime_text(secs: u64) -> String {
    format!(
        "{}d {}h{:02}m{:02}s",
        secs / 86_400,
        (secs / 3600) % 24,
        (secs / 60) % 60,
        secs % 60
    )
}

/// The open-file limit (`Ulimit-n`), from `/proc/self/limits` (0 when unreadable).
fn ulimit_n() -> u32 {
    std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("Max open files"))
                .and_then(|l| l.split_whitespace().nth(3))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// The `show info` block for the registry's process.
#[must_use]
pub fn info(reg: &Registry, process: &ProcessInfo) -> Info {
    let sum = |f: &dyn Fn(&crate::Counters) -> u64| -> u64 {
        reg.frontends.iter().map(|fe| f(&fe.counters)).sum()
    };
    let up = reg.started.elapsed().as_secs();
    let sat = |v: u64| u32::try_from(v).unwrap_or(u32::MAX);
    let ulimit = ulimit_n();
    Info {
        name: "HAProxy".into(),
        version: process.version.clone(),
        release_date: process.release_date.clone(),
        nbthread: process.nbthread,
        nbproc: 1,
        process_num: 1,
        pid: std::process::id(),
        uptime: uptime_text(up),
        uptime_sec: sat(up),
        ulimit_n: ulimit,
        maxsock: ulimit,
        maxconn: reg.limits.maxconn.load(Relaxed),
        hard_maxconn: reg.limits.hard_maxconn.load(Relaxed),
        curr_conns: sat(sum(&|c| c.sessions_cur.load(Relaxed))),
        cum_conns: sat(sum(&|c| c.sessions_total.load(Relaxed))),
        cum_req: sat(sum(&|c| c.requests_total.load(Relaxed))),
        node: process.node.clone(),
        description: process.description.clone(),
        jobs: sat(sum(&|c| c.sessions_cur.load(Relaxed))).saturating_add(process.listeners),
        listeners: process.listeners,
        total_bytes_out: sum(&|c| c.bytes_out.load(Relaxed)),
        build_info: process.version.clone(),
        start_time_sec: sat(reg
            .started_wall
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())),
        tainted: "0".into(),
        ..Info::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uptime_reads_as_haproxy_prints_it() {
        assert_eq!(uptime_text(4), "0d 0h00m04s");
        assert_eq!(uptime_text(90_061), "1d 1h01m01s");
    }
}
