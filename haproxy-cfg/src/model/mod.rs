//! The typed configuration: what the proxy needs from the sections HAProxy deployments use.
//!
//! Built by [`crate::load`] from parsed documents. Keywords that other crates interpret
//! (`acl`, `http-request`, `use_backend`, ...) are kept as words plus their `if`/`unless`
//! condition in [`Rule`]; keywords the model does not type yet are kept as [`Directive`]s.

mod balance;
mod bind;
mod global;
mod log;
mod options;
mod paths;
mod proxy;
mod rules;
mod server;
mod userlist;

pub use balance::{Balance, HashFunction, HashMethod, HashType};
pub use bind::{Bind, BindOptions};
pub use global::{EnvOp, Global, StatsSocket, Tune, UnixBind};
pub use log::{FACILITIES, FORMATS, LEVELS, LogTarget, Syslog};
pub use options::{ForwardFor, HttpConnMode, LogStyle, Options};
pub use paths::PathScope;
pub(crate) use paths::join_dir;
pub use proxy::{
    Capture, Cookie, CookieMode, ErrorFile, HttpReuse, Mode, Proxy, ProxyKind, Timeouts,
};
pub use rules::{Condition, Rule, RuleKind};
pub use server::{Server, ServerExtra, ServerParams};
pub use userlist::{User, UserGroup, Userlist};

/// Where a section or directive was written.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Location {
    /// The file, as named on the command line (shared by every location in that file).
    pub file: std::sync::Arc<str>,
    /// 1-based line.
    pub line: u32,
}

/// A directive kept as written (after quoting), for keywords the model does not type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directive {
    /// Where it was written.
    pub loc: Location,
    /// Every word, the keyword first.
    pub words: Vec<String>,
}

/// A whole configuration: every file given with `-f`, in order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Config {
    /// The `global` sections, merged.
    pub global: Global,
    /// Every `defaults` section, in order.
    pub defaults: Vec<Proxy>,
    /// Every frontend, backend and listen section, in order, with inherited settings applied.
    pub proxies: Vec<Proxy>,
    /// Every `userlist`.
    pub userlists: Vec<Userlist>,
    /// Sections of other kinds (peers, resolvers, cache, http-errors...): the header's words
    /// joined by spaces (`http-errors site`), and the body kept as directives.
    pub other_sections: Vec<(String, Vec<Directive>)>,
    /// Where relative file paths are resolved from, line by line (global `default-path`); see
    /// [`Config::resolve_path`].
    pub path_scopes: Vec<PathScope>,
}

impl Config {
    /// The proxy with this name that has a frontend side.
    #[must_use]
    pub fn frontend(&self, name: &str) -> Option<&Proxy> {
        self.proxies
            .iter()
            .find(|p| p.name == name && p.kind.has_frontend())
    }

    /// The proxy with this name that has a backend side.
    #[must_use]
    pub fn backend(&self, name: &str) -> Option<&Proxy> {
        self.proxies
            .iter()
            .find(|p| p.name == name && p.kind.has_backend())
    }

    /// Proxies with a frontend side (frontend and listen).
    pub fn frontends(&self) -> impl Iterator<Item = &Proxy> {
        self.proxies.iter().filter(|p| p.kind.has_frontend())
    }

    /// Proxies with a backend side (backend and listen).
    pub fn backends(&self) -> impl Iterator<Item = &Proxy> {
        self.proxies.iter().filter(|p| p.kind.has_backend())
    }
}
