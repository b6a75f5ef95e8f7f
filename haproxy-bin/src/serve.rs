//! `haproxy -f FILE...`: load the configuration as `-c` does, build the proxy, open the
//! listeners and serve until a signal: SIGTERM/SIGINT stop at once, SIGUSR1 stops softly
//! (listeners close, in-flight connections finish).

use std::io::Write as _;
use std::time::Duration;

use haproxy_cfg::ast::{Document, SectionKind};
use haproxy_cfg::diag::{
    CheckOptions, Diagnostic, Origin, Severity, render_check, render_haproxy, render_open_error,
};
use haproxy_cfg::load::{SystemEnv, load, read_sources};
use haproxy_proxy::admin::{Admin, ProcessInfo, StatsSettings};
use haproxy_proxy::registry::Registry;
use haproxy_proxy::runtime::Stop;
use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio::sync::watch;

use crate::banner;
use crate::cli::Cli;
use crate::cpu_map::{CpuMap, pin_current_thread};
use crate::daemon;
use crate::limits;
use crate::voice;

/// SIGTTOU on Linux: pause the listeners.
const SIGTTOU: i32 = 22;
/// SIGTTIN on Linux: resume the listeners.
const SIGTTIN: i32 = 21;

/// Most serving threads (HAProxy's `MAX_THREADS` on 64-bit machines; `nbthread` is checked
/// against it when parsed, the default of one thread per CPU is capped to it).
const MAX_THREADS: usize = 64;

fn err(text: &str) {
    let _ = std::io::stderr().write_all(text.as_bytes());
}

/// Prints a start-up alert as HAProxy does (tag, pid, text; see [`voice`]).
pub(crate) fn alert(text: &str) {
    voice::say(Severity::Alert, text);
}

/// `file:line` of each `stats socket` line of the global sections, in order (the typed model
/// keeps no location for them; startup alerts name it).
fn stats_socket_locs(docs: &[Document]) -> Vec<String> {
    docs.iter()
        .flat_map(|d| {
            d.sections
                .iter()
                .filter(|s| s.kind == SectionKind::Global)
                .flat_map(|s| s.body.iter())
                .filter(|l| {
                    let w: Vec<&str> = l.words.iter().take(2).map(|w| w.as_str()).collect();
                    w == ["stats", "socket"]
                })
                .map(move |l| format!("{}:{}", d.name, l.number))
        })
        .collect()
}

/// The host name, HAProxy's default `node` (`show info`, the stats page).
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_default()
}

