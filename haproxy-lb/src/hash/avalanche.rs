//! The avalanche mixer (`hash-type ... avalanche`).

/// HAProxy's `full_hash()` (include/haproxy/intops.h): one of Bob Jenkins' 32-bit integer
/// avalanche mixers followed by a multiplication by 3221225473.
///
/// It is applied to a key's hash when `avalanche` is set, and it places consistent-hash points.
#[must_use]
pub fn avalanche(a: u32) -> u32 {
    let a = a.wrapping_add(0x7ed5_5d16).wrapping_add(a << 12);
    let a = (a ^ 0xc761_c23c) ^ (a >> 19);
    let a = a.wrapping_add(0x1656_67b1).wrapping_add(a << 5);
    let a = a.wrapping_add(0xd3a2_646c) ^ (a << 9);
    let a = a.wrapping_add(0xfd70_46c5).wrapping_add(a << 3);
    let a = (a ^ 0xb55a_4f09) ^ (a >> 16);
    a.wrapping_mul(3_221_225_473)
}
