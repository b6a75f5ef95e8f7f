//! `bind` lines.

use super::{Location, UnixBind};
use crate::values::Address;

/// One `bind` line: one or more addresses and their options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bind {
    /// Where it was written.
    pub loc: Location,
    /// The address list as written (`127.0.0.1:80,[::1]:80`).
    pub text: String,
    /// The parsed addresses.
    pub addresses: Vec<Address>,
    /// Options.
    pub options: BindOptions,
    /// The global `unix-bind` mode and owner in force when the line was read: a unix socket
    /// takes them where its own options say nothing (the prefix is already in `addresses`).
    pub unix_defaults: UnixBind,
}

/// Options of a `bind` line.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BindOptions {
    /// `ssl`.
    pub ssl: bool,
    /// `crt` files.
    pub crt: Vec<String>,
    /// `crt-list` files.
    pub crt_list: Vec<String>,
    /// `alpn` protocol list.
    pub alpn: Option<String>,
    /// `accept-proxy`.
    pub accept_proxy: bool,
    /// `name`.
    pub name: Option<String>,
    /// `maxconn`.
    pub maxconn: Option<i64>,
    /// `backlog`.
    pub backlog: Option<i64>,
    /// `mode` (unix socket permissions, octal).
    pub mode: Option<u32>,
    /// `level` (stats sockets).
    pub level: Option<String>,
    /// `user`.
    pub user: Option<String>,
    /// `group`.
    pub group: Option<String>,
    /// `v4v6`.
    pub v4v6: bool,
    /// `v6only`.
    pub v6only: bool,
    /// `transparent`.
    pub transparent: bool,
    /// `interface`.
    pub interface: Option<String>,
    /// `process` (legacy; ignored).
    pub process: Option<String>,
    /// Other options, as words.
    pub other: Vec<String>,
}
