//! From parsed [`Document`]s to a typed [`Config`] plus [`Diagnostic`]s, as `haproxy -c` does.
//!
//! Files are read in order; each line goes to its section's parser, which reports problems in
//! HAProxy's words. After a file with fatal errors comes HAProxy's "Error(s) found in
//! configuration file" line; an aborting error (HAProxy's `ERR_ABORT`) stops everything. When
//! parsing succeeded, the post-parse checks of [`crate::checks`] run.

mod bind;
mod default_path;
mod global;
mod misc;
mod options;
mod proxy;
mod reply_file;
mod server;
mod sources;
mod unix_bind;
mod userlist;

pub use default_path::MAX_DIR_PATH;
pub use global::MAX_BUFSIZE;
pub use misc::{ERROR_CODES, MAX_ERRORFILE_LEN};
pub use options::DEFAULT_XFF_HEADER;
pub use server::MAX_WEIGHT;
pub use sources::{SourceError, expand_paths, read_sources};

use crate::ast::{Document, Level, Line, SectionKind};
use crate::diag::{self, Diagnostic, Origin};
use crate::model::{Config, Location, Proxy, ProxyKind, Userlist};
use std::sync::Arc;

/// HAProxy stops reading a file after this many fatal errors.
pub const MAX_FATAL_ERRORS: usize = 50;

/// What the loader may ask the system: file contents (errorfiles), host name resolution
/// (server addresses) and user/group lookups. [`SystemEnv`] asks the real system.
pub trait Env {
    /// Reads a file (`errorfile`).
    ///
    /// # Errors
    /// The I/O error, when the file cannot be read.
    fn read_file(&self, path: &str) -> std::io::Result<Vec<u8>>;
    /// Whether a host name resolves (`server` addresses that are not IP literals).
    fn resolves(&self, host: &str) -> bool;
    /// Whether a system user exists (`user` in global).
    fn user_exists(&self, name: &str) -> bool;
    /// Whether a system group exists (`group` in global).
    fn group_exists(&self, name: &str) -> bool;
    /// Whether `path` can become the working directory (`chdir()`), for `default-path`.
    ///
    /// # Errors
    /// Why not, as `chdir()` would say.
    fn enter_dir(&self, path: &str) -> std::io::Result<()> {
        if std::fs::metadata(path)?.is_dir() {
            Ok(())
        } else {
            Err(std::io::Error::from_raw_os_error(ENOTDIR))
        }
    }
    /// The startup directory (`getcwd()`), which some `default-path` errors name.
    fn startup_dir(&self) -> String {
        std::env::current_dir()
            .map(|p| p.display().to_string())
            .unwrap_or_default()
    }
    /// A system user's id (`unix-bind user`), from `/etc/passwd`.
    fn user_id(&self, name: &str) -> Option<u32> {
        id_in_db("/etc/passwd", name)
    }
    /// A system group's id (`unix-bind group`), from `/etc/group`.
    fn group_id(&self, name: &str) -> Option<u32> {
        id_in_db("/etc/group", name)
    }
}

/// Linux's `ENOTDIR` ("Not a directory"), what `chdir()` says of a file.
const ENOTDIR: i32 = 20;

/// The third field (the numeric id) of the line of a colon-separated database whose first
/// field is `name`.
fn id_in_db(path: &str, name: &str) -> Option<u32> {
    let db = std::fs::read_to_string(path).ok()?;
    db.lines().find_map(|l| {
        let mut f = l.split(':');
        (f.next() == Some(name)).then_some(())?;
        f.nth(1)?.parse().ok()
    })
}

/// The real system: the file system, the libc resolver (through the standard library), and
/// `/etc/passwd` / `/etc/group`.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemEnv;

impl Env for SystemEnv {
    fn read_file(&self, path: &str) -> std::io::Result<Vec<u8>> {
        std::fs::read(path)
    }

    fn resolves(&self, host: &str) -> bool {
        use std::net::ToSocketAddrs as _;
        (host, 0u16)
            .to_socket_addrs()
            .is_ok_and(|mut a| a.next().is_some())
    }

    fn user_exists(&self, name: &str) -> bool {
        name_in_db("/etc/passwd", name)
    }

    fn group_exists(&self, name: &str) -> bool {
        name_in_db("/etc/group", name)
    }
}

/// Whether `name` is the first field of a line of a colon-separated database file.
fn name_in_db(path: &str, name: &str) -> bool {
    std::fs::read_to_string(path)
        .is_ok_and(|db| db.lines().any(|l| l.split(':').next() == Some(name)))
}

/// How a check ended, with HAProxy's exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Valid (exit 0).
    Valid,
    /// Valid, but there is no listener (exit 2).
    NoListener,
    /// Errors were found (exit 1).
    Invalid,
}

