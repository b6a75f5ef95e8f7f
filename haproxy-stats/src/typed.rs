//! The `typed` and `json` forms of `show stat`.

use std::fmt::Write as _;

use crate::field::{MODULE_FIELDS, STAT_FIELDS, Tags, Value};
use crate::row::Row;

/// Escapes a string for a JSON string literal.
pub(crate) fn json_escape(out: &mut String, s: &str) {
    // COMPAT: HAProxy 2.6 prints strings raw; we escape quotes, backslashes and control
    // characters so that the output is always valid JSON (identical for ordinary names).
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
}

fn fields_with_pos(
    row: &Row,
    module_columns: bool,
) -> impl Iterator<Item = (usize, &'static str, &(Value, Tags))> {
    let statics = row
        .fields
        .iter()
        .zip(STAT_FIELDS.iter())
        .enumerate()
        .map(|(i, (f, d))| (i, d.name, f));
    let mods = row
        .modules
        .iter()
        .zip(MODULE_FIELDS.iter())
        .enumerate()
        .filter(move |_| module_columns)
        .map(|(i, (f, d))| (i + STAT_FIELDS.len(), d.name, f));
    statics.chain(mods).filter(|(_, _, (v, _))| !v.is_empty())
}

/// Renders rows as `F.<iid>.<sid>.<pos>.<name>.<proc>:<tags>:<type>:<value>` lines; after each
/// row's fields in column order.
#[must_use]
pub fn render_typed(rows: &[Row], module_columns: bool) -> String {
    let mut out = String::new();
    for row in rows {
        for (pos, name, (v, tags)) in fields_with_pos(row, module_columns) {
            let [a, b, c] = tags.code();
            let kind = v.kind().map_or("", |k| k.name());
            let _ = writeln!(
                out,
                "{}.{}.{}.{pos}.{name}.1:{a}{b}{c}:{kind}:{v}",
                row.obj.letter(),
                row.iid,
                row.sid
            );
        }
    }
    out
}

/// Renders rows as HAProxy's JSON array of arrays of field objects, on one line, followed by
/// a newline.
#[must_use]
pub fn render_json(rows: &[Row], module_columns: bool) -> String {
    let mut out = String::from("[");
    for (i, row) in rows.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('[');
        for (j, (pos, name, (v, tags))) in fields_with_pos(row, module_columns).enumerate() {
            if j > 0 {
                out.push(',');
            }
            let _ = write!(
                out,
                "{{\"objType\":\"{}\",\"proxyId\":{},\"id\":{},\"field\":{{\"pos\":{pos},\"name\":\"{name}\"}},\"processNum\":1,",
                row.obj.json_name(),
                row.iid,
                row.sid
            );
            push_json_tags_value(&mut out, *tags, v);
            out.push('}');
        }
        out.push(']');
    }
    out.push_str("]\n");
    out
}

/// Appends `"tags":{…},"value":{…}` for one field.
pub(crate) fn push_json_tags_value(out: &mut String, tags: Tags, v: &Value) {
    let (o, n, s) = tags.names();
    let _ = write!(
        out,
        "\"tags\":{{\"origin\":\"{o}\",\"nature\":\"{n}\",\"scope\":\"{s}\"}},"
    );
    let kind = v.kind().map_or("", |k| k.name());
    let _ = write!(out, "\"value\":{{\"type\":\"{kind}\",\"value\":");
    match v {
        Value::Str(s) => {
            out.push('"');
            json_escape(out, s);
            out.push('"');
        }
        other => {
            let _ = write!(out, "{other}");
        }
    }
    out.push('}');
}
