//! The sdbm hash.

/// sdbm, as HAProxy's `hash_sdbm()` (src/hash.c): `h = c + (h << 6) + (h << 16) - h` per byte.
#[must_use]
pub fn sdbm(data: &[u8]) -> u32 {
    data.iter().fold(0u32, |h, &b| {
        u32::from(b)
            .wrapping_add(h << 6)
            .wrapping_add(h << 16)
            .wrapping_sub(h)
    })
}
