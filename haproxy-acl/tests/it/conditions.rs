//! Condition evaluation against a straightforward boolean evaluator, and print/parse stability.

use haproxy_acl::AclSet;
use proptest::prelude::*;

use crate::req::Req;

/// Five ACLs whose truth is fixed by the request's path bits: acl `aN` is true when bit N is set.
fn set() -> AclSet {
    let mut s = AclSet::new();
    for i in 0..5 {
        s.parse_acl(&["acl", &format!("a{i}"), "path_dir", &format!("[{i}]")])
            .unwrap();
    }
    s
}

fn req(bits: u8) -> Req {
    let path: Vec<String> = (0..5)
        .filter(|i| bits & (1 << i) != 0)
        .map(|i| format!("[{i}]"))
        .collect();
    Req::get(&format!("/{}", path.join("/")))
}

#[derive(Debug, Clone)]
enum Tok {
    Acl(usize, bool),
    Anon(usize, bool),
    Or,
    Const(bool, bool),
}

fn tok() -> impl Strategy<Value = Tok> {
    prop_oneof![
        (0usize..5, any::<bool>()).prop_map(|(i, n)| Tok::Acl(i, n)),
        (0usize..5, any::<bool>()).prop_map(|(i, n)| Tok::Anon(i, n)),
        Just(Tok::Or),
        (any::<bool>(), any::<bool>()).prop_map(|(v, n)| Tok::Const(v, n)),
    ]
}

fn words(toks: &[Tok], unless: bool) -> Vec<String> {
    let mut w = vec![if unless { "unless" } else { "if" }.to_owned()];
    for t in toks {
        match t {
            Tok::Acl(i, n) => w.push(format!("{}a{i}", if *n { "!" } else { "" })),
            Tok::Anon(i, n) => {
                if *n {
                    w.push("!".into());
                }
                w.extend(["{".into(), "path_dir".into(), format!("[{i}]"), "}".into()]);
            }
            Tok::Or => w.push(if w.len() % 2 == 0 { "or" } else { "||" }.into()),
            Tok::Const(v, n) => w.push(format!(
                "{}{}",
                if *n { "!" } else { "" },
                if *v { "TRUE" } else { "FALSE" }
            )),
        }
    }
    w
}

/// Disjunction of conjunctions, computed directly.
fn naive(toks: &[Tok], unless: bool, bits: u8) -> bool {
    let mut any = false;
    let mut cur: Option<bool> = None;
    for t in toks {
        let v = match t {
            Tok::Or => {
                any |= cur.unwrap_or(false);
                cur = None;
                continue;
            }
            Tok::Acl(i, n) | Tok::Anon(i, n) => (bits & (1 << i) != 0) != *n,
            Tok::Const(v, n) => v != n,
        };
        cur = Some(cur.unwrap_or(true) && v);
    }
    any |= cur.unwrap_or(false);
    any != unless
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn evaluation_matches_boolean_reference(toks in prop::collection::vec(tok(), 0..12), unless in any::<bool>(), bits in 0u8..32) {
        let s = set();
        let cond = s.parse_condition(&words(&toks, unless)).unwrap();
        prop_assert_eq!(cond.eval(&req(bits)), naive(&toks, unless, bits));
    }

    #[test]
    fn print_parse_is_stable(toks in prop::collection::vec(tok(), 0..12), unless in any::<bool>()) {
        let s = set();
        let once = s.parse_condition(&words(&toks, unless)).unwrap();
        let twice = s.parse_condition(&once.to_words()).unwrap();
        prop_assert_eq!(once.to_string(), twice.to_string());
        prop_assert_eq!(once.to_words(), twice.to_words());
        for bits in 0..32 {
            prop_assert_eq!(once.eval(&req(bits)), twice.eval(&req(bits)));
        }
    }
}

#[test]
fn repeated_acl_names_are_ored() {
    let mut s = AclSet::new();
    s.parse_acl(&["acl", "x", "path", "/a"]).unwrap();
    s.parse_acl(&["acl", "x", "path", "/b"]).unwrap();
    let c = s.parse_condition(&["if", "x"]).unwrap();
    assert!(c.eval(&Req::get("/a")) && c.eval(&Req::get("/b")) && !c.eval(&Req::get("/c")));
}

#[test]
fn dash_i_applies_to_following_files_only() {
    use std::sync::Arc;
    let mut s = AclSet::with_loader(Arc::new(|p: &str| Ok(format!("/{p}\n"))));
    s.parse_acl(&["acl", "x", "path_beg", "-f", "one", "-i", "-f", "two"])
        .unwrap();
    let c = s.parse_condition(&["if", "x"]).unwrap();
    assert!(c.eval(&Req::get("/TWO/x")));
    assert!(!c.eval(&Req::get("/ONE/x")));
    assert!(c.eval(&Req::get("/one/x")));
}
