//! Runs a parsed command line; returns the exit code.

use crate::banner;
use crate::cli::{Cli, Command};
use std::io::Write as _;

/// Executes the command and returns the process exit code.
pub(crate) fn main(cli: Cli) -> i32 {
    let (stdout, stderr, code) = match cli.command.clone() {
        Command::Version => (banner::version(), String::new(), 0),
        Command::VersionVerbose => (banner::version_verbose(), String::new(), 0),
        Command::Check => {
            let out =
                crate::check::check(&cli.files, cli.quiet, cli.zero_warning, cli.master_worker);
            (out.stdout, out.stderr, out.code)
        }
        Command::Usage(msg) => {
            let mut err = msg.map(|m| format!("{m}\n")).unwrap_or_default();
            err.push_str(&banner::usage());
            (banner::version(), err, 1)
        }
        Command::Run => crate::serve::serve(&cli),
    };
    // A closed pipe is not worth a panic: the exit code still tells.
    let _ = std::io::stdout().write_all(stdout.as_bytes());
    let _ = std::io::stderr().write_all(stderr.as_bytes());
    code
}
