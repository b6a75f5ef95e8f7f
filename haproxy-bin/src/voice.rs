//! What the binary prints while it starts, as HAProxy 2.6's `ha_alert()` and `ha_warning()` do
//! until its listeners are open: nothing under `-q`, and the two `[NOTICE]` lines naming the
//! version and the executable once, just before the first warning or alert (the configuration
//! check names them first when it has something to say). Once serving, lines are printed as they
//! come, except under `-q`, where HAProxy has closed its standard error.

use std::io::Write as _;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};

use haproxy_cfg::diag::{Severity, render_notice};

use crate::banner;

/// The start-up state: set once the configuration check has printed its part.
#[derive(Debug)]
struct Voice {
    quiet: bool,
    exe: String,
    named: AtomicBool,
    serving: AtomicBool,
}

static VOICE: OnceLock<Voice> = OnceLock::new();

/// How the crates name the main function in their start-up alerts.
const MAIN: &str = "[haproxy.main()]";

/// The command as it was run (`argv[0]`), `haproxy` when unknown.
pub(crate) fn command_name() -> String {
    std::env::args_os()
        .next()
        .map(|a| a.to_string_lossy().into_owned())
        .unwrap_or_else(|| "haproxy".to_owned())
}

/// Starts the start-up rules: `quiet` is `-q`, `exe` the executable's path, `named` whether
/// the two notices were printed already (by the configuration check).
pub(crate) fn begin(quiet: bool, exe: &str, named: bool) {
    let _ = VOICE.set(Voice {
        quiet,
        exe: exe.to_owned(),
        named: AtomicBool::new(named),
        serving: AtomicBool::new(false),
    });
}

/// The listeners are open: from now on lines are printed as they come, without the notices.
pub(crate) fn serving() {
    if let Some(v) = VOICE.get() {
        v.serving.store(true, Relaxed);
    }
}

/// `rendered` (whole `[TAG] (pid) : ...` lines) as it must be printed now: empty under `-q`,
/// after the two notices while starting if nothing named the executable yet.
pub(crate) fn startup_text(rendered: String) -> String {
    let Some(v) = VOICE.get() else {
        return rendered;
    };
    // Under `-q` HAProxy says nothing while starting and then closes its standard error.
    if v.quiet {
        return String::new();
    }
    if v.serving.load(Relaxed) || rendered.is_empty() {
        return rendered;
    }
    if v.named.swap(true, Relaxed) {
        return rendered;
    }
    let pid = std::process::id();
    let mut out = render_notice(&format!("haproxy version is {}", banner::VERSION), pid);
    out.push_str(&render_notice(
        &format!("path to executable is {}", v.exe),
        pid,
    ));
    out.push_str(&rendered);
    out
}

/// Prints one line with `severity`'s tag and our pid, under the start-up rules. A text
/// starting `[haproxy.main()]` names the command as it was run instead (HAProxy prints its
/// `argv[0]` there: `[/usr/sbin/haproxy.main()]`).
pub(crate) fn say(severity: Severity, text: &str) {
    let text = match text.strip_prefix(MAIN) {
        Some(rest) => format!("[{}.main()]{rest}", command_name()),
        None => text.to_owned(),
    };
    let line = format!("{}({}) : {text}\n", severity.tag(), std::process::id());
    let _ = std::io::stderr().write_all(startup_text(line).as_bytes());
}
