//! Parsing arbitrary word sequences never panics (a stable-toolchain smoke version of the
//! `acl_parse` fuzz target).

use std::sync::Arc;

use haproxy_acl::AclSet;
use proptest::prelude::*;

use crate::req::Req;

fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "acl",
            "if",
            "unless",
            "or",
            "||",
            "!",
            "{",
            "}",
            "-i",
            "-f",
            "-m",
            "-n",
            "-M",
            "-u",
            "--",
            "eq",
            "gt",
            "lt",
            "ge",
            "le",
            "path",
            "path_beg",
            "hdr(host)",
            "hdr(x,-1)",
            "src",
            "src_port",
            "method",
            "url_param(a)",
            "req.hdr(a),lower,map(m)",
            "path,field(2,/)",
            "path,word(-1,/,2)",
            "path,regsub(a,b,g)",
            "TRUE",
            "LOCALHOST",
            "beg",
            "dir",
            "dom",
            "reg",
            "ip",
            "int",
            "bin",
            "len",
            "found",
            "bool",
            "10.0.0.0/8",
            "::1",
            "1:5",
            ":3",
            "5:",
            "/a",
            "a.b",
            "(",
            ")",
            ",",
            "x",
        ])
        .prop_map(str::to_owned),
        "[ -~]{0,12}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_words_never_panic(lines in prop::collection::vec(prop::collection::vec(word(), 0..10), 1..6)) {
        let mut set = AclSet::with_loader(Arc::new(|n: &str| Ok(format!("{n}\n/a b\n"))));
        let req = Req::get("/a/b?a=1").hdr("Host", "x.example").hdr("A", "1, 2");
        for mut words in lines {
            if words.first().is_some_and(|w| w == "acl") || words.len() % 3 == 0 {
                words.insert(0, "acl".into());
                words.insert(1, "n".into());
                let _ = set.parse_acl(&words);
            } else {
                words.insert(0, "if".into());
                if let Ok(c) = set.parse_condition(&words) {
                    let _ = c.eval(&req);
                    let again = set.parse_condition(&c.to_words()).unwrap();
                    prop_assert_eq!(again.eval(&req), c.eval(&req));
                }
            }
            if let Some(w) = words.get(1)
                && let Ok(e) = set.parse_sample(w)
            {
                let _ = e.eval(&req);
            }
        }
    }
}
