//! Load example: N servers (default 2,000) checked every `inter` ms (default 100) on loopback.
//!
//! Prints the process CPU use (from /proc/self/stat) and the jitter of check intervals.
//! Run: `cargo run --release -p haproxy-check --example load -- [servers] [inter_ms] [seconds]`.
#![expect(clippy::print_stdout, reason = "an example that reports figures")]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use haproxy_check::probe::CheckKind;
use haproxy_check::{CheckParams, Report, Scheduler, ServerSpec};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// Listeners the servers are spread over.
const LISTENERS: usize = 16;

fn cpu_ticks() -> Option<u64> {
    // Fields 14 and 15 of /proc/self/stat: utime and stime in clock ticks (100 Hz on Linux).
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let after = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = after.split_whitespace().collect();
    let ut: u64 = f.get(11)?.parse().ok()?;
    let st: u64 = f.get(12)?.parse().ok()?;
    Some(ut + st)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(idx).copied().unwrap_or(f64::NAN)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    run()
}

/// Runs the measurement with the command-line arguments.
#[tokio::main(flavor = "current_thread")]
pub(crate) async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let servers: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(2000);
    let inter_ms: u64 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(100);
    let seconds: u64 = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(10);

    let mut addrs: Vec<SocketAddr> = Vec::new();
    for _ in 0..LISTENERS {
        let l = TcpListener::bind("127.0.0.1:0").await?;
        addrs.push(l.local_addr()?);
        tokio::spawn(async move {
            loop {
                match l.accept().await {
                    Ok((s, _)) => drop(s),
                    Err(_) => tokio::time::sleep(Duration::from_millis(1)).await,
                }
            }
        });
    }
    let params = CheckParams::default().with_inter(Duration::from_millis(inter_ms))?;
    let specs: Vec<ServerSpec> = (0..servers)
        .zip(addrs.iter().cycle())
        .map(|(_, addr)| ServerSpec::new(*addr, CheckKind::Connect, params))
        .collect();
    let (tx, mut rx) = mpsc::channel(haproxy_check::schedule::REPORT_QUEUE);
    let sched = Scheduler::start(specs, 0, tx);

    // Warm-up: one interval so every server has run its first check.
    let warm_end = tokio::time::Instant::now() + Duration::from_millis(inter_ms * 2);
    while let Ok(Some(_)) = tokio::time::timeout_at(warm_end, rx.recv()).await {}

    let cpu0 = cpu_ticks();
    let t0 = Instant::now();
    let end = tokio::time::Instant::now() + Duration::from_secs(seconds);
    let mut last: Vec<Option<Instant>> = vec![None; servers];
    let mut intervals: Vec<f64> = Vec::new();
    let mut checks = 0u64;
    let mut failed = 0u64;
    while let Ok(Some(r)) = tokio::time::timeout_at(end, rx.recv()).await {
        if let Report::Check {
            server, outcome, ..
        } = r
        {
            checks += 1;
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
    let cpu = cpu0
        .zip(cpu_ticks())
        .map(|(a, b)| (b - a) as f64 / 100.0 / wall * 100.0);
    sched.stop();

    intervals.sort_by(f64::total_cmp);
    let mean = intervals.iter().sum::<f64>() / intervals.len().max(1) as f64;
    let dev: Vec<f64> = {
        let mut d: Vec<f64> = intervals
            .iter()
            .map(|i| (i - inter_ms as f64).abs())
            .collect();
        d.sort_by(f64::total_cmp);
        d
    };
    println!("servers={servers} inter={inter_ms}ms duration={wall:.1}s");
    println!(
        "checks={checks} ({:.0}/s), failed={failed}",
        checks as f64 / wall
    );
    match cpu {
        Some(c) => println!("cpu={c:.1}% of one core (process total, checker and loopback peers)"),
        None => println!("cpu=unavailable (no /proc/self/stat)"),
    }
    println!(
        "interval ms: mean={mean:.2} p50={:.2} p1={:.2} p99={:.2} max={:.2}",
        percentile(&intervals, 0.5),
        percentile(&intervals, 0.01),
        percentile(&intervals, 0.99),
        intervals.last().copied().unwrap_or(f64::NAN)
    );
    println!(
        "|interval - inter| ms: p50={:.2} p99={:.2} max={:.2}",
        percentile(&dev, 0.5),
        percentile(&dev, 0.99),
        dev.last().copied().unwrap_or(f64::NAN)
    );
    Ok(())
}