impl Outcome {
    /// HAProxy's exit code for `-c`.
    #[must_use]
    pub fn exit_code(self) -> i32 {
        match self {
            Self::Valid => 0,
            Self::Invalid => 1,
            Self::NoListener => 2,
        }
    }
}

/// The result of loading: the model, every diagnostic in HAProxy's order, and the verdict.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The configuration (partial when errors were found).
    pub config: Config,
    /// Findings, in the order HAProxy prints them (summary lines included).
    pub diagnostics: Vec<Diagnostic>,
    /// The verdict.
    pub outcome: Outcome,
    /// The number of findings printed before a global `quiet` line took effect: HAProxy prints
    /// nothing after it (findings, summary, verdict line), as under `-q`. `None` without it.
    pub quiet_from: Option<usize>,
}

impl Loaded {
    /// Whether any warning was emitted (HAProxy's "Warnings were found.").
    #[must_use]
    pub fn has_warnings(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.severity == diag::Severity::Warning)
    }
}

/// Loads a configuration made of several files, in order.
///
/// # Examples
/// ```
/// use haproxy_cfg::load::{load, Outcome, SystemEnv};
/// let doc = haproxy_cfg::parse_str("x.cfg", "global\n    daemom\n");
/// let loaded = load(&[doc], &SystemEnv);
/// assert_eq!(loaded.outcome, Outcome::Invalid);
/// assert!(loaded.diagnostics[0].message.ends_with("did you mean 'daemon' maybe ?"));
/// ```
pub fn load(docs: &[Document], env: &dyn Env) -> Loaded {
    let mut l = Loader::new(env);
    let mut fatal_any = false;
    for doc in docs {
        l.read_document(doc);
        if l.file_fatal || l.aborted {
            let file = doc.name.as_str();
            l.diags.push(diag::errors_in_file(file));
            fatal_any = true;
        }
        if l.aborted {
            return l.finish(Outcome::Invalid);
        }
    }
    if fatal_any {
        l.diags.push(diag::fatal_errors());
        return l.finish(Outcome::Invalid);
    }
    let outcome = crate::checks::run(&mut l.config, &mut l.diags, env);
    l.finish(outcome)
}

/// One word of a line: its value and 1-based column.
#[derive(Debug, Clone)]
pub(crate) struct Arg<'a> {
    /// The value, after quoting and expansion.
    pub(crate) value: &'a str,
    /// 1-based column in the raw line.
    pub(crate) col: u32,
}

/// The line being parsed.
#[derive(Debug, Clone)]
pub(crate) struct Ctx<'a> {
    /// The file name.
    pub(crate) file: Arc<str>,
    /// 1-based line number.
    pub(crate) line: u32,
    /// Every word, keyword first.
    pub(crate) args: Vec<Arg<'a>>,
}

impl<'a> Ctx<'a> {
    /// Word `i` (0 = keyword), or "" past the end (HAProxy's `args[i]`).
    pub(crate) fn arg(&self, i: usize) -> &str {
        self.args.get(i).map_or("", |a| a.value)
    }

    /// Column of word `i` (the keyword's when past the end).
    pub(crate) fn col(&self, i: usize) -> u32 {
        self.args.get(i).or(self.args.first()).map_or(1, |a| a.col)
    }

    /// Words from `i` on.
    pub(crate) fn rest(&self, i: usize) -> Vec<String> {
        self.args
            .iter()
            .skip(i)
            .map(|a| a.value.to_owned())
            .collect()
    }

    /// Number of words.
    pub(crate) fn len(&self) -> usize {
        self.args.len()
    }

    /// The same line without its first word.
    pub(crate) fn shifted(&self) -> Self {
        Self {
            file: Arc::clone(&self.file),
            line: self.line,
            args: self.args.get(1..).unwrap_or(&[]).to_vec(),
        }
    }

    /// The location.
    pub(crate) fn loc(&self) -> Location {
        Location {
            file: Arc::clone(&self.file),
            line: self.line,
        }
    }
}

