//! Pattern references: the editable lists behind ACL patterns and maps, with ids, as the runtime
//! API's `show/get/add/del/set/clear acl|map` commands see them (reference §5.2).
//!
//! Writers serialise on a mutex, rebuild the compiled matcher and publish it with an atomic
//! pointer swap; readers never lock.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use arc_swap::ArcSwap;

use crate::error::AclError;
use crate::matcher::{Matcher, PatFlags, validate};
use crate::pattern::MatchKind;
use crate::sample::Sample;

/// Most entries one pattern reference may hold.
pub const MAX_REF_ENTRIES: usize = 16 << 20;

/// One entry of a pattern reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Stable id of the entry (what `show acl` prints as the pointer, usable as `#<id>`).
    pub id: u64,
    /// The pattern (or map key).
    pub key: String,
    /// The map value, when the reference is a map.
    pub value: Option<String>,
}

/// Fails when a reference would hold more than [`MAX_REF_ENTRIES`] entries.
fn check_room(entries: usize) -> Result<(), AclError> {
    if entries > MAX_REF_ENTRIES {
        return Err(AclError::TooLarge {
            what: "pattern reference entries",
            limit: MAX_REF_ENTRIES,
        });
    }
    Ok(())
}

/// The compiled snapshot readers see.
#[derive(Debug)]
pub(crate) struct Compiled {
    pub(crate) matcher: Matcher,
    pub(crate) entries: Arc<[Entry]>,
}

/// One compiled view of a reference (a reference used with several methods has several).
#[derive(Debug)]
pub(crate) struct Slot {
    kind: MatchKind,
    flags: PatFlags,
    cur: ArcSwap<Compiled>,
}

impl Slot {
    /// Finds the matching entry for one sample.
    #[inline]
    pub(crate) fn find(&self, sample: &Sample<'_>, need_index: bool) -> Option<u32> {
        self.cur.load().matcher.find(sample, need_index)
    }

    /// Finds the matching entry's value (maps).
    pub(crate) fn lookup_value(&self, sample: &Sample<'_>) -> Option<String> {
        let snap = self.cur.load();
        let i = snap.matcher.find(sample, true)?;
        snap.entries
            .get(i as usize)
            .map(|e| e.value.clone().unwrap_or_default())
    }

    /// The current snapshot.
    pub(crate) fn snapshot(&self) -> Arc<Compiled> {
        self.cur.load_full()
    }
}

#[derive(Debug, Default)]
struct State {
    entries: Vec<Entry>,
    next_entry: u64,
    slots: Vec<Weak<Slot>>,
}

/// A pattern reference: a file (`-f`, map files) or the inline patterns of one ACL line.
#[derive(Debug)]
pub struct PatternRef {
    id: u32,
    name: String,
    description: String,
    is_map: bool,
    state: Mutex<State>,
}

