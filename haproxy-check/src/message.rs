//! State-change log lines, as HAProxy 2.6 writes them (`srv_append_status()` in src/server.c).

use crate::CheckOutcome;

/// Facts about the backend that only the caller (the proxy) knows when a server changes state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BackendCounts {
    /// Usable active servers after the change.
    pub active: u32,
    /// Usable backup servers after the change.
    pub backup: u32,
    /// Sessions still on the server (`cur_sess`).
    pub sessions_active: u32,
    /// Sessions moved away from the server (`xferred`).
    pub requeued: u32,
    /// Requests left in the server's queue.
    pub queued: u32,
}

fn append_check(out: &mut String, c: &CheckOutcome) {
    out.push_str(", reason: ");
    out.push_str(c.status.description());
    if c.status.has_code() {
        out.push_str(&format!(", code: {}", c.code.unwrap_or(0)));
    }
    if !c.info.is_empty() {
        out.push_str(", info: \"");
        out.push_str(&c.info);
        out.push('"');
    }
    out.push_str(&format!(", check duration: {}ms", c.duration.as_millis()));
}

fn append_counts(out: &mut String, down: bool, n: &BackendCounts) {
    let backup_note = if n.backup > 0 && n.active == 0 {
        " Running on backup."
    } else {
        ""
    };
    if down {
        out.push_str(&format!(
            ". {} active and {} backup servers left.{backup_note} {} sessions active, {} requeued, {} remaining in queue.",
            n.active, n.backup, n.sessions_active, n.requeued, n.queued
        ));
    } else {
        out.push_str(&format!(
            ". {} active and {} backup servers online.{backup_note} {} sessions requeued, {} total in queue.",
            n.active, n.backup, n.requeued, n.queued
        ));
    }
}

/// `Server be/s is DOWN, reason: ..., info: "...", check duration: Nms. N active and M backup servers left. ...`
///
/// ```
/// use std::time::Duration;
/// use haproxy_check::{message, BackendCounts, CheckOutcome, CheckStatus};
/// let c = CheckOutcome::new(CheckStatus::L4Con, None, "Connection refused", Duration::ZERO);
/// let n = BackendCounts { active: 1, backup: 1, ..Default::default() };
/// assert_eq!(
///     message::server_down("app", "s2", false, &c, &n),
///     "Server app/s2 is DOWN, reason: Layer4 connection problem, info: \"Connection refused\", \
///      check duration: 0ms. 1 active and 1 backup servers left. 0 sessions active, 0 requeued, \
///      0 remaining in queue."
/// );
/// ```
pub fn server_down(
    backend: &str,
    server: &str,
    backup: bool,
    check: &CheckOutcome,
    n: &BackendCounts,
) -> String {
    transition(backend, server, backup, "is DOWN", Some(check), true, n)
}

/// `Server be/s is UP, reason: Layer7 check passed, code: 200, check duration: 2ms. N active and M backup servers online. ...`
pub fn server_up(
    backend: &str,
    server: &str,
    backup: bool,
    check: &CheckOutcome,
    n: &BackendCounts,
) -> String {
    transition(backend, server, backup, "is UP", Some(check), false, n)
}

/// `Server be/s is stopping` (NOLB after a conditional pass, e.g. `disable-on-404`).
pub fn server_stopping(
    backend: &str,
    server: &str,
    backup: bool,
    check: &CheckOutcome,
    n: &BackendCounts,
) -> String {
    transition(
        backend,
        server,
        backup,
        "is stopping",
        Some(check),
        false,
        n,
    )
}

/// The state-change line every server transition with counts shares: `Server be/s <what>`, the
/// check's reason when there is one, and the backend's counts (`left` when `down`, `online`
/// otherwise).
fn transition(
    backend: &str,
    server: &str,
    backup: bool,
    what: &str,
    check: Option<&CheckOutcome>,
    down: bool,
    n: &BackendCounts,
) -> String {
    let mut out = format!("{}Server {backend}/{server} {what}", backup_prefix(backup));
    if let Some(check) = check {
        append_check(&mut out, check);
    }
    append_counts(&mut out, down, n);
    out
}

/// `Server be/s is DOWN. N active and M backup servers left. ...`: the form HAProxy logs when
/// `option log-health-checks` already logged the reason on the `Health check ...` line.
pub fn server_down_short(backend: &str, server: &str, backup: bool, n: &BackendCounts) -> String {
    transition(backend, server, backup, "is DOWN", None, true, n)
}