/// Loader state across files (HAProxy's parser statics).
pub(crate) struct Loader<'e> {
    /// System access.
    pub(crate) env: &'e dyn Env,
    /// The model being built.
    pub(crate) config: Config,
    /// Findings so far.
    pub(crate) diags: Vec<Diagnostic>,
    /// Whether the current file had a fatal error.
    pub(crate) file_fatal: bool,
    /// Fatal errors in the current file.
    file_fatal_count: usize,
    /// Whether an aborting error happened.
    pub(crate) aborted: bool,
    /// Index in `config.defaults` of the last defaults section, if any.
    pub(crate) last_defaults: Option<usize>,
    /// How each defaults section was referenced: (explicitly, implicitly).
    pub(crate) defaults_refs: Vec<(bool, bool)>,
    /// Whether each defaults section defines rules, and for which side it was used.
    pub(crate) defaults_rules_side: Vec<Option<ProxyKind>>,
    /// The proxy section being filled: `Some(true)` for a defaults section, `Some(false)` for a
    /// regular proxy, `None` when the last header failed.
    pub(crate) current: Option<bool>,
    /// The defaults the current proxy inherited from (for "overwriting" warnings).
    pub(crate) current_defaults: Option<Proxy>,
    /// The userlist being filled.
    pub(crate) current_userlist: Option<usize>,
    /// The name of the proxy being filled (shared, to avoid a copy per line).
    pub(crate) current_name: Arc<str>,
    /// Index in `config.proxies` of each name with a frontend side, then with a backend side.
    pub(crate) names: [std::collections::HashMap<String, usize>; 2],
    /// The number of findings when the first global `quiet` line was read.
    pub(crate) quiet_from: Option<usize>,
    /// `default-path` state across files (HAProxy's statics).
    pub(crate) default_path: default_path::State,
}

impl std::fmt::Debug for Loader<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Loader")
            .field("diags", &self.diags.len())
            .finish_non_exhaustive()
    }
}

impl<'e> Loader<'e> {
    fn new(env: &'e dyn Env) -> Self {
        Self {
            env,
            config: Config::default(),
            diags: Vec::new(),
            file_fatal: false,
            file_fatal_count: 0,
            aborted: false,
            last_defaults: None,
            defaults_refs: Vec::new(),
            defaults_rules_side: Vec::new(),
            current: None,
            current_defaults: None,
            current_userlist: None,
            current_name: Arc::from(""),
            names: Default::default(),
            quiet_from: None,
            default_path: default_path::State::default(),
        }
    }

    fn finish(self, outcome: Outcome) -> Loaded {
        Loaded {
            config: self.config,
            diagnostics: self.diags,
            outcome,
            quiet_from: self.quiet_from,
        }
    }

    /// Records a diagnostic for the current line, counting fatal ones.
    pub(crate) fn emit(&mut self, d: Diagnostic) {
        if d.is_fatal() {
            self.file_fatal = true;
            self.file_fatal_count += 1;
        }
        self.diags.push(d);
    }

    /// A fatal alert at a line.
    pub(crate) fn alert(
        &mut self,
        ctx: &Ctx<'_>,
        col: u32,
        code: &'static str,
        origin: Origin,
        msg: String,
    ) {
        self.emit(Diagnostic::alert(code, origin, msg).at(&ctx.file, ctx.line, col));
    }

    /// A warning at a line.
    pub(crate) fn warn(
        &mut self,
        ctx: &Ctx<'_>,
        col: u32,
        code: &'static str,
        origin: Origin,
        msg: String,
    ) {
        self.emit(Diagnostic::warning(code, origin, msg).at(&ctx.file, ctx.line, col));
    }

    /// An aborting alert: HAProxy stops reading.
    pub(crate) fn abort(&mut self, ctx: &Ctx<'_>, code: &'static str, origin: Origin, msg: String) {
        self.alert(ctx, ctx.col(0), code, origin, msg);
        self.aborted = true;
    }

    /// Makes the last proxy of a kind the current one.
    pub(crate) fn enter_proxy(&mut self, defaults: bool) {
        self.current = Some(defaults);
        let name = if defaults {
            self.config.defaults.last()
        } else {
            self.config.proxies.last()
        };
        self.current_name = Arc::from(name.map_or("", |p| p.name.as_str()));
    }

    /// The proxy being filled, if any.
    pub(crate) fn proxy_mut(&mut self) -> Option<&mut Proxy> {
        match self.current? {
            true => self.config.defaults.last_mut(),
            false => self.config.proxies.last_mut(),
        }
    }

    /// The userlist being filled.
    pub(crate) fn userlist_mut(&mut self) -> Option<&mut Userlist> {
        let i = self.current_userlist?;
        self.config.userlists.get_mut(i)
    }

