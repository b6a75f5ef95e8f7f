//! The file reader: splits lines, lexes them, runs conditional blocks and groups sections, with
//! the order of checks of HAProxy 2.6's `readcfgfile()`.

use super::cond::{self, MAX_NESTED_CONDS};
use crate::ast::{Document, Eol, Level, Line, LineKind, Message, Section, SectionKind};
use crate::lex::{LexContext, LexError, LexErrorKind, LexInfo, Word, lex_bytes, lex_core};
use crate::span::caret_snippet;
use std::borrow::Cow;

/// One physical line before lexing.
#[derive(Debug)]
pub(crate) struct RawLine {
    pub(crate) offset: usize,
    pub(crate) raw: String,
    pub(crate) eol: Eol,
    pub(crate) latin1: bool,
}

/// Splits a byte slice into lines with their terminators; the pieces are byte slices.
fn split_lines(bytes: &[u8]) -> Vec<(usize, &[u8], Eol)> {
    let mut out = Vec::new();
    let mut start = 0usize;
    let mut rest = bytes;
    while !rest.is_empty() {
        let (body, eol, used) = match rest.iter().position(|&b| b == b'\n') {
            Some(nl) => {
                let body = rest.get(..nl).unwrap_or(&[]);
                match body.split_last() {
                    Some((b'\r', head)) => (head, Eol::CrLf, nl + 1),
                    _ => (body, Eol::Lf, nl + 1),
                }
            }
            None => (rest, Eol::None, rest.len()),
        };
        out.push((start, body, eol));
        start += used;
        rest = rest.get(used..).unwrap_or(&[]);
    }
    out
}

/// Splits UTF-8 text into lines.
pub(crate) fn split_str(text: &str) -> Vec<RawLine> {
    split_lines(text.as_bytes())
        .into_iter()
        .map(|(offset, body, eol)| RawLine {
            offset,
            raw: String::from_utf8_lossy(body).into_owned(),
            eol,
            latin1: false,
        })
        .collect()
}

/// Splits bytes into lines; a line that is not UTF-8 is decoded as Latin-1.
pub(crate) fn split_bytes(bytes: &[u8]) -> Vec<RawLine> {
    split_lines(bytes)
        .into_iter()
        .map(|(offset, body, eol)| match std::str::from_utf8(body) {
            Ok(s) => RawLine {
                offset,
                raw: s.to_owned(),
                eol,
                latin1: false,
            },
            Err(_) => RawLine {
                offset,
                raw: body.iter().map(|&b| char::from(b)).collect(),
                eol,
                latin1: true,
            },
        })
        .collect()
}

/// The bytes HAProxy sees for a line: the original bytes (Latin-1 lines re-encoded), plus the
/// `\r` of a CRLF terminator (it ends the words and shows in excerpts).
fn line_bytes(raw: &str, latin1: bool, eol: Eol) -> Cow<'_, [u8]> {
    let mut bytes: Cow<'_, [u8]> = if latin1 {
        Cow::Owned(
            raw.chars()
                .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
                .collect(),
        )
    } else {
        Cow::Borrowed(raw.as_bytes())
    };
    if eol == Eol::CrLf {
        bytes.to_mut().push(b'\r');
    }
    bytes
}

/// Lexes like `readcfgfile()` does, including its retry after growing the output buffer:
/// the retry sees the line as the first pass left it, with the first `${NAME-default}`'s
/// `}` overwritten by a NUL, which then reads as an unmatched brace (HAProxy 2.6 behaviour).
fn lex_like_haproxy(
    outline_size: &mut usize,
    bytes: &[u8],
    ctx: &LexContext<'_>,
) -> Result<Vec<Word>, LexError> {
    let mut info = LexInfo::default();
    let first = lex_core(bytes, ctx, &mut info);
    if let Err(e) = &first
        && !matches!(e.kind, LexErrorKind::TooManyWords { .. })
    {
        return first;
    }
    if info.outlen <= *outline_size {
        return first;
    }
    *outline_size = info.outlen.saturating_add(1023) & !1023;
    let Some(close) = info.default_close else {
        return first;
    };
    let mut modified = bytes.to_vec();
    if let Some(b) = modified.get_mut(close) {
        *b = 0;
    }
    lex_bytes(&modified, ctx)
}

/// Splits a lexer result into the line's words and error.
fn split_result(r: Result<Vec<Word>, LexError>) -> (Vec<Word>, Option<LexError>) {
    match r {
        Ok(w) => (w, None),
        Err(e) => (Vec::new(), Some(e)),
    }
}

