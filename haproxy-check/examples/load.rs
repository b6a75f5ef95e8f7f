//! Load example: N servers (default 2,000) checked every `inter` ms (default 100) on loopback.
//!
//! The servers are N loopback listeners in a *separate* process (this program re-run as `peers`),
//! so the CPU figure is the checker's alone, as it is for HAProxy in `scripts/bench-check.sh`.
//! Prints the checker's CPU use (user and system time from /proc/self/stat) and the jitter of
//! check intervals, measured twice: from the reports the scheduler sends, and on the peer side
//! (time between two accepts on the same listener, the measure also applied to HAProxy).
//!
//! Modes (`proxy` as the last argument makes every check send a PROXY v1 line first, as
//! HAProxy's `send-proxy` servers do: the listeners then accept every check and can time them):
//! - `load [servers] [inter_ms] [seconds] [proxy]`: everything (peers in a child process);
//! - `load peers <listeners> <inter_ms> <warmup_s> <measure_s>`: only the listeners; prints
//!   `ports: a,b,…`, then the accept-interval figures after the window, and exits when stdin closes;
//! - `load check <inter_ms> <warmup_s> <measure_s> <ports> [proxy]`: only the checker, one server
//!   per port.
#![expect(clippy::print_stdout, reason = "an example that reports figures")]

use std::io::{BufRead, Write};
use std::net::{Ipv4Addr, SocketAddr};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use haproxy_check::probe::{CheckKind, ProxyHeader};
use haproxy_check::{CheckParams, Report, Scheduler, ServerSpec};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

type Error = Box<dyn std::error::Error>;

/// Utime and stime of this process, in seconds (clock ticks are 100 Hz on Linux).
fn cpu_seconds() -> Option<(f64, f64)> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let after = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = after.split_whitespace().collect();
    let ut: u64 = f.get(11)?.parse().ok()?;
    let st: u64 = f.get(12)?.parse().ok()?;
    Some((ut as f64 / 100.0, st as f64 / 100.0))
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(idx).copied().unwrap_or(f64::NAN)
}

/// One line of interval figures: mean, p50 and |interval − inter| p50/p99/max.
fn interval_line(what: &str, mut intervals: Vec<f64>, inter_ms: f64) -> String {
    intervals.sort_by(f64::total_cmp);
    let mean = intervals.iter().sum::<f64>() / intervals.len().max(1) as f64;
    let mut dev: Vec<f64> = intervals.iter().map(|i| (i - inter_ms).abs()).collect();
    dev.sort_by(f64::total_cmp);
    format!(
        "{what}: n={} mean={mean:.2} p50={:.2} ms; |interval - inter| p50={:.2} p99={:.2} max={:.2} ms",
        intervals.len(),
        percentile(&intervals, 0.5),
        percentile(&dev, 0.5),
        percentile(&dev, 0.99),
        dev.last().copied().unwrap_or(f64::NAN)
    )
}

fn arg<T: std::str::FromStr>(args: &[String], i: usize, default: T) -> T {
    args.get(i).and_then(|a| a.parse().ok()).unwrap_or(default)
}

/// One current-thread runtime: the checker (and the listeners) on a single thread.
fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}

fn main() -> Result<(), Error> {
    run()
}

/// Runs the mode named on the command line (flags such as cargo bench's `--bench` are ignored).
pub(crate) fn run() -> Result<(), Error> {
    let mut args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let proxy = args.last().is_some_and(|a| a == "proxy");
    if proxy {
        args.pop();
    }
    match args.first().map(String::as_str) {
        Some("peers") => runtime()?.block_on(peers(
            arg(&args, 1, 2000),
            arg(&args, 2, 100),
            arg(&args, 3, 2),
            arg(&args, 4, 10),
        )),
        Some("check") => {
            let ports: Vec<u16> = args
                .get(4)
                .map(|p| p.split(',').filter_map(|x| x.parse().ok()).collect())
                .unwrap_or_default();
            let line = runtime()?.block_on(check(
                &ports,
                arg(&args, 1, 100),
                arg(&args, 2, 2),
                arg(&args, 3, 10),
                proxy,
            ))?;
            println!("{line}");
            Ok(())
        }
        _ => all_in_one(
            arg(&args, 0, 2000),
            arg(&args, 1, 100),
            arg(&args, 2, 10),
            proxy,
        ),
    }
}

