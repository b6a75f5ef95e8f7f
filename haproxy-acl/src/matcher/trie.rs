//! Byte trie used for prefix (`beg`), suffix (`end`, keys reversed) and word (`dir`, `dom`) indexes.

#[derive(Debug, Clone, Default)]
struct Node {
    /// Sorted by byte.
    edges: Vec<(u8, u32)>,
    /// Lowest pattern index ending here, + 1 (0 = none).
    term: u32,
}

/// A byte trie; keys are stored lower-cased when it is case-insensitive.
#[derive(Debug, Clone)]
pub(crate) struct Trie {
    icase: bool,
    nodes: Vec<Node>,
}

impl Trie {
    pub(crate) fn new(icase: bool) -> Self {
        Self {
            icase,
            nodes: vec![Node::default()],
        }
    }

    /// Inserts `key` (given as bytes in walking order) for pattern `idx`; the lowest index wins.
    pub(crate) fn insert(&mut self, key: impl Iterator<Item = u8>, idx: u32) {
        let mut cur = 0usize;
        for b in key {
            let b = if self.icase {
                b.to_ascii_lowercase()
            } else {
                b
            };
            let next_id = self.nodes.len() as u32;
            let Some(node) = self.nodes.get_mut(cur) else {
                return;
            };
            let child = match node.edges.binary_search_by_key(&b, |e| e.0) {
                Ok(p) => node.edges.get(p).map_or(0, |e| e.1),
                Err(p) => {
                    node.edges.insert(p, (b, next_id));
                    self.nodes.push(Node::default());
                    next_id
                }
            };
            cur = child as usize;
        }
        if let Some(node) = self.nodes.get_mut(cur)
            && (node.term == 0 || node.term > idx + 1)
        {
            node.term = idx + 1;
        }
    }

    /// Walks `bytes`, calling `on_term(depth, idx)` for every key that is a prefix of them (the empty
    /// key included, at depth 0). Stops early when `on_term` returns true.
    #[inline]
    pub(crate) fn walk(
        &self,
        bytes: impl Iterator<Item = u8>,
        mut on_term: impl FnMut(usize, u32) -> bool,
    ) {
        let Some(mut node) = self.nodes.first() else {
            return;
        };
        if node.term != 0 && on_term(0, node.term - 1) {
            return;
        }
        for (i, b) in bytes.enumerate() {
            let b = if self.icase {
                b.to_ascii_lowercase()
            } else {
                b
            };
            let Ok(p) = node.edges.binary_search_by_key(&b, |e| e.0) else {
                return;
            };
            let Some(next) = node.edges.get(p).and_then(|e| self.nodes.get(e.1 as usize)) else {
                return;
            };
            node = next;
            if node.term != 0 && on_term(i + 1, node.term - 1) {
                return;
            }
        }
    }
}
