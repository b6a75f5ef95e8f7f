//! The `option` family.

use std::collections::BTreeMap;

/// HTTP connection handling (`option http-keep-alive`, `http-server-close`, `httpclose`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpConnMode {
    /// Keep-alive on both sides (the default).
    KeepAlive,
    /// Close the server side after each response.
    ServerClose,
    /// Close both sides after each response.
    Close,
}

/// Traffic log style.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogStyle {
    /// `option httplog`.
    Http,
    /// `option httplog clf`.
    HttpClf,
    /// `option httpslog`.
    Https,
    /// `option tcplog`.
    Tcp,
}

/// `option forwardfor [except NET] [header NAME] [if-none]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardFor {
    /// `except` network.
    pub except: Option<String>,
    /// Header name (default `X-Forwarded-For`).
    pub header: String,
    /// `if-none`.
    pub if_none: bool,
}

/// Every `option` of a proxy.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Options {
    /// Simple on/off options by name (`redispatch`, `abortonclose`, `dontlognull`, ...);
    /// `false` records an explicit `no option`.
    pub flags: BTreeMap<String, bool>,
    /// HTTP connection mode, when set.
    pub http_conn_mode: Option<HttpConnMode>,
    /// Log style, when set.
    pub log_style: Option<LogStyle>,
    /// `option forwardfor`.
    pub forwardfor: Option<ForwardFor>,
    /// `option originalto` arguments.
    pub originalto: Option<Vec<String>>,
    /// Health-check kind (`httpchk`, `ssl-hello-chk`, `smtpchk`, `mysql-check`, `pgsql-check`,
    /// `redis-check`, `ldap-check`, `tcp-check`, `spop-check`, `external-check`) and its words.
    pub check: Option<(String, Vec<String>)>,
    /// `option tcpka` (both sides).
    pub tcpka: Option<bool>,
    /// The `<interval>` of `option redispatch <interval>` when written (read as C's `atol`):
    /// redispatch every Nth retry, negative counts from the last retry, 0 never.
    pub redispatch_interval: Option<i64>,
}

impl Options {
    /// Whether a simple option is enabled.
    #[must_use]
    pub fn is_set(&self, name: &str) -> bool {
        self.flags.get(name).copied().unwrap_or(false)
    }
}