/// Runs the proxy; returns (stdout, stderr, exit code) left to print at exit.
pub(crate) fn serve(cli: &Cli) -> (String, String, i32) {
    // Under `-m`, before anything is read or printed (see limits::arena).
    if let Some(e) = limits::reexec_with_small_arenas(cli.memmax_mb) {
        err(&format!(
            "{}({}) : [haproxy.main()] cannot re-execute with small memory arenas: {e}.\n",
            Severity::Warning.tag(),
            std::process::id()
        ));
    }
    let exe = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "haproxy".to_owned());
    let pid = std::process::id();
    let opts = CheckOptions {
        quiet: cli.quiet,
        zero_warning: cli.zero_warning,
        pid,
        version: banner::VERSION,
        exe: &exe,
    };
    let docs = match read_sources(&cli.files) {
        Ok(docs) if docs.is_empty() => return (banner::version(), banner::usage(), 1),
        Ok(docs) => docs,
        Err(e) => {
            let out = render_open_error(&e, &opts);
            return (String::new(), out.stderr, 1);
        }
    };
    let mut loaded = load(&docs, &SystemEnv);
    crate::check::post_parse(&mut loaded);
    let check = render_check(&loaded, &opts);
    // Exit code 2 of `-c` (no listener) is reported below with the startup alert.
    if check.code != 0 && check.code != 2 {
        return (String::new(), check.stderr, check.code);
    }
    err(&check.stderr);
    voice::begin(cli.quiet, &exe, !check.stderr.is_empty());
    if let Some(text) = crate::unsupported::refusal(&loaded.config.global) {
        let d = Diagnostic::alert("unsupported", Origin::Global, text);
        return (
            String::new(),
            voice::startup_text(render_haproxy(&d, pid)),
            1,
        );
    }
    let mut cfg = loaded.config;
    let threads = cfg
        .global
        .nbthread
        .and_then(|n| usize::try_from(n).ok())
        .filter(|n| *n > 0)
        .or_else(|| std::thread::available_parallelism().ok().map(usize::from))
        .unwrap_or(1)
        .min(MAX_THREADS);
    // The global maxconn (written, `-n`, or derived from the descriptor limit) is settled
    // before the build, which derives the frontends' default maxconn and the backends'
    // fullconn from it, as HAProxy does.
    let boot = limits::FdLimits::current().unwrap_or(limits::FdLimits {
        soft: u64::from(limits::DEFAULT_MAXCONN),
        hard: u64::from(limits::DEFAULT_MAXCONN),
    });
    let start = limits::Startup {
        cli_maxconn: cli.maxconn,
        memmax_mb: cli.memmax_mb,
        threads: u32::try_from(threads).unwrap_or(u32::MAX),
        fds: boot,
    };
    let settled = match limits::derive(&cfg, start, &limits::maxsock_permitted) {
        Ok(s) => s,
        Err(text) => {
            let d = Diagnostic::alert("limits", Origin::Global, text);
            return (
                String::new(),
                voice::startup_text(render_haproxy(&d, pid)),
                1,
            );
        }
    };
    cfg.global.maxconn = Some(i64::from(settled.maxconn));
    let runtime = match haproxy_proxy::build::build(&cfg) {
        Ok(r) => r,
        Err(e) => {
            let d = Diagnostic::alert("build", Origin::Global, e.to_string());
            return (
                String::new(),
                voice::startup_text(render_haproxy(&d, pid)),
                1,
            );
        }
    };
    runtime
        .registry
        .limits
        .maxsock
        .store(settled.maxsock, std::sync::atomic::Ordering::Relaxed);
    let applied = limits::apply(&settled, boot, limits::strict_limits(&cfg));
    for warning in &applied.warnings {
        voice::say(Severity::Warning, warning);
    }
    if let Some(text) = applied.alert {
        alert(&text);
    }
    if applied.fatal {
        return (String::new(), String::new(), 1);
    }
    let pidfile = cli.pidfile.clone().or_else(|| cfg.global.pidfile.clone());
    let daemon = (cli.daemon || cfg.global.daemon) && !cli.foreground;
    if daemon && !daemon::in_background() {
        return (
            String::new(),
            String::new(),
            daemon::start_in_background(pidfile.as_deref()),
        );
    }
    let cpus = match CpuMap::parse(&cfg.global.cpu_map, threads) {
        Ok(m) => m,
        Err(e) => {
            alert(&format!("[haproxy.main()] {e}."));
            return (String::new(), String::new(), 1);
        }
    };
    let stats = match StatsSettings::from_global(&cfg.global) {
        Ok(mut s) => {
            for (sock, loc) in s.sockets.iter_mut().zip(stats_socket_locs(&docs)) {
                sock.loc = Some(loc);
            }
            s
        }
        Err(e) => {
            let d = Diagnostic::alert("build", Origin::Global, e.to_string());
            return (
                String::new(),
                voice::startup_text(render_haproxy(&d, pid)),
                1,
            );
        }
    };
    let process = ProcessInfo {
        version: banner::VERSION.to_owned(),
        release_date: banner::RELEASE_DATE.to_owned(),
        nbthread: u32::try_from(threads).unwrap_or(u32::MAX),
        node: cfg.global.node.clone().unwrap_or_else(hostname),
        description: cfg.global.description.clone(),
        listeners: 0,
        ulimit_n: Some(applied.ulimit_n),
        memmax_mb: settled.memmax_mb,
    };
    // Thread per core won over one multi-threaded runtime (docs/architecture.md).
    let code = serve_per_thread(
        runtime,
        (threads, grace(&cfg.global), cli.quiet),
        &cpus,
        pidfile.as_deref(),
        (stats, process),
    );
    (String::new(), String::new(), code)
}

