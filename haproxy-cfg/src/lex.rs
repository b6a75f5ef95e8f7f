//! Line → words, with HAProxy 2.6's exact rules (`parse_line()` in src/tools.c; configuration.txt 2.2-2.3).
//!
//! - Words are separated by unprotected blanks (space, tab, vertical tab, form feed); an unprotected
//!   `#` starts a comment, even glued to a word (`global#c`); `\0`, `\n` and `\r` end the line.
//! - `"..."` is weak quoting (escapes and `$` variables still work), `'...'` strong quoting (nothing
//!   is interpreted); pieces next to each other join into one word.
//! - Escapes outside single quotes: `\ `, `\\`, `\t`, `\n`, `\r`, `\#`, `\'`, `\"`, `\xNN`, and `\$`
//!   inside double quotes only; any other `\c` keeps its backslash.
//! - Variables only inside double quotes: `$NAME`, `${NAME}`, `${NAME-default}` (default only when
//!   unset), `${NAME[*]}` (split into words on blanks), and the pseudo-variables `.FILE`, `.LINE`,
//!   `.SECTION`. Outside double quotes `$` is literal. There is no line continuation.

use std::fmt;

use crate::span::{SNIPPET_WIDTH, Span, caret_snippet};

/// HAProxy rejects a line with more than this many words (`MAX_LINE_ARGS`).
pub const MAX_LINE_ARGS: usize = 64;

/// Longest line we accept, in bytes.
///
/// COMPAT: HAProxy 2.6 grows its line buffer without limit and only fails when memory runs out;
/// we bound it so a hostile file cannot exhaust memory, with HAProxy's out-of-memory wording.
pub const MAX_LINE_LEN: usize = 1 << 20;

/// Longest value a variable expansion may add to one line, in bytes (bounds `${X[*]}` blow-up).
pub const MAX_EXPANDED_LEN: usize = 1 << 22;

/// What went wrong while splitting a line into words.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LexErrorKind {
    /// A `"` or `'` was never closed.
    UnmatchedQuote,
    /// `${` without its `}`.
    UnmatchedBrace,
    /// `$` (inside double quotes) not followed by a letter, `_`, `.` or `{`, or an unknown `.NAME`.
    ForbiddenVarChar,
    /// `\x` not followed by two hexadecimal digits.
    BadHex,
    /// `${NAME[` not followed by `*]`.
    BadWordExpansion,
    /// More than [`MAX_LINE_ARGS`] words; carries the 1-based position of word 64 in HAProxy's
    /// output buffer and that word.
    TooManyWords {
        /// 1-based offset of the last kept word in the unescaped output (HAProxy's "position").
        position: usize,
        /// The last kept word (word number [`MAX_LINE_ARGS`]).
        last_word: String,
    },
    /// The line is longer than [`MAX_LINE_LEN`] bytes, or expands past [`MAX_EXPANDED_LEN`].
    LineTooLong,
}

/// A lexer error on one line, with HAProxy's wording and the place it points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LexError {
    /// What went wrong.
    pub kind: LexErrorKind,
    /// The byte the error points at (length 1; length 0 for errors without a position).
    pub span: Span,
    /// The line's bytes as HAProxy quotes them: from the first non-blank byte to the end of the
    /// line (or to where HAProxy's in-place parsing wrote a NUL).
    pub excerpt: Vec<u8>,
    /// Byte index of the error inside `excerpt`.
    pub excerpt_pos: usize,
}

impl LexError {
    /// HAProxy's 1-based "position": the byte column in the raw line, leading blanks included.
    #[must_use]
    pub fn position(&self) -> u32 {
        self.span.col
    }

    /// Whether HAProxy prints the quoted line and a caret line under this error.
    #[must_use]
    pub fn has_caret(&self) -> bool {
        !matches!(
            self.kind,
            LexErrorKind::TooManyWords { .. } | LexErrorKind::LineTooLong
        )
    }

