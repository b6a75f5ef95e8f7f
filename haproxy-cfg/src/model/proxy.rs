//! Proxies: `defaults`, `frontend`, `backend` and `listen` sections.

use super::{
    Balance, Bind, Directive, HashType, Location, LogTarget, Options, Rule, Server, ServerParams,
};

/// The kind of proxy section.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProxyKind {
    /// `defaults`.
    Defaults,
    /// `frontend`.
    Frontend,
    /// `backend`.
    Backend,
    /// `listen`.
    Listen,
}

impl ProxyKind {
    /// The section keyword.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Defaults => "defaults",
            Self::Frontend => "frontend",
            Self::Backend => "backend",
            Self::Listen => "listen",
        }
    }

    /// How HAProxy names the proxy in messages (`proxy_type_str()`): a listen or defaults
    /// section is a "proxy".
    #[must_use]
    pub fn type_str(self) -> &'static str {
        match self {
            Self::Frontend => "frontend",
            Self::Backend => "backend",
            Self::Listen | Self::Defaults => "proxy",
        }
    }

    /// Whether it accepts connections (frontend, listen; defaults carry frontend settings too).
    #[must_use]
    pub fn has_frontend(self) -> bool {
        matches!(self, Self::Frontend | Self::Listen | Self::Defaults)
    }

    /// Whether it holds servers (backend, listen; defaults carry backend settings too).
    #[must_use]
    pub fn has_backend(self) -> bool {
        matches!(self, Self::Backend | Self::Listen | Self::Defaults)
    }
}

/// `http-reuse`: which idle server connections a request may take (HAProxy 2.6 semantics).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum HttpReuse {
    /// `never`: a server connection serves only the client connection that opened it.
    Never,
    /// `safe` (the default): a client connection's first request gets a connection of its
    /// own; its later requests may take any idle one.
    #[default]
    Safe,
    /// `aggressive`: a first request may take an idle connection that has already carried a
    /// second request; later ones any.
    Aggressive,
    /// `always`: every request may take any idle connection.
    Always,
}

impl HttpReuse {
    /// The mode named `word`, as `http-reuse` takes it.
    #[must_use]
    pub fn from_word(word: &str) -> Option<Self> {
        match word {
            "never" => Some(Self::Never),
            "safe" => Some(Self::Safe),
            "aggressive" => Some(Self::Aggressive),
            "always" => Some(Self::Always),
            _ => None,
        }
    }

    /// Which idle connections another client left a request may take (`not_first`: the client
    /// connection has had a request before): `None` none, `Some(true)` only those that carried
    /// a second request, `Some(false)` any (HAProxy 2.6's `connect_server()`).
    #[must_use]
    pub fn idle_for(self, not_first: bool) -> Option<bool> {
        match self {
            Self::Never => None,
            Self::Safe => not_first.then_some(false),
            Self::Aggressive => Some(!not_first),
            Self::Always => Some(false),
        }
    }
}

/// `mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Mode {
    /// `mode tcp` (the default).
    #[default]
    Tcp,
    /// `mode http`.
    Http,
    /// `mode health` (removed in 2.6; kept so it can be reported).
    Health,
}

impl Mode {
    /// The keyword.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Tcp => "tcp",
            Self::Http => "http",
            Self::Health => "health",
        }
    }
}

/// `timeout` values, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Timeouts {
    /// `timeout client`.
    pub client: Option<u32>,
    /// `timeout client-fin`.
    pub client_fin: Option<u32>,
    /// `timeout server`.
    pub server: Option<u32>,
    /// `timeout server-fin`.
    pub server_fin: Option<u32>,
    /// `timeout connect`.
    pub connect: Option<u32>,
    /// `timeout check`.
    pub check: Option<u32>,
    /// `timeout queue`.
    pub queue: Option<u32>,
    /// `timeout http-keep-alive`.
    pub http_keep_alive: Option<u32>,
    /// `timeout http-request`.
    pub http_request: Option<u32>,
    /// `timeout tunnel`.
    pub tunnel: Option<u32>,
    /// `timeout tarpit`.
    pub tarpit: Option<u32>,
}

impl Timeouts {
    /// The slot for a `timeout` name, or `None` for an unknown name.
    pub fn slot(&mut self, name: &str) -> Option<&mut Option<u32>> {
        Some(match name {
            "client" => &mut self.client,
            "client-fin" => &mut self.client_fin,
            "server" => &mut self.server,
            "server-fin" => &mut self.server_fin,
            "connect" => &mut self.connect,
            "check" => &mut self.check,
            "queue" => &mut self.queue,
            "http-keep-alive" => &mut self.http_keep_alive,
            "http-request" => &mut self.http_request,
            "tunnel" => &mut self.tunnel,
            "tarpit" => &mut self.tarpit,
            _ => return None,
        })
    }
}

/// `cookie <name> [mode] [options]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cookie {
    /// Cookie name.
    pub name: String,
    /// rewrite, insert or prefix (`None`: passive).
    pub mode: Option<CookieMode>,
    /// `indirect`.
    pub indirect: bool,
    /// `nocache`.
    pub nocache: bool,
    /// `postonly`.
    pub postonly: bool,
    /// `preserve`.
    pub preserve: bool,
    /// `httponly`.
    pub httponly: bool,
    /// `secure`.
    pub secure: bool,
    /// `dynamic`.
    pub dynamic: bool,
    /// `domain` values.
    pub domains: Vec<String>,
    /// `maxidle`, seconds.
    pub maxidle: Option<u32>,
    /// `maxlife`, seconds.
    pub maxlife: Option<u32>,
    /// `attr` values.
    pub attrs: Vec<String>,
}

