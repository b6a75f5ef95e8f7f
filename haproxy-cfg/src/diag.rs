//! [`Diagnostic`]: one finding about a configuration, and its rendering in HAProxy's exact layout.
//!
//! A diagnostic is data (severity, stable code, file, line, column, message); [`render_haproxy`]
//! turns it into the text `haproxy -c` prints, and [`render_human`] into `file:line:col` form.

use std::fmt::Write as _;

/// How serious a finding is, using HAProxy's levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    /// `[NOTICE]`: information.
    Notice,
    /// `[WARNING]`: the configuration works but probably not as intended.
    Warning,
    /// `[ALERT]`: an error (fatal unless [`Diagnostic::fatal`] is false).
    Alert,
}

impl Severity {
    /// HAProxy's tag padded to 11 columns: `[ALERT]    `, `[WARNING]  `, `[NOTICE]   `.
    #[must_use]
    pub fn tag(self) -> &'static str {
        match self {
            Self::Notice => "[NOTICE]   ",
            Self::Warning => "[WARNING]  ",
            Self::Alert => "[ALERT]    ",
        }
    }

    /// Lower-case name, for human and machine output.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Notice => "notice",
            Self::Warning => "warning",
            Self::Alert => "error",
        }
    }
}

/// How HAProxy introduces the location of a message (its wording differs from one parser to
/// the next, and we reproduce it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// No location: `config : <message>`.
    Global,
    /// `parsing [file:line] : <message>`.
    Parsing,
    /// `parsing [file:line]: <message>` (no space before the colon).
    ParsingTight,
    /// `Parsing [file:line]: <message>` (capital P, duplicate proxy names).
    ParsingCapital,
    /// `[file:line] : '<what>' : <message>` (server lines: `what` is `server be/s1`).
    Object(String),
    /// `[file:line] : parsing [file:line] : <message>` (HAProxy prints the location twice).
    Doubled,
    /// `[file:line] : <message>` (server lines before the server is named).
    Located,
}

/// One finding about a configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Stable kebab-case identifier of the kind of finding (`unknown-keyword`, `bad-time`...).
    pub code: &'static str,
    /// Severity.
    pub severity: Severity,
    /// Whether it prevents the configuration from being used (HAProxy's `ERR_FATAL`). Most
    /// alerts are fatal; a few are not (mixing explicit and implicit defaults).
    pub fatal: bool,
    /// The file, as named on the command line.
    pub file: String,
    /// 1-based line, 0 when the finding is not about one line.
    pub line: u32,
    /// 1-based column of the word at fault, 0 when unknown.
    pub col: u32,
    /// How HAProxy words the location.
    pub origin: Origin,
    /// The message, in HAProxy's words where HAProxy has some (it may hold several lines).
    pub message: String,
    /// A hint beyond HAProxy's text (ours), e.g. the modern form of a legacy keyword.
    pub help: Option<String>,
}

impl Diagnostic {
    /// A fatal alert.
    #[must_use]
    pub fn alert(code: &'static str, origin: Origin, message: impl Into<String>) -> Self {
        Self {
            code,
            severity: Severity::Alert,
            fatal: true,
            file: String::new(),
            line: 0,
            col: 0,
            origin,
            message: message.into(),
            help: None,
        }
    }

    /// A warning.
    #[must_use]
    pub fn warning(code: &'static str, origin: Origin, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Warning,
            fatal: false,
            ..Self::alert(code, origin, message)
        }
    }

    /// Sets the location.
    #[must_use]
    pub fn at(mut self, file: &str, line: u32, col: u32) -> Self {
        file.clone_into(&mut self.file);
        self.line = line;
        self.col = col;
        self
    }

    /// Marks an alert as not fatal.
    #[must_use]
    pub fn non_fatal(mut self) -> Self {
        self.fatal = false;
        self
    }

    /// Adds a hint.
    #[must_use]
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Whether this is an alert that makes the configuration unusable.
    #[must_use]
    pub fn is_fatal(&self) -> bool {
        self.severity == Severity::Alert && self.fatal
    }

    /// The text HAProxy prints after `[LEVEL] (pid) : config : `.
    #[must_use]
    pub fn haproxy_text(&self) -> String {
        let (f, l, m) = (&self.file, self.line, &self.message);
        match &self.origin {
            Origin::Global => m.clone(),
            Origin::Parsing => format!("parsing [{f}:{l}] : {m}"),
            Origin::ParsingTight => format!("parsing [{f}:{l}]: {m}"),
            Origin::ParsingCapital => format!("Parsing [{f}:{l}]: {m}"),
            Origin::Object(what) => format!("[{f}:{l}] : '{what}' : {m}"),
            Origin::Doubled => format!("[{f}:{l}] : parsing [{f}:{l}] : {m}"),
            Origin::Located => format!("[{f}:{l}] : {m}"),
        }
    }
}