    fn read_document(&mut self, doc: &Document) {
        self.file_fatal = false;
        self.file_fatal_count = 0;
        let mut messages = doc.messages.iter().peekable();
        let file = doc.name.as_str();
        let file_rc: Arc<str> = Arc::from(file);
        default_path::enter_file(self, &file_rc);
        let mut section: Option<SectionKind> = None;
        let lines = doc
            .preamble
            .iter()
            .map(|l| (None, l))
            .chain(doc.sections.iter().flat_map(|s| {
                std::iter::once((Some(s.kind), &s.header)).chain(s.body.iter().map(|l| (None, l)))
            }));
        for (header, line) in lines {
            if self.aborted || self.file_fatal_count >= MAX_FATAL_ERRORS {
                break;
            }
            if !line.reached {
                continue;
            }
            if let Some(err) = &line.error {
                let d = Diagnostic::alert("lex-error", Origin::ParsingTight, err.render()).at(
                    file,
                    line.number,
                    err.span.col,
                );
                self.emit(d);
            } else if line.is_directive() {
                let ctx = ctx_of(&file_rc, line);
                if let Some(kind) = header {
                    section = Some(kind);
                    self.section_header(kind, &ctx);
                } else {
                    self.directive(section, &ctx);
                }
            }
            while let Some(m) = messages.next_if(|m| m.line <= line.number) {
                self.reader_message(file, m.line, m.level, &m.render(file), m.abort);
            }
        }
        for m in messages {
            if self.aborted {
                break;
            }
            self.reader_message(file, m.line, m.level, &m.render(file), m.abort);
        }
    }

    fn reader_message(&mut self, file: &str, line: u32, level: Level, text: &str, abort: bool) {
        let d = match level {
            Level::Diag => return,
            Level::Notice => Diagnostic {
                severity: diag::Severity::Notice,
                fatal: false,
                ..Diagnostic::alert("reader-notice", Origin::Global, text)
            },
            Level::Warning => Diagnostic::warning("reader-warning", Origin::Global, text),
            Level::Alert => Diagnostic::alert("reader-alert", Origin::Global, text),
        };
        self.emit(d.at(file, line, 0));
        if abort {
            self.aborted = true;
        }
    }

    fn section_header(&mut self, kind: SectionKind, ctx: &Ctx<'_>) {
        self.current_userlist = None;
        match kind {
            SectionKind::Global => {
                self.current = None;
                global::header(self, ctx);
            }
            SectionKind::Defaults => proxy::header(self, ProxyKind::Defaults, ctx),
            SectionKind::Frontend => proxy::header(self, ProxyKind::Frontend, ctx),
            SectionKind::Backend => proxy::header(self, ProxyKind::Backend, ctx),
            SectionKind::Listen => proxy::header(self, ProxyKind::Listen, ctx),
            SectionKind::Userlist => {
                self.current = None;
                userlist::header(self, ctx);
            }
            _ => {
                self.current = None;
                self.config
                    .other_sections
                    .push((ctx.rest(0).join(" "), Vec::new()));
            }
        }
    }

    fn directive(&mut self, section: Option<SectionKind>, ctx: &Ctx<'_>) {
        match section {
            None => {
                let msg = format!("unknown keyword '{}' out of section.", ctx.arg(0));
                self.alert(
                    ctx,
                    ctx.col(0),
                    "keyword-outside-section",
                    Origin::ParsingTight,
                    msg,
                );
            }
            Some(SectionKind::Global) => global::directive(self, ctx),
            Some(
                SectionKind::Defaults
                | SectionKind::Frontend
                | SectionKind::Backend
                | SectionKind::Listen,
            ) => {
                proxy::directive(self, ctx);
            }
            Some(SectionKind::Userlist) => userlist::directive(self, ctx),
            // Read while parsing, from the `default-path` directory, as in a proxy.
            Some(SectionKind::HttpErrors) if ctx.arg(0) == "errorfile" => {
                if ctx.arg(2).is_empty() {
                    // The section's own wording (no space before the colon, no `<errorfile>`).
                    let msg = "errorfile: expects <status_code> and <file> as arguments.";
                    self.alert(
                        ctx,
                        ctx.col(0),
                        "bad-errorfile",
                        Origin::Parsing,
                        msg.into(),
                    );
                } else if misc::errorfile(self, ctx).is_some() {
                    let d = crate::model::Directive {
                        loc: ctx.loc(),
                        words: ctx.rest(0),
                    };
                    if let Some((_, body)) = self.config.other_sections.last_mut() {
                        body.push(d);
                    }
                }
            }
            Some(_) => {
                let d = crate::model::Directive {
                    loc: ctx.loc(),
                    words: ctx.rest(0),
                };
                if let Some((_, body)) = self.config.other_sections.last_mut() {
                    body.push(d);
                }
            }
        }
    }
}

/// Builds the parse context of a line.
fn ctx_of<'a>(file: &Arc<str>, line: &'a Line) -> Ctx<'a> {
    Ctx {
        file: Arc::clone(file),
        line: line.number,
        args: line
            .words
            .iter()
            .map(|w| Arg {
                value: w.as_str(),
                col: w.span.col,
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests;
