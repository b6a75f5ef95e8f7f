//! `server` and `default-server` lines.

use super::Location;
use crate::values::Address;

/// One `server` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    /// Name.
    pub name: String,
    /// Where it was written.
    pub loc: Location,
    /// The address as written.
    pub addr_text: String,
    /// The parsed address.
    pub address: Address,
    /// Parameters, `default-server` ones applied first.
    pub params: ServerParams,
}

/// Parameters of a `server` or `default-server` line (reference §3.1).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ServerParams {
    /// `check`.
    pub check: Option<bool>,
    /// `inter`, ms.
    pub inter: Option<u32>,
    /// `fastinter`, ms.
    pub fastinter: Option<u32>,
    /// `downinter`, ms.
    pub downinter: Option<u32>,
    /// `rise`.
    pub rise: Option<i64>,
    /// `fall`.
    pub fall: Option<i64>,
    /// `weight` (0..=256).
    pub weight: Option<u32>,
    /// `backup`.
    pub backup: Option<bool>,
    /// `maxconn`.
    pub maxconn: Option<i64>,
    /// `maxqueue`.
    pub maxqueue: Option<i64>,
    /// `minconn`.
    pub minconn: Option<i64>,
    /// `cookie`.
    pub cookie: Option<String>,
    /// `send-proxy`.
    pub send_proxy: Option<bool>,
    /// `send-proxy-v2`.
    pub send_proxy_v2: Option<bool>,
    /// `ssl`.
    pub ssl: Option<bool>,
    /// `verify`.
    pub verify: Option<String>,
    /// `sni`.
    pub sni: Option<String>,
    /// `check-ssl`.
    pub check_ssl: Option<bool>,
    /// `check-sni`.
    pub check_sni: Option<String>,
    /// `port` (check port).
    pub port: Option<u16>,
    /// `addr` (check address).
    pub addr: Option<String>,
    /// `agent-check`.
    pub agent_check: Option<bool>,
    /// `agent-port`.
    pub agent_port: Option<u16>,
    /// `agent-addr`.
    pub agent_addr: Option<String>,
    /// `agent-inter`, ms.
    pub agent_inter: Option<u32>,
    /// `agent-send`.
    pub agent_send: Option<String>,
    /// `disabled` (`Some(false)` for `enabled`).
    pub disabled: Option<bool>,
    /// `slowstart`, ms.
    pub slowstart: Option<u32>,
    /// `on-marked-down`.
    pub on_marked_down: Option<String>,
    /// `on-marked-up`.
    pub on_marked_up: Option<String>,
    /// `observe`.
    pub observe: Option<String>,
    /// `error-limit`.
    pub error_limit: Option<i64>,
    /// `on-error`.
    pub on_error: Option<String>,
    /// `track [proxy/]server`.
    pub track: Option<String>,
    /// `init-addr`.
    pub init_addr: Option<String>,
    /// `id`.
    pub id: Option<i64>,
    /// Other parameters, as words.
    pub other: Vec<String>,
}