    /// The two lines HAProxy prints under the message, each indented by two spaces: the line
    /// (cut to 80 columns around the error, non-printable bytes as `?`) and a `^` under the error.
    ///
    /// Returns `None` for errors HAProxy reports without an excerpt.
    #[must_use]
    pub fn caret_lines(&self) -> Option<String> {
        if !self.has_caret() {
            return None;
        }
        let (text, caret) = caret_snippet(&self.excerpt, self.excerpt_pos, SNIPPET_WIDTH);
        Some(format!("  {text}\n  {caret}"))
    }

    /// The full text HAProxy prints after `parsing [file:line]: `: the message, and for
    /// positioned errors `:` plus the excerpt and caret lines; no trailing newline.
    #[must_use]
    pub fn render(&self) -> String {
        match self.caret_lines() {
            Some(lines) => format!("{self}:\n{lines}"),
            None => format!("{self}."),
        }
    }
}

impl fmt::Display for LexError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pos = self.position();
        match &self.kind {
            LexErrorKind::UnmatchedQuote => write!(f, "unmatched quote at position {pos}"),
            LexErrorKind::UnmatchedBrace => write!(
                f,
                "unmatched brace in environment variable name at position {pos}"
            ),
            LexErrorKind::ForbiddenVarChar => write!(
                f,
                "forbidden first char in environment variable name at position {pos}"
            ),
            LexErrorKind::BadHex => {
                write!(
                    f,
                    "truncated or invalid hexadecimal sequence at position {pos}"
                )
            }
            LexErrorKind::BadWordExpansion => write!(
                f,
                "truncated or invalid word expansion sequence at position {pos}"
            ),
            LexErrorKind::TooManyWords {
                position,
                last_word,
            } => write!(
                f,
                "too many words, truncating after word {MAX_LINE_ARGS}, position {position}: <{last_word}>"
            ),
            LexErrorKind::LineTooLong => write!(f, "line too long, cannot allocate memory"),
        }
    }
}

impl std::error::Error for LexError {}

/// One word of a line: its value after quotes, escapes and expansion, and its raw extent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    /// The value after quote removal, escapes and variable expansion, cut at the first NUL
    /// byte as HAProxy's C strings are. When the bytes are not UTF-8 (from `\xNN` or a Latin-1
    /// line) they are decoded as Latin-1, one `char` per byte.
    pub value: String,
    /// Where the word's raw text is in the file (quotes and escapes included).
    pub span: Span,
}

impl Word {
    /// The value as a string slice.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.value
    }
}

/// What the lexer needs besides the line: where the line is and how to look variables up.
pub struct LexContext<'a> {
    /// File name, the value of `.FILE`.
    pub file: &'a str,
    /// 1-based line number, the value of `.LINE`.
    pub line: u32,
    /// Byte offset of the line's first byte in the file.
    pub offset: usize,
    /// Name of the current section (its name, or its keyword when unnamed), the value of
    /// `.SECTION`; `None` before the first section (the variable then expands to nothing).
    pub section: Option<&'a str>,
    /// Environment lookup for `$NAME`.
    pub vars: &'a dyn Fn(&str) -> Option<String>,
}

impl fmt::Debug for LexContext<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LexContext")
            .field("file", &self.file)
            .field("line", &self.line)
            .field("offset", &self.offset)
            .field("section", &self.section)
            .finish_non_exhaustive()
    }
}

/// Whether `b` separates words (C `isspace` minus the line ends, which stop the line first).
fn is_blank(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | 0x0b | 0x0c)
}

/// C `isspace`, used on expanded values for `${X[*]}` and on leading blanks.
fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// Builds words the way `parse_line()` fills its output buffer.
struct Builder {
    words: Vec<Word>,
    cur: Vec<u8>,
    start: usize,
    /// Whether anything (even an empty quoted string) opened the current word.
    open: bool,
    /// HAProxy's `arg` counter: words started so far, minus one.
    too_many: bool,
    /// Bytes emitted so far (HAProxy's `outpos`), including the separators between words.
    outpos: usize,
    /// `outpos` at which word number [`MAX_LINE_ARGS`] starts, and that word.
    last_kept: Option<(usize, usize)>,
}

