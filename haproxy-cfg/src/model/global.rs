//! The `global` section.

use super::{Directive, LogTarget};

/// Process-wide settings.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Global {
    /// `daemon`.
    pub daemon: bool,
    /// `master-worker`.
    pub master_worker: bool,
    /// `pidfile`.
    pub pidfile: Option<String>,
    /// `chroot`.
    pub chroot: Option<String>,
    /// `user` (name).
    pub user: Option<String>,
    /// `group` (name).
    pub group: Option<String>,
    /// `uid`.
    pub uid: Option<u32>,
    /// `gid`.
    pub gid: Option<u32>,
    /// `nbthread`.
    pub nbthread: Option<u32>,
    /// `nbproc` (legacy; mapped to threads).
    pub nbproc: Option<u32>,
    /// `cpu-map` lines, as words.
    pub cpu_map: Vec<Vec<String>>,
    /// `ulimit-n`.
    pub ulimit_n: Option<i64>,
    /// `fd-hard-limit`: the most descriptors the process raises its limit to or derives
    /// `maxconn` from (read as leniently as HAProxy: `abc` is 0, meaning none).
    pub fd_hard_limit: Option<i64>,
    /// `maxconn` (read as leniently as HAProxy: `1k` is 1).
    pub maxconn: Option<i64>,
    /// `node`.
    pub node: Option<String>,
    /// `description`.
    pub description: Option<String>,
    /// `log` targets.
    pub logs: Vec<LogTarget>,
    /// `log-tag`.
    pub log_tag: Option<String>,
    /// `stats socket` lines.
    pub stats_sockets: Vec<StatsSocket>,
    /// `stats timeout`, ms.
    pub stats_timeout: Option<u32>,
    /// `stats maxconn`.
    pub stats_maxconn: Option<i64>,
    /// `hard-stop-after`, ms.
    pub hard_stop_after: Option<u32>,
    /// `spread-checks`, percent.
    pub spread_checks: Option<u8>,
    /// `max-spread-checks`, ms: the longest delay before the first health check of a server
    /// (0 or unset: no cap).
    pub max_spread_checks: Option<u32>,
    /// `tune.*` values the proxy uses.
    pub tune: Tune,
    /// `ssl-default-*` and other `ssl-*` settings, keyword then arguments.
    pub ssl: Vec<(String, Vec<String>)>,
    /// `ca-base`.
    pub ca_base: Option<String>,
    /// `crt-base`.
    pub crt_base: Option<String>,
    /// `unix-bind`: defaults for every `bind` on a unix socket read after it.
    pub unix_bind: UnixBind,
    /// `setenv`, `presetenv`, `unsetenv`, `resetenv`, in order.
    pub env: Vec<EnvOp>,
    /// `zero-warning`.
    pub zero_warning: bool,
    /// `quiet`.
    pub quiet: bool,
    /// Outgoing HTTP/1 header names to respell, as (`from`, `to`) pairs that differ only in
    /// case: the `h1-case-adjust` lines in order, then, once the configuration is checked, the
    /// pairs read from `h1-case-adjust-file`. A name matches `from` byte for byte, as in
    /// HAProxy (whose emitted names are lowercase). Used only by proxies with `option
    /// h1-case-adjust-bogus-client` (responses) or `-bogus-server` (requests).
    pub h1_case_adjust: Vec<(String, String)>,
    /// `h1-case-adjust-file`: the last one named (HAProxy keeps only it), read after parsing.
    pub h1_case_adjust_file: Option<String>,
    /// Other known keywords, as words.
    pub other: Vec<Directive>,
}

/// Global `unix-bind [prefix <p>] [mode <m>] [user <u>|uid <n>] [group <g>|gid <n>]`.
///
/// As in HAProxy 2.6, each `bind` line takes the mode and owner in force when it is read
/// ([`super::Bind::unix_defaults`]), and its own `mode`/`user`/`group` win; the prefix is put
/// before its unix socket paths (not abstract names, not `stats socket`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UnixBind {
    /// `prefix`: put literally before every unix socket path of a `bind`.
    pub prefix: Option<String>,
    /// `mode` (octal permissions; HAProxy leaves the socket's mode alone at 0).
    pub mode: Option<u32>,
    /// `uid`, or `user` resolved at parse time.
    pub uid: Option<u32>,
    /// `gid`, or `group` resolved at parse time.
    pub gid: Option<u32>,
}

/// Buffer and header limits.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Tune {
    /// `tune.bufsize` (default 16384).
    pub bufsize: Option<u32>,
    /// `tune.maxrewrite` (default 1024).
    pub maxrewrite: Option<u32>,
    /// `tune.http.maxhdr` (default 101).
    pub http_maxhdr: Option<u32>,
}

/// One `stats socket` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatsSocket {
    /// The address (a path, `ipv4@...`, ...), as written.
    pub address: String,
    /// `mode` (octal permissions).
    pub mode: Option<u32>,
    /// `level` (user, operator, admin).
    pub level: Option<String>,
    /// `expose-fd listeners`.
    pub expose_fd_listeners: bool,
    /// Other bind options, as words.
    pub other: Vec<String>,
}

/// An environment operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvOp {
    /// `setenv NAME VALUE`.
    Set(String, String),
    /// `presetenv NAME VALUE`.
    Preset(String, String),
    /// `unsetenv NAME...`.
    Unset(Vec<String>),
    /// `resetenv [NAME...]`: keep only these.
    Reset(Vec<String>),
}
