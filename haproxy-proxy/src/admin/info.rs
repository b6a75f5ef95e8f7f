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
    /// `Ulimit-n`: the descriptor limit startup settled (HAProxy's `rlimit_nofile`, which
    /// may be below the process's own when that was higher); `None`: the process's own.
    pub ulimit_n: Option<u32>,
    /// `Memmax_MB`: the `-m` memory limit in megabytes, as a C `int` (0 = none).
    pub memmax_mb: i32,
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

/// The process's resident memory in bytes (`VmRSS` of `/proc/self/status`; 0 when unreadable).
/// COMPAT: haproxy-rs keeps no HAProxy-style memory pools; `show pools` and the `Pool*` fields
/// of `show info` report what the allocator holds for the whole process instead.
pub(crate) fn resident_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb.saturating_mul(1024))
}

/// The `show info` block for the registry's process.
#[must_use]
pub fn info(reg: &Registry, process: &ProcessInfo) -> Info {
    let sum = |f: &dyn Fn(&crate::Counters) -> u64| -> u64 {
        reg.frontends.iter().map(|fe| f(&fe.counters)).sum()
    };
    let up = reg.started.elapsed().as_secs();
    let sat = |v: u64| u32::try_from(v).unwrap_or(u32::MAX);
    let ulimit = process.ulimit_n.unwrap_or_else(ulimit_n);
    // After a soft stop every listener, stats sockets included, is closed (HAProxy 2.6:
    // `Stopping: 1`, `Listeners: 0`).
    let stopping = reg.soft_stop.is_stopping();
    let listeners = if stopping { 0 } else { process.listeners };
    let rss = resident_bytes();
    Info {
        pool_alloc_mb: sat(rss >> 20),
        pool_used_mb: sat(rss >> 20),
        pool_alloc_bytes: rss,
        pool_used_bytes: rss,
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
        maxsock: match reg.limits.maxsock.load(Relaxed) {
            0 => ulimit,
            m => m,
        },
        maxconn: reg.limits.maxconn.load(Relaxed),
        hard_maxconn: reg.limits.hard_maxconn.load(Relaxed),
        curr_conns: sat(sum(&|c| c.sessions_cur.load(Relaxed))),
        cum_conns: sat(sum(&|c| c.sessions_total.load(Relaxed))),
        cum_req: sat(sum(&|c| c.requests_total.load(Relaxed))),
        conn_rate: sat(sum(&|c| u64::from(c.session_rate.rate()))),
        max_conn_rate: sat(sum(&|c| u64::from(c.session_rate.max()))),
        sess_rate: sat(sum(&|c| u64::from(c.session_rate.rate()))),
        max_sess_rate: sat(sum(&|c| u64::from(c.session_rate.max()))),
        node: process.node.clone(),
        description: process.description.clone(),
        jobs: sat(sum(&|c| c.sessions_cur.load(Relaxed))).saturating_add(listeners),
        listeners,
        stopping: u32::from(stopping),
        total_bytes_out: sum(&|c| c.bytes_out.load(Relaxed)),
        build_info: process.version.clone(),
        start_time_sec: sat(reg
            .started_wall
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())),
        tainted: "0".into(),
        // As HAProxy's `mkf_u32()` of the `int`, and of the `long` byte count.
        memmax_mb: process.memmax_mb as u32,
        memmax_bytes: (i64::from(process.memmax_mb) * 1_048_576) as u32,
        ..Info::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resident_memory_is_read_from_proc() {
        assert!(
            resident_bytes() > 1 << 20,
            "a test process holds more than 1 MiB"
        );
    }

    #[test]
    fn uptime_reads_as_haproxy_prints_it() {
        assert_eq!(uptime_text(4), "0d 0h00m04s");
        assert_eq!(uptime_text(90_061), "1d 1h01m01s");
    }
}
