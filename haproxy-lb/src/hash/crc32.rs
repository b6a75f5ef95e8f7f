//! The crc32 hash.

/// CRC-32 (reflected polynomial 0xedb88320), as HAProxy's `hash_crc32()` (src/hash.c).
#[must_use]
pub fn crc32(data: &[u8]) -> u32 {
    let crc = data.iter().fold(!0u32, |mut h, &b| {
        h ^= u32::from(b);
        for _ in 0..8 {
            h = (h >> 1) ^ if h & 1 == 1 { 0xedb8_8320 } else { 0 };
        }
        h
    });
    !crc
}