impl Builder {
    fn push(&mut self, b: u8) {
        self.cur.push(b);
        self.open = true;
        self.outpos += 1;
    }

    /// Ends the current word at raw byte `end` (exclusive); the next starts at `next_start`.
    fn split(&mut self, ctx: &LexContext<'_>, end: usize, next_start: usize) {
        self.finish(ctx, end);
        self.outpos += 1;
        if self.words.len() >= MAX_LINE_ARGS {
            self.too_many = true;
        } else if self.words.len() == MAX_LINE_ARGS - 1 {
            self.last_kept = Some((self.outpos, self.words.len()));
        }
        self.start = next_start;
        self.open = false;
    }

    fn finish(&mut self, ctx: &LexContext<'_>, end: usize) {
        let mut bytes = std::mem::take(&mut self.cur);
        if let Some(nul) = bytes.iter().position(|&b| b == 0) {
            bytes.truncate(nul);
        }
        let value = decode(bytes);
        let len = end.saturating_sub(self.start);
        self.words.push(Word {
            value,
            span: Span::in_line(ctx.line, ctx.offset, self.start, len),
        });
    }
}

/// Decodes bytes as UTF-8 when they are, otherwise as Latin-1 (one `char` per byte).
pub(crate) fn decode(bytes: Vec<u8>) -> String {
    match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => e.as_bytes().iter().map(|&b| char::from(b)).collect(),
    }
}

/// Splits one raw line (without its line terminator) into words.
///
/// Leading blanks are skipped as HAProxy does; a line that is blank or only a comment gives no
/// words. An empty quoted word (`""`) is a word; trailing blanks never make one.
///
/// # Errors
/// Returns HAProxy's lexer errors: unmatched quote, unmatched `${` brace, a forbidden first
/// character in a variable name, a bad `\xNN`, a bad `[*]`, more than [`MAX_LINE_ARGS`] words,
/// or a line longer than [`MAX_LINE_LEN`].
pub fn lex_line(raw: &str, ctx: &LexContext<'_>) -> Result<Vec<Word>, LexError> {
    lex_bytes(raw.as_bytes(), ctx)
}

/// [`lex_line`] on the line's original bytes (for lines that are not UTF-8); spans and
/// positions are byte offsets in those bytes.
///
/// # Errors
/// As [`lex_line`].
pub fn lex_bytes(raw: &[u8], ctx: &LexContext<'_>) -> Result<Vec<Word>, LexError> {
    lex_core(raw, ctx, &mut LexInfo::default())
}

/// What the reader needs to reproduce HAProxy's retry after growing its output buffer.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct LexInfo {
    /// Bytes HAProxy's `parse_line()` emits for the line, separators and final NUL included.
    pub(crate) outlen: usize,
    /// Where the first `${NAME-default}` ends (its `}`): HAProxy overwrites it with a NUL.
    pub(crate) default_close: Option<usize>,
}

