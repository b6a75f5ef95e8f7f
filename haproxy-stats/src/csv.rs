//! The `show stat` CSV form (also served as `;csv` on the stats page).

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

/// Appends a decimal number without going through `fmt` (the CSV is mostly numbers).
fn push_u64(out: &mut String, mut v: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        if let Some(slot) = buf.get_mut(i) {
            // `v % 10` is below 10, so the cast cannot truncate.
            *slot = b'0' + (v % 10) as u8;
        }
        v /= 10;
        if v == 0 || i == 0 {
            break;
        }
    }
    for &b in buf.get(i..).unwrap_or_default() {
        out.push(char::from(b));
    }
}

fn push_value(out: &mut String, v: &Value) {
    match v {
        Value::Empty => {}
        Value::U32(n) => push_u64(out, u64::from(*n)),
        Value::U64(n) => push_u64(out, *n),
        Value::S32(n) => {
            if *n < 0 {
                out.push('-');
            }
            push_u64(out, u64::from(n.unsigned_abs()));
        }
        Value::Str(s) => push_csv_str(out, s),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_like_display() {
        for v in [
            Value::U32(0),
            Value::U32(u32::MAX),
            Value::U64(u64::MAX),
            Value::U64(10),
            Value::S32(-1),
            Value::S32(i32::MIN),
        ] {
            let mut out = String::new();
            push_value(&mut out, &v);
            assert_eq!(out, v.to_string());
        }
    }
}
