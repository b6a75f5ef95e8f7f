//! The `haproxy` binary of haproxy-rs.
//!
//! It checks configurations (`haproxy -c -f FILE`) with HAProxy 2.6's output and exit codes,
//! prints version banners (`-v`, `-vv`), and runs the proxy (`haproxy -f FILE [-db] [-D] [-p PIDFILE]`).
// `deny`, not `forbid`: the one audited `unsafe` call (`alloc_trim`) opts out below.
#![deny(unsafe_code)]

#[expect(
    unsafe_code,
    reason = "mimalloc's collect, the project's one FFI call (docs/architecture.md)"
)]
mod alloc_trim;
mod banner;
mod check;
mod cli;
mod cpu_map;
mod daemon;
mod limits;
mod run;
mod serve;
mod sighup;
mod unsupported;
mod voice;

/// mimalloc instead of the system allocator: `haproxy -c` on a 50,000-line file spends most of
/// its time allocating the syntax tree and model (see docs/benchmarks.md for the figures).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    std::process::exit(run::main(cli::parse()));
}
