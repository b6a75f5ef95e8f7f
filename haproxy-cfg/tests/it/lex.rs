//! Lexer rules, one test per escape, quoting rule and variable form; error texts were checked
//! against HAProxy 2.6.12 (`haproxy -c`).

use haproxy_cfg::lex::{LexContext, LexError, LexErrorKind, MAX_LINE_ARGS, lex_line};

fn vars(name: &str) -> Option<String> {
    match name {
        "HOST" => Some("example.org".into()),
        "EMPTY" => Some(String::new()),
        "LIST" => Some("a b  c".into()),
        "LEAD" => Some(" x".into()),
        _ => None,
    }
}

fn lex(raw: &str) -> Result<Vec<String>, LexError> {
    let ctx = LexContext {
        file: "t.cfg",
        line: 7,
        offset: 0,
        section: Some("web"),
        vars: &vars,
    };
    lex_line(raw, &ctx).map(|w| w.into_iter().map(|w| w.value).collect())
}

fn words(raw: &str) -> Vec<String> {
    lex(raw).expect(raw)
}

fn err(raw: &str) -> LexError {
    lex(raw).expect_err(raw)
}

#[test]
fn blanks_separate_words() {
    assert_eq!(words("  bind \t:80   ssl  "), ["bind", ":80", "ssl"]);
}

#[test]
fn comment_ends_line_even_glued() {
    assert_eq!(words("global#c"), ["global"]);
    assert_eq!(words("# only a comment"), Vec::<String>::new());
    assert!(words("").is_empty());
}

#[test]
fn unmatched_quote_reports_position_and_caret() {
    let e = err("    log \"127.0.0.1 local0");
    assert_eq!(e.kind, LexErrorKind::UnmatchedQuote);
    assert_eq!(
        e.render(),
        "unmatched quote at position 9:\n  log \"127.0.0.1 local0\n      ^"
    );
}

#[test]
fn sixty_four_words_fit_and_a_trailing_blank_does_not() {
    let line: Vec<String> = (0..MAX_LINE_ARGS).map(|i| format!("w{i}")).collect();
    assert_eq!(words(&line.join(" ")).len(), MAX_LINE_ARGS);
    let e = err(&format!("{} ", line.join(" ")));
    assert!(matches!(e.kind, LexErrorKind::TooManyWords { .. }));
}

/// One line → its words; expected values as HAProxy 2.6.12 printed them through `.notice`
/// (tests/data/haproxy-2.6/lexer/values_*.out).
#[test]
fn escapes_outside_quotes() {
    let cases: &[(&str, &str)] = &[
        ("a\\ b", "a b"),
        ("c\\#d", "c#d"),
        ("e\\\\f", "e\\f"),
        ("g\\'h", "g'h"),
        ("i\\\"j", "i\"j"),
        ("k\\x41\\x6a", "kAj"),
        ("l\\qm", "l\\qm"),
        ("p\\$q", "p\\$q"),
        ("t\\tx", "t\tx"),
        ("n\\nx", "n\nx"),
        ("r\\rx", "r\rx"),
        ("\\x7e\\x20x", "~ x"),
        ("\\xfF", "\u{ff}"),
    ];
    for (raw, want) in cases {
        assert_eq!(words(raw), [*want], "{raw}");
    }
}

#[test]
fn escapes_inside_double_quotes() {
    assert_eq!(words("\"n\\$o\""), ["n$o"]);
    assert_eq!(words("\"r\\#s\""), ["r#s"]);
    assert_eq!(words("\"a\\\"b\""), ["a\"b"]);
    assert_eq!(words("\"\\x41\\t\""), ["A\t"]);
}

#[test]
fn single_quotes_interpret_nothing() {
    assert_eq!(words("'t\\u'"), ["t\\u"]);
    assert_eq!(words("'$HOST'"), ["$HOST"]);
    assert_eq!(words("'x\"y'"), ["x\"y"]);
    assert_eq!(words("'a # b'"), ["a # b"]);
    assert_eq!(words("'\\'"), ["\\"]);
}

#[test]
fn double_quotes_protect_blanks_quotes_and_hash() {
    assert_eq!(words("\"v'w\""), ["v'w"]);
    assert_eq!(words("\"a b\tc # d\""), ["a b\tc # d"]);
}

#[test]
fn adjacent_pieces_join() {
    assert_eq!(words("\"z\"'a'b\\ c"), ["zab c"]);
    assert_eq!(
        words("\"%{+Q}o %t\"' %s'\\ %{-Q}r"),
        ["%{+Q}o %t %s %{-Q}r"]
    );
}

#[test]
fn empty_quoted_words_are_words() {
    assert_eq!(words("a \"\" b ''"), ["a", "", "b", ""]);
    assert_eq!(words("\"\" foo"), ["", "foo"]);
}

