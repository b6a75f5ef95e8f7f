//! Global `default-path { current | config | parent | origin <path> }` (HAProxy 2.6's
//! `cfg_parse_global_def_path()` and `cfg_apply_default_path()`).
//!
//! HAProxy changes directory; we record the directory in force from each line on as a
//! [`PathScope`](crate::model::PathScope) and join it to relative paths
//! ([`Loader::resolve`]). The mode outlives the file that set it: each later file starts in
//! the directory that mode gives for it (its own for `config`, the same origin for `origin`).

use super::{Ctx, Loader};
use crate::diag::{Diagnostic, Origin};
use crate::model::PathScope;
use std::sync::Arc;

/// HAProxy's `PATH_MAX`: the size of the buffer the directory is built in.
pub const MAX_DIR_PATH: usize = 4096;

/// How relative paths are resolved (`enum default_path_mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Mode {
    /// `current`: the startup directory (the default).
    #[default]
    Current,
    /// `config`: the directory of the file being read.
    Config,
    /// `parent`: that directory's parent.
    Parent,
    /// `origin <path>`: a fixed directory.
    Origin,
}

/// The parser's statics: the mode, HAProxy's `current_cwd` buffer, and the directory in force.
#[derive(Debug, Clone, Default)]
pub(crate) struct State {
    mode: Mode,
    /// The last directory computed (kept across files, as `origin` relies on).
    cwd: String,
    /// The directory relative paths resolve against now (`None`: the startup directory).
    pub(crate) dir: Option<String>,
}

/// What the start of a file does: back to the startup directory, then the mode's directory.
pub(super) fn enter_file(l: &mut Loader<'_>, file: &Arc<str>) {
    if let Err(e) = apply(l, file, 0, None) {
        let msg = format!("failed to apply default-path: {e}.");
        let d = Diagnostic::alert("default-path", Origin::ParsingTight, msg).at(file, 0, 0);
        l.emit(d);
        l.aborted = true;
    }
}

/// `default-path <mode> [<path>]`.
pub(super) fn directive(l: &mut Loader<'_>, ctx: &Ctx<'_>) {
    let (kw, mode) = (ctx.arg(0), ctx.arg(1));
    let next = match mode {
        "current" => Mode::Current,
        "config" => Mode::Config,
        "parent" => Mode::Parent,
        "origin" => Mode::Origin,
        _ => {
            let which = if mode.is_empty() {
                "missing"
            } else {
                "unsupported"
            };
            let msg = format!(
                "{which} default-path mode '{mode}' for '{kw}', supported modes include 'current', 'config', 'parent', and 'origin'."
            );
            return l.alert(ctx, ctx.col(1), "bad-default-path", Origin::Parsing, msg);
        }
    };
    l.default_path.mode = next;
    let result = if next == Mode::Origin {
        if ctx.arg(2).is_empty() {
            let msg = format!("'{kw} {mode}' expects a directory as an argument.");
            return l.alert(ctx, ctx.col(1), "missing-argument", Origin::Parsing, msg);
        }
        apply(l, &ctx.file, ctx.line, Some(ctx.arg(2)))
            .map_err(|e| format!("couldn't set '{kw}' to origin '{}': {e}.", ctx.arg(2)))
    } else {
        apply(l, &ctx.file, ctx.line, None)
            .map_err(|e| format!("couldn't set '{kw}' to '{mode}': {e}."))
    };
    if let Err(msg) = result {
        l.alert(ctx, ctx.col(1), "bad-default-path", Origin::Parsing, msg);
    }
}

/// `cfg_apply_default_path()`: the directory for `file` under the current mode, from `line` on.
/// On failure the startup directory stays in force, as HAProxy's `chdir()` back to it has
/// already happened.
fn apply(
    l: &mut Loader<'_>,
    file: &Arc<str>,
    line: u32,
    origin: Option<&str>,
) -> Result<(), String> {
    let st = &mut l.default_path;
    st.dir = None;
    let result = compute(st, file, origin).and_then(|()| {
        if st.mode == Mode::Current || st.cwd.is_empty() {
            return Ok(());
        }
        l.env.enter_dir(&st.cwd).map_err(|e| {
            let reason = e.to_string();
            let reason = reason
                .split(" (os error")
                .next()
                .unwrap_or(&reason)
                .to_owned();
            // HAProxy names the startup directory here, not the one it failed to enter.
            format!(
                "Impossible to get back to directory '{}': {reason}",
                l.env.startup_dir()
            )
        })?;
        st.dir = Some(st.cwd.clone());
        Ok(())
    });
    l.config.path_scopes.push(PathScope {
        file: Arc::clone(file),
        line,
        dir: st.dir.clone(),
    });
    result
}

/// Fills `current_cwd` for the mode, with HAProxy's length checks.
fn compute(st: &mut State, file: &str, origin: Option<&str>) -> Result<(), String> {
    let dir = file.rfind('/').map_or("", |i| file.get(..i).unwrap_or(""));
    match st.mode {
        Mode::Current => {}
        Mode::Origin => {
            if let Some(o) = origin {
                if o.len() > MAX_DIR_PATH {
                    return Err(format!("Absolute path too long: '{o}'"));
                }
                o.clone_into(&mut st.cwd);
            }
        }
        Mode::Config | Mode::Parent => {
            let extra = if st.mode == Mode::Parent { 3 } else { 0 };
            if dir.len() + extra >= MAX_DIR_PATH {
                return Err(format!(
                    "Config file path too long, cannot use for relative paths: '{file}'"
                ));
            }
            st.cwd = match (st.mode, dir.is_empty()) {
                (Mode::Parent, true) => "..".to_owned(),
                (Mode::Parent, false) => format!("{dir}/.."),
                _ => dir.to_owned(),
            };
        }
    }
    Ok(())
}

impl Loader<'_> {
    /// A path opened while parsing, relative to the `default-path` directory in force.
    pub(crate) fn resolve(&self, path: &str) -> String {
        crate::model::join_dir(self.default_path.dir.as_deref(), path)
    }
}