/// Renders one diagnostic as `haproxy -c` prints it on stderr: the padded level tag, the
/// process id in parentheses, `config : `, the text, and a newline.
///
/// ```
/// use haproxy_cfg::diag::{render_haproxy, Diagnostic, Origin};
/// let d = Diagnostic::alert("unknown-keyword", Origin::Parsing, "unknown keyword 'foobar' in 'global' section")
///     .at("x.cfg", 3, 5);
/// assert_eq!(
///     render_haproxy(&d, 42),
///     "[ALERT]    (42) : config : parsing [x.cfg:3] : unknown keyword 'foobar' in 'global' section\n"
/// );
/// ```
#[must_use]
pub fn render_haproxy(d: &Diagnostic, pid: u32) -> String {
    format!(
        "{}({pid}) : config : {}\n",
        d.severity.tag(),
        d.haproxy_text()
    )
}

/// Renders a `[NOTICE]` line that is not about the configuration (the two banner lines).
#[must_use]
pub fn render_notice(text: &str, pid: u32) -> String {
    format!("{}({pid}) : {text}\n", Severity::Notice.tag())
}

/// Renders one diagnostic for people and linters: `file:line:col: severity[code]: message`,
/// then the hint, if any.
#[must_use]
pub fn render_human(d: &Diagnostic) -> String {
    let mut out = String::new();
    let _ = write!(out, "{}", d.file);
    if d.line > 0 {
        let _ = write!(out, ":{}", d.line);
        if d.col > 0 {
            let _ = write!(out, ":{}", d.col);
        }
    }
    let first = d.message.lines().next().unwrap_or("");
    let _ = write!(out, ": {}[{}]: {first}", d.severity.as_str(), d.code);
    if let Some(help) = &d.help {
        let _ = write!(out, "\n  help: {help}");
    }
    out
}

/// The summary line HAProxy prints after the alerts of a file that had parse errors.
#[must_use]
pub fn errors_in_file(file: &str) -> Diagnostic {
    Diagnostic::alert(
        "errors-in-file",
        Origin::Global,
        format!("Error(s) found in configuration file : {file}"),
    )
}

/// The last line HAProxy prints when the configuration has fatal errors.
#[must_use]
pub fn fatal_errors() -> Diagnostic {
    Diagnostic::alert(
        "fatal-errors",
        Origin::Global,
        "Fatal errors found in configuration.",
    )
}

/// HAProxy's 4-line warning for a proxy without all of its timeouts (`kind` is `frontend`,
/// `backend` or `proxy`).
#[must_use]
pub fn missing_timeouts(kind: &str, name: &str) -> Diagnostic {
    Diagnostic::warning(
        "missing-timeouts",
        Origin::Global,
        format!(
            "missing timeouts for {kind} '{name}'.\n   | While not properly invalid, you will certainly encounter various problems\n   | with such a configuration. To fix this, please ensure that all following\n   | timeouts are set to a non-zero value: 'client', 'connect', 'server'."
        ),
    )
}

/// What `haproxy -c` needs to know besides the findings.
#[derive(Debug, Clone, Copy)]
pub struct CheckOptions<'a> {
    /// `-q`: print nothing (the exit code still tells).
    pub quiet: bool,
    /// `-dW`: any warning makes the check fail.
    pub zero_warning: bool,
    /// The process id shown in parentheses.
    pub pid: u32,
    /// The version named on the first NOTICE line.
    pub version: &'a str,
    /// The executable path named on the second NOTICE line.
    pub exe: &'a str,
}

/// The complete result of `haproxy -c`: both streams and the exit code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckOutput {
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
    /// Exit code.
    pub code: i32,
}

/// Renders findings as `haproxy -c` prints them: the two NOTICE lines before the first warning
/// or alert,
/// each message, then on stdout "Warnings were found." and the verdict line.
#[must_use]
pub fn render_check(loaded: &crate::load::Loaded, opts: &CheckOptions<'_>) -> CheckOutput {
    let mut diags: Vec<&Diagnostic> = loaded.diagnostics.iter().collect();
    let warned = loaded.has_warnings();
    // A global `quiet` line silences everything HAProxy would print after it.
    let quiet_from = loaded.quiet_from;
    let zero = opts.zero_warning || loaded.config.global.zero_warning;
    let abort = zero_warning_abort();
    let mut outcome = loaded.outcome;
    if zero && warned && outcome != crate::load::Outcome::Invalid {
        diags.push(&abort);
        outcome = crate::load::Outcome::Invalid;
    }
    let Some(shown) = quiet_from else {
        return render_lines(&diags, outcome, warned, opts);
    };
    diags.truncate(shown);
    let mut out = render_lines(&diags, outcome, warned, opts);
    out.stdout.clear();
    out
}