/// [`lex_bytes`], also reporting [`LexInfo`].
pub(crate) fn lex_core(
    raw: &[u8],
    ctx: &LexContext<'_>,
    info: &mut LexInfo,
) -> Result<Vec<Word>, LexError> {
    let bytes = raw;
    let lead = bytes.iter().take_while(|&&b| is_c_space(b)).count();
    // HAProxy writes a NUL into its copy of the line after a `${NAME-default}` value and, on
    // an unknown `.NAME`, after the name; the excerpt it prints stops there.
    let mut cut: Option<usize> = None;
    let err = |kind: LexErrorKind, at: usize, len: usize, cut: Option<usize>| LexError {
        kind,
        span: Span::in_line(ctx.line, ctx.offset, at, len),
        excerpt: raw
            .get(lead..cut.unwrap_or(raw.len()).max(lead))
            .unwrap_or(&[])
            .to_vec(),
        excerpt_pos: at.saturating_sub(lead),
    };
    if bytes.len() > MAX_LINE_LEN {
        return Err(err(LexErrorKind::LineTooLong, 0, 0, None));
    }
    let at = |i: usize| bytes.get(i).copied().unwrap_or(0);
    let mut b = Builder {
        words: Vec::new(),
        cur: Vec::new(),
        start: lead,
        open: false,
        too_many: false,
        outpos: 0,
        last_kept: None,
    };
    let mut i = lead;
    let mut squote = false;
    let mut dquote = false;
    let mut quote_at: Option<usize> = None;
    let mut expanded = 0usize;
    loop {
        let c = at(i);
        if c >= b'-' && c != b'\\' {
            b.push(c);
            i += 1;
        } else if c == 0 || c == b'\n' || c == b'\r' || (c == b'#' && !squote && !dquote) {
            break;
        } else if c == b'"' && !squote {
            dquote = !dquote;
            quote_at = dquote.then_some(i);
            b.open = true;
            i += 1;
        } else if c == b'\'' && !dquote {
            squote = !squote;
            quote_at = squote.then_some(i);
            b.open = true;
            i += 1;
        } else if c == b'\\' && !squote {
            let mut send = c;
            match at(i + 1) {
                b' ' | b'\\' => {
                    send = at(i + 1);
                    i += 1;
                }
                b't' => {
                    send = b'\t';
                    i += 1;
                }
                b'n' => {
                    send = b'\n';
                    i += 1;
                }
                b'r' => {
                    send = b'\r';
                    i += 1;
                }
                b'#' | b'\'' | b'"' => {
                    i += 1;
                    send = at(i);
                }
                b'$' if dquote => {
                    i += 1;
                    send = b'$';
                }
                b'x' => {
                    let (h, l) = (hex(at(i + 2)), hex(at(i + 3)));
                    let (Some(h), Some(l)) = (h, l) else {
                        return Err(err(LexErrorKind::BadHex, i, 1, cut));
                    };
                    send = (h << 4) | l;
                    i += 3;
                }
                _ => {}
            }
            i += 1;
            b.push(send);
        } else if is_blank(c) && !squote && !dquote {
            let end = i;
            // C `isspace`: a `\r` inside a run of blanks does not end the line.
            while is_c_space(at(i)) {
                i += 1;
            }
            b.split(ctx, end, i);
        } else if c == b'$' && dquote {
            let dollar = i;
            i += 1;
            let brace = at(i) == b'{';
            if brace {
                i += 1;
            }
            let first = at(i);
            if !(first.is_ascii_alphabetic() || first == b'_' || first == b'.') {
                return Err(err(LexErrorKind::ForbiddenVarChar, i, 1, cut));
            }
            let name_start = i;
            if first == b'.' {
                i += 1;
            }
            while at(i).is_ascii_alphanumeric() || at(i) == b'_' {
                i += 1;
            }
            let name = std::str::from_utf8(raw.get(name_start..i).unwrap_or(&[])).unwrap_or("");
            let mut value: Option<String> = if first == b'.' {
                match name {
                    ".LINE" => Some(ctx.line.to_string()),
                    ".FILE" => Some(ctx.file.to_owned()),
                    ".SECTION" => ctx.section.map(str::to_owned),
                    _ => {
                        let cut = Some(cut.map_or(i, |c| c.min(i)));
                        return Err(err(LexErrorKind::ForbiddenVarChar, name_start, 1, cut));
                    }
                }
            } else {
                (ctx.vars)(name)
            };
            let mut split_words = false;
            if at(i) == b'[' && brace {
                let open = i;
                if at(i + 1) != b'*' || at(i + 2) != b']' {
                    return Err(err(LexErrorKind::BadWordExpansion, open, 1, cut));
                }
                i += 3;
                split_words = true;
            }
            if brace {
                if at(i) == b'-' {
                    let dstart = i + 1;
                    while at(i) != 0 && at(i) != b'}' {
                        i += 1;
                    }
                    if at(i) == 0 {
                        return Err(err(LexErrorKind::UnmatchedBrace, dollar + 1, 1, cut));
                    }
                    cut.get_or_insert(i);
                    info.default_close.get_or_insert(i);
                    if value.is_none() {
                        value = Some(decode(raw.get(dstart..i).unwrap_or(&[]).to_vec()));
                    }
                } else if at(i) != b'}' {
                    return Err(err(LexErrorKind::UnmatchedBrace, dollar + 1, 1, cut));
                }
                i += 1;
            }
            if let Some(v) = value {
                expanded = expanded.saturating_add(v.len());
                if expanded > MAX_EXPANDED_LEN {
                    return Err(err(LexErrorKind::LineTooLong, dollar, 1, cut));
                }
                let vb = v.as_bytes();
                let mut k = 0usize;
                while let Some(&ch) = vb.get(k) {
                    if split_words && is_c_space(ch) {
                        b.split(ctx, i, dollar);
                        k += 1;
                        while vb.get(k).is_some_and(|&x| is_c_space(x)) {
                            k += 1;
                        }
                    } else {
                        b.push(ch);
                        k += 1;
                    }
                }
            }
            b.open = true;
        } else {
            b.push(c);
            i += 1;
        }
    }
    if b.open || !b.cur.is_empty() {
        b.finish(ctx, i);
    }
    if let Some(q) = quote_at {
        return Err(err(LexErrorKind::UnmatchedQuote, q, 1, cut));
    }
    if b.too_many {
        let (position, index) = b.last_kept.unwrap_or((0, 0));
        let last_word = b
            .words
            .get(index)
            .map(|w| w.value.clone())
            .unwrap_or_default();
        return Err(err(
            LexErrorKind::TooManyWords {
                position: position + 1,
                last_word,
            },
            lead,
            0,
            cut,
        ));
    }
    info.outlen = b.outpos + 1;
    Ok(b.words)
}

