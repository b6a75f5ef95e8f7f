//! The proxy's own runtime description of frontends, backends and servers.
//!
//! `build` fills these from a `haproxy_cfg` model; nothing here knows about configuration text.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use crate::errors::ErrorPages;
use crate::h1::H1Limits;

/// `mode tcp` or `mode http`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Plain TCP forwarding.
    Tcp,
    /// HTTP/1.1 processing (HAProxy's default for `defaults` written without `mode` is tcp;
    /// callers set it explicitly).
    #[default]
    Http,
}

/// The HTTP connection mode (reference §6.1); stronger modes win.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum ConnMode {
    /// `option http-keep-alive` (the default, KAL).
    #[default]
    KeepAlive,
    /// `option http-server-close` (SCL): the server side closes after each response.
    ServerClose,
    /// `option httpclose` (CLO): both sides close, with `connection: close` both ways.
    Close,
}

impl ConnMode {
    /// The effective server-side mode: the strongest of the frontend's and the backend's.
    pub fn effective(frontend: ConnMode, backend: ConnMode) -> ConnMode {
        frontend.max(backend)
    }

    /// Whether the client side stays open: only `httpclose` on the frontend closes it.
    pub fn client_keeps_alive(frontend: ConnMode) -> bool {
        frontend != ConnMode::Close
    }
}

/// The timeouts of a proxy; `None` means "not set" (infinite, as in HAProxy).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Timeouts {
    /// `timeout client`.
    pub client: Option<Duration>,
    /// `timeout server`.
    pub server: Option<Duration>,
    /// `timeout connect`.
    pub connect: Option<Duration>,
    /// `timeout client-fin`: client-side inactivity once the stream is half-closed.
    pub client_fin: Option<Duration>,
    /// `timeout server-fin`: server-side inactivity once the stream is half-closed.
    pub server_fin: Option<Duration>,
    /// `timeout tunnel`: both sides, once the stream is a tunnel.
    pub tunnel: Option<Duration>,
    /// `timeout http-request`: the whole request head must arrive within it.
    pub http_request: Option<Duration>,
    /// `timeout http-keep-alive`: idle time allowed before the next request.
    pub http_keep_alive: Option<Duration>,
    /// `timeout queue`: time allowed in a server queue (falls back to `connect`).
    pub queue: Option<Duration>,
}

impl Timeouts {
    /// The keep-alive idle timeout with HAProxy's fallbacks: http-keep-alive, http-request, client.
    pub fn keep_alive_idle(&self) -> Option<Duration> {
        self.http_keep_alive.or(self.http_request).or(self.client)
    }

    /// The request-head timeout: http-request, else client.
    pub fn request_head(&self) -> Option<Duration> {
        self.http_request.or(self.client)
    }
}

/// `option forwardfor [except <net>] [header <name>] [if-none]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardFor {
    /// Sources in this network get no header.
    pub except: Option<(IpAddr, u8)>,
    /// The header name (lowercase on output).
    pub header: String,
    /// Add the header only when the request has none.
    pub if_none: bool,
}

impl Default for ForwardFor {
    fn default() -> Self {
        ForwardFor {
            except: None,
            header: "x-forwarded-for".to_owned(),
            if_none: false,
        }
    }
}

impl ForwardFor {
    /// True when `ip` falls in the `except` network.
    pub fn is_excepted(&self, ip: IpAddr) -> bool {
        let Some((net, bits)) = self.except else {
            return false;
        };
        match (net, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => prefix_eq(&n.octets(), &a.octets(), bits),
            (IpAddr::V6(n), IpAddr::V6(a)) => prefix_eq(&n.octets(), &a.octets(), bits),
            _ => false,
        }
    }
}

fn prefix_eq(a: &[u8], b: &[u8], bits: u8) -> bool {
    let bits = usize::from(bits).min(a.len() * 8);
    let (full, rest) = (bits / 8, bits % 8);
    if a.get(..full) != b.get(..full) {
        return false;
    }
    if rest == 0 {
        return true;
    }
    let mask = 0xffu8 << (8 - rest);
    matches!((a.get(full), b.get(full)), (Some(x), Some(y)) if x & mask == y & mask)
}