/// Whether a blank follows the last word (HAProxy then has one more, empty, argument).
fn trailing_separator(line: &Line) -> bool {
    let Some(last) = line.words.last() else {
        return false;
    };
    let bytes = line_bytes(&line.raw, line.latin1, Eol::None);
    let end = (last.span.offset + last.span.len).saturating_sub(line.offset);
    bytes
        .get(end)
        .is_some_and(|b| matches!(b, b' ' | b'\t' | 0x0b | 0x0c))
}

/// State of one open `.if` level (HAProxy's `nested_cond_state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cond {
    IfTake,
    IfDrop,
    IfSkip,
    ElifTake,
    ElifDrop,
    ElifSkip,
    ElseTake,
    ElseDrop,
}

impl Cond {
    /// Whether lines under this state are dropped.
    fn masks(self) -> bool {
        !matches!(self, Self::IfTake | Self::ElifTake | Self::ElseTake)
    }
    /// Whether an earlier branch of this block was taken, or an outer block masks it.
    fn done_or_skipped(self) -> bool {
        matches!(
            self,
            Self::IfTake | Self::IfSkip | Self::ElifTake | Self::ElifSkip
        )
    }
}

/// How reading stops early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// HAProxy's `break`: stop reading, still run the end-of-file checks.
    Break,
    /// HAProxy's `goto err`: stop reading and skip the end-of-file checks.
    Err,
}

struct Reader<'a> {
    name: &'a str,
    vars: &'a dyn Fn(&str) -> Option<String>,
    doc: Document,
    current: Option<Section>,
    conds: Vec<Cond>,
    section_name: Option<String>,
    stop: Option<Stop>,
    /// A scope error set HAProxy's `ERR_ABORT`; reading stops after the next section-parsed line.
    abort_pending: bool,
    /// HAProxy's `outlinesize`: the output buffer of `parse_line()`, grown in 1 KiB steps.
    outline_size: usize,
}

