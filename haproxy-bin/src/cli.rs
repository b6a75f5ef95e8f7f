//! Command-line parsing (HAProxy 2.6's flags, reference §9.1).

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Command {
    /// `-c`: check the configuration and exit.
    Check,
    /// `-v`: print the version banner.
    Version,
    /// `-vv`: print the banner and the build options.
    VersionVerbose,
    /// Start the proxy.
    Run,
    /// The command line is wrong: print the usage, optionally after a message, and exit 1.
    Usage(Option<String>),
}

/// The parsed command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cli {
    /// What to do.
    pub(crate) command: Command,
    /// `-f` arguments (files or directories) and files after `--`, in order.
    pub(crate) files: Vec<String>,
    /// `-q`.
    pub(crate) quiet: bool,
    /// `-dW`: warnings are fatal.
    pub(crate) zero_warning: bool,
    /// `-D`: run in the background.
    pub(crate) daemon: bool,
    /// `-db`: stay in the foreground even if `daemon` is configured.
    pub(crate) foreground: bool,
    /// `-p <file>`: write the pid there.
    pub(crate) pidfile: Option<String>,
    /// `-n <maxconn>`: overrides the global `maxconn`.
    pub(crate) maxconn: Option<u32>,
    /// `-m <megabytes>`: the memory limit, read as HAProxy reads it (C's `atol()` kept in an
    /// `int`: `abc` is 0, no limit).
    pub(crate) memmax_mb: i32,
    /// `-W` or `-Ws`: master-worker mode, whose master always listens (its CLI to the
    /// workers), so `-c` does not report a configuration without listeners.
    pub(crate) master_worker: bool,
}

/// Flags HAProxy accepts without an argument that do not change what `-c` prints.
const IGNORED_FLAGS: &[&str] = &[
    "-V", "-d", "-de", "-dp", "-dS", "-dG", "-dR", "-dV", "-dD", "-dr", "-dL", "-dK",
];

/// Flags HAProxy accepts with one argument that do not change what `-c` prints.
const IGNORED_WITH_ARG: &[&str] = &["-N", "-L", "-C", "-x", "-S"];

/// Parses the process arguments.
pub(crate) fn parse() -> Cli {
    parse_from(std::env::args().skip(1))
}

/// Parses arguments (without the program name).
pub(crate) fn parse_from(args: impl IntoIterator<Item = String>) -> Cli {
    let mut cli = Cli {
        command: Command::Run,
        files: Vec::new(),
        quiet: false,
        zero_warning: false,
        daemon: false,
        foreground: false,
        pidfile: None,
        maxconn: None,
        memmax_mb: 0,
        master_worker: false,
    };
    let mut args = args.into_iter().peekable();
    let mut version = 0;
    while let Some(a) = args.next() {
        match a.as_str() {
            "-c" => cli.command = Command::Check,
            "-v" => version = version.max(1),
            "-vv" => version = 2,
            "-q" => cli.quiet = true,
            "-dW" => cli.zero_warning = true,
            "-D" => cli.daemon = true,
            "-W" | "-Ws" => cli.master_worker = true,
            "-db" => cli.foreground = true,
            "-p" => match args.next() {
                Some(f) => cli.pidfile = Some(f),
                None => return usage(None),
            },
            "-n" => match args.next().and_then(|n| n.parse().ok()) {
                Some(n) => cli.maxconn = Some(n),
                None => return usage(None),
            },
            "-m" => match args.next() {
                Some(m) => cli.memmax_mb = haproxy_cfg::values::atol(&m) as i32,
                None => return usage(None),
            },
            "-f" => match args.next() {
                Some(f) => cli.files.push(f),
                None => return usage(Some("-f requires a file or directory argument")),
            },
            "--" => cli.files.extend(args.by_ref()),
            "-sf" | "-st" => while args.next_if(|n| !n.starts_with('-')).is_some() {},
            a if IGNORED_FLAGS.contains(&a) || a.starts_with("-dM") => {}
            a if IGNORED_WITH_ARG.contains(&a) => {
                if args.next().is_none() {
                    return usage(None);
                }
            }
            _ => return usage(None),
        }
    }
    match version {
        1 => cli.command = Command::Version,
        2 => cli.command = Command::VersionVerbose,
        _ => {}
    }
    if cli.command == Command::Check && cli.files.is_empty() {
        cli.command = Command::Usage(None);
    }
    cli
}

fn usage(msg: Option<&str>) -> Cli {
    Cli {
        command: Command::Usage(msg.map(str::to_owned)),
        files: Vec::new(),
        quiet: false,
        zero_warning: false,
        daemon: false,
        foreground: false,
        pidfile: None,
        maxconn: None,
        memmax_mb: 0,
        master_worker: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Cli {
        parse_from(args.iter().map(|s| (*s).to_owned()))
    }

    #[test]
    fn check_takes_files_and_directories_in_order() {
        let c = p(&[
            "-c", "-f", "a.cfg", "-q", "-f", "dir", "-dW", "--", "b.cfg", "c.cfg",
        ]);
        assert_eq!(c.command, Command::Check);
        assert_eq!(c.files, ["a.cfg", "dir", "b.cfg", "c.cfg"]);
        assert!(c.quiet && c.zero_warning);
    }

    #[test]
    fn versions_and_usage() {
        assert_eq!(p(&["-v"]).command, Command::Version);
        assert_eq!(p(&["-vv"]).command, Command::VersionVerbose);
        assert_eq!(p(&["-v", "-vv"]).command, Command::VersionVerbose);
        assert_eq!(p(&["-c"]).command, Command::Usage(None));
        assert_eq!(p(&["-Z"]).command, Command::Usage(None));
        assert!(matches!(p(&["-c", "-f"]).command, Command::Usage(Some(_))));
        assert_eq!(
            p(&["-c", "-n", "100", "-sf", "12", "13", "-f", "x"]).files,
            ["x"]
        );
        assert_eq!(p(&["-f", "x"]).command, Command::Run);
    }

    #[test]
    fn run_flags() {
        let c = p(&["-f", "x", "-db", "-D", "-p", "/tmp/p", "-n", "50"]);
        assert_eq!(c.command, Command::Run);
        assert!(c.daemon && c.foreground);
        assert_eq!(c.pidfile.as_deref(), Some("/tmp/p"));
        assert_eq!(c.maxconn, Some(50));
        assert_eq!(p(&["-f", "x", "-n", "many"]).command, Command::Usage(None));
        assert!(!c.master_worker);
        assert!(p(&["-W", "-f", "x"]).master_worker);
        assert!(p(&["-Ws", "-c", "-f", "x"]).master_worker);
    }

    #[test]
    fn dash_m_is_read_as_atol_into_an_int() {
        let m = |v: &str| p(&["-f", "x", "-m", v]).memmax_mb;
        assert_eq!(p(&["-f", "x"]).memmax_mb, 0);
        assert_eq!(m("100"), 100);
        assert_eq!(m("-5"), -5);
        assert_eq!(m("abc"), 0);
        assert_eq!(m("64k"), 64);
        assert_eq!(m("4294967396"), 100);
        assert_eq!(p(&["-f", "x", "-m"]).command, Command::Usage(None));
    }
}
