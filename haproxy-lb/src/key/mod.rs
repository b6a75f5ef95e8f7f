//! Turning request key material into the 32-bit hash HAProxy looks servers up with.
//!
//! Reimplemented from HAProxy 2.6's `get_server_sh()`, `get_server_uh()`, `get_server_ph()`,
//! `get_server_hh()` and `get_server_rch()` (src/backend.c).

use crate::hash::{HashFunction, avalanche};

/// How a key's hash is computed: the `hash-type` function and the `avalanche` flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Hasher {
    /// The hash function (`sdbm` by default).
    pub function: HashFunction,
    /// Whether `full_hash()` ([`avalanche`]) is applied to the result.
    pub avalanche: bool,
}

impl Hasher {
    /// Hashes bytes with the function, then applies avalanche when configured.
    #[must_use]
    pub fn hash(self, data: &[u8]) -> u32 {
        self.finish(self.function.hash(data))
    }

    fn finish(self, h: u32) -> u32 {
        if self.avalanche { avalanche(h) } else { h }
    }

    /// `balance source`: XOR of the address's big-endian 32-bit words (4 bytes for IPv4, 16
    /// for IPv6); the hash function is not used, only avalanche (HAProxy's `get_server_sh()`).
    #[must_use]
    #[inline]
    pub fn source(self, addr: &[u8]) -> u32 {
        let h = match addr.first_chunk::<4>() {
            // IPv4, the common case: one word, without the loop.
            Some(w) if addr.len() == 4 => u32::from_be_bytes(*w),
            _ => addr
                .chunks_exact(4)
                .filter_map(|w| <[u8; 4]>::try_from(w).ok())
                .fold(0u32, |h, w| h ^ u32::from_be_bytes(w)),
        };
        self.finish(h)
    }

    /// `balance uri`: hashes the URI up to the query string (unless `whole`), at most `len`
    /// bytes (0 = no limit) and stopping at the slash that ends directory level `depth`, as HAProxy's `get_server_uh()`.
    ///
    /// `path-only` is applied by the caller with [`uri_path`] before calling this.
    #[must_use]
    pub fn uri(self, uri: &[u8], opts: UriOptions) -> u32 {
        let limit = if opts.len == 0 {
            uri.len()
        } else {
            uri.len().min(opts.len)
        };
        let mut slashes = 0usize;
        let mut end = 0usize;
        for &c in uri.iter().take(limit) {
            if c == b'/' {
                slashes += 1;
                if opts.depth.is_some_and(|d| slashes == d.saturating_add(1)) {
                    break;
                }
            } else if c == b'?' && !opts.whole {
                break;
            }
            end += 1;
        }
        self.hash(uri.get(..end).unwrap_or_default())
    }

    /// `balance url_param <name>`: the hash of the first `<name>=value` in the query string,
    /// or `None` when absent (HAProxy then falls back to round robin), as `get_server_ph()`.
    #[must_use]
    pub fn url_param(self, uri: &[u8], name: &[u8]) -> Option<u32> {
        url_param_value(uri, name).map(|v| self.hash(v))
    }

    /// `balance hdr(<name>)`: hashes the header value, or with `use_domain_only` only the
    /// label before the last dot (`haproxy.1wt.eu` → `1wt`), as `get_server_hh()`.
    /// Returns `None` for an empty value (HAProxy then falls back to round robin).
    #[must_use]
    pub fn header(self, value: &[u8], use_domain_only: bool) -> Option<u32> {
        if value.is_empty() {
            return None;
        }
        if !use_domain_only {
            return Some(self.hash(value));
        }
        Some(self.hash(domain_part(value)))
    }

    /// `balance rdp-cookie(<name>)`: hashes the cookie value the caller extracted from the
    /// RDP connection request; `None` when absent (round robin fallback).
    #[must_use]
    pub fn rdp_cookie(self, value: Option<&[u8]>) -> Option<u32> {
        value.filter(|v| !v.is_empty()).map(|v| self.hash(v))
    }
}

/// Options of `balance uri` (configuration.txt, "balance", `uri`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UriOptions {
    /// `len <n>`: hash at most this many bytes (0 = unlimited).
    pub len: usize,
    /// `depth <n>`: hash at most this many directory levels (`None` = unlimited). HAProxy's
    /// configuration refuses `depth 0`; here `Some(0)` stops at the first slash.
    pub depth: Option<usize>,
    /// `whole`: keep the query string.
    pub whole: bool,
    /// `path-only`: drop the scheme and authority first (see [`uri_path`]).
    pub path_only: bool,
}

/// For `path-only`: the URI from its path on (an absolute URI `http://host/p?q` gives `/p?q`;
/// an origin-form URI is returned as is; an authority with no path gives an empty slice).
#[must_use]
pub fn uri_path(uri: &[u8]) -> &[u8] {
    if uri.first() == Some(&b'/') {
        return uri;
    }
    let Some(pos) = uri.windows(3).position(|w| w == b"://") else {
        return uri;
    };
    let rest = uri.get(pos + 3..).unwrap_or_default();
    match rest.iter().position(|&c| c == b'/') {
        Some(p) => rest.get(p..).unwrap_or_default(),
        None => &[],
    }
}

/// The value of query parameter `name` in `uri` (the part after the first `?`), as HAProxy's
/// `get_server_ph()` scans it: parameters are `&`-separated and the first match wins.
#[must_use]
pub fn url_param_value<'a>(uri: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    let q = uri.iter().position(|&c| c == b'?')?;
    let query = uri.get(q + 1..)?;
    for param in query.split(|&c| c == b'&') {
        if param.len() > name.len()
            && param.get(name.len()) == Some(&b'=')
            && param.starts_with(name)
        {
            return param.get(name.len() + 1..);
        }
    }
    None
}

/// `use_domain_only`: the label before the last dot; a value without dots is kept whole.
///
/// Follows `get_server_hh()` byte for byte, including its quirks: a dot in the first byte
/// never ends the key, and the byte just before the last dot never starts it.
fn domain_part(value: &[u8]) -> &[u8] {
    let tail = value.get(1..).unwrap_or_default();
    let Some(last_dot) = tail.iter().rposition(|&c| c == b'.').map(|p| p + 1) else {
        return value;
    };
    let scan = value.get(..last_dot - 1).unwrap_or_default();
    let start = scan.iter().rposition(|&c| c == b'.').map_or(0, |p| p + 1);
    value.get(start..last_dot).unwrap_or_default()
}

#[cfg(test)]
mod tests;
