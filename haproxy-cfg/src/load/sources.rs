//! Reading the files named by `-f`: a file, or a directory whose `*.cfg` files are read in
//! lexical order (hidden files skipped), as HAProxy does.

use crate::ast::Document;
use std::path::Path;

/// Why a `-f` argument could not be read.
#[derive(Debug)]
pub struct SourceError {
    /// The path as given.
    pub path: String,
    /// The I/O error.
    pub error: std::io::Error,
}

impl SourceError {
    /// HAProxy's message: `Cannot open configuration file/directory <path> : <strerror>`.
    #[must_use]
    pub fn haproxy_message(&self) -> String {
        let text = self.error.to_string();
        let reason = text.split(" (os error").next().unwrap_or(&text);
        format!(
            "Cannot open configuration file/directory {} : {reason}",
            self.path
        )
    }
}

/// Expands `-f` arguments into the list of files to read, in order: a directory contributes
/// its regular, non-hidden `*.cfg` files sorted bytewise (C locale).
///
/// # Errors
/// The first path that cannot be read.
pub fn expand_paths(paths: &[String]) -> Result<Vec<String>, SourceError> {
    let mut out = Vec::new();
    for p in paths {
        let err = |error| SourceError {
            path: p.clone(),
            error,
        };
        let meta = std::fs::metadata(p).map_err(err)?;
        if !meta.is_dir() {
            out.push(p.clone());
            continue;
        }
        let mut names: Vec<String> = std::fs::read_dir(p)
            .map_err(|e| SourceError {
                path: p.clone(),
                error: e,
            })?
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| !n.starts_with('.') && n.len() > 4 && n.ends_with(".cfg"))
            .collect();
        names.sort_unstable();
        let base = p.trim_end_matches('/');
        out.extend(names.into_iter().map(|n| format!("{base}/{n}")));
    }
    Ok(out)
}

/// Reads and parses every file named by `-f` arguments (see [`expand_paths`]).
///
/// Environment variables set by `setenv`/`presetenv` (and removed by `unsetenv`) in `global`
/// sections are visible to the expansions of the whole configuration: the files are parsed
/// once to collect them, then again with them when there are any. (HAProxy applies them from
/// the next line on; a configuration that uses a variable before setting it differs.)
///
/// # Errors
/// The first path that cannot be read.
pub fn read_sources(paths: &[String]) -> Result<Vec<Document>, SourceError> {
    let files = expand_paths(paths)?;
    let mut raw = Vec::with_capacity(files.len());
    for f in files {
        let bytes = std::fs::read(Path::new(&f)).map_err(|error| SourceError {
            path: f.clone(),
            error,
        })?;
        raw.push((f, bytes));
    }
    let parse_all = |vars: &dyn Fn(&str) -> Option<String>| -> Result<Vec<Document>, SourceError> {
        raw.iter()
            .map(|(f, bytes)| {
                crate::parse_bytes_with(f, bytes, vars).map_err(|e| SourceError {
                    path: f.clone(),
                    error: std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string()),
                })
            })
            .collect()
    };
    let process = |name: &str| std::env::var(name).ok();
    let docs = parse_all(&process)?;
    let overlay = env_overlay(&docs);
    if overlay.is_empty() {
        return Ok(docs);
    }
    let vars = |name: &str| match overlay.iter().rev().find(|(n, _)| n == name) {
        Some((_, v)) => v.clone(),
        None => std::env::var(name).ok(),
    };
    parse_all(&vars)
}

/// The variables `setenv`/`presetenv`/`unsetenv` lines define, in order (`None` = unset).
fn env_overlay(docs: &[Document]) -> Vec<(String, Option<String>)> {
    let mut out: Vec<(String, Option<String>)> = Vec::new();
    let globals = docs
        .iter()
        .flat_map(|d| d.sections.iter())
        .filter(|s| s.kind == crate::ast::SectionKind::Global);
    for line in globals.flat_map(crate::ast::Section::directives) {
        let w: Vec<&str> = line.words.iter().map(crate::lex::Word::as_str).collect();
        match w.as_slice() {
            ["setenv", name, value] => out.push(((*name).to_owned(), Some((*value).to_owned()))),
            ["presetenv", name, value] => {
                let known = out.iter().any(|(n, _)| n == name) || std::env::var(name).is_ok();
                if !known {
                    out.push(((*name).to_owned(), Some((*value).to_owned())));
                }
            }
            ["unsetenv", names @ ..] => out.extend(names.iter().map(|n| ((*n).to_owned(), None))),
            _ => {}
        }
    }
    out
}
