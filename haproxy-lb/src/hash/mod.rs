//! Hash functions HAProxy uses to turn request keys into 32-bit values.
//!
//! Each function is reimplemented from HAProxy 2.6's `src/hash.c` (and `full_hash()` from
//! `include/haproxy/intops.h`) and checked against known answers.

mod avalanche;
mod crc32;
mod djb2;
mod sdbm;
mod wt6;

#[cfg(test)]
mod tests;

pub use avalanche::avalanche;
pub use crc32::crc32;
pub use djb2::djb2;
pub use sdbm::sdbm;
pub use wt6::wt6;

/// The hash function chosen by `hash-type <method> <function>` (configuration.txt, "hash-type").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum HashFunction {
    /// `sdbm`, HAProxy's default.
    #[default]
    Sdbm,
    /// `djb2`.
    Djb2,
    /// `wt6`.
    Wt6,
    /// `crc32` (the IEEE polynomial, as HAProxy's `hash_crc32()`).
    Crc32,
}

impl HashFunction {
    /// Hashes `data` with this function (HAProxy's `gen_hash()` in src/backend.c).
    #[must_use]
    pub fn hash(self, data: &[u8]) -> u32 {
        match self {
            Self::Sdbm => sdbm(data),
            Self::Djb2 => djb2(data),
            Self::Wt6 => wt6(data),
            Self::Crc32 => crc32(data),
        }
    }

    /// Parses the keyword used in `hash-type` (`sdbm`, `djb2`, `wt6`, `crc32`).
    #[must_use]
    pub fn from_keyword(word: &str) -> Option<Self> {
        match word {
            "sdbm" => Some(Self::Sdbm),
            "djb2" => Some(Self::Djb2),
            "wt6" => Some(Self::Wt6),
            "crc32" => Some(Self::Crc32),
            _ => None,
        }
    }

    /// The keyword of this function as written in `hash-type`.
    #[must_use]
    pub fn keyword(self) -> &'static str {
        match self {
            Self::Sdbm => "sdbm",
            Self::Djb2 => "djb2",
            Self::Wt6 => "wt6",
            Self::Crc32 => "crc32",
        }
    }
}