/// `send-proxy` / `send-proxy-v2` on a server line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendProxy {
    /// PROXY protocol v1.
    V1,
    /// PROXY protocol v2.
    V2,
}

/// A server of a backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerSettings {
    /// The server's name.
    pub name: String,
    /// Where to connect.
    pub addr: SocketAddr,
    /// `maxconn` (0 = unlimited).
    pub maxconn: u32,
    /// `maxqueue` (0 = unlimited).
    pub maxqueue: u32,
    /// `weight` (0 = never chosen by the balancer).
    pub weight: u32,
    /// `backup`.
    pub backup: bool,
    /// `send-proxy` / `send-proxy-v2`.
    pub send_proxy: Option<SendProxy>,
    /// A server written without a port (`Some(0)`) or with `+N` / `-N`: connections go to the
    /// port the client connected to plus this offset (HAProxy's port mapping); `addr`'s port
    /// is then 0 and unused.
    pub port_offset: Option<i32>,
}

impl ServerSettings {
    /// Where a connection to this server goes for a stream that reached the proxy at `dst`:
    /// `live` (the current address, moved by `set server addr`) or the configured one, on the
    /// client's destination port plus the offset for a server without its own port.
    pub fn target(&self, live: Option<SocketAddr>, dst: SocketAddr) -> SocketAddr {
        let mut addr = live.unwrap_or(self.addr);
        if let Some(offset) = self.port_offset {
            addr.set_port(mapped_port(dst.port(), offset));
        }
        addr
    }
}

/// The client's destination port shifted by `offset`, wrapping as HAProxy's 16-bit port does.
pub fn mapped_port(dst_port: u16, offset: i32) -> u16 {
    // rem_euclid(65536) is in 0..65536: the conversion cannot fail.
    u16::try_from((i32::from(dst_port) + offset).rem_euclid(1 << 16)).unwrap_or(0)
}

/// A frontend: how clients are received.
#[derive(Debug, Clone)]
pub struct FrontendSettings {
    /// The frontend's name.
    pub name: String,
    /// `mode`.
    pub mode: Mode,
    /// The timeouts (client side ones matter here).
    pub timeouts: Timeouts,
    /// The connection mode option set on the frontend.
    pub conn_mode: ConnMode,
    /// `option forwardfor` on the frontend.
    pub forwardfor: Option<ForwardFor>,
    /// `option originalto` on the frontend (the header name).
    pub originalto: Option<String>,
    /// Frontend `maxconn` (0 = unlimited).
    pub maxconn: u32,
    /// `tune.bufsize`, `tune.maxrewrite`, `tune.http.maxhdr`.
    pub limits: H1Limits,
    /// Error pages (built-in, overridden by `errorfile`).
    pub errors: ErrorPages,
    /// The frontend's index in the registry (`usize::MAX` for a frontend built by hand, outside
    /// any registry), so the per-connection paths need no lookup by name.
    pub index: usize,
    /// The stats page (`stats enable`, `stats uri`…), if the frontend serves one.
    pub stats: Option<std::sync::Arc<crate::statspage::StatsPage>>,
    /// `option http-no-delay`: no piece of a message waits for the next (no `MSG_MORE`).
    pub no_delay: bool,
    /// `option http-buffer-request`: the whole request body is waited for before the
    /// frontend's rules run. HAProxy drops the option from a TCP frontend without a
    /// `switch-mode http` rule, and a stream upgraded by its backend does not run it.
    pub buffer_request: bool,
    /// For a listen section, the index of its own backend: that backend's `http-request` rules
    /// already ran as the frontend's, so they do not run again when the stream reaches it.
    pub own_backend: Option<usize>,
    /// `option h1-case-adjust-bogus-client` with a non-empty global `h1-case-adjust` map: the
    /// header names of every head sent to the client are respelled by it. `None` otherwise (no
    /// work at all on the response path).
    pub case_adjust: Option<std::sync::Arc<crate::h1::CaseMap>>,
}

