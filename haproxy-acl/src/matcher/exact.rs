//! Open-addressing hash index for exact string and binary patterns.

/// Exact-match index: returns the lowest pattern index whose key equals the sample.
#[derive(Debug, Clone)]
pub(crate) struct ExactIndex {
    icase: bool,
    keys: Vec<Box<[u8]>>,
    /// Pattern index + 1 per slot; 0 is empty.
    slots: Vec<u32>,
    mask: usize,
}

#[inline]
fn fold(b: u8, icase: bool) -> u8 {
    if icase { b.to_ascii_lowercase() } else { b }
}

/// FNV-style multiplicative hash over (optionally lower-cased) bytes, eight at a time.
#[inline]
fn hash(bytes: &[u8], icase: bool) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ bytes.len() as u64;
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        for (d, s) in w.iter_mut().zip(c) {
            *d = fold(*s, icase);
        }
        h = (h ^ u64::from_le_bytes(w))
            .wrapping_mul(0x9e37_79b9_7f4a_7c15)
            .rotate_left(29);
    }
    for &b in chunks.remainder() {
        h = (h ^ u64::from(fold(b, icase))).wrapping_mul(0x0100_0000_01b3);
    }
    h ^ (h >> 31)
}

impl ExactIndex {
    pub(crate) fn new<'k>(keys: impl IntoIterator<Item = &'k [u8]>, icase: bool) -> Self {
        let keys: Vec<Box<[u8]>> = keys.into_iter().map(Box::from).collect();
        let cap = (keys.len() * 2).next_power_of_two().max(8);
        let mut me = Self {
            icase,
            keys,
            slots: vec![0; cap],
            mask: cap - 1,
        };
        for i in 0..me.keys.len() {
            me.insert(i);
        }
        me
    }

    fn insert(&mut self, idx: usize) {
        let Some(key) = self.keys.get(idx) else {
            return;
        };
        let mut pos = hash(key, self.icase) as usize & self.mask;
        loop {
            match self.slots.get(pos).copied() {
                Some(0) => {
                    if let Some(s) = self.slots.get_mut(pos) {
                        *s = idx as u32 + 1;
                    }
                    return;
                }
                Some(other) => {
                    let same = self
                        .keys
                        .get(other as usize - 1)
                        .is_some_and(|k| self.eq(k, key));
                    if same {
                        return; // keep the first occurrence
                    }
                }
                None => return,
            }
            pos = (pos + 1) & self.mask;
        }
    }

    #[inline]
    fn eq(&self, a: &[u8], b: &[u8]) -> bool {
        if self.icase {
            a.eq_ignore_ascii_case(b)
        } else {
            a == b
        }
    }

    /// The lowest pattern index equal to `sample`.
    #[inline]
    pub(crate) fn find(&self, sample: &[u8]) -> Option<u32> {
        if self.keys.is_empty() {
            return None;
        }
        let mut pos = hash(sample, self.icase) as usize & self.mask;
        loop {
            let slot = *self.slots.get(pos)?;
            if slot == 0 {
                return None;
            }
            let key = self.keys.get(slot as usize - 1)?;
            if self.eq(key, sample) {
                return Some(slot - 1);
            }
            pos = (pos + 1) & self.mask;
        }
    }
}
