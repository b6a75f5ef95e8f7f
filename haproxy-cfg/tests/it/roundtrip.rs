//! Round trip: printing a parsed document gives the input back byte for byte; normalising is
//! idempotent and keeps every line's words.

use haproxy_cfg::ast::{Document, SectionKind};
use haproxy_cfg::fmt::{normalise, print, print_bytes};
use haproxy_cfg::{parse_bytes_with, parse_str_with};
use proptest::prelude::*;

fn vars(name: &str) -> Option<String> {
    match name {
        "HOST" => Some("example.org".into()),
        "LIST" => Some("a b".into()),
        _ => None,
    }
}

fn parse(text: &str) -> Document {
    parse_str_with("p.cfg", text, &vars)
}

/// One piece of a word: plain text, a quoted string, an escape, a variable.
fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-z0-9_.:/-]{1,8}",
        1 => "[a-z0-9 #'$]{0,6}".prop_map(|s| format!("\"{s}\"")),
        1 => "[a-z0-9 #\"$\\\\]{0,6}".prop_map(|s| format!("'{s}'")),
        1 => prop::sample::select(vec![
            "\\ ", "\\#", "\\\\", "\\'", "\\\"", "\\t", "\\n", "\\r", "\\x41", "\\q", "$",
            "\"\\$HOST\"", "\"$HOST\"", "\"${HOST}\"", "\"${NOPE-dflt}\"", "\"${LIST[*]}\"",
            "\"${.LINE}\"", "\"${.SECTION}\"", "\"\"", "''", "é", "[x]",
        ])
        .prop_map(str::to_owned),
    ]
}

fn word() -> impl Strategy<Value = String> {
    prop::collection::vec(piece(), 1..4).prop_map(|p| p.concat())
}

fn blanks() -> impl Strategy<Value = String> {
    prop::sample::select(vec![" ", "  ", "\t", " \t ", "\t\t", "    "]).prop_map(str::to_owned)
}

fn keyword() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "bind",
        "server",
        "mode",
        "timeout",
        "option",
        "acl",
        "use_backend",
        "log",
        "maxconn",
        "http-request",
        "description",
        "balance",
        "stats",
        "no",
        "default",
    ])
    .prop_map(str::to_owned)
}

fn comment() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => Just(String::new()),
        1 => "[ a-z\"'\\\\#]{0,10}".prop_map(|c| format!("#{c}")),
    ]
}

/// A statement line: indentation, keyword, words with odd spacing, an optional comment.
fn statement() -> impl Strategy<Value = String> {
    (
        prop_oneof![Just(String::new()), blanks()],
        keyword(),
        prop::collection::vec((blanks(), word()), 0..5),
        prop_oneof![Just(String::new()), blanks()],
        comment(),
    )
        .prop_map(|(lead, kw, args, trail, c)| {
            let mut s = lead + &kw;
            for (b, w) in args {
                s.push_str(&b);
                s.push_str(&w);
            }
            s + &trail + &c
        })
}

fn header() -> impl Strategy<Value = String> {
    (
        prop::sample::select(SectionKind::ALL.to_vec()),
        prop::option::of("[a-z][a-z0-9_-]{0,6}"),
        comment(),
    )
        .prop_map(|(k, name, c)| match name {
            Some(n) => format!("{} {n}{c}", k.as_str()),
            None => format!("{}{c}", k.as_str()),
        })
}

fn line() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => statement(),
        2 => header(),
        1 => Just(String::new()),
        1 => blanks(),
        1 => comment(),
        1 => prop::sample::select(vec![
            ".if 1", ".if 0", ".if defined(HOST)", ".elif 1", ".else", ".endif",
            ".notice \"n\"", ".warning w", ".diag d", ".if (", ".bogus", "[scope]", "[]",
            "bind \"unterminated", "x \\xZZ", "y \"${BAD\"",
        ])
        .prop_map(str::to_owned),
    ]
}