/// A backend: where requests go.
#[derive(Debug, Clone)]
pub struct BackendSettings {
    /// The backend's name.
    pub name: String,
    /// `mode`.
    pub mode: Mode,
    /// The timeouts (server side ones matter here).
    pub timeouts: Timeouts,
    /// The connection mode option set on the backend.
    pub conn_mode: ConnMode,
    /// `retries` (HAProxy's default is 3).
    pub retries: u32,
    /// `option redispatch`: the last retry goes to another server.
    pub redispatch: bool,
    /// The `<interval>` of `option redispatch` (HAProxy's `redispatch_after`): -1, the plain
    /// option, redispatches the last retry; N > 0 every Nth retry; N < 0 the retries whose number
    /// is a multiple of `retries + 1 + N` (-2: the one before the last, and so on); 0 none.
    pub redispatch_interval: i64,
    /// `option forwardfor` on the backend.
    pub forwardfor: Option<ForwardFor>,
    /// `option originalto` on the backend (the header name).
    pub originalto: Option<String>,
    /// The servers.
    pub servers: Vec<ServerSettings>,
    /// The backend's own error pages (its `errorfile`s or its defaults'), which come before
    /// the frontend's for a stream that reached it.
    pub errors: ErrorPages,
    /// `http-reuse`: which idle server connections its requests may take.
    pub reuse: haproxy_cfg::model::HttpReuse,
    /// `option http-no-delay` on the backend.
    pub no_delay: bool,
    /// `option http-buffer-request` on the backend: the whole request body is waited for
    /// before the backend's rules run (unless the frontend already waited for it).
    pub buffer_request: bool,
    /// The backend's stats page (`stats enable`, `stats uri`… in a `backend` section), served
    /// when a request that reached it matches it. A listen section's page is its frontend's.
    pub stats: Option<std::sync::Arc<crate::statspage::StatsPage>>,
    /// The backend's `http-request` rules (in HTTP mode after its `tcp-request content`
    /// rules), run once a stream chose the backend, after the frontend's rules.
    pub rules: std::sync::Arc<[crate::http::RequestRule]>,
    /// `option h1-case-adjust-bogus-server` with a non-empty global `h1-case-adjust` map: the
    /// header names of every request head (and trailer) sent to a server are respelled by it.
    /// `None` otherwise (no work at all on the request path).
    pub case_adjust: Option<std::sync::Arc<crate::h1::CaseMap>>,
}

/// HAProxy's default `retries`.
pub const DEFAULT_RETRIES: u32 = 3;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strongest_mode_wins() {
        assert_eq!(
            ConnMode::effective(ConnMode::KeepAlive, ConnMode::ServerClose),
            ConnMode::ServerClose
        );
        assert_eq!(
            ConnMode::effective(ConnMode::Close, ConnMode::ServerClose),
            ConnMode::Close
        );
        assert!(ConnMode::client_keeps_alive(ConnMode::ServerClose));
        assert!(!ConnMode::client_keeps_alive(ConnMode::Close));
    }

    #[test]
    fn forwardfor_except_matches_networks() {
        let ff = ForwardFor {
            except: Some(("127.0.0.0".parse().unwrap(), 8)),
            ..ForwardFor::default()
        };
        assert!(ff.is_excepted("127.1.2.3".parse().unwrap()));
        assert!(!ff.is_excepted("10.0.0.1".parse().unwrap()));
        let ff = ForwardFor {
            except: Some(("10.0.0.0".parse().unwrap(), 9)),
            ..ForwardFor::default()
        };
        assert!(ff.is_excepted("10.127.0.1".parse().unwrap()));
        assert!(!ff.is_excepted("10.128.0.1".parse().unwrap()));
    }

    #[test]
    fn timeout_fallbacks() {
        let t = Timeouts {
            client: Some(Duration::from_secs(5)),
            ..Timeouts::default()
        };
        assert_eq!(t.keep_alive_idle(), Some(Duration::from_secs(5)));
        let t = Timeouts {
            http_request: Some(Duration::from_secs(1)),
            ..t
        };
        assert_eq!(t.keep_alive_idle(), Some(Duration::from_secs(1)));
        assert_eq!(t.request_head(), Some(Duration::from_secs(1)));
    }
}
