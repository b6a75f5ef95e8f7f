//! The lossless syntax tree: a [`Document`] of lines grouped into [`Section`]s.
//!
//! Every byte of the input is kept in some [`Line::raw`] plus its [`Eol`], so
//! [`crate::fmt::print`] reproduces the input exactly. Lines inside a false `.if` branch stay in
//! the tree with `active == false`.

use crate::lex::{LexError, Word};

/// How a line ended in the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Eol {
    /// `\n`.
    Lf,
    /// `\r\n`.
    CrLf,
    /// No terminator: the last line of a file that does not end with a newline.
    None,
}

impl Eol {
    /// The terminator's bytes.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Lf => "\n",
            Self::CrLf => "\r\n",
            Self::None => "",
        }
    }
}

/// What a line is, once lexed and placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LineKind {
    /// Empty, blanks only, a comment only, or a first word that is empty (HAProxy skips these).
    Blank,
    /// A keyword line (or a line whose lexing failed, see [`Line::error`]).
    Statement,
    /// A conditional-block or message directive: `.if`, `.elif`, `.else`, `.endif`, `.diag`,
    /// `.notice`, `.warning`, `.alert`, or an unknown `.word` (reported in
    /// [`Document::messages`]).
    Conditional,
    /// A `[scope]` line (HAProxy's configuration scopes); never lexed into words.
    Scope,
}

/// One physical line of a configuration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// 1-based line number.
    pub number: u32,
    /// Byte offset of the line's first byte in the file.
    pub offset: usize,
    /// The line's text without its terminator.
    pub raw: String,
    /// The terminator that followed the line.
    pub eol: Eol,
    /// The words, after quoting, escapes and expansion; empty when lexing failed.
    pub words: Vec<Word>,
    /// The lexer error, if lexing failed (HAProxy reports it and skips the line).
    pub error: Option<LexError>,
    /// Whether HAProxy would act on this line: false inside a false `.if` branch, for the
    /// conditional directives themselves, and for every line after a fatal abort.
    pub active: bool,
    /// Whether HAProxy reads this line at all: false for lines after a fatal abort (an
    /// `.alert`, a broken `.if`, a stray NUL). The `error` of an unreached line is not reported.
    pub reached: bool,
    /// Whether this line was not valid UTF-8 and was decoded as Latin-1 (each byte one `char`);
    /// [`crate::fmt::print_bytes`] encodes it back to the original bytes.
    pub latin1: bool,
    /// What the line is.
    pub kind: LineKind,
}

impl Line {
    /// The first word, when the line has one and it is not empty.
    #[must_use]
    pub fn keyword(&self) -> Option<&str> {
        self.words
            .first()
            .map(Word::as_str)
            .filter(|w| !w.is_empty())
    }

    /// The words after the keyword.
    #[must_use]
    pub fn args(&self) -> &[Word] {
        self.words.get(1..).unwrap_or(&[])
    }

    /// Whether the line has no words and no error (empty, blanks, comment only).
    #[must_use]
    pub fn is_blank(&self) -> bool {
        self.kind == LineKind::Blank
    }

    /// The comment text, from its unprotected `#` to the end of the line, if any.
    #[must_use]
    pub fn comment(&self) -> Option<&str> {
        if self.kind == LineKind::Scope {
            return None;
        }
        crate::lex::comment_start(&self.raw).and_then(|i| self.raw.get(i..))
    }

    /// The span of the whole line (without its terminator).
    #[must_use]
    pub fn span(&self) -> crate::span::Span {
        crate::span::Span::in_line(self.number, self.offset, 0, self.raw.len())
    }

    /// Whether this is an active line with a keyword (what section parsers look at).
    #[must_use]
    pub fn is_directive(&self) -> bool {
        self.active && self.kind == LineKind::Statement && self.keyword().is_some()
    }
}

/// Every kind of section HAProxy 2.6 knows (configuration.txt 3 and 4; reference §1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SectionKind {
    /// `global`.
    Global,
    /// `defaults [<name>] [from <defaults>]`.
    Defaults,
    /// `frontend <name> [from <defaults>]`.
    Frontend,
    /// `backend <name> [from <defaults>]`.
    Backend,
    /// `listen <name> [from <defaults>]`.
    Listen,
    /// `userlist <name>`.
    Userlist,
    /// `peers <name>`.
    Peers,
    /// `resolvers <name>`.
    Resolvers,
    /// `mailers <name>`.
    Mailers,
    /// `cache <name>`.
    Cache,
    /// `program <name>`.
    Program,
    /// `ring <name>`.
    Ring,
    /// `http-errors <name>`.
    HttpErrors,
    /// `log-forward <name>`.
    LogForward,
    /// `fcgi-app <name>`.
    FcgiApp,
    /// `namespace_list` (network namespaces; present in builds with `+NS`, such as Debian's).
    NamespaceList,
}

