//! Printing a [`Document`] back: byte for byte ([`print()`]), or in a canonical layout
//! ([`normalise`]).

use crate::ast::{Document, Line, LineKind};

/// Prints the document exactly as it was read (when unchanged): every line's raw text and its
/// original terminator. Latin-1 lines come back as their `char`s; use [`print_bytes`] for the
/// original bytes.
#[must_use]
pub fn print(doc: &Document) -> String {
    let mut out = String::new();
    for line in doc.lines() {
        out.push_str(&line.raw);
        out.push_str(line.eol.as_str());
    }
    out
}

/// Prints the document as the original bytes, re-encoding lines that were decoded as Latin-1.
#[must_use]
pub fn print_bytes(doc: &Document) -> Vec<u8> {
    let mut out = Vec::new();
    for line in doc.lines() {
        if line.latin1 {
            out.extend(
                line.raw
                    .chars()
                    .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?')),
            );
        } else {
            out.extend_from_slice(line.raw.as_bytes());
        }
        out.extend_from_slice(line.eol.as_str().as_bytes());
    }
    out
}

/// Indentation of lines inside a section in [`normalise`]d output.
pub const INDENT: &str = "    ";

/// Prints the document in a canonical layout: section headers at column 0, other lines
/// indented by [`INDENT`], one space between words (each word re-quoted only when it needs it),
/// comments kept after one space, trailing blanks removed, `\n` line ends.
///
/// Lines whose lexing failed, `[scope]` lines and lines with variable expansions are kept as
/// they were (trimmed), so normalising never changes what a line means. The output parses to
/// the same words on every line, and normalising it again changes nothing.
#[must_use]
pub fn normalise(doc: &Document) -> String {
    let mut out = String::new();
    for line in &doc.preamble {
        normalise_line(&mut out, line, "");
    }
    for section in &doc.sections {
        normalise_line(&mut out, &section.header, "");
        for line in &section.body {
            normalise_line(&mut out, line, INDENT);
        }
    }
    out
}

fn normalise_line(out: &mut String, line: &Line, indent: &str) {
    let comment = line.comment().map(str::trim_end);
    let keep_raw = line.error.is_some()
        || line.kind == LineKind::Scope
        || crate::lex::has_expansion(&line.raw)
        || line.raw.contains('\0')
        || line.raw.contains('\r')
        || line.words.iter().any(|w| w.value.contains('\u{fffd}'));
    let body = if keep_raw {
        trim_blanks(&line.raw)
    } else {
        let words: Vec<String> = line.words.iter().map(|w| quote(&w.value)).collect();
        let mut body = words.join(" ");
        if let Some(c) = comment {
            if !body.is_empty() {
                body.push(' ');
            }
            body.push_str(c);
        }
        body
    };
    if !body.is_empty() {
        // Section headers, comments and directives alike: one indent level inside sections.
        let is_header = indent.is_empty();
        if !is_header {
            out.push_str(indent);
        }
        out.push_str(&body);
    }
    out.push('\n');
}

/// Replaces a line's words, keeping its indentation, comment and terminator; the words are
/// quoted as [`quote`] does, so the new raw text lexes back to exactly `values`.
///
/// [`print()`] then shows the change and leaves every other line byte for byte as it was.
pub fn rewrite_line(line: &mut Line, values: &[&str]) {
    let indent_len = line.raw.len() - line.raw.trim_start_matches([' ', '\t']).len();
    let indent = line.raw.get(..indent_len).unwrap_or("").to_owned();
    let comment = line.comment().map(str::to_owned);
    let mut raw = indent;
    raw.push_str(
        &values
            .iter()
            .map(|v| quote(v))
            .collect::<Vec<_>>()
            .join(" "),
    );
    if let Some(c) = comment {
        if !values.is_empty() {
            raw.push(' ');
        }
        raw.push_str(&c);
    }
    let ctx = crate::lex::LexContext {
        file: "",
        line: line.number,
        offset: line.offset,
        section: None,
        vars: &|_| None,
    };
    let lexed = crate::lex::lex_line(&raw, &ctx);
    line.raw = raw;
    line.latin1 = false;
    match lexed {
        Ok(words) => {
            line.words = words;
            line.error = None;
        }
        Err(e) => {
            line.words = Vec::new();
            line.error = Some(e);
        }
    }
    line.kind = match line.keyword() {
        _ if line.error.is_some() => LineKind::Statement,
        None => LineKind::Blank,
        Some(k) if k.starts_with('.') => LineKind::Conditional,
        Some(_) => LineKind::Statement,
    };
}

/// Removes leading and trailing blanks, keeping a trailing blank that a backslash escapes.
fn trim_blanks(raw: &str) -> String {
    const BLANKS: [char; 4] = [' ', '\t', '\u{b}', '\u{c}'];
    let start = raw.trim_start_matches(BLANKS);
    let end = start.trim_end_matches(BLANKS);
    let backslashes = end.chars().rev().take_while(|&c| c == '\\').count();
    if backslashes % 2 == 1
        && let Some(next) = start.get(end.len()..).and_then(|r| r.chars().next())
    {
        let mut out = end.to_owned();
        out.push(next);
        return out;
    }
    end.to_owned()
}

/// Writes a word so the lexer reads it back as `value`: bare when it can, otherwise in single
/// quotes, otherwise in double quotes with escapes.
#[must_use]
pub fn quote(value: &str) -> String {
    let special = |c: char| {
        matches!(
            c,
            ' ' | '\t' | '\u{b}' | '\u{c}' | '#' | '"' | '\'' | '\\' | '\n' | '\r' | '\0'
        )
    };
    if !value.is_empty() && !value.starts_with('[') && !value.chars().any(special) {
        return value.to_owned();
    }
    if !value.contains(['\'', '\n', '\r', '\0']) {
        return format!("'{value}'");
    }
    let mut s = String::from("\"");
    for c in value.chars() {
        match c {
            '"' => s.push_str("\\\""),
            '\\' => s.push_str("\\\\"),
            '$' => s.push_str("\\$"),
            '\n' => s.push_str("\\n"),
            '\r' => s.push_str("\\r"),
            '\t' => s.push_str("\\t"),
            '\0' => s.push_str("\\x00"),
            c => s.push(c),
        }
    }
    s.push('"');
    s
}
