//! The wt6 hash.

/// wt6, as HAProxy's `hash_wt6()` (src/hash.c): two 32-bit lanes with data-dependent rotations.
#[must_use]
pub fn wt6(data: &[u8]) -> u32 {
    let (mut h0, mut h1) = (0xa53c_965a_u32, 0x5ca6_953a_u32);
    let (mut step0, mut step1) = (6u32, 18u32);
    for &b in data {
        let c = u32::from(b);
        h0 = !(h0 ^ c);
        h1 = !(h1.wrapping_add(c));
        let t = h1.rotate_left(step0);
        h1 = h0.rotate_left(step1);
        h0 = t;
        let mix = ((h0 >> 16) ^ h1) & 0xffff;
        step0 = mix & 0x1f;
        step1 = mix >> 11;
    }
    h0 ^ h1
}
