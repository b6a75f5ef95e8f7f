//! The `show stat` CSV form (also served as `;csv` on the stats page).

use std::fmt::Write as _;

use crate::field::{MODULE_FIELDS, STAT_FIELDS, Value};
use crate::row::Row;

/// Appends `s` quoted as HAProxy's `csv_enc_append` does: quotes only when the text holds a
/// comma, a quote, CR or LF, and doubles inner quotes.
pub fn push_csv_str(out: &mut String, s: &str) {
    let quote = s.contains([',', '"', '\r', '\n']);
    if quote {
        out.push('"');
    }
    for c in s.chars() {
        out.push(c);
        if c == '"' {
            out.push('"');
        }
    }
    if quote {
        out.push('"');
    }
}

fn push_value(out: &mut String, v: &Value) {
    match v {
        Value::Str(s) => push_csv_str(out, s),
        other => {
            let _ = write!(out, "{other}");
        }
    }
}

/// The header line, `# pxname,svname,…,` with its trailing comma and newline.
#[must_use]
pub fn header(module_columns: bool) -> String {
    let mut out = String::from("# ");
    for f in &STAT_FIELDS {
        out.push_str(f.name);
        out.push(',');
    }
    if module_columns {
        out.push_str("-,");
        for f in &MODULE_FIELDS {
            out.push_str(f.name);
            out.push(',');
        }
    }
    out.push('\n');
    out
}

/// One data line, with the trailing comma and newline.
#[must_use]
pub fn line(row: &Row, module_columns: bool) -> String {
    let mut out = String::new();
    for (v, _) in &row.fields {
        push_value(&mut out, v);
        out.push(',');
    }
    if module_columns {
        out.push_str("-,");
        for (v, _) in &row.modules {
            push_value(&mut out, v);
            out.push(',');
        }
    }
    out.push('\n');
    out
}

/// The whole CSV document: header, then one line per row (no final blank line; the CLI adds it).
#[must_use]
pub fn render(rows: &[Row], module_columns: bool) -> String {
    let mut out = header(module_columns);
    for r in rows {
        out.push_str(&line(r, module_columns));
    }
    out
}