impl PatternRef {
    /// The unique id (`#<id>` in runtime commands).
    pub fn id(&self) -> u32 {
        self.id
    }
    /// The file name, empty for inline patterns.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Whether entries carry values.
    pub fn is_map(&self) -> bool {
        self.is_map
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A copy of the entries, in order.
    pub fn entries(&self) -> Vec<Entry> {
        self.lock().entries.clone()
    }

    /// The `show acl` / `show map` line for this reference.
    pub fn show_line(&self) -> String {
        let n = self.lock().entries.len();
        format!(
            "{} ({}) {}. curr_ver=0 next_ver=0 entry_cnt={n}",
            self.id, self.name, self.description
        )
    }

    /// The `show acl <ref>` / `show map <ref>` lines: `0x<entry id> <key>[ <value>]`.
    pub fn show_entries(&self) -> Vec<String> {
        self.lock()
            .entries
            .iter()
            .map(|e| match &e.value {
                Some(v) if self.is_map => format!("{:#x} {} {v}", e.id, e.key),
                _ => format!("{:#x} {}", e.id, e.key),
            })
            .collect()
    }

    /// Creates a compiled view for `kind`/`flags` that follows later edits.
    pub(crate) fn slot(&self, kind: MatchKind, flags: PatFlags) -> Result<Arc<Slot>, AclError> {
        let mut st = self.lock();
        let compiled = compile(kind, flags, &st.entries)?;
        let slot = Arc::new(Slot {
            kind,
            flags,
            cur: ArcSwap::from_pointee(compiled),
        });
        st.slots.retain(|w| w.strong_count() > 0);
        st.slots.push(Arc::downgrade(&slot));
        Ok(slot)
    }

    /// Adds an entry (`add acl` / `add map`). The pattern is validated against every method the
    /// reference is used with before anything changes.
    ///
    /// # Errors
    /// The pattern is invalid for one of its users, or the reference is full.
    pub fn add(&self, key: &str, value: Option<&str>) -> Result<u64, AclError> {
        let mut st = self.lock();
        check_room(st.entries.len() + 1)?;
        for slot in st.slots.iter().filter_map(Weak::upgrade) {
            validate(slot.kind, slot.flags, key)?;
        }
        let id = st.next_entry;
        st.next_entry += 1;
        let value = value
            .map(str::to_owned)
            .or_else(|| self.is_map.then(String::new));
        st.entries.push(Entry {
            id,
            key: key.to_owned(),
            value,
        });
        republish(&mut st)?;
        Ok(id)
    }

    /// Deletes every entry whose key is `key`, or the entry `#<id>` (`del acl` / `del map`).
    ///
    /// # Errors
    /// [`AclError::KeyNotFound`] when nothing matched.
    pub fn delete(&self, key_or_ref: &str) -> Result<usize, AclError> {
        let mut st = self.lock();
        let before = st.entries.len();
        match key_or_ref
            .strip_prefix('#')
            .and_then(|n| n.parse::<u64>().ok())
        {
            Some(id) => st.entries.retain(|e| e.id != id),
            None => st.entries.retain(|e| e.key != key_or_ref),
        }
        let removed = before - st.entries.len();
        if removed == 0 {
            return Err(AclError::KeyNotFound {
                key: key_or_ref.to_owned(),
            });
        }
        republish(&mut st)?;
        Ok(removed)
    }

    /// Sets the value of the entries matching `key` or `#<id>` (`set map`).
    ///
    /// # Errors
    /// [`AclError::KeyNotFound`] when nothing matched.
    pub fn set(&self, key_or_ref: &str, value: &str) -> Result<(), AclError> {
        let mut st = self.lock();
        let id = key_or_ref
            .strip_prefix('#')
            .and_then(|n| n.parse::<u64>().ok());
        let mut hit = false;
        for e in st.entries.iter_mut() {
            if id.map_or(e.key == key_or_ref, |i| e.id == i) {
                e.value = Some(value.to_owned());
                hit = true;
            }
        }
        if !hit {
            return Err(AclError::KeyNotFound {
                key: key_or_ref.to_owned(),
            });
        }
        republish(&mut st)
    }

    /// Removes every entry (`clear acl` / `clear map`).
    pub fn clear(&self) {
        let mut st = self.lock();
        st.entries.clear();
        // Clearing can only remove patterns, so compiling cannot fail.
        let _ = republish(&mut st);
    }

    /// Looks `value` up as a request sample would be, for `get acl` / `get map`.
    pub fn get(&self, value: &str) -> Vec<GetReply> {
        let slots: Vec<Arc<Slot>> = self.lock().slots.iter().filter_map(Weak::upgrade).collect();
        slots
            .iter()
            .map(|slot| {
                let snap = slot.snapshot();
                let sample = Sample::str(value.as_bytes());
                let hit = snap
                    .matcher
                    .find(&sample, true)
                    .and_then(|i| snap.entries.get(i as usize));
                GetReply {
                    kind: slot.kind,
                    icase: slot.flags.icase,
                    is_map: self.is_map,
                    tree: slot.kind.is_tree(slot.flags.icase),
                    hit: hit.cloned(),
                }
            })
            .collect()
    }
}

/// The answer to `get acl` / `get map` for one compiled view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetReply {
    kind: MatchKind,
    icase: bool,
    is_map: bool,
    tree: bool,
    hit: Option<Entry>,
}

impl GetReply {
    /// Whether a pattern matched.
    pub fn matched(&self) -> bool {
        self.hit.is_some()
    }
}

impl fmt::Display for GetReply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let case = if self.icase {
            "insensitive"
        } else {
            "sensitive"
        };
        let (word, yes) = if self.is_map {
            ("found", "yes")
        } else {
            ("match", "yes")
        };
        write!(f, "type={}, case={case}, {word}=", self.kind)?;
        match &self.hit {
            None => write!(f, "no"),
            Some(e) => {
                let idx = if self.tree { "tree" } else { "list" };
                if self.is_map {
                    write!(
                        f,
                        "{yes}, idx={idx}, key=\"{}\", value=\"{}\", type=\"str\"",
                        e.key,
                        e.value.as_deref().unwrap_or_default()
                    )
                } else {
                    write!(f, "{yes}, idx={idx}, pattern=\"{}\"", e.key)
                }
            }
        }
    }
}

