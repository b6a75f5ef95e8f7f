//! HAProxy 2.6's post-parse alerts for a health-checked server that has no port to check (an
//! IP address written without a port, or with `+N`/`-N`, and no `port` on the server line), so
//! that `haproxy -c` reports them as startup does. Recorded in
//! `tests/data/haproxy-2.6/portless/`.
//!
//! Which text HAProxy 2.6.12 prints depends on the proxy's check ruleset (observed): without a
//! check option, the first such proxy in the file gets `has neither service port nor check
//! port.` and every later one the longer `... nor tcp_check rule 'connect' with port
//! information.` (the shared default ruleset is attached once the first proxy's checks are set
//! up); a proxy with a check option gets the longer text unless its first `tcp-check` rule is a
//! `connect` with a port, and then each later `connect` rule needs a port too. A server named by
//! host name is resolved later and is not checked here.

use haproxy_cfg::model::{Config, Proxy, ProxyKind, Server};
use haproxy_cfg::values::{Address, Host, Port};
use haproxy_check::probe::{CheckKind, TcpRule};

use crate::health::check_kind;

/// The alert for a server whose check has no port.
fn text(p: &Proxy, s: &Server, tail: &str) -> String {
    format!(
        "config: {} '{}': server '{}' has neither service port nor check port{tail}",
        p.kind.type_str(),
        p.name,
        s.name
    )
}

/// Whether `s` is checked and has neither a service port nor a check port.
fn lacks_check_port(s: &Server) -> bool {
    let sp = &s.params;
    let portless = matches!(
        &s.address,
        Address::Inet {
            host: Host::Ip(_),
            port: Port::None | Port::Offset(_),
            ..
        }
    );
    sp.check == Some(true) && sp.extra().track.is_none() && portless && sp.port.is_none()
}

/// What a proxy's ruleset makes of a server without a port.
enum Ruleset {
    /// No check option: HAProxy's default ruleset.
    Default,
    /// The first rule is a `connect` with a port: fine, unless a later `connect` has none.
    ConnectFirst { later_portless: bool },
    /// Any other ruleset.
    Other,
}

fn ruleset(cfg: &Config, p: &Proxy) -> Option<Ruleset> {
    let defaults = p
        .defaults
        .as_ref()
        .and_then(|(name, _)| cfg.defaults.iter().rev().find(|d| &d.name == name));
    // A ruleset the checks cannot run is refused at startup with its own message.
    Some(match check_kind(p, defaults).ok()? {
        CheckKind::Connect => Ruleset::Default,
        CheckKind::Tcp(t) => match t.rules().split_first() {
            None if p.options.check.is_none() => Ruleset::Default,
            Some((TcpRule::Connect(c), rest)) if c.port.is_some() => Ruleset::ConnectFirst {
                later_portless: rest
                    .iter()
                    .any(|r| matches!(r, TcpRule::Connect(c) if c.port.is_none())),
            },
            _ => Ruleset::Other,
        },
        _ => Ruleset::Other,
    })
}

/// HAProxy's alerts (without the `[ALERT] (pid) : config : ` prefix) for every checked server
/// without a port to check, in configuration order; empty when there is none.
#[must_use]
pub fn portless_check_alerts(cfg: &Config) -> Vec<String> {
    let mut out = Vec::new();
    let mut default_attached = false;
    for p in cfg
        .proxies
        .iter()
        .filter(|p| matches!(p.kind, ProxyKind::Backend | ProxyKind::Listen) && !p.disabled)
    {
        let checked = p.servers.iter().any(|s| s.params.check == Some(true));
        let portless: Vec<&Server> = p.servers.iter().filter(|s| lacks_check_port(s)).collect();
        let rules = if checked { ruleset(cfg, p) } else { None };
        let tail = match &rules {
            Some(Ruleset::Default) if !default_attached => Some("."),
            Some(Ruleset::Default | Ruleset::Other) => {
                Some(" nor tcp_check rule 'connect' with port information.")
            }
            Some(Ruleset::ConnectFirst {
                later_portless: true,
            }) => Some(", and a tcp_check rule 'connect' with no port information."),
            Some(Ruleset::ConnectFirst { .. }) | None => None,
        };
        if let Some(tail) = tail {
            out.extend(portless.iter().map(|s| text(p, s, tail)));
        }
        if matches!(rules, Some(Ruleset::Default)) {
            default_attached = true;
        }
    }
    out
}

/// Whether a server without a port may still be checked: the first `tcp-check` rule of its
/// proxy's ruleset `kind` is a `connect` with a port.
pub(crate) fn checked_through_connect_rule(kind: &CheckKind) -> bool {
    match kind {
        CheckKind::Tcp(t) => {
            matches!(t.rules().first(), Some(TcpRule::Connect(c)) if c.port.is_some())
        }
        _ => false,
    }
}
