//! Header names respelled for bogus HTTP/1 peers: the global `h1-case-adjust` map, applied to
//! the heads sent to clients of proxies with `option h1-case-adjust-bogus-client` and to the
//! heads sent to servers of backends with `option h1-case-adjust-bogus-server`.
//!
//! HAProxy 2.6 emits every header name lowercased; its H1 mux looks each outgoing name up in the
//! map (byte for byte) just before writing it, so the map covers the names HAProxy adds itself
//! (`x-forwarded-for`, `connection`...), 1xx heads, generated replies and chunked trailers.
//! Here the map is applied the same way, to the serialised head: a pair only ever changes the
//! case of a name, so the head is rewritten in place, with no allocation and no length change.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Outgoing header names and the spelling they go out with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaseMap {
    names: HashMap<Box<[u8]>, Box<[u8]>, BuildHasherDefault<Fnv>>,
    /// Bit `n` set when a name of `n` bytes (`n` < 64) is in the map, bit 63 also for every
    /// longer one: most names of a head are passed over without hashing.
    lengths: u64,
}

/// FNV-1a: header names are short, and the map is built from the configuration only (a
/// lookup never inserts), so a fast hash without per-process keys is enough.
#[derive(Debug, Clone, Copy)]
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// The bit of [`CaseMap::lengths`] for a name of `len` bytes.
fn length_bit(len: usize) -> u64 {
    1u64 << len.min(63)
}

impl CaseMap {
    /// A map of the pairs `(from, to)`. A pair whose names differ by more than ASCII case is
    /// left out (the configuration refuses it), and so is a second pair for the same `from`
    /// (likewise refused there).
    pub fn new<F, T>(pairs: impl IntoIterator<Item = (F, T)>) -> Self
    where
        F: AsRef<[u8]>,
        T: AsRef<[u8]>,
    {
        let mut names: HashMap<Box<[u8]>, Box<[u8]>, _> = HashMap::default();
        let mut lengths = 0;
        for (from, to) in pairs {
            let (from, to) = (from.as_ref(), to.as_ref());
            if !to.is_empty() && from.eq_ignore_ascii_case(to) {
                names.entry(from.into()).or_insert_with(|| to.into());
                lengths |= length_bit(from.len());
            }
        }
        CaseMap { names, lengths }
    }

    /// How many names the map respells.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// True when the map respells nothing.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Respells `name` in place when the map has it (compared byte for byte).
    pub fn adjust_name(&self, name: &mut [u8]) {
        if self.lengths & length_bit(name.len()) == 0 {
            return;
        }
        if let Some(to) = self.names.get(&*name) {
            // Same length by construction; a mismatch would leave the name as it was.
            if to.len() == name.len() {
                name.copy_from_slice(to);
            }
        }
    }

    /// Respells the field names of a serialised head (start line, `name: value` lines, empty
    /// line); whatever follows the empty line (a body) is left alone.
    pub fn adjust_head(&self, head: &mut [u8]) {
        let Some(first) = head.iter().position(|&b| b == b'\n') else {
            return;
        };
        if let Some(fields) = head.get_mut(first + 1..) {
            self.adjust_fields(fields);
        }
    }

    /// Respells the names of `name: value` lines up to an empty line or the end: a head
    /// without its start line, or the trailers of a chunked body.
    pub fn adjust_fields(&self, fields: &mut [u8]) {
        let mut pos = 0;
        while let Some(rest) = fields.get(pos..) {
            let end = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
            let line = rest.get(..end).unwrap_or_default();
            if line.is_empty() || line == b"\r" {
                return;
            }
            if let Some(colon) = line.iter().position(|&b| b == b':')
                && let Some(name) = fields.get_mut(pos..pos + colon)
            {
                self.adjust_name(name);
            }
            pos += end + 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map() -> CaseMap {
        CaseMap::new([
            ("content-type", "Content-Type"),
            ("x-custom", "X-CUSTOM"),
            ("Content-Length", "CONTENT-LENGTH"),
            ("x-bad", "X-Other"),
            ("x-custom", "x-CUSTOM"),
        ])
    }

    #[test]
    fn only_case_changes_are_kept_and_the_first_pair_wins() {
        let m = map();
        assert_eq!(m.len(), 3);
        let mut n = *b"x-custom";
        m.adjust_name(&mut n);
        assert_eq!(&n, b"X-CUSTOM");
        let mut n = *b"x-bad";
        m.adjust_name(&mut n);
        assert_eq!(&n, b"x-bad");
        assert!(CaseMap::new(Vec::<(&str, &str)>::new()).is_empty());
        // Names of 63 bytes and more share one length bit: each is still found by its bytes.
        let (a, b) = ("a".repeat(63), "b".repeat(70));
        let long = CaseMap::new([
            (a.as_str(), a.to_uppercase()),
            (b.as_str(), b.to_uppercase()),
        ]);
        for n in [a, b, "c".repeat(80)] {
            let mut name = n.clone().into_bytes();
            long.adjust_name(&mut name);
            let want = if n.starts_with('c') {
                n
            } else {
                n.to_uppercase()
            };
            assert_eq!(name, want.into_bytes());
        }
    }

    #[test]
    fn heads_are_respelled_in_place_up_to_the_empty_line() {
        let mut head = b"HTTP/1.1 200 OK\r\ncontent-type: x-custom: 1\r\ncontent-length: 4\r\nx-custom: a\r\n\r\nx-custom: body\r\n".to_vec();
        map().adjust_head(&mut head);
        assert_eq!(
            head,
            b"HTTP/1.1 200 OK\r\nContent-Type: x-custom: 1\r\ncontent-length: 4\r\nX-CUSTOM: a\r\n\r\nx-custom: body\r\n"
        );
        // Byte for byte: a name that is not written as `from` stays as it is.
        let mut head = b"GET / HTTP/1.1\r\nContent-Type: a\r\nCONTENT-TYPE: b".to_vec();
        map().adjust_head(&mut head);
        assert_eq!(
            head,
            b"GET / HTTP/1.1\r\nContent-Type: a\r\nCONTENT-TYPE: b"
        );
    }

    #[test]
    fn trailers_and_odd_lines_are_handled() {
        let mut t = b"x-custom: 1\r\nno-colon\r\ncontent-type:\r\n\r\n".to_vec();
        map().adjust_fields(&mut t);
        assert_eq!(t, b"X-CUSTOM: 1\r\nno-colon\r\nContent-Type:\r\n\r\n");
        let mut empty: [u8; 0] = [];
        map().adjust_fields(&mut empty);
        map().adjust_head(&mut empty);
    }
}
