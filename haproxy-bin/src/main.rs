//! The `haproxy` binary of haproxy-rs.
//!
//! This first slice checks configurations (`haproxy -c -f FILE`) with HAProxy 2.6's output and
//! exit codes, and prints version banners (`-v`, `-vv`).
#![forbid(unsafe_code)]

mod banner;
mod check;
mod cli;
mod run;

fn main() {
    std::process::exit(run::main(cli::parse()));
}
