#![no_main]
//! ACL and condition parsing: any input must give Ok or Err, never a panic or a hang.
//!
//! The input is split into lines; each line into words on spaces. Lines starting with `acl` go to
//! `AclSet::parse_acl`, lines starting with `if`/`unless` to `parse_condition` (then evaluated on
//! an empty request), anything else to `parse_sample`. Files are served from memory.
use std::sync::Arc;

use haproxy_acl::{AclSet, SampleSource};

struct Empty;
impl SampleSource for Empty {}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut set = AclSet::with_loader(Arc::new(|name: &str| Ok(format!("{name}\n/a b\n10.0.0.0/8 x\n"))));
    for line in text.lines().take(64) {
        let words: Vec<&str> = line.split(' ').filter(|w| !w.is_empty()).collect();
        match words.first() {
            Some(&"acl") => {
                let _ = set.parse_acl(&words);
            }
            Some(&"if") | Some(&"unless") => {
                if let Ok(c) = set.parse_condition(&words) {
                    let _ = c.eval(&Empty);
                    let _ = c.to_string();
                }
            }
            Some(w) => {
                if let Ok(e) = set.parse_sample(w) {
                    let _ = e.eval(&Empty);
                }
            }
            None => {}
        }
    }
});
