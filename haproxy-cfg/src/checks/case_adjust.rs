//! The global header-name case map: `h1-case-adjust <from> <to>` lines, checked as they are
//! read, and the `h1-case-adjust-file`, read once the configuration is parsed (HAProxy's
//! `h1-headers-map` post-parser), with HAProxy 2.6's texts.

use std::collections::HashSet;

use crate::diag::{Diagnostic, Origin};
use crate::load::Env;
use crate::model::Config;

/// The largest `h1-case-adjust-file` read, in bytes. HAProxy sets no limit; a map of header
/// names this large is far past any real one (1 MiB holds tens of thousands of pairs).
pub(crate) const MAX_CASE_ADJUST_FILE: usize = 1 << 20;

/// HAProxy reads the file with `fgets()` into its trash buffer, `tune.bufsize` bytes: a longer
/// line is read as several lines. This is the default size.
const DEFAULT_BUFSIZE: usize = 16384;

/// Adds the pair `from` → `to` to `pairs` after HAProxy's checks: `to` not empty, only the case
/// differs, `from` not there yet (compared byte for byte). The error is HAProxy's text.
pub(crate) fn add_pair(
    pairs: &mut Vec<(String, String)>,
    from: &str,
    to: &str,
) -> Result<(), String> {
    check_pair(from, to)?;
    if pairs.iter().any(|(f, _)| f == from) {
        return Err(format!("duplicate entry '{from}'"));
    }
    pairs.push((from.to_owned(), to.to_owned()));
    Ok(())
}

/// The checks of one pair that do not depend on the others.
fn check_pair(from: &str, to: &str) -> Result<(), String> {
    if to.is_empty() {
        return Err("expect <to>".to_owned());
    }
    // HAProxy's wording, typo included.
    if !from.as_bytes().eq_ignore_ascii_case(to.as_bytes()) {
        return Err("<from> and <to> must not differ execpt the case".to_owned());
    }
    Ok(())
}

/// Reads the global `h1-case-adjust-file`, if any, appending its pairs to
/// `config.global.h1_case_adjust`; returns whether it failed (fatal, as in HAProxy, which
/// stops at the first bad line).
pub(super) fn read_file(config: &mut Config, env: &dyn Env, diags: &mut Vec<Diagnostic>) -> bool {
    let Some(path) = config.global.h1_case_adjust_file.clone() else {
        return false;
    };
    let alert = |diags: &mut Vec<Diagnostic>, msg: String| {
        diags.push(Diagnostic::alert("bad-case-adjust", Origin::Global, msg));
        true
    };
    let bytes = match env.read_file(&path) {
        Ok(b) => b,
        // `fopen()` opens a directory and the first `fgets()` ends it: no pairs, no error.
        Err(e) if e.kind() == std::io::ErrorKind::IsADirectory => Vec::new(),
        Err(_) => {
            let msg = format!("h1-headers-case-adjust-file '{path}': failed to open file.");
            return alert(diags, msg);
        }
    };
    if bytes.len() > MAX_CASE_ADJUST_FILE {
        let msg = format!(
            "h1-headers-case-adjust-file '{path}': file larger than {MAX_CASE_ADJUST_FILE} bytes."
        );
        return alert(diags, msg);
    }
    let bufsize = config
        .global
        .tune
        .bufsize
        .map_or(DEFAULT_BUFSIZE, |b| b as usize);
    let pairs = &mut config.global.h1_case_adjust;
    let mut seen: HashSet<String> = pairs.iter().map(|(f, _)| f.clone()).collect();
    for (i, line) in fgets_lines(&bytes, bufsize).enumerate() {
        let Some((from, to)) = split_line(line) else {
            continue;
        };
        let (from, to) = (
            String::from_utf8_lossy(from).into_owned(),
            String::from_utf8_lossy(to).into_owned(),
        );
        let err = check_pair(&from, &to).err().or_else(|| {
            seen.contains(&from)
                .then(|| format!("duplicate entry '{from}'"))
        });
        if let Some(err) = err {
            let msg = format!(
                "h1-headers-case-adjust-file '{path}' : {err} at line {}.",
                i + 1
            );
            return alert(diags, msg);
        }
        seen.insert(from.clone());
        pairs.push((from, to));
    }
    false
}