/// How the persistence cookie is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CookieMode {
    /// `rewrite`.
    Rewrite,
    /// `insert`.
    Insert,
    /// `prefix`.
    Prefix,
}

/// `errorfile`, `errorloc*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorFile {
    /// `errorfile <code> <file>`, with the file's contents.
    File {
        /// Status code.
        code: u16,
        /// Path.
        path: String,
        /// The raw HTTP response read from the file.
        contents: Vec<u8>,
    },
    /// `errorloc`/`errorloc302`/`errorloc303 <code> <url>`.
    Location {
        /// Status code answered for.
        code: u16,
        /// 302 or 303.
        redirect: u16,
        /// Target URL.
        url: String,
    },
    /// `errorfiles <name> [code...]`.
    Section {
        /// http-errors section name.
        name: String,
        /// Where the `errorfiles` line was written.
        loc: Location,
        /// Codes taken from it (empty: all).
        codes: Vec<u16>,
    },
}

/// `capture request header`, `capture response header`, `capture cookie`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Capture {
    /// `capture request header <name> len <n>`.
    RequestHeader(String, u32),
    /// `capture response header <name> len <n>`.
    ResponseHeader(String, u32),
    /// `capture cookie <name> len <n>`.
    Cookie(String, u32),
}

/// A defaults, frontend, backend or listen section, with inherited settings applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proxy {
    /// Kind of section.
    pub kind: ProxyKind,
    /// Name (empty for an anonymous defaults section).
    pub name: String,
    /// Where the header was written.
    pub loc: Location,
    /// The defaults section used: its name (empty if anonymous) and location.
    pub defaults: Option<(String, Location)>,
    /// `mode`.
    pub mode: Mode,
    /// `disabled`.
    pub disabled: bool,
    /// `maxconn`.
    pub maxconn: Option<i64>,
    /// `backlog`.
    pub backlog: Option<i64>,
    /// `fullconn`.
    pub fullconn: Option<i64>,
    /// `timeout`s.
    pub timeouts: Timeouts,
    /// `option`s.
    pub options: Options,
    /// `retries`.
    pub retries: Option<i64>,
    /// `retry-on` keywords.
    pub retry_on: Vec<String>,
    /// `bind` lines.
    pub binds: Vec<Bind>,
    /// `default-server` parameters.
    pub default_server: ServerParams,
    /// `server` lines.
    pub servers: Vec<Server>,
    /// `balance`.
    pub balance: Option<Balance>,
    /// `hash-type`.
    pub hash_type: Option<HashType>,
    /// `hash-balance-factor`.
    pub hash_balance_factor: Option<u32>,
    /// `http-reuse` (`None`: not written, HAProxy's `safe`).
    pub http_reuse: Option<HttpReuse>,
    /// `cookie`.
    pub cookie: Option<Cookie>,
    /// The section's own rules (acl, http-request, use_backend, ...) in file order; rules of the
    /// named defaults section in [`Proxy::defaults`] run before them.
    pub rules: Vec<Rule>,
    /// `default_backend`.
    pub default_backend: Option<(String, Location)>,
    /// Error pages.
    pub errorfiles: Vec<ErrorFile>,
    /// `http-error` lines, as words.
    pub http_errors: Vec<Directive>,
    /// Captures.
    pub captures: Vec<Capture>,
    /// `monitor-uri`.
    pub monitor_uri: Option<String>,
    /// `monitor-net` networks (legacy; answered like `monitor-uri`).
    pub monitor_nets: Vec<String>,
    /// `stats` lines, as words (`stats` first).
    pub stats: Vec<Directive>,
    /// `log` lines.
    pub logs: Vec<LogTarget>,
    /// `log-format` (also set by `option httplog`/`tcplog` defaults).
    pub log_format: Option<String>,
    /// Where the log format (`log-format` or `option httplog`...) was set.
    pub log_format_loc: Option<Location>,
    /// `description`.
    pub description: Option<String>,
    /// `id`.
    pub id: Option<i64>,
    /// Other known keywords, as words.
    pub other: Vec<Directive>,
}

impl Proxy {
    /// A proxy with HAProxy's built-in defaults.
    #[must_use]
    pub fn new(kind: ProxyKind, name: &str, loc: Location) -> Self {
        Self {
            kind,
            name: name.to_owned(),
            loc,
            defaults: None,
            mode: Mode::Tcp,
            disabled: false,
            maxconn: None,
            backlog: None,
            fullconn: None,
            timeouts: Timeouts::default(),
            options: Options::default(),
            retries: None,
            retry_on: Vec::new(),
            binds: Vec::new(),
            default_server: ServerParams::default(),
            servers: Vec::new(),
            balance: None,
            hash_type: None,
            hash_balance_factor: None,
            http_reuse: None,
            cookie: None,
            rules: Vec::new(),
            default_backend: None,
            errorfiles: Vec::new(),
            http_errors: Vec::new(),
            captures: Vec::new(),
            monitor_uri: None,
            monitor_nets: Vec::new(),
            stats: Vec::new(),
            logs: Vec::new(),
            log_format: None,
            log_format_loc: None,
            description: None,
            id: None,
            other: Vec::new(),
        }
    }
}
