//! Buffer and header bounds: `tune.bufsize`, `tune.maxrewrite`, `tune.http.maxhdr`.

/// `tune.bufsize` default: one buffer holds a whole message head.
pub const DEFAULT_BUFSIZE: usize = 16384;
/// `tune.maxrewrite` default: room kept free in the buffer for header rewrites.
pub const DEFAULT_MAXREWRITE: usize = 1024;
/// `tune.http.maxhdr` default; the start line counts too, so 100 header fields fit.
pub const DEFAULT_MAXHDR: usize = 101;
/// The largest `tune.http.maxhdr` HAProxy accepts.
pub const MAX_MAXHDR: usize = 32767;

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

    /// The largest number of header fields (the start line excluded).
    pub fn max_fields(&self) -> usize {
        self.maxhdr.clamp(1, MAX_MAXHDR) - 1
    }
}