fn write_pidfile(pidfile: Option<&str>) -> bool {
    // The background copy's pid is written by the command that started it, once it listens.
    if let Some(path) = pidfile
        && !daemon::in_background()
        && let Err(e) = std::fs::write(path, format!("{}\n", std::process::id()))
    {
        alert(&format!(
            "[haproxy.main()] Cannot create pidfile {path} ({e})"
        ));
        return false;
    }
    true
}

fn pin(cpus: &CpuMap, index: usize) {
    if let Some(mask) = cpus.mask(index)
        && let Err(e) = pin_current_thread(mask)
    {
        voice::say(
            Severity::Warning,
            &format!(
                "[haproxy.main()] cannot bind thread {} to its CPUs: {e}.",
                index + 1
            ),
        );
    }
}

/// Thread per core: `threads` threads, each with its own single-threaded runtime and its own
/// `SO_REUSEPORT` listeners (the kernel spreads connections between them); frontends, counters
/// and `maxconn` gates are shared. The main thread only waits for signals.
fn serve_per_thread(
    runtime: haproxy_proxy::build::Runtime,
    (threads, grace, quiet): (usize, Option<Duration>, bool),
    cpus: &CpuMap,
    pidfile: Option<&str>,
    (stats, mut process): (StatsSettings, ProcessInfo),
) -> i32 {
    // The handlers are in place before any listener opens: a signal sent as soon as a port
    // answers is then queued (as in HAProxy), not met by its default action (SIGTTOU stops the
    // process, SIGTERM/SIGUSR1 kill it).
    let signals = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .and_then(|rt| {
            let installed = {
                let _inside = rt.enter();
                Signals::install()
            };
            installed.map(|s| (rt, s))
        });
    let (signal_rt, mut signals) = match signals {
        Ok(pair) => pair,
        Err(e) => {
            alert(&format!(
                "[haproxy.main()] cannot install signal handlers: {e}."
            ));
            return 1;
        }
    };
    let registry = std::sync::Arc::clone(&runtime.registry);
    let plan = if threads > 1 {
        runtime.plan().with_reuseport()
    } else {
        runtime.plan()
    };
    let mut workers = Vec::with_capacity(threads);
    let mut cli_total = None;
    let mut cli_current = None;
    for i in 0..threads {
        // The thread's wake-ups tell its allocator collection when it has gone quiet.
        let rt = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .on_thread_unpark(crate::alloc_trim::woke)
            .build()
        {
            Ok(rt) => rt,
            Err(e) => {
                alert(&format!("[haproxy.main()] cannot start the runtime: {e}."));
                return 1;
            }
        };
        // The listeners are registered with the runtime of the thread that will serve them.
        let opened = {
            let _inside = rt.enter();
            plan.open(i == 0)
                .map_err(|e| e.alerts())
                .and_then(|running| {
                    if i > 0 {
                        return Ok(running);
                    }
                    // The first thread serves the stats sockets (the runtime API) too.
                    process.listeners =
                        u32::try_from(running.listener_count() + stats.sockets.len())
                            .unwrap_or(u32::MAX);
                    let _ = registry.process.set(process.clone());
                    let admin = Admin::new(std::sync::Arc::clone(&registry), process.clone());
                    if !stats.sockets.is_empty() {
                        cli_total = Some(admin.cli_sessions_total());
                        cli_current = Some(admin.cli_sessions_current());
                    }
                    stats
                        .open(admin)
                        .map(|server| running.with_stats(server))
                        .map_err(|e| e.alerts())
                })
        };
        match opened {
            Ok(running) => workers.push((rt, running)),
            Err(alerts) => {
                for line in alerts {
                    alert(&line);
                }
                return 1;
            }
        }
    }
    if !write_pidfile(pidfile) {
        return 1;
    }
    daemon::detach_from_starter();
    voice::serving();
    let (tx, rx) = watch::channel(None);
    let (pause_tx, pause_rx) = watch::channel(false);
    let mut handles = Vec::with_capacity(threads);
    for (i, (rt, running)) in workers.into_iter().enumerate() {
        let (stop, paused) = (rx.clone(), pause_rx.clone());
        let cpus = cpus.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("haproxy-{}", i + 1))
            .spawn(move || {
                pin(&cpus, i);
                // Memory a burst freed goes back to the OS once the thread is quiet; the task
                // runs on this thread (the runtime is single-threaded), whose heap it collects
                // (docs/architecture.md, "Decision: one unsafe call, mimalloc's collect").
                rt.spawn(crate::alloc_trim::collect_periodically());
                rt.block_on(running.serve_pausable(stop, paused));
                // Connections still open after a hard stop are dropped with the runtime.
                rt.shutdown_background();
            });
        match spawned {
            Ok(h) => handles.push(h),
            Err(e) => {
                alert(&format!(
                    "[haproxy.main()] cannot start thread {}: {e}.",
                    i + 1
                ));
                let _ = tx.send(Some(Stop::Hard));
                return 1;
            }
        }
    }
    // Serving ends when every thread has dropped its receiver.
    drop((rx, pause_rx));
    let says = Says {
        registry: &registry,
        quiet,
        cli_total: cli_total.as_deref(),
        cli_current: cli_current.as_deref(),
    };
    signal_rt.block_on(signals.forward(&tx, &pause_tx, grace, &says));
    for h in handles {
        let _ = h.join();
    }
    if let Some(left) = registry.soft_stop.hard_stopped() {
        says.hard_stop_warnings(left);
    }
    0
}

