//! Never panics: arbitrary bytes through the lexer, the reader and the formatter.

use haproxy_cfg::fmt::{normalise, print_bytes};
use haproxy_cfg::lex::{LexContext, lex_bytes};
use haproxy_cfg::parse_bytes_with;
use proptest::prelude::*;

fn vars(name: &str) -> Option<String> {
    (name == "X").then(|| "a b".to_owned())
}

/// Bytes biased towards the characters the lexer treats specially.
fn config_bytes() -> impl Strategy<Value = Vec<u8>> {
    let special = prop::sample::select(b" \t\n\r\"'\\#${}[]*-.()!&|,x0aZ\x00\x0b\xff".to_vec());
    prop::collection::vec(prop_oneof![3 => special, 1 => any::<u8>()], 0..400)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn reader_and_formatter_never_panic(bytes in config_bytes()) {
        let doc = parse_bytes_with("f.cfg", &bytes, &vars).expect("small input");
        prop_assert_eq!(print_bytes(&doc), bytes.clone());
        let _ = normalise(&doc);
        for line in doc.lines() {
            if let Some(e) = &line.error {
                let _ = e.render();
            }
        }
        for m in &doc.messages {
            let _ = m.render("f.cfg");
        }
    }

    #[test]
    fn lexer_never_panics(bytes in any::<Vec<u8>>()) {
        let ctx = LexContext { file: "f", line: 1, offset: 0, section: None, vars: &vars };
        if let Err(e) = lex_bytes(&bytes, &ctx) {
            let _ = e.render();
        }
    }
}