/// Byte index of the unprotected `#` that starts the line's comment, if any.
///
/// Follows the lexer's quoting and escape rules; a comment after a line-ending `\r` or NUL
/// is not one (HAProxy stops reading the line there).
#[must_use]
pub fn comment_start(raw: &str) -> Option<usize> {
    match scan(raw, false) {
        ScanStop::Comment(i) => Some(i),
        ScanStop::Expansion | ScanStop::End => None,
    }
}

/// Whether the line expands a variable: a `$` inside double quotes that is not escaped.
#[must_use]
pub fn has_expansion(raw: &str) -> bool {
    matches!(scan(raw, true), ScanStop::Expansion)
}

/// Where [`scan`] stopped.
enum ScanStop {
    /// At an unprotected `#`, at this byte index.
    Comment(usize),
    /// At an unescaped `$` inside double quotes.
    Expansion,
    /// At the end of the line (its end, a NUL, or a line-ending `\r`/`\n`).
    End,
}

/// Walks `raw` with the lexer's quoting rules, the one loop [`comment_start`] and
/// [`has_expansion`] share. With `expansions`, a `$` inside double quotes stops the walk and a
/// backslash hides whatever byte follows; without, `$` is ordinary and a backslash hides only the
/// bytes the lexer unescapes (space, `\\`, `#`, quotes).
fn scan(raw: &str, expansions: bool) -> ScanStop {
    let bytes = raw.as_bytes();
    let (mut squote, mut dquote, mut run) = (false, false, false);
    let mut i = 0usize;
    while let Some(&c) = bytes.get(i) {
        let quoted = squote || dquote;
        run = !quoted && (is_blank(c) || (run && is_c_space(c)));
        match c {
            b'\r' | b'\n' if run => {}
            0 | b'\r' | b'\n' => return ScanStop::End,
            b'#' if !squote && !dquote => return ScanStop::Comment(i),
            b'$' if expansions && dquote => return ScanStop::Expansion,
            b'"' if !squote => dquote = !dquote,
            b'\'' if !dquote => squote = !squote,
            b'\\'
                if !squote
                    && (expansions
                        || matches!(
                            bytes.get(i + 1),
                            Some(b' ' | b'\\' | b'#' | b'\'' | b'"')
                        )) =>
            {
                i += 1;
            }
            _ => {}
        }
        i += 1;
    }
    ScanStop::End
}

/// The value of one hexadecimal digit.
fn hex(b: u8) -> Option<u8> {
    char::from(b)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}
