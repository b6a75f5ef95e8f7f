//! Longest-prefix-match tables for `ip` patterns.
//!
//! CIDRs are either nested or disjoint, so they flatten into sorted, non-overlapping intervals,
//! each carrying the pattern of the longest prefix covering it. A lookup is one binary search.

use std::net::IpAddr;

use crate::pattern::{IpNet, v6_to_v4};

const NONE: u32 = u32::MAX;

/// Sorted interval starts with the pattern index covering each interval (`NONE` for gaps).
#[derive(Debug, Clone, Default)]
pub(crate) struct Intervals<K> {
    starts: Vec<K>,
    vals: Vec<u32>,
}

trait Key: Copy + Ord {
    fn next(self) -> Option<Self>;
    fn zero() -> Self;
}

impl Key for u32 {
    fn next(self) -> Option<Self> {
        self.checked_add(1)
    }
    fn zero() -> Self {
        0
    }
}

impl Key for u128 {
    fn next(self) -> Option<Self> {
        self.checked_add(1)
    }
    fn zero() -> Self {
        0
    }
}

#[expect(
    private_bounds,
    reason = "Key is an implementation detail of this module"
)]
impl<K: Key> Intervals<K> {
    /// Builds from (first, last, prefix length, pattern index) ranges.
    fn build(mut ranges: Vec<(K, K, u8, u32)>) -> Self {
        // Wider first at the same start; for equal networks, the lowest index first.
        ranges.sort_by(|a, b| a.0.cmp(&b.0).then(a.2.cmp(&b.2)).then(a.3.cmp(&b.3)));
        let mut me = Self {
            starts: Vec::new(),
            vals: Vec::new(),
        };
        let mut cursor: Option<K> = Some(K::zero());
        // Open ranges: (first, last, index), innermost on top.
        let mut stack: Vec<(K, K, u32)> = Vec::new();
        for (first, last, _, idx) in ranges {
            me.close(&mut stack, &mut cursor, Some(first));
            if stack
                .last()
                .is_some_and(|&(f, l, _)| f == first && l == last)
            {
                continue; // duplicate network: the first one wins
            }
            if let Some(c) = cursor.filter(|c| *c < first) {
                me.emit(c, stack.last().map_or(NONE, |t| t.2));
            }
            cursor = Some(first);
            stack.push((first, last, idx));
        }
        me.close(&mut stack, &mut cursor, None);
        if let Some(c) = cursor {
            me.emit(c, NONE);
        }
        me
    }

    fn emit(&mut self, at: K, val: u32) {
        if self.vals.last() != Some(&val) {
            self.starts.push(at);
            self.vals.push(val);
        }
    }

    /// Closes every open range ending before `until` (all of them when `None`).
    fn close(&mut self, stack: &mut Vec<(K, K, u32)>, cursor: &mut Option<K>, until: Option<K>) {
        while let Some(&(_, last, idx)) = stack.last() {
            if until.is_some_and(|u| last >= u) {
                break;
            }
            if let Some(c) = cursor.filter(|c| *c <= last) {
                self.emit(c, idx);
                *cursor = last.next();
            }
            stack.pop();
        }
    }

    #[inline]
    fn find(&self, key: K) -> Option<u32> {
        let p = self.starts.partition_point(|s| *s <= key);
        let v = *self.vals.get(p.checked_sub(1)?)?;
        (v != NONE).then_some(v)
    }
}

/// The compiled `ip` index.
#[derive(Debug, Clone, Default)]
pub(crate) struct IpTable {
    v4: Intervals<u32>,
    v6: Intervals<u128>,
    /// IPv4 networks with non-contiguous masks, checked linearly (as HAProxy's list).
    list4: Vec<(u32, u32, u32)>,
}

impl IpTable {
    pub(crate) fn new(nets: &[IpNet]) -> Self {
        let mut r4 = Vec::new();
        let mut r6 = Vec::new();
        let mut list4 = Vec::new();
        for (i, net) in nets.iter().enumerate() {
            let i = i as u32;
            match *net {
                IpNet::V4 { addr, mask } => match IpNet::v4_prefix_len(mask) {
                    Some(len) => r4.push((addr, addr | !mask, len, i)),
                    None => list4.push((addr, mask, i)),
                },
                IpNet::V6 { addr, len } => {
                    let host = if len == 0 {
                        u128::MAX
                    } else {
                        !(u128::MAX << (128 - u32::from(len)))
                    };
                    r6.push((addr, addr | host, len, i));
                }
            }
        }
        Self {
            v4: Intervals::build(r4),
            v6: Intervals::build(r6),
            list4,
        }
    }

    /// Finds a matching network with HAProxy's `pat_match_ip` order: same-family tree, then the
    /// mapped other family, then the list of non-contiguous v4 masks (lowest index).
    #[inline]
    pub(crate) fn find(&self, ip: IpAddr) -> Option<u32> {
        let v4 = match ip {
            IpAddr::V4(a) => {
                let a = u32::from(a);
                if let Some(i) = self.v4.find(a) {
                    return Some(i);
                }
                if let Some(i) = self.v6.find(0xffff_0000_0000 | u128::from(a)) {
                    return Some(i);
                }
                Some(a)
            }
            IpAddr::V6(a) => {
                if let Some(i) = self.v6.find(u128::from(a)) {
                    return Some(i);
                }
                let v4 = v6_to_v4(a);
                if let Some(i) = v4.and_then(|v| self.v4.find(v)) {
                    return Some(i);
                }
                v4
            }
        }?;
        self.list4
            .iter()
            .find(|(addr, mask, _)| (v4 ^ addr) & mask == 0)
            .map(|t| t.2)
    }
}