impl SectionKind {
    /// Every kind, in the order above.
    pub const ALL: [Self; 16] = [
        Self::Global,
        Self::Defaults,
        Self::Frontend,
        Self::Backend,
        Self::Listen,
        Self::Userlist,
        Self::Peers,
        Self::Resolvers,
        Self::Mailers,
        Self::Cache,
        Self::Program,
        Self::Ring,
        Self::HttpErrors,
        Self::LogForward,
        Self::FcgiApp,
        Self::NamespaceList,
    ];

    /// The kind a section keyword starts, if it is one.
    #[must_use]
    pub fn from_keyword(word: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == word)
    }

    /// The section keyword.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Global => "global",
            Self::Defaults => "defaults",
            Self::Frontend => "frontend",
            Self::Backend => "backend",
            Self::Listen => "listen",
            Self::Userlist => "userlist",
            Self::Peers => "peers",
            Self::Resolvers => "resolvers",
            Self::Mailers => "mailers",
            Self::Cache => "cache",
            Self::Program => "program",
            Self::Ring => "ring",
            Self::HttpErrors => "http-errors",
            Self::LogForward => "log-forward",
            Self::FcgiApp => "fcgi-app",
            Self::NamespaceList => "namespace_list",
        }
    }
}

/// A section: its header line and the lines up to the next section header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// The section's kind.
    pub kind: SectionKind,
    /// The header line (`frontend web`).
    pub header: Line,
    /// Every line after the header up to the next header, blanks, comments and inactive
    /// lines included.
    pub body: Vec<Line>,
}

impl Section {
    /// The section's name: the first argument of the header, except `from` after `defaults`.
    #[must_use]
    pub fn name(&self) -> Option<&str> {
        let first = self.header.args().first().map(Word::as_str)?;
        if self.kind == SectionKind::Defaults && first == "from" {
            return None;
        }
        Some(first).filter(|n| !n.is_empty())
    }

    /// The defaults section named after `from` on the header, if any: `defaults [<name>] from
    /// <defaults>`, `<kind> <name> from <defaults>`.
    #[must_use]
    pub fn from(&self) -> Option<&str> {
        let args = self.header.args();
        let at = match args.first().map(Word::as_str) {
            Some("from") if self.kind == SectionKind::Defaults => 0,
            _ => 1,
        };
        if args.get(at).map(Word::as_str) != Some("from") {
            return None;
        }
        args.get(at + 1).map(Word::as_str)
    }

    /// The active lines with a keyword, in order (what HAProxy's section parser receives).
    pub fn directives(&self) -> impl Iterator<Item = &Line> {
        self.body.iter().filter(|l| l.is_directive())
    }

    /// The header and every body line, in file order.
    pub fn lines(&self) -> impl Iterator<Item = &Line> {
        std::iter::once(&self.header).chain(self.body.iter())
    }
}

/// Severity of a message produced while reading the file (not by section parsers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Level {
    /// `.diag`: shown only with `-dD`.
    Diag,
    /// `.notice`.
    Notice,
    /// `.warning` (fatal under `zero-warning`).
    Warning,
    /// Errors; always fatal.
    Alert,
}

/// A message from the file reader: conditional-block outcomes and errors, `.diag`/`.notice`/
/// `.warning`/`.alert`, scope errors, a stray NUL, a missing final newline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The line the message is about.
    pub line: u32,
    /// Its severity.
    pub level: Level,
    /// The text HAProxy prints after `parsing [file:line]: `, including its final period and,
    /// for `.if` errors, the excerpt and caret lines (joined with `\n`, no trailing newline).
    pub text: String,
    /// Whether HAProxy puts a space before the colon (`parsing [f:1] : ...`), as for scopes.
    pub spaced: bool,
    /// Whether HAProxy stops reading the file here (it then runs no further section parsers).
    pub abort: bool,
}

impl Message {
    /// The whole text as HAProxy prints it after the `[LEVEL] (pid) : ` prefix.
    #[must_use]
    pub fn render(&self, file: &str) -> String {
        let sep = if self.spaced { " : " } else { ": " };
        format!("parsing [{file}:{}]{sep}{}", self.line, self.text)
    }
}

/// A parsed configuration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// The file name given to the parser (used for `.FILE` and in messages).
    pub name: String,
    /// Lines before the first section header.
    pub preamble: Vec<Line>,
    /// The sections, in order.
    pub sections: Vec<Section>,
    /// Reader messages, in line order (see [`Message`]).
    pub messages: Vec<Message>,
}

impl Document {
    /// Every line in file order.
    pub fn lines(&self) -> impl Iterator<Item = &Line> {
        self.preamble
            .iter()
            .chain(self.sections.iter().flat_map(Section::lines))
    }

    /// Every line in file order, mutably (for [`crate::fmt::rewrite_line`]).
    pub fn lines_mut(&mut self) -> impl Iterator<Item = &mut Line> {
        self.preamble.iter_mut().chain(
            self.sections
                .iter_mut()
                .flat_map(|s| std::iter::once(&mut s.header).chain(s.body.iter_mut())),
        )
    }

    /// Whether any message or reached line carries an error.
    #[must_use]
    pub fn has_errors(&self) -> bool {
        self.messages.iter().any(|m| m.level == Level::Alert)
            || self.lines().any(|l| l.reached && l.error.is_some())
    }
}