fn compile(kind: MatchKind, flags: PatFlags, entries: &[Entry]) -> Result<Compiled, AclError> {
    let keys: Vec<&str> = entries.iter().map(|e| e.key.as_str()).collect();
    Ok(Compiled {
        matcher: Matcher::compile(kind, flags, &keys)?,
        entries: entries.to_vec().into(),
    })
}

fn republish(st: &mut State) -> Result<(), AclError> {
    st.slots.retain(|w| w.strong_count() > 0);
    let entries: Arc<[Entry]> = st.entries.clone().into();
    let keys: Vec<&str> = entries.iter().map(|e| e.key.as_str()).collect();
    for slot in st.slots.iter().filter_map(Weak::upgrade) {
        let matcher = Matcher::compile(slot.kind, slot.flags, &keys)?;
        slot.cur.store(Arc::new(Compiled {
            matcher,
            entries: Arc::clone(&entries),
        }));
    }
    Ok(())
}

/// All pattern references of a configuration, with unique ids.
#[derive(Debug, Default)]
pub struct PatternRefs {
    refs: Mutex<Vec<Arc<PatternRef>>>,
}

impl PatternRefs {
    fn lock(&self) -> MutexGuard<'_, Vec<Arc<PatternRef>>> {
        self.refs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Every reference, in creation order.
    pub fn list(&self) -> Vec<Arc<PatternRef>> {
        self.lock().clone()
    }

    /// Finds a reference by `#<id>` or by file name.
    ///
    /// # Errors
    /// [`AclError::UnknownRef`] when none matches.
    pub fn find(&self, ident: &str) -> Result<Arc<PatternRef>, AclError> {
        let refs = self.lock();
        let hit = match ident.strip_prefix('#').and_then(|n| n.parse::<u32>().ok()) {
            Some(id) => refs.iter().find(|r| r.id == id),
            None => refs.iter().find(|r| !r.name.is_empty() && r.name == ident),
        };
        hit.cloned().ok_or_else(|| AclError::UnknownRef {
            ident: ident.to_owned(),
        })
    }

    /// The reference of a file, if it was loaded already.
    pub(crate) fn by_file(&self, name: &str, is_map: bool) -> Option<Arc<PatternRef>> {
        self.lock()
            .iter()
            .find(|r| r.name == name && r.is_map == is_map)
            .cloned()
    }

    /// Creates a reference; `unique_id` forces its id (`-u`).
    pub(crate) fn create(
        &self,
        unique_id: Option<u32>,
        name: &str,
        description: String,
        is_map: bool,
        entries: Vec<(String, Option<String>)>,
    ) -> Result<Arc<PatternRef>, AclError> {
        check_room(entries.len())?;
        let mut refs = self.lock();
        let id = match unique_id {
            Some(id) if refs.iter().any(|r| r.id == id) => {
                return Err(AclError::Flag {
                    word: id.to_string(),
                    message: "the id is already used".into(),
                });
            }
            Some(id) => id,
            None => refs
                .iter()
                .map(|r| r.id.saturating_add(1))
                .max()
                .unwrap_or(0),
        };
        let n = entries.len() as u64;
        let entries = entries
            .into_iter()
            .zip(0..)
            .map(|((key, value), id)| Entry { id, key, value })
            .collect();
        let r = Arc::new(PatternRef {
            id,
            name: name.to_owned(),
            description,
            is_map,
            state: Mutex::new(State {
                entries,
                next_entry: n,
                slots: Vec::new(),
            }),
        });
        refs.push(Arc::clone(&r));
        Ok(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_count_limit() {
        assert!(check_room(MAX_REF_ENTRIES).is_ok());
        assert!(matches!(
            check_room(MAX_REF_ENTRIES + 1),
            Err(AclError::TooLarge { .. })
        ));
    }

    #[test]
    fn pattern_length_limit() {
        let refs = PatternRefs::default();
        let r = refs
            .create(None, "", String::new(), false, Vec::new())
            .unwrap();
        let _slot = r
            .slot(
                MatchKind::Str,
                PatFlags {
                    icase: false,
                    no_dns: false,
                },
            )
            .unwrap();
        assert!(
            r.add(&"a".repeat(crate::pattern::MAX_PATTERN_LEN), None)
                .is_ok()
        );
        assert!(matches!(
            r.add(&"a".repeat(crate::pattern::MAX_PATTERN_LEN + 1), None),
            Err(AclError::TooLarge { .. })
        ));
    }
}
