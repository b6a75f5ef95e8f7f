//! Buffer and header bounds: `tune.bufsize`, `tune.maxrewrite`, `tune.http.maxhdr`.

/// `tune.bufsize` default: one buffer holds a whole message head.
pub const DEFAULT_BUFSIZE: usize = 16384;
/// `tune.maxrewrite` default: room kept free in the buffer for header rewrites.
pub const DEFAULT_MAXREWRITE: usize = 1024;
/// `tune.http.maxhdr` default; the start line counts too, so 100 header fields fit.
pub const DEFAULT_MAXHDR: usize = 101;
/// The largest `tune.http.maxhdr` HAProxy accepts.
pub const MAX_MAXHDR: usize = 32767;

/// Bytes of HAProxy's HTX buffer header (`struct htx`), taken from the same buffer as the message.
pub const HTX_HEADER: usize = 48;
/// Bytes of one HTX block descriptor (start line, each header field, end of headers).
pub const HTX_BLOCK: usize = 8;
/// Bytes of HAProxy's start-line structure (`struct htx_sl`) before the method, URI and version.
pub const HTX_START_LINE: usize = 20;

/// The bounds a message head must fit in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct H1Limits {
    /// `tune.bufsize`.
    pub bufsize: usize,
    /// `tune.maxrewrite` (capped at half the buffer, as HAProxy does).
    pub maxrewrite: usize,
    /// `tune.http.maxhdr`, counting the start line.
    pub maxhdr: usize,
}

impl Default for H1Limits {
    fn default() -> Self {
        H1Limits {
            bufsize: DEFAULT_BUFSIZE,
            maxrewrite: DEFAULT_MAXREWRITE,
            maxhdr: DEFAULT_MAXHDR,
        }
    }
}

impl H1Limits {
    /// The largest head accepted, in bytes: `bufsize - min(maxrewrite, bufsize / 2)`.
    pub fn max_head(&self) -> usize {
        self.bufsize
            .saturating_sub(self.maxrewrite.min(self.bufsize / 2))
    }

    /// True when a head of this shape fits once converted to HAProxy's HTX form: the HTX header,
    /// one block per start line, header field and end of headers, must stay below
    /// [`max_head`](Self::max_head). Measured on HAProxy 2.6.12: with one 5-byte header name, a
    /// value of 15250 bytes is accepted and 15251 refused (`GET / HTTP/1.1`).
    pub fn fits_htx(&self, start_line_parts: usize, fields: impl Iterator<Item = usize>) -> bool {
        let mut size = HTX_HEADER + HTX_BLOCK + HTX_START_LINE + start_line_parts + HTX_BLOCK;
        for f in fields {
            size = size.saturating_add(HTX_BLOCK + f);
        }
        size < self.max_head()
    }

    /// The largest number of header fields (the start line excluded).
    pub fn max_fields(&self) -> usize {
        self.maxhdr.clamp(1, MAX_MAXHDR) - 1
    }
}