/// The signals the serving process handles, registered with the OS when installed.
#[derive(Debug)]
struct Signals {
    term: Signal,
    int: Signal,
    usr1: Signal,
    ttou: Signal,
    ttin: Signal,
    hup: Signal,
}

impl Signals {
    /// Installs the handlers; call inside the runtime that will wait for them.
    fn install() -> std::io::Result<Signals> {
        Ok(Signals {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
            usr1: signal(SignalKind::user_defined1())?,
            ttou: signal(SignalKind::from_raw(SIGTTOU))?,
            ttin: signal(SignalKind::from_raw(SIGTTIN))?,
            hup: signal(SignalKind::hangup())?,
        })
    }

    /// Waits for SIGTERM/SIGINT (hard stop) or SIGUSR1 (soft stop, then still listens for a
    /// hard one) and forwards them to the server, as SIGTTOU/SIGTTIN pause and resume the
    /// listeners; returns when a hard stop was sent or serving ended (`hard-stop-after` ends a
    /// soft stop inside the runtime). With global `grace`, a soft stop begins that long after
    /// SIGUSR1 (the listeners keep accepting meanwhile), with HAProxy's two notices.
    async fn forward(
        &mut self,
        tx: &watch::Sender<Option<Stop>>,
        pause: &watch::Sender<bool>,
        grace: Option<Duration>,
        says: &Says<'_>,
    ) {
        let mut soft_at: Option<tokio::time::Instant> = None;
        let mut asked = false;
        loop {
            tokio::select! {
                _ = self.ttou.recv() => { let _ = pause.send(true); }
                _ = self.ttin.recv() => { let _ = pause.send(false); }
                _ = self.hup.recv() => says.servers_state(),
                _ = self.term.recv() => { let _ = tx.send(Some(Stop::Hard)); return; }
                _ = self.int.recv() => { let _ = tx.send(Some(Stop::Hard)); return; }
                _ = self.usr1.recv() => match grace {
                    Some(g) if !asked => {
                        asked = true;
                        says.notice(&format!("Scheduling a soft-stop in {} ms.", g.as_millis()));
                        soft_at = Some(tokio::time::Instant::now() + g);
                    }
                    Some(_) => {}
                    None if !asked => {
                        asked = true;
                        says.proxies_stopped();
                        let _ = tx.send(Some(Stop::Soft));
                    }
                    None => {}
                },
                () = sleep_until(soft_at) => {
                    soft_at = None;
                    says.notice("Grace period expired, proceeding with soft-stop now.");
                    says.proxies_stopped();
                    let _ = tx.send(Some(Stop::Soft));
                }
                () = tx.closed() => return,
            }
        }
    }
}

