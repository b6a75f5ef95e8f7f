//! Where server state changes are written: HAProxy prints them on stderr as
//! `[WARNING]  (pid) : Server app/s2 is DOWN, ...` and `[ALERT]    (pid) : backend 'app' has no
//! server available!` (observed on 2.6.12 with `-db`); the logging issue will add syslog.

use std::fmt;
use std::io::Write as _;
use std::sync::Mutex;

use haproxy_cfg::diag::Severity;

/// A sink for state-change messages.
pub trait StateLog: Send + Sync + fmt::Debug {
    /// Writes one message (no trailing newline) at `level`.
    fn log(&self, level: Severity, line: &str);
}

/// HAProxy's stderr format: `<tag>(<pid>) : <line>`.
#[derive(Debug, Default, Clone, Copy)]
pub struct StderrLog;

/// Formats one line as HAProxy writes it on stderr.
pub fn stderr_line(level: Severity, pid: u32, line: &str) -> String {
    format!("{}({pid}) : {line}\n", level.tag())
}

impl StateLog for StderrLog {
    fn log(&self, level: Severity, line: &str) {
        let text = stderr_line(level, std::process::id(), line);
        let _ = std::io::stderr().lock().write_all(text.as_bytes());
    }
}

/// Most messages a [`MemoryLog`] keeps; older ones are dropped first.
pub const MEMORY_LOG_LINES: usize = 10_000;

/// Keeps the last [`MEMORY_LOG_LINES`] messages in memory, for tests and embedders that route
/// messages themselves.
#[derive(Debug, Default)]
pub struct MemoryLog(Mutex<std::collections::VecDeque<(Severity, String)>>);

impl MemoryLog {
    /// The messages so far, in order.
    pub fn lines(&self) -> Vec<(Severity, String)> {
        self.0
            .lock()
            .map(|v| v.iter().cloned().collect())
            .unwrap_or_default()
    }
}

impl StateLog for MemoryLog {
    fn log(&self, level: Severity, line: &str) {
        if let Ok(mut v) = self.0.lock() {
            if v.len() >= MEMORY_LOG_LINES {
                v.pop_front();
            }
            v.push_back((level, line.to_owned()));
        }
    }
}
