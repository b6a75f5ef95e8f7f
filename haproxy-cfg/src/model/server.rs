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

/// Parameters of a `server` or `default-server` line (reference §3.1). The common numeric and
/// boolean ones are inline; the rarer text ones live in [`ServerExtra`], allocated only when a
/// line uses one (large configurations have tens of thousands of servers).
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
    /// `check-ssl`.
    pub check_ssl: Option<bool>,
    /// `port` (check port).
    pub port: Option<u16>,
    /// `agent-check`.
    pub agent_check: Option<bool>,
    /// `agent-port`.
    pub agent_port: Option<u16>,
    /// `agent-inter`, ms.
    pub agent_inter: Option<u32>,
    /// `disabled` (`Some(false)` for `enabled`).
    pub disabled: Option<bool>,
    /// `slowstart`, ms.
    pub slowstart: Option<u32>,
    /// `error-limit`.
    pub error_limit: Option<i64>,
    /// `id`.
    pub id: Option<i64>,
    /// Rarer parameters (TLS, check addresses, tracking...), when any is set.
    pub extra: Option<Box<ServerExtra>>,
}

impl ServerParams {
    /// The rarer parameters, allocated on first use.
    pub fn extra_mut(&mut self) -> &mut ServerExtra {
        self.extra.get_or_insert_with(Box::default)
    }

    /// The rarer parameters (all unset when none was given).
    #[must_use]
    pub fn extra(&self) -> &ServerExtra {
        static NONE: ServerExtra = ServerExtra::EMPTY;
        self.extra.as_deref().unwrap_or(&NONE)
    }
}

/// The rarer, text-valued server parameters.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ServerExtra {
    /// `verify`.
    pub verify: Option<String>,
    /// `sni`.
    pub sni: Option<String>,
    /// `check-sni`.
    pub check_sni: Option<String>,
    /// `addr` (check address).
    pub addr: Option<String>,
    /// `agent-addr`.
    pub agent_addr: Option<String>,
    /// `agent-send`.
    pub agent_send: Option<String>,
    /// `on-marked-down`.
    pub on_marked_down: Option<String>,
    /// `on-marked-up`.
    pub on_marked_up: Option<String>,
    /// `observe`.
    pub observe: Option<String>,
    /// `on-error`.
    pub on_error: Option<String>,
    /// `track [proxy/]server`.
    pub track: Option<String>,
    /// `init-addr`.
    pub init_addr: Option<String>,
    /// Other parameters, as words.
    pub other: Vec<String>,
}

impl ServerExtra {
    /// Nothing set.
    pub const EMPTY: Self = Self {
        verify: None,
        sni: None,
        check_sni: None,
        addr: None,
        agent_addr: None,
        agent_send: None,
        on_marked_down: None,
        on_marked_up: None,
        observe: None,
        on_error: None,
        track: None,
        init_addr: None,
        other: Vec::new(),
    };
}
