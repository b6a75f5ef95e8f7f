//! The `haproxy` binary of haproxy-rs.
//!
//! It checks configurations (`haproxy -c -f FILE`) with HAProxy 2.6's output and exit codes,
//! prints version banners (`-v`, `-vv`), and runs the proxy (`haproxy -f FILE [-db] [-D] [-p PIDFILE]`).
#![forbid(unsafe_code)]

mod banner;
mod check;
mod cli;
mod run;
mod serve;

fn main() {
    std::process::exit(run::main(cli::parse()));
}