/// Peers in a child process, the checker here.
fn all_in_one(servers: usize, inter_ms: u64, seconds: u64, proxy: bool) -> Result<(), Error> {
    let warmup = 2u64;
    let mut child = Command::new(std::env::current_exe()?)
        .args(["peers", &servers.to_string(), &inter_ms.to_string()])
        .arg(warmup.to_string())
        .arg(seconds.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    let mut out = std::io::BufReader::new(child.stdout.take().ok_or("no child stdout")?);
    let mut first = String::new();
    out.read_line(&mut first)?;
    let ports: Vec<u16> = first
        .trim()
        .strip_prefix("ports: ")
        .ok_or("peers did not print their ports")?
        .split(',')
        .filter_map(|p| p.parse().ok())
        .collect();
    let ours = runtime()?.block_on(check(&ports, inter_ms, warmup, seconds, proxy))?;
    println!("{ours}");
    // The peers print their figures once their window is over; then closing stdin ends them.
    let mut peer_line = String::new();
    out.read_line(&mut peer_line)?;
    drop(child.stdin.take());
    child.wait()?;
    println!("{}", peer_line.trim_end());
    Ok(())
}

/// The checker: one connect-check server per port, measured after `warmup_s` for `measure_s`.
async fn check(
    ports: &[u16],
    inter_ms: u64,
    warmup_s: u64,
    measure_s: u64,
    proxy: bool,
) -> Result<String, Error> {
    let servers = ports.len();
    let params = CheckParams::default().with_inter(Duration::from_millis(inter_ms))?;
    let specs: Vec<ServerSpec> = ports
        .iter()
        .map(|p| {
            let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, *p));
            let mut spec = ServerSpec::new(addr, CheckKind::Connect, params);
            spec.send_proxy = proxy.then_some(ProxyHeader::V1);
            spec
        })
        .collect();
    let (tx, mut rx) = mpsc::channel(haproxy_check::schedule::REPORT_QUEUE);
    let sched = Scheduler::start(specs, 0, tx);

    let warm_end = tokio::time::Instant::now() + Duration::from_secs(warmup_s);
    while let Ok(Some(_)) = tokio::time::timeout_at(warm_end, rx.recv()).await {}

    let cpu0 = cpu_seconds();
    let t0 = Instant::now();
    let end = tokio::time::Instant::now() + Duration::from_secs(measure_s);
    let mut last: Vec<Option<Instant>> = vec![None; servers];
    let mut intervals: Vec<f64> = Vec::new();
    let mut durations: Vec<f64> = Vec::new();
    let (mut checks, mut failed) = (0u64, 0u64);
    while let Ok(Some(r)) = tokio::time::timeout_at(end, rx.recv()).await {
        if let Report::Check {
            server, outcome, ..
        } = r
        {
            checks += 1;
            durations.push(outcome.duration.as_secs_f64() * 1000.0);
            if outcome.status.name() != "L4OK" {
                failed += 1;
            }
            let now = Instant::now();
            if let Some(p) = last.get_mut(server).and_then(|prev| prev.replace(now)) {
                intervals.push(now.duration_since(p).as_secs_f64() * 1000.0);
            }
        }
    }
    let wall = t0.elapsed().as_secs_f64();
    let cpu = cpu0.zip(cpu_seconds());
    sched.stop();
    let cpu_text = match cpu {
        Some(((u0, s0), (u1, s1))) => {
            let (u, s) = ((u1 - u0) / wall * 100.0, (s1 - s0) / wall * 100.0);
            let per_check = ((u1 - u0) + (s1 - s0)) / (checks.max(1) as f64) * 1e6;
            format!(
                "cpu={:.1}% of one core (user {u:.1}%, sys {s:.1}%), {per_check:.1} us per check",
                u + s
            )
        }
        None => "cpu=unavailable (no /proc/self/stat)".to_owned(),
    };
    durations.sort_by(f64::total_cmp);
    Ok(format!(
        "checker: servers={servers} inter={inter_ms}ms proxy={proxy} window={wall:.1}s checks={checks} ({:.0}/s) failed={failed} {cpu_text}\ncheck duration: p50={:.3} p99={:.3} max={:.3} ms\n{}",
        checks as f64 / wall,
        percentile(&durations, 0.5),
        percentile(&durations, 0.99),
        durations.last().copied().unwrap_or(f64::NAN),
        interval_line("report intervals", intervals, inter_ms as f64)
    ))
}

/// `listeners` loopback listeners that accept and close; measure accept intervals per listener.
async fn peers(
    listeners: usize,
    inter_ms: u64,
    warmup_s: u64,
    measure_s: u64,
) -> Result<(), Error> {
    let mut ports = Vec::with_capacity(listeners);
    // The window counts from the moment the ports are printed: whoever reads them starts its
    // checker at once. Intervals are kept only inside it.
    let start = Instant::now();
    let window = Arc::new(Mutex::new(Vec::new()));
    let (from, to) = (
        Duration::from_secs(warmup_s),
        Duration::from_secs(warmup_s + measure_s),
    );
    for _ in 0..listeners {
        let l = TcpListener::bind("127.0.0.1:0").await?;
        ports.push(l.local_addr()?.port().to_string());
        let window = Arc::clone(&window);
        tokio::spawn(async move {
            let mut last: Option<Instant> = None;
            loop {
                match l.accept().await {
                    Ok((s, _)) => drop(s),
                    Err(_) => {
                        tokio::time::sleep(Duration::from_millis(1)).await;
                        continue;
                    }
                }
                let now = Instant::now();
                let since = now.duration_since(start);
                if let Some(prev) = last.replace(now)
                    && prev.duration_since(start) >= from
                    && since < to
                {
                    let ms = now.duration_since(prev).as_secs_f64() * 1000.0;
                    window
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .push(ms);
                }
            }
        });
    }
    println!("ports: {}", ports.join(","));
    std::io::stdout().flush()?;
    tokio::time::sleep_until((start + to).into()).await;
    let intervals = std::mem::take(&mut *window.lock().unwrap_or_else(PoisonError::into_inner));
    if intervals.is_empty() {
        // A connect-only check closes before the handshake's last ACK (as HAProxy does), so
        // the connection never reaches the accept queue.
        println!(
            "peer-side accept intervals: none (the checker's connections were never accepted)"
        );
    } else {
        println!(
            "{}",
            interval_line("peer-side accept intervals", intervals, inter_ms as f64)
        );
    }
    std::io::stdout().flush()?;
    // Keep serving until whoever started us closes our stdin.
    tokio::task::spawn_blocking(|| {
        let mut sink = String::new();
        while std::io::stdin().read_line(&mut sink).is_ok_and(|n| n > 0) {
            sink.clear();
        }
    })
    .await?;
    Ok(())
}
