//! Source positions: an owned [`Span`] and the caret rendering HAProxy uses under a quoted line.

/// A byte range in one configuration file, with its 1-based line and column.
///
/// `col` counts bytes from the start of the line (HAProxy reports "position" the same way), and
/// `offset` is the byte offset of the first byte from the start of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    /// 1-based line number.
    pub line: u32,
    /// 1-based column, in bytes from the start of the line.
    pub col: u32,
    /// Byte offset of the first byte from the start of the file.
    pub offset: usize,
    /// Length in bytes.
    pub len: usize,
}

impl Span {
    /// Builds a span from a line's number and file offset and a byte range inside that line.
    #[must_use]
    pub fn in_line(line: u32, line_offset: usize, start: usize, len: usize) -> Self {
        Self {
            line,
            col: u32::try_from(start.saturating_add(1)).unwrap_or(u32::MAX),
            offset: line_offset.saturating_add(start),
            len,
        }
    }

    /// Byte offset just past the end of the span.
    #[must_use]
    pub fn end(&self) -> usize {
        self.offset.saturating_add(self.len)
    }
}

/// Width HAProxy gives the excerpt of a line it quotes under an error (`sanitize_for_printing`).
pub const SNIPPET_WIDTH: usize = 80;

/// Renders `text` the way HAProxy quotes a line under a lexer error, with a caret under byte `pos`.
///
/// Returns the two lines (without indentation or newline): the excerpt and the caret line. As
/// HAProxy does, whitespace becomes a space, other non-printable bytes become `?`, and a line
/// longer than `width` is cut around `pos` with `...` on the cut sides.
#[must_use]
pub fn caret_snippet(text: &[u8], pos: usize, width: usize) -> (String, String) {
    let width = width.max(7);
    let mut out = String::new();
    let mut start = 0usize;
    let mut budget = width;
    let mut shift = 0usize;
    if pos >= width {
        shift = pos - width / 2;
        start = shift.saturating_add(3);
        budget = width - 6;
        out.push_str("...");
    }
    // HAProxy's copy of the line is a C string: it ends at the first NUL.
    let text = text.split(|&b| b == 0).next().unwrap_or(&[]);
    for &b in text.iter().skip(start).take(budget) {
        out.push(printable(b));
    }
    if shift > 0 {
        out.push_str("...");
    }
    let col = pos - shift;
    let caret = format!("{}^", " ".repeat(col));
    (out, caret)
}

/// Maps one byte to what HAProxy prints for it in an excerpt.
fn printable(b: u8) -> char {
    if b.is_ascii_whitespace() || b == 0x0b {
        ' '
    } else if b.is_ascii_graphic() || b == b' ' {
        char::from(b)
    } else {
        '?'
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caret_points_at_position() {
        let (l, c) = caret_snippet(b"bind \"abc", 5, SNIPPET_WIDTH);
        assert_eq!(l, "bind \"abc");
        assert_eq!(c, "     ^");
    }

    #[test]
    fn long_lines_are_cut_around_the_position() {
        let text = vec![b'a'; 200];
        let (l, c) = caret_snippet(&text, 150, SNIPPET_WIDTH);
        assert!(l.starts_with("...") && l.ends_with("..."));
        assert_eq!(l.len(), 80);
        assert_eq!(c.len(), 150 - 110 + 1);
    }

    #[test]
    fn control_bytes_become_question_marks() {
        let (l, _) = caret_snippet(b"a\x01\tb", 0, SNIPPET_WIDTH);
        assert_eq!(l, "a? b");
    }
}