impl Reader<'_> {
    fn msg(&mut self, line: u32, level: Level, text: String) {
        self.doc.messages.push(Message {
            line,
            level,
            text,
            spaced: false,
            abort: false,
        });
    }

    fn fatal(&mut self, line: u32, text: String, stop: Stop) {
        self.doc.messages.push(Message {
            line,
            level: Level::Alert,
            text,
            spaced: false,
            abort: true,
        });
        self.stop = Some(stop);
    }

    fn masked(&self) -> bool {
        self.conds.last().is_some_and(|c| c.masks())
    }

    fn push(&mut self, line: Line) {
        match self.current.as_mut() {
            Some(s) => s.body.push(line),
            None => self.doc.preamble.push(line),
        }
    }

    fn line(&mut self, number: u32, raw: RawLine, is_last: bool) {
        let ctx = LexContext {
            file: self.name,
            line: number,
            offset: raw.offset,
            section: self.section_name.as_deref(),
            vars: self.vars,
        };
        let outline_size = &mut self.outline_size;
        let bytes = line_bytes(&raw.raw, raw.latin1, raw.eol);
        let is_scope = bytes
            .iter()
            .find(|&&b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n' | 0x0b | 0x0c))
            == Some(&b'[');
        // A NUL ends the line for HAProxy (fgets + strlen); so does the end of a last line
        // without a newline. HAProxy reports either at its next read.
        let missing_lf = match bytes.iter().position(|&b| b == 0) {
            Some(at) => Some(at),
            None if raw.eol == Eol::None => Some(bytes.len()),
            None => None,
        };
        let (words, error) = if is_scope {
            (Vec::new(), None)
        } else if self.stop.is_some() {
            split_result(lex_bytes(&bytes, &ctx))
        } else {
            split_result(lex_like_haproxy(outline_size, &bytes, &ctx))
        };
        drop(bytes);
        let mut line = Line {
            number,
            offset: raw.offset,
            raw: raw.raw,
            eol: raw.eol,
            words,
            error,
            active: false,
            reached: self.stop.is_none(),
            latin1: raw.latin1,
            kind: LineKind::Blank,
        };
        line.kind = if is_scope {
            LineKind::Scope
        } else if line.error.is_some() {
            LineKind::Statement
        } else if line.keyword().is_none() {
            LineKind::Blank
        } else if line.keyword().is_some_and(|k| k.starts_with('.')) {
            LineKind::Conditional
        } else {
            LineKind::Statement
        };
        if self.stop.is_some() {
            self.push(line);
            return;
        }
        self.process(&mut line);
        let is_header =
            line.is_directive() && line.keyword().and_then(SectionKind::from_keyword).is_some();
        // An earlier `ERR_ABORT` (a bad scope) stops HAProxy after the next line it hands to a
        // section parser.
        if self.abort_pending && line.is_directive() && (is_header || self.current.is_some()) {
            self.stop = Some(Stop::Err);
        }
        let stop = self.stop;
        self.start_section_if_header(line);
        let Some(at) = missing_lf else {
            return;
        };
        match stop {
            Some(Stop::Err) => {}
            Some(Stop::Break) => self.missing_lf(number, at),
            None if is_last => self.missing_lf(number, at),
            None => self.fatal(
                number,
                format!("Stray NUL character at position {}.", at + 1),
                Stop::Break,
            ),
        }
    }

    fn missing_lf(&mut self, number: u32, at: usize) {
        self.msg(
            number,
            Level::Alert,
            format!(
                "Missing LF on last line, file might have been truncated at position {}.",
                at + 1
            ),
        );
    }

    /// Pushes the line, opening a new section first when it is an active section header.
    fn start_section_if_header(&mut self, line: Line) {
        let kind = line
            .is_directive()
            .then(|| line.keyword().and_then(SectionKind::from_keyword))
            .flatten();
        let Some(kind) = kind else {
            self.push(line);
            return;
        };
        let name = line
            .args()
            .first()
            .map(|w| w.value.clone())
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| kind.as_str().to_owned());
        self.section_name = Some(name);
        if let Some(done) = self.current.take() {
            self.doc.sections.push(done);
        }
        self.current = Some(Section {
            kind,
            header: line,
            body: Vec::new(),
        });
    }

    /// Runs the conditional-block logic on a lexed line and sets `active`.
    fn process(&mut self, line: &mut Line) {
        if line.error.is_some() || line.kind == LineKind::Blank {
            line.active = !self.masked();
            return;
        }
        if line.kind == LineKind::Scope {
            // HAProxy handles scopes before conditional blocks: even in a false branch.
            line.active = !self.masked();
            self.scope(line);
            return;
        }
        let n = line.number;
        let kw = line.keyword().unwrap_or("").to_owned();
        match kw.as_str() {
            ".if" => return self.if_line(line),
            ".elif" => return self.elif_line(line),
            ".else" | ".endif" => return self.else_endif_line(line, &kw),
            _ => {}
        }
        if self.masked() {
            line.active = false;
            return;
        }
        if line.kind != LineKind::Conditional {
            line.active = true;
            return;
        }
        line.active = false;
        let level = match kw.as_str() {
            ".alert" => Level::Alert,
            ".warning" => Level::Warning,
            ".notice" => Level::Notice,
            ".diag" => Level::Diag,
            _ => {
                let text = format!("unknown directive '{kw}'.");
                self.fatal(n, text, Stop::Break);
                return;
            }
        };
        if let Some(extra) = line.words.get(2).filter(|w| !w.value.is_empty()) {
            let text = format!(
                "Unexpected argument '{}' for '{kw}'. Use quotes if the message should contain spaces.",
                extra.value
            );
            self.msg(n, Level::Alert, text);
            return;
        }
        let body = line.words.get(1).map_or("", |w| w.value.as_str());
        let text = format!("'{body}'.");
        if level == Level::Alert {
            self.fatal(n, text, Stop::Err);
        } else {
            self.msg(n, level, text);
        }
    }

    /// The condition as HAProxy sees it: its arguments joined by spaces, plus the empty
    /// argument a trailing blank makes; the bytes of a Latin-1 line are given back as bytes.
    fn condition_text(line: &Line) -> Vec<u8> {
        let mut parts: Vec<&str> = line.args().iter().map(|w| w.value.as_str()).collect();
        if trailing_separator(line) {
            parts.push("");
        }
        let text = parts.join(" ");
        if line.latin1 {
            text.chars()
                .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
                .collect()
        } else {
            text.into_bytes()
        }
    }

    fn eval(&mut self, line: &Line, directive: &str) -> Option<bool> {
        let text = Self::condition_text(line);
        match cond::eval_condition(&text, self.vars) {
            Ok(b) => Some(b),
            Err(e) => {
                let (excerpt, caret) = caret_snippet(&text, e.pos, 76);
                let pad = " ".repeat(directive.len() + 1);
                let msg = format!(
                    "{} in '{directive}' at position {}:\n  {directive} {excerpt}\n  {pad}{caret}",
                    e.message,
                    e.pos + 1
                );
                self.fatal(line.number, msg, Stop::Err);
                None
            }
        }
    }

    fn if_line(&mut self, line: &mut Line) {
        line.active = false;
        if self.conds.len() + 1 >= MAX_NESTED_CONDS {
            let text = format!("too many nested '.if', max is {MAX_NESTED_CONDS}.");
            self.fatal(line.number, text, Stop::Err);
            return;
        }
        if self.masked() {
            self.conds.push(Cond::IfSkip);
            return;
        }
        self.conds.push(Cond::IfDrop);
        if let (Some(b), Some(top)) = (self.eval(line, ".if"), self.conds.last_mut()) {
            *top = if b { Cond::IfTake } else { Cond::IfDrop };
        }
    }

    fn elif_line(&mut self, line: &mut Line) {
        line.active = false;
        let n = line.number;
        let Some(&top) = self.conds.last() else {
            self.fatal(
                n,
                "lone '.elif' with no matching '.if'.".to_owned(),
                Stop::Err,
            );
            return;
        };
        if matches!(top, Cond::ElseTake | Cond::ElseDrop) {
            self.fatal(
                n,
                "'.elif' after '.else' is not permitted.".to_owned(),
                Stop::Err,
            );
            return;
        }
        let new = if top.done_or_skipped() {
            Cond::ElifSkip
        } else {
            match self.eval(line, ".elif") {
                Some(true) => Cond::ElifTake,
                Some(false) => Cond::ElifDrop,
                None => return,
            }
        };
        if let Some(t) = self.conds.last_mut() {
            *t = new;
        }
    }

    fn else_endif_line(&mut self, line: &mut Line, kw: &str) {
        line.active = false;
        let n = line.number;
        if let Some(extra) = line.words.get(1).filter(|w| !w.value.is_empty()) {
            let text = format!("Unexpected argument '{}' for '{kw}'.", extra.value);
            self.fatal(n, text, Stop::Break);
            return;
        }
        let Some(&top) = self.conds.last() else {
            let (text, stop) = if kw == ".else" {
                ("lone '.else' with no matching '.if'.", Stop::Err)
            } else {
                ("lone '.endif' with no matching '.if'.", Stop::Break)
            };
            self.fatal(n, text.to_owned(), stop);
            return;
        };
        if kw == ".endif" {
            self.conds.pop();
            return;
        }
        if matches!(top, Cond::ElseTake | Cond::ElseDrop) {
            self.fatal(
                n,
                "'.else' after '.else' is not permitted.".to_owned(),
                Stop::Err,
            );
            return;
        }
        let new = if top.done_or_skipped() {
            Cond::ElseDrop
        } else {
            Cond::ElseTake
        };
        if let Some(t) = self.conds.last_mut() {
            *t = new;
        }
    }

    /// A `[scope]` line (HAProxy's `cfg_parse_scope()`).
    fn scope(&mut self, line: &Line) {
        let trimmed = line
            .raw
            .trim_start_matches([' ', '\t', '\r', '\n', '\u{b}', '\u{c}']);
        // HAProxy's copy of the line is a C string: it ends at the first NUL.
        let trimmed = trimmed.split('\0').next().unwrap_or("");
        let body = trimmed.get(1..).unwrap_or("");
        let text = match body.find(']') {
            None | Some(0) => Some("empty scope name is forbidden.".to_owned()),
            Some(end) => {
                let name = body.get(..end).unwrap_or("");
                let after = body
                    .get(end + 1..)
                    .unwrap_or("")
                    .trim_start_matches([' ', '\t', '\r', '\n', '\u{b}', '\u{c}']);
                let bad_name = name
                    .chars()
                    .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | ':' | '_' | '-')))
                    .map(|bad| format!("character '{bad}' is not permitted in a scope name."));
                let bad_after = after
                    .chars()
                    .next()
                    .filter(|c| !matches!(c, '#' | '\0' | '\r' | '\n'))
                    .map(|c| format!("character '{c}' is not permitted after scope declaration."));
                let text = bad_name.or(bad_after);
                // both set HAProxy's ERR_ABORT (an empty name does not)
                self.abort_pending |= text.is_some();
                text
            }
        };
        if let Some(text) = text {
            self.doc.messages.push(Message {
                line: line.number,
                level: Level::Alert,
                text,
                spaced: true,
                abort: false,
            });
        }
    }
}

/// Reads lines into a document.
pub(crate) fn read(
    name: &str,
    lines: Vec<RawLine>,
    vars: &dyn Fn(&str) -> Option<String>,
) -> Document {
    let mut r = Reader {
        name,
        vars,
        doc: Document {
            name: name.to_owned(),
            preamble: Vec::new(),
            sections: Vec::new(),
            messages: Vec::new(),
        },
        current: None,
        conds: Vec::new(),
        section_name: None,
        stop: None,
        abort_pending: false,
        outline_size: 0,
    };
    let count = lines.len();
    let mut last_number = 0u32;
    for (i, raw) in lines.into_iter().enumerate() {
        let number = u32::try_from(i + 1).unwrap_or(u32::MAX);
        if r.stop.is_none() {
            last_number = number;
        }
        r.line(number, raw, i + 1 == count);
    }
    if r.stop != Some(Stop::Err) && !r.conds.is_empty() {
        r.msg(
            last_number,
            Level::Alert,
            "non-terminated '.if' block.".to_owned(),
        );
        if let Some(m) = r.doc.messages.last_mut() {
            m.abort = true;
        }
    }
    if let Some(done) = r.current.take() {
        r.doc.sections.push(done);
    }
    r.doc
}
