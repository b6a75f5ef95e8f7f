//! The djb2 hash.

/// djb2, as HAProxy's `hash_djb2()` (src/hash.c): starts at 5381, `h = h * 33 + c` per byte.
#[must_use]
pub fn djb2(data: &[u8]) -> u32 {
    data.iter().fold(5381u32, |h, &b| {
        (h << 5).wrapping_add(h).wrapping_add(u32::from(b))
    })
}