/// `Server be/s is UP. N active and M backup servers online. ...` (see [`server_down_short`]).
pub fn server_up_short(backend: &str, server: &str, backup: bool, n: &BackendCounts) -> String {
    transition(backend, server, backup, "is UP", None, false, n)
}

/// `Server be/s is going DOWN for maintenance. ...`
pub fn server_enter_maint(backend: &str, server: &str, backup: bool, n: &BackendCounts) -> String {
    transition(
        backend,
        server,
        backup,
        "is going DOWN for maintenance",
        None,
        true,
        n,
    )
}

/// `Server be/s is UP/READY (leaving forced maintenance).`
pub fn server_leave_maint(backend: &str, server: &str, backup: bool) -> String {
    format!(
        "{}Server {backend}/{server} is UP/READY (leaving forced maintenance).",
        backup_prefix(backup)
    )
}

/// `Server be/s enters drain state. ...`
pub fn server_enter_drain(backend: &str, server: &str, backup: bool, n: &BackendCounts) -> String {
    transition(
        backend,
        server,
        backup,
        "enters drain state",
        None,
        false,
        n,
    )
}

/// `Server be/s is UP (leaving forced drain).`
pub fn server_leave_drain(backend: &str, server: &str, backup: bool) -> String {
    format!(
        "{}Server {backend}/{server} is UP (leaving forced drain).",
        backup_prefix(backup)
    )
}

/// `backend be has no server available!` (logged at emerg when the last server goes).
pub fn backend_no_server(backend: &str) -> String {
    format!("backend {backend} has no server available!")
}

/// `Health check for server be/s failed, reason: ..., status: 2/3 UP.` (`option log-health-checks`).
///
/// `health`, `rise`, `fall` are the counter after the check; `drained` prints `DRAIN` instead of `UP`.
#[expect(
    clippy::too_many_arguments,
    reason = "mirrors the facts HAProxy's log line carries"
)]
pub fn health_check_step(
    backend: &str,
    server: &str,
    backup: bool,
    check: &CheckOutcome,
    health: u32,
    rise: u32,
    fall: u32,
    drained: bool,
) -> String {
    let verdict = match check.status.result() {
        crate::CheckResult::CondPass => "conditionally succeeded",
        crate::CheckResult::Passed => "succeeded",
        _ => "failed",
    };
    let bk = if backup { "backup " } else { "" };
    let mut out = format!("Health check for {bk}server {backend}/{server} {verdict}");
    append_check(&mut out, check);
    let (x, y, word) = if health >= rise {
        (
            health.saturating_sub(rise).saturating_add(1),
            fall,
            if drained { "DRAIN" } else { "UP" },
        )
    } else {
        (health, rise, "DOWN")
    };
    out.push_str(&format!(", status: {x}/{y} {word}."));
    out
}

fn backup_prefix(backup: bool) -> &'static str {
    if backup { "Backup " } else { "" }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::CheckStatus;

    #[test]
    fn up_line_matches_reference() {
        let c = CheckOutcome::new(CheckStatus::L7Ok, Some(200), "", Duration::from_millis(2));
        let n = BackendCounts {
            active: 2,
            backup: 1,
            ..Default::default()
        };
        assert_eq!(
            server_up("rr", "s2", false, &c, &n),
            "Server rr/s2 is UP, reason: Layer7 check passed, code: 200, check duration: 2ms. \
             2 active and 1 backup servers online. 0 sessions requeued, 0 total in queue."
        );
    }

    #[test]
    fn running_on_backup_is_noted() {
        let c = CheckOutcome::new(
            CheckStatus::L4Timeout,
            None,
            "",
            Duration::from_millis(1000),
        );
        let n = BackendCounts {
            active: 0,
            backup: 1,
            ..Default::default()
        };
        let line = server_down("app", "s1", false, &c, &n);
        assert!(
            line.contains("servers left. Running on backup. 0 sessions active"),
            "{line}"
        );
        assert_eq!(
            backend_no_server("lc"),
            "backend lc has no server available!"
        );
    }

    #[test]
    fn step_line() {
        let c = CheckOutcome::new(
            CheckStatus::L4Con,
            None,
            "Connection refused",
            Duration::ZERO,
        );
        assert_eq!(
            health_check_step("b", "s", false, &c, 3, 2, 3, false),
            "Health check for server b/s failed, reason: Layer4 connection problem, \
             info: \"Connection refused\", check duration: 0ms, status: 2/3 UP."
        );
    }
}