#[test]
fn vertical_tab_and_form_feed_separate_words() {
    assert_eq!(words("a\u{b}b\u{c}c"), ["a", "b", "c"]);
    assert_eq!(words("\"e\u{b}f\""), ["e\u{b}f"]);
}

#[test]
fn carriage_return_and_nul_end_the_line() {
    assert_eq!(words("a\rb c"), ["a"]);
    assert_eq!(words("a\0b c"), ["a"]);
    assert_eq!(words("a\\x00b c"), ["a", "c"]);
}

#[test]
fn no_line_continuation() {
    assert_eq!(
        words("bind 127.0.0.1:18999 \\"),
        ["bind", "127.0.0.1:18999", "\\"]
    );
}

#[test]
fn variables_expand_only_inside_double_quotes() {
    assert_eq!(words("\"$HOST\""), ["example.org"]);
    assert_eq!(words("\"${HOST}x\""), ["example.orgx"]);
    assert_eq!(words("\"$HOST.x\""), ["example.org.x"]);
    assert_eq!(words("\"$HOST$HOST\""), ["example.orgexample.org"]);
    assert_eq!(words("$HOST"), ["$HOST"]);
    assert_eq!(words("\"${HOST}\"${HOST}"), ["example.org${HOST}"]);
    assert_eq!(words("127.0.0.1:${MYPORT}"), ["127.0.0.1:${MYPORT}"]);
}

#[test]
fn defaults_apply_only_when_unset() {
    assert_eq!(words("\"<${EMPTY-dflt}>\""), ["<>"]);
    assert_eq!(words("\"<${UNSET_X-dflt}>\""), ["<dflt>"]);
    assert_eq!(words("\"<$UNSET_X>\""), ["<>"]);
    assert_eq!(words("\"${UNSET_X-a b}\""), ["a b"]);
}

#[test]
fn star_expansion_splits_into_words() {
    assert_eq!(words("\"${LIST[*]}\" x"), ["a", "b", "c", "x"]);
    assert_eq!(words("\"${LEAD[*]}\""), ["", "x"]);
    assert_eq!(words("\"${UNSET_X[*]-d e}\""), ["d", "e"]);
    assert_eq!(words("\"$LIST\""), ["a b  c"]);
}

#[test]
fn pseudo_variables() {
    assert_eq!(words("\"${.LINE}\""), ["7"]);
    assert_eq!(words("\"${.FILE}\""), ["t.cfg"]);
    assert_eq!(words("\"${.SECTION}\""), ["web"]);
    assert_eq!(words("\"$.LINE\""), ["7"]);
}

#[test]
fn error_texts_match_haproxy() {
    let cases: &[(&str, &str)] = &[
        (
            "    description \"${HOST\"",
            "unmatched brace in environment variable name at position 19:\n  description \"${HOST\"\n                ^",
        ),
        (
            "    description \"$1\"",
            "forbidden first char in environment variable name at position 19:\n  description \"$1\"\n                ^",
        ),
        (
            "    description \"${.FOO}\"",
            "forbidden first char in environment variable name at position 20:\n  description \"${.FOO\n                 ^",
        ),
        (
            "    description a\\x4g",
            "truncated or invalid hexadecimal sequence at position 18:\n  description a\\x4g\n               ^",
        ),
        (
            "    description \"${HOST[x]}\"",
            "truncated or invalid word expansion sequence at position 24:\n  description \"${HOST[x]}\"\n                     ^",
        ),
        (
            "  \t  description x 'abc",
            "unmatched quote at position 20:\n  description x 'abc\n                ^",
        ),
    ];
    for (raw, want) in cases {
        assert_eq!(err(raw).render(), *want, "{raw}");
    }
}

#[test]
fn too_many_words_text_matches_haproxy() {
    let line: Vec<String> = (0..63).map(|i| format!("w{i}")).collect();
    let e = err(&format!("    description {} ", line.join(" ")));
    assert_eq!(
        e.render(),
        "too many words, truncating after word 64, position 251: <w62>."
    );
    assert!(e.caret_lines().is_none());
}

#[test]
fn over_long_lines_are_refused() {
    use haproxy_cfg::lex::MAX_LINE_LEN;
    let ok = "a".repeat(MAX_LINE_LEN);
    assert_eq!(words(&ok).len(), 1);
    let e = err(&"a".repeat(MAX_LINE_LEN + 1));
    assert_eq!(e.kind, LexErrorKind::LineTooLong);
    assert_eq!(e.to_string(), "line too long, cannot allocate memory");
}

#[test]
fn spans_cover_the_raw_word() {
    let ctx = LexContext {
        file: "t.cfg",
        line: 3,
        offset: 100,
        section: None,
        vars: &vars,
    };
    let w = lex_line("  bind \"a b\"'c'  x", &ctx).expect("lex");
    assert_eq!(
        (w[1].span.col, w[1].span.len, w[1].span.offset),
        (8, 8, 107)
    );
    assert_eq!((w[2].span.col, w[2].span.len), (18, 1));
}