/// The pieces successive `fgets()` calls into a `bufsize`-byte buffer return: up to and with a
/// newline, at most `bufsize - 1` bytes each.
fn fgets_lines(bytes: &[u8], bufsize: usize) -> impl Iterator<Item = &[u8]> {
    let max = bufsize.saturating_sub(1).max(1);
    let mut rest = bytes;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let window = rest.get(..max.min(rest.len())).unwrap_or(rest);
        let len = window
            .iter()
            .position(|&b| b == b'\n')
            .map_or(window.len(), |p| p + 1);
        let (line, tail) = rest.split_at(len);
        rest = tail;
        Some(line)
    })
}

/// The key and value of a map line read as HAProxy does (as a C string, so up to a NUL byte):
/// leading blanks skipped, `#` and empty lines ignored (`None`), the key up to a blank, the
/// value the rest of the line with trailing blanks trimmed (possibly empty).
fn split_line(line: &[u8]) -> Option<(&[u8], &[u8])> {
    let line = line.split(|&b| b == 0).next().unwrap_or_default();
    let blank = |b: &u8| *b == b' ' || *b == b'\t';
    let eol = |b: &u8| *b == b'\n' || *b == b'\r';
    let start = line.iter().position(|b| !blank(b)).unwrap_or(line.len());
    let line = line.get(start..).unwrap_or_default();
    match line.first() {
        None | Some(b'#' | b'\r' | b'\n') => return None,
        Some(_) => {}
    }
    let key_end = line
        .iter()
        .position(|b| blank(b) || eol(b))
        .unwrap_or(line.len());
    let (key, rest) = line.split_at(key_end);
    let value_start = rest.iter().position(|b| !blank(b)).unwrap_or(rest.len());
    let rest = rest.get(value_start..).unwrap_or_default();
    let value_end = rest.iter().position(eol).unwrap_or(rest.len());
    // Only blanks are trimmed at the end, as in HAProxy.
    let value = rest.get(..value_end).unwrap_or_default();
    let trimmed = value.iter().rposition(|b| !blank(b)).map_or(0, |p| p + 1);
    Some((key, value.get(..trimmed).unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_are_checked_as_haproxy_does() {
        let mut p = Vec::new();
        assert_eq!(add_pair(&mut p, "content-type", "Content-Type"), Ok(()));
        // Keys are compared byte for byte: another spelling is another entry.
        assert_eq!(add_pair(&mut p, "Content-type", "CONTENT-TYPE"), Ok(()));
        assert_eq!(
            add_pair(&mut p, "content-type", "CONTENT-TYPE"),
            Err("duplicate entry 'content-type'".to_owned())
        );
        assert_eq!(
            add_pair(&mut p, "x-a", "X-B"),
            Err("<from> and <to> must not differ execpt the case".to_owned())
        );
        assert_eq!(add_pair(&mut p, "x-a", ""), Err("expect <to>".to_owned()));
        assert_eq!(p.len(), 2);
    }

    #[test]
    fn lines_split_like_the_c_reader() {
        assert_eq!(
            split_line(b"  a \t A  \t\r\n"),
            Some((&b"a"[..], &b"A"[..]))
        );
        assert_eq!(split_line(b"# a A\n"), None);
        assert_eq!(split_line(b" \t\r\n"), None);
        assert_eq!(split_line(b""), None);
        assert_eq!(
            split_line(b"a A extra\n"),
            Some((&b"a"[..], &b"A extra"[..]))
        );
        assert_eq!(split_line(b"a\0b A\n"), Some((&b"a"[..], &b""[..])));
        assert_eq!(split_line(b"key\n"), Some((&b"key"[..], &b""[..])));
    }

    #[test]
    fn long_lines_are_cut_as_fgets_cuts_them() {
        let lines: Vec<&[u8]> = fgets_lines(b"abcdef\nxy", 4).collect();
        assert_eq!(lines, vec![&b"abc"[..], b"def", b"\n", b"xy"]);
        let lines: Vec<&[u8]> = fgets_lines(b"ab\ncd\n", 16384).collect();
        assert_eq!(lines, vec![&b"ab\n"[..], b"cd\n"]);
    }

    fn check(file_text: &[u8], lines: &str) -> (Vec<(String, String)>, Vec<String>) {
        let dir = std::env::temp_dir().join(format!("haproxy-cfg-case-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{}.map", file_text.len()));
        std::fs::write(&path, file_text).unwrap();
        let text = format!(
            "global\n{lines}    h1-case-adjust-file {}\nfrontend f\n    bind 127.0.0.1:1\n",
            path.display()
        );
        let out = crate::load::load(&[crate::parse_str("t.cfg", &text)], &crate::load::SystemEnv);
        std::fs::remove_file(&path).unwrap();
        let alerts = out
            .diagnostics
            .iter()
            .filter(|d| d.code == "bad-case-adjust")
            .map(|d| d.message.clone())
            .collect();
        (out.config.global.h1_case_adjust, alerts)
    }

    #[test]
    fn the_file_follows_the_lines_and_stops_at_the_first_bad_one() {
        let (pairs, alerts) = check(
            b"x-a X-A\n# c\n\n  x-b\tX-b  \n",
            "    h1-case-adjust a A\n",
        );
        let want = [("a", "A"), ("x-a", "X-A"), ("x-b", "X-b")];
        let want: Vec<_> = want
            .iter()
            .map(|(f, t)| (f.to_string(), t.to_string()))
            .collect();
        assert_eq!((pairs, alerts), (want, Vec::<String>::new()));
        let (_, alerts) = check(b"b B\na A\n", "    h1-case-adjust a A\n");
        assert_eq!(alerts.len(), 1);
        assert!(
            alerts[0].ends_with(": duplicate entry 'a' at line 2."),
            "{alerts:?}"
        );
    }

    #[test]
    fn a_file_at_the_size_limit_is_read_and_one_byte_more_is_refused() {
        let mut at = b"a A\n".to_vec();
        at.resize(MAX_CASE_ADJUST_FILE - 1, b'#');
        at.push(b'\n');
        let (pairs, alerts) = check(&at, "");
        assert_eq!((pairs.len(), alerts.len()), (1, 0));
        at.push(b'\n');
        let (_, alerts) = check(&at, "");
        assert_eq!(alerts.len(), 1);
        assert!(
            alerts[0].ends_with("file larger than 1048576 bytes."),
            "{alerts:?}"
        );
    }

    #[test]
    fn a_directory_reads_as_an_empty_map_and_a_missing_file_is_fatal() {
        let load = |path: &str| {
            let text = format!(
                "global\n    h1-case-adjust-file {path}\nfrontend f\n    bind 127.0.0.1:1\n"
            );
            let out =
                crate::load::load(&[crate::parse_str("t.cfg", &text)], &crate::load::SystemEnv);
            let alerts: Vec<String> = out
                .diagnostics
                .iter()
                .filter(|d| d.code == "bad-case-adjust")
                .map(|d| d.message.clone())
                .collect();
            (out.config.global.h1_case_adjust.len(), alerts)
        };
        let dir = std::env::temp_dir();
        assert_eq!(load(&dir.display().to_string()), (0, Vec::new()));
        let missing = dir.join("haproxy-cfg-case-none/none.map");
        let missing = missing.display().to_string();
        let want = format!("h1-headers-case-adjust-file '{missing}': failed to open file.");
        assert_eq!(load(&missing), (0, vec![want]));
    }
}
