//! Conditional blocks: which lines are active, where sections start, and reader messages.
//! HAProxy's texts for every error are in the golden recordings (reader_golden.rs).

use haproxy_cfg::ast::{Level, LineKind};
use haproxy_cfg::parse::MAX_NESTED_CONDS;
use haproxy_cfg::parse_str_with;

fn vars(name: &str) -> Option<String> {
    (name == "SET").then(|| "1".to_owned())
}

#[test]
fn false_branches_are_inactive_and_kept() {
    let text = "global\n.if defined(SET)\n    daemon\n.else\n    quiet\n.endif\n";
    let doc = parse_str_with("c.cfg", text, &vars);
    let body: Vec<_> = doc.sections[0]
        .body
        .iter()
        .map(|l| (l.active, l.kind))
        .collect();
    assert_eq!(
        body,
        [
            (false, LineKind::Conditional),
            (true, LineKind::Statement),
            (false, LineKind::Conditional),
            (false, LineKind::Statement),
            (false, LineKind::Conditional),
        ]
    );
    let kws: Vec<_> = doc.sections[0]
        .directives()
        .filter_map(|l| l.keyword())
        .collect();
    assert_eq!(kws, ["daemon"]);
}

#[test]
fn headers_in_false_branches_do_not_start_sections() {
    let text = ".if 0\nfrontend f\n.endif\nbackend b\n    mode http\n";
    let doc = parse_str_with("c.cfg", text, &vars);
    assert_eq!(doc.preamble.len(), 3);
    assert_eq!(doc.sections.len(), 1);
    assert_eq!(doc.sections[0].name(), Some("b"));
}

#[test]
fn messages_carry_level_and_text() {
    let text = ".notice \"hi\"\n.warning w\n.diag d\n";
    let doc = parse_str_with("c.cfg", text, &vars);
    let got: Vec<_> = doc
        .messages
        .iter()
        .map(|m| (m.line, m.level, m.text.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (1, Level::Notice, "'hi'."),
            (2, Level::Warning, "'w'."),
            (3, Level::Diag, "'d'.")
        ]
    );
}

#[test]
fn alert_stops_reading() {
    let doc = parse_str_with("c.cfg", "global\n.alert stop\n    bogus \"\n", &vars);
    let last = doc.lines().last().expect("line");
    assert!(!last.reached && !last.active && last.error.is_some());
    assert!(
        doc.messages
            .iter()
            .any(|m| m.abort && m.level == Level::Alert)
    );
}

#[test]
fn nesting_limit_is_haproxys() {
    let ok = ".if 1\n".repeat(MAX_NESTED_CONDS - 1) + &".endif\n".repeat(MAX_NESTED_CONDS - 1);
    assert!(parse_str_with("c.cfg", &ok, &vars).messages.is_empty());
    let deep = ".if 1\n".repeat(MAX_NESTED_CONDS);
    let doc = parse_str_with("c.cfg", &deep, &vars);
    assert_eq!(doc.messages.len(), 1);
    assert_eq!(doc.messages[0].text, "too many nested '.if', max is 100.");
}

#[test]
fn deep_expressions_are_bounded() {
    let text = format!(".if {}1{}\n.endif\n", "(".repeat(5000), ")".repeat(5000));
    let doc = parse_str_with("c.cfg", &text, &vars);
    assert!(doc.messages[0].text.starts_with("unparsable conditional"));
}

#[test]
fn section_names_and_from() {
    let text = "defaults from base\ndefaults d from base\nbackend from from d\nlisten l\n";
    let doc = parse_str_with("c.cfg", text, &vars);
    let got: Vec<_> = doc.sections.iter().map(|s| (s.name(), s.from())).collect();
    assert_eq!(
        got,
        [
            (None, Some("base")),
            (Some("d"), Some("base")),
            (Some("from"), Some("d")),
            (Some("l"), None),
        ]
    );
}