/// Sleeps until `at`; forever without it.
async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Global `grace` (kept by the typed model as a plain directive): how long a soft stop waits.
fn grace(global: &haproxy_cfg::model::Global) -> Option<Duration> {
    let word = global
        .other
        .iter()
        .rev()
        .filter(|d| d.words.first().is_some_and(|w| w == "grace"))
        .find_map(|d| d.words.get(1))?;
    let t = haproxy_cfg::values::parse_time(word, haproxy_cfg::values::TimeUnit::Millis).ok()?;
    (t.value > 0).then(|| Duration::from_millis(u64::from(t.value)))
}

/// What the serving process tells on stderr as it stops (nothing under `-q`).
struct Says<'a> {
    registry: &'a Registry,
    quiet: bool,
    /// CLI sessions opened so far, when stats sockets exist (HAProxy's `GLOBAL` proxy).
    cli_total: Option<&'a std::sync::atomic::AtomicU64>,
    /// CLI sessions open now, when stats sockets exist.
    cli_current: Option<&'a std::sync::atomic::AtomicU32>,
}

impl Says<'_> {
    fn line(&self, severity: Severity, text: &str) {
        if !self.quiet {
            err(&format!(
                "{}({}) : {text}\n",
                severity.tag(),
                std::process::id()
            ));
        }
    }

    /// A NOTICE line, as HAProxy prints them.
    fn notice(&self, text: &str) {
        self.line(Severity::Notice, text);
    }

    /// HAProxy's warning per proxy as a soft stop begins: the frontends and listen sections in
    /// configuration order, then the other backends, then its internal `<HTTPCLIENT>` proxy,
    /// each with its cumulated frontend and backend sessions.
    fn proxies_stopped(&self) {
        let total = |c: &haproxy_proxy::Counters| {
            c.sessions_total.load(std::sync::atomic::Ordering::Relaxed)
        };
        let backend = |name: &str| self.registry.backends.iter().find(|b| b.name == name);
        for fe in &self.registry.frontends {
            let be = backend(&fe.name).map_or(0, |b| total(&b.counters));
            let text = format!(
                "Proxy {} stopped (cumulated conns: FE: {}, BE: {be}).",
                fe.name,
                total(&fe.counters)
            );
            self.line(Severity::Warning, &text);
        }
        // The CLI's proxy, after the frontends, each session counted on both sides.
        if let Some(total) = self.cli_total {
            let n = total.load(std::sync::atomic::Ordering::Relaxed);
            let text = format!("Proxy GLOBAL stopped (cumulated conns: FE: {n}, BE: {n}).");
            self.line(Severity::Warning, &text);
        }
        for be in &self.registry.backends {
            if self.registry.frontends.iter().any(|f| f.name == be.name) {
                continue;
            }
            let text = format!(
                "Proxy {} stopped (cumulated conns: FE: 0, BE: {}).",
                be.name,
                total(&be.counters)
            );
            self.line(Severity::Warning, &text);
        }
        self.line(
            Severity::Warning,
            "Proxy <HTTPCLIENT> stopped (cumulated conns: FE: 0, BE: 0).",
        );
    }

    /// SIGHUP: HAProxy's dump of every server's and proxy's state (see [`crate::sighup`]).
    fn servers_state(&self) {
        let cli = self
            .cli_total
            .zip(self.cli_current)
            .map(|(total, current)| crate::sighup::Cli {
                current: current.load(std::sync::atomic::Ordering::Relaxed),
                total: total.load(std::sync::atomic::Ordering::Relaxed),
            });
        let snapshot = haproxy_proxy::admin::snapshot(self.registry);
        for line in crate::sighup::state_dump(&snapshot, cli) {
            self.line(Severity::Warning, &line);
        }
    }

    /// HAProxy's warnings when `hard-stop-after` cut a soft stop short: one line, then one per
    /// frontend that still had connections.
    fn hard_stop_warnings(&self, left: &[(String, u64)]) {
        self.line(
            Severity::Warning,
            "soft-stop running for too long, performing a hard-stop.",
        );
        for (name, open) in left.iter().filter(|(_, open)| *open > 0) {
            self.line(
                Severity::Warning,
                &format!("Proxy {name} hard-stopped ({open} remaining conns will be closed)."),
            );
        }
        if self.registry.soft_stop.resisted() {
            self.line(
                Severity::Warning,
                "Some tasks resisted to hard-stop, exiting now.",
            );
        }
    }
}
