//! An ordered header list with lowercased names, stored in one arena.

/// Header fields in arrival order. Names are lowercased, as HAProxy 2.6 emits them (reference §0 item 9).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers {
    arena: Vec<u8>,
    fields: Vec<Field>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Field {
    start: usize,
    name_len: usize,
    value_len: usize,
}

impl Headers {
    /// An empty list.
    pub fn new() -> Self {
        Headers::default()
    }

    /// An empty list with room for `fields` fields of `bytes` name and value bytes in all, so
    /// that a parsed head is stored without regrowing.
    pub fn with_capacity(fields: usize, bytes: usize) -> Self {
        Headers {
            arena: Vec::with_capacity(bytes),
            fields: Vec::with_capacity(fields),
        }
    }

    /// Appends a field; the name is lowercased.
    pub fn push(&mut self, name: &[u8], value: &[u8]) {
        let start = self.arena.len();
        // Copied whole, then lowercased in place: two bulk operations instead of a push per byte.
        self.arena.extend_from_slice(name);
        if let Some(n) = self.arena.get_mut(start..) {
            n.make_ascii_lowercase();
        }
        self.arena.extend_from_slice(value);
        self.fields.push(Field {
            start,
            name_len: name.len(),
            value_len: value.len(),
        });
    }

    /// How many fields there are.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// True when there are no fields.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    fn split(&self, f: &Field) -> (&[u8], &[u8]) {
        let name_end = f.start + f.name_len;
        let name = self.arena.get(f.start..name_end).unwrap_or_default();
        let value = self
            .arena
            .get(name_end..name_end + f.value_len)
            .unwrap_or_default();
        (name, value)
    }

    /// The fields in order, as (lowercased name, value).
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> + '_ {
        self.fields.iter().map(|f| self.split(f))
    }

    /// Every value of the fields called `name` (compared case-insensitively).
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        // The stored length is compared first: most fields are passed over without a slice.
        self.fields
            .iter()
            .filter(move |f| f.name_len == name.len())
            .map(|f| self.split(f))
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, v)| v)
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.fields
            .iter()
            .filter(|f| f.name_len == name.len())
            .map(|f| self.split(f))
            .find(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, v)| v)
    }

    /// True when a field called `name` exists.
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Removes every field called `name`; returns how many were removed.
    pub fn remove(&mut self, name: &str) -> usize {
        let before = self.fields.len();
        let arena = &self.arena;
        self.fields.retain(|f| {
            let n = arena.get(f.start..f.start + f.name_len).unwrap_or_default();
            !n.eq_ignore_ascii_case(name.as_bytes())
        });
        before - self.fields.len()
    }

    /// Gives every field called `name` the value `value`, in place; returns how many changed.
    pub fn set_all(&mut self, name: &str, value: &[u8]) -> usize {
        let mut changed = 0;
        for i in 0..self.fields.len() {
            let Some(&f) = self.fields.get(i) else { break };
            let is_name = self
                .arena
                .get(f.start..f.start + f.name_len)
                .is_some_and(|n| n.eq_ignore_ascii_case(name.as_bytes()));
            if !is_name {
                continue;
            }
            let start = self.arena.len();
            self.arena.extend_from_within(f.start..f.start + f.name_len);
            self.arena.extend_from_slice(value);
            if let Some(slot) = self.fields.get_mut(i) {
                *slot = Field {
                    start,
                    name_len: f.name_len,
                    value_len: value.len(),
                };
            }
            changed += 1;
        }
        changed
    }

    /// Keeps the first field called `name` with the value `value` and removes the others.
    pub fn set_first_only(&mut self, name: &str, value: &[u8]) {
        let mut seen = false;
        self.retain(|n, _| {
            if !n.eq_ignore_ascii_case(name.as_bytes()) {
                return true;
            }
            let keep = !seen;
            seen = true;
            keep
        });
        self.set_all(name, value);
    }

    /// Keeps only the fields for which `keep(name, value)` is true, in order.
    pub fn retain(&mut self, mut keep: impl FnMut(&[u8], &[u8]) -> bool) {
        let arena = &self.arena;
        self.fields.retain(|f| {
            let name_end = f.start + f.name_len;
            let name = arena.get(f.start..name_end).unwrap_or_default();
            let value = arena
                .get(name_end..name_end + f.value_len)
                .unwrap_or_default();
            keep(name, value)
        });
    }

    /// Comma-separated tokens of every `name` field, trimmed and lowercased.
    pub fn tokens(&self, name: &str) -> Vec<String> {
        self.get_all(name)
            .flat_map(|v| v.split(|&b| b == b','))
            .map(|t| String::from_utf8_lossy(t.trim_ascii()).to_ascii_lowercase())
            .filter(|t| !t.is_empty())
            .collect()
    }

    /// True when a comma-separated token of a `name` field equals `token` (compared
    /// case-insensitively, trimmed); allocates nothing, unlike [`Headers::tokens`].
    pub fn has_token(&self, name: &str, token: &str) -> bool {
        // A plain loop (length compared first): this runs on every response.
        let (name, token) = (name.as_bytes(), token.as_bytes());
        for f in &self.fields {
            if f.name_len != name.len() {
                continue;
            }
            let (n, v) = self.split(f);
            if n.eq_ignore_ascii_case(name)
                && v.split(|&b| b == b',')
                    .any(|t| t.trim_ascii().eq_ignore_ascii_case(token))
            {
                return true;
            }
        }
        false
    }

    /// Replaces the value of field `index` (in order) with `value`; false when there is no such
    /// field. The name and position are kept.
    pub(crate) fn set_value_at(&mut self, index: usize, value: &[u8]) -> bool {
        let Some(&f) = self.fields.get(index) else {
            return false;
        };
        let value_start = f.start + f.name_len;
        if value.len() <= f.value_len {
            // Fits in the old place: no arena growth.
            let Some(dst) = self.arena.get_mut(value_start..value_start + value.len()) else {
                return false;
            };
            dst.copy_from_slice(value);
        } else {
            let start = self.arena.len();
            self.arena.extend_from_within(f.start..value_start);
            self.arena.extend_from_slice(value);
            if let Some(slot) = self.fields.get_mut(index) {
                slot.start = start;
            }
        }
        if let Some(slot) = self.fields.get_mut(index) {
            slot.value_len = value.len();
        }
        true
    }

    /// Removes field `index` (in order); false when there is no such field.
    pub(crate) fn remove_at(&mut self, index: usize) -> bool {
        if index < self.fields.len() {
            self.fields.remove(index);
            true
        } else {
            false
        }
    }

    /// The value of field `index` (in order) with its name.
    pub(crate) fn at(&self, index: usize) -> Option<(&[u8], &[u8])> {
        self.fields.get(index).map(|f| self.split(f))
    }

    /// Writes the fields as `name: value\r\n` lines.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        // Room for every line at once: one capacity check instead of one per piece.
        let bytes: usize = self
            .fields
            .iter()
            .map(|f| f.name_len + f.value_len + 4)
            .sum();
        out.reserve(bytes);
        for (n, v) in self.iter() {
            out.extend_from_slice(n);
            out.extend_from_slice(b": ");
            out.extend_from_slice(v);
            out.extend_from_slice(b"\r\n");
        }
    }
}