/// Renders the failure to open a `-f` path.
#[must_use]
pub fn render_open_error(err: &crate::load::SourceError, opts: &CheckOptions<'_>) -> CheckOutput {
    let d = Diagnostic::alert("cannot-open", Origin::Global, err.haproxy_message());
    render_lines(&[&d], crate::load::Outcome::Invalid, false, opts)
}

fn zero_warning_abort() -> Diagnostic {
    Diagnostic::alert(
        "zero-warning",
        Origin::Global,
        "Some warnings were found and 'zero-warning' is set. Aborting.",
    )
}

fn render_lines(
    diags: &[&Diagnostic],
    outcome: crate::load::Outcome,
    warned: bool,
    opts: &CheckOptions<'_>,
) -> CheckOutput {
    let code = outcome.exit_code();
    if opts.quiet {
        return CheckOutput {
            stdout: String::new(),
            stderr: String::new(),
            code,
        };
    }
    let mut stderr = String::new();
    let mut banner = false;
    for d in diags {
        // HAProxy names itself once, just before the first warning or alert.
        if !banner && d.severity >= Severity::Warning {
            banner = true;
            stderr.push_str(&render_notice(
                &format!("haproxy version is {}", opts.version),
                opts.pid,
            ));
            stderr.push_str(&render_notice(
                &format!("path to executable is {}", opts.exe),
                opts.pid,
            ));
        }
        stderr.push_str(&render_haproxy(d, opts.pid));
    }
    let mut stdout = String::new();
    if outcome != crate::load::Outcome::Invalid {
        if warned {
            stdout.push_str("Warnings were found.\n");
        }
        stdout.push_str(if outcome == crate::load::Outcome::Valid {
            "Configuration file is valid\n"
        } else {
            "Configuration file has no error but will not start (no listener) => exit(2).\n"
        });
    }
    CheckOutput {
        stdout,
        stderr,
        code,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_padded_to_eleven_columns() {
        for s in [Severity::Notice, Severity::Warning, Severity::Alert] {
            assert_eq!(s.tag().len(), 11);
        }
    }

    #[test]
    fn each_origin_uses_haproxys_wording() {
        let d = |o| {
            Diagnostic::alert("x", o, "m")
                .at("f.cfg", 7, 1)
                .haproxy_text()
        };
        assert_eq!(d(Origin::Global), "m");
        assert_eq!(d(Origin::Parsing), "parsing [f.cfg:7] : m");
        assert_eq!(d(Origin::ParsingTight), "parsing [f.cfg:7]: m");
        assert_eq!(d(Origin::ParsingCapital), "Parsing [f.cfg:7]: m");
        assert_eq!(
            d(Origin::Object("server be/s1".into())),
            "[f.cfg:7] : 'server be/s1' : m"
        );
        assert_eq!(d(Origin::Doubled), "[f.cfg:7] : parsing [f.cfg:7] : m");
        assert_eq!(d(Origin::Located), "[f.cfg:7] : m");
    }

    #[test]
    fn summary_lines_and_missing_timeouts_match_haproxy() {
        assert_eq!(
            render_haproxy(&errors_in_file("a.cfg"), 9),
            "[ALERT]    (9) : config : Error(s) found in configuration file : a.cfg\n"
        );
        assert_eq!(
            render_haproxy(&fatal_errors(), 9),
            "[ALERT]    (9) : config : Fatal errors found in configuration.\n"
        );
        let w = render_haproxy(&missing_timeouts("frontend", "fe"), 1);
        assert_eq!(w.lines().count(), 4);
        assert!(w.starts_with(
            "[WARNING]  (1) : config : missing timeouts for frontend 'fe'.\n   | While"
        ));
        assert!(w.ends_with("'client', 'connect', 'server'.\n"));
    }

    #[test]
    fn human_rendering_names_file_line_column_and_code() {
        let d = Diagnostic::warning("legacy-keyword", Origin::Parsing, "x")
            .at("f.cfg", 3, 5)
            .with_help("use 'timeout connect'");
        assert_eq!(
            render_human(&d),
            "f.cfg:3:5: warning[legacy-keyword]: x\n  help: use 'timeout connect'"
        );
        assert_eq!(render_notice("hello", 3), "[NOTICE]   (3) : hello\n");
        assert!(
            !Diagnostic::alert("a", Origin::Global, "m")
                .non_fatal()
                .is_fatal()
        );
    }
}
