//! `-D` (or `daemon`): the serving process runs in the background, and the command that started
//! it reports its start-up as HAProxy 2.6 does, which binds before it forks: warnings and
//! alerts on the terminal, exit code 1 when a listener cannot be bound, 0 (and the pidfile)
//! once everything listens.
//!
//! The background copy is the same command started again (no `fork` without `unsafe`), with its
//! standard error a pipe to the starter. The starter copies what comes through until the copy
//! says it listens ([`READY`]) or ends; the copy then puts `/dev/null` in place of its standard
//! error, as HAProxy closes its own once in the background.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::os::unix::process::CommandExt as _;
use std::process::{Command, Stdio};

/// Set in the environment of the background copy started by `-D`.
const DAEMON_ENV: &str = "HAPROXY_RS_DAEMONIZED";

/// The line the background copy writes once it listens (never part of HAProxy's output: it
/// starts with a control character).
const READY: &[u8] = b"\x01haproxy-rs: listening\n";

/// Longest start-up output line copied whole; longer lines are copied in pieces.
const MAX_LINE: usize = 64 * 1024;

/// Whether this process is the background copy started by `-D`.
pub(crate) fn in_background() -> bool {
    std::env::var_os(DAEMON_ENV).is_some()
}

/// `-D`: starts the same command in the background (its own process group, no terminal),
/// copies its start-up output to our standard error, and returns the exit code: 0 once it
/// listens (the pidfile then holds its pid), else the copy's own (1 when it could not start).
pub(crate) fn start_in_background(pidfile: Option<&str>) -> i32 {
    let exe = match std::env::current_exe() {
        Ok(e) => e,
        Err(e) => return fail(&format!("cannot find the executable: {e}\n")),
    };
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "-D").collect();
    // The copy keeps our `argv[0]`, which start-up alerts print.
    let spawned = Command::new(exe)
        .arg0(crate::voice::command_name())
        .args(args)
        .env(DAEMON_ENV, "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn();
    let mut child = match spawned {
        Ok(c) => c,
        Err(e) => return fail(&format!("cannot start the daemon: {e}\n")),
    };
    let listening = child.stderr.take().is_some_and(relay_until_ready);
    if !listening {
        // It ended (or closed its output) before listening: its exit code is ours.
        return match child.wait() {
            Ok(status) => status.code().unwrap_or(1),
            Err(_) => 1,
        };
    }
    if let Some(path) = pidfile
        && let Err(e) = std::fs::write(path, format!("{}\n", child.id()))
    {
        crate::serve::alert(&format!(
            "[haproxy.main()] Cannot create pidfile {path} ({e})"
        ));
        return 1;
    }
    0
}

/// Copies `output` to our standard error line by line; `true` when [`READY`] came.
fn relay_until_ready(output: std::process::ChildStderr) -> bool {
    let mut reader = BufReader::new(output);
    let mut line = Vec::new();
    let mut stderr = std::io::stderr();
    loop {
        line.clear();
        match reader
            .by_ref()
            .take(MAX_LINE as u64)
            .read_until(b'\n', &mut line)
        {
            Ok(0) | Err(_) => return false,
            Ok(_) if line == READY => return true,
            Ok(_) => {
                let _ = stderr.write_all(&line);
            }
        }
    }
}

/// In the background copy, once every listener is open: tells the starter, then writes
/// nothing more to it (standard error becomes `/dev/null`). Does nothing in the foreground.
pub(crate) fn detach_from_starter() {
    if !in_background() {
        return;
    }
    let _ = std::io::stderr().write_all(READY);
    if let Ok(null) = std::fs::OpenOptions::new().write(true).open("/dev/null") {
        let _ = rustix::stdio::dup2_stderr(&null);
    }
}

fn fail(text: &str) -> i32 {
    let _ = std::io::stderr().write_all(text.as_bytes());
    1
}