fn eol() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec!["\n", "\n", "\n", "\r\n"])
}

fn config() -> impl Strategy<Value = String> {
    (prop::collection::vec((line(), eol()), 0..40), any::<bool>()).prop_map(
        |(lines, drop_last_eol)| {
            let mut s: String = lines.iter().map(|(l, e)| format!("{l}{e}")).collect();
            if drop_last_eol && s.ends_with('\n') {
                s.pop();
                if s.ends_with('\r') {
                    s.pop();
                }
            }
            s
        },
    )
}

fn line_words(doc: &Document) -> Vec<Vec<String>> {
    doc.lines()
        .map(|l| l.words.iter().map(|w| w.value.clone()).collect())
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn printing_a_parsed_config_gives_it_back(text in config()) {
        let doc = parse(&text);
        prop_assert_eq!(print(&doc), text.clone());
        let bytes = parse_bytes_with("p.cfg", text.as_bytes(), &vars).expect("parse");
        prop_assert_eq!(print_bytes(&bytes), text.as_bytes().to_vec());
    }

    #[test]
    fn normalise_is_idempotent_and_keeps_words(text in config()) {
        let doc = parse(&text);
        let once = normalise(&doc);
        let again = parse(&once);
        prop_assert_eq!(normalise(&again), once.clone());
        prop_assert_eq!(line_words(&again), line_words(&doc));
        prop_assert_eq!(again.sections.len(), doc.sections.len());
        for line in once.lines() {
            let trimmed = line.trim_end();
            // only a blank escaped by a backslash may end a line
            prop_assert!(trimmed == line || trimmed.ends_with('\\'), "{:?}", line);
        }
    }
}

#[test]
fn normalise_layout() {
    let text = "global#c\n  daemon   \n\tlog  \"127.0.0.1\"   local0 # to syslog\n\n\
                frontend  web\n bind :80\n  acl a hdr(host)  -i  'a b'  \n";
    assert_eq!(
        normalise(&parse(text)),
        "global #c\n    daemon\n    log 127.0.0.1 local0 # to syslog\n\n\
         frontend web\n    bind :80\n    acl a hdr(host) -i 'a b'\n"
    );
}

#[test]
fn crlf_latin1_and_missing_final_newline_survive() {
    let bytes = b"global\r\n    description caf\xe9\r\n    daemon";
    let doc = parse_bytes_with("b.cfg", bytes, &vars).expect("parse");
    assert_eq!(print_bytes(&doc), bytes.to_vec());
    let line = doc.lines().nth(1).expect("line 2");
    assert!(line.latin1);
    assert_eq!(line.args()[0].value, "café");
}

#[test]
fn rewriting_one_line_leaves_the_others_untouched() {
    let text = "global\r\n\tdaemon  # keep\r\nfrontend web\n    bind :80\n";
    let mut doc = parse(text);
    let line = doc
        .lines_mut()
        .find(|l| l.keyword() == Some("daemon"))
        .expect("daemon");
    haproxy_cfg::fmt::rewrite_line(line, &["description", "a b", "it's", "$x", "[y"]);
    let printed = print(&doc);
    assert_eq!(
        printed,
        "global\r\n\tdescription 'a b' \"it's\" $x '[y' # keep\r\nfrontend web\n    bind :80\n"
    );
    let again = parse(&printed);
    let words: Vec<_> = again
        .lines()
        .nth(1)
        .expect("line")
        .words
        .iter()
        .map(|w| w.value.clone())
        .collect();
    assert_eq!(words, ["description", "a b", "it's", "$x", "[y"]);
}

proptest! {
    #[test]
    fn quote_round_trips_any_value(value in "[ -~\t\u{e9}]{0,12}") {
        let raw = format!("k {}", haproxy_cfg::fmt::quote(&value));
        let doc = parse(&raw);
        let line = doc.lines().next().expect("line");
        prop_assert_eq!(line.args().first().map(|w| w.value.clone()), Some(value));
    }
}
