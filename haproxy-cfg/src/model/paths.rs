//! Where relative file paths of the configuration are resolved (global `default-path`).
//!
//! HAProxy 2.6 changes its working directory while it reads the configuration: back to the
//! startup directory at the start of each file, then to the directory the `default-path` mode
//! names (`cfg_apply_default_path()`), again at each `default-path` line. Every file opened while
//! parsing (errorfiles, ACL and map files, `return file`, Lua, certificates) is therefore relative
//! to the directory in force at its line. At the end of each file HAProxy goes back to the
//! startup directory, so what it opens after parsing (the server state file, unix sockets it
//! binds, its pidfile) stays relative to that. The model keeps the directories as
//! [`PathScope`]s so that nothing has to change the process's directory.

use super::{Config, Location};
use std::sync::Arc;

/// From a line of a file on, relative paths resolve against `dir`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathScope {
    /// The configuration file, as named in [`Location::file`].
    pub file: Arc<str>,
    /// The first line the scope applies to (0: the whole file until the next scope).
    pub line: u32,
    /// The directory, itself relative to the startup directory when not absolute; `None`: the
    /// startup directory (`default-path current`, HAProxy's default).
    pub dir: Option<String>,
}

/// `dir/path`, or `path` when it is absolute, or when there is no directory.
#[must_use]
pub(crate) fn join_dir(dir: Option<&str>, path: &str) -> String {
    match dir {
        Some(d) if !d.is_empty() && !path.starts_with('/') => {
            let sep = if d.ends_with('/') { "" } else { "/" };
            format!("{d}{sep}{path}")
        }
        _ => path.to_owned(),
    }
}

impl Config {
    /// The directory relative paths written at `loc` resolve against (`None`: the startup
    /// directory).
    #[must_use]
    pub fn dir_at(&self, loc: &Location) -> Option<&str> {
        self.path_scopes
            .iter()
            .rev()
            .find(|s| *s.file == *loc.file && s.line <= loc.line)
            .and_then(|s| s.dir.as_deref())
    }

    /// A file path written at `loc`, as HAProxy 2.6 opens it: relative paths are taken from
    /// the `default-path` directory in force at that line.
    ///
    /// # Examples
    /// ```
    /// use haproxy_cfg::load::{load, SystemEnv};
    /// let doc = haproxy_cfg::parse_str("src/x.cfg", "global\n    default-path config\n");
    /// let cfg = load(&[doc], &SystemEnv).config;
    /// let loc = haproxy_cfg::model::Location { file: "src/x.cfg".into(), line: 9 };
    /// assert_eq!(cfg.resolve_path(&loc, "errors/503.http"), "src/errors/503.http");
    /// assert_eq!(cfg.resolve_path(&loc, "/etc/503.http"), "/etc/503.http");
    /// ```
    #[must_use]
    pub fn resolve_path(&self, loc: &Location, path: &str) -> String {
        join_dir(self.dir_at(loc), path)
    }
}
