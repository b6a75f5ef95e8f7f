//! `stats …` lines of a proxy to a [`StatsPage`].

use std::sync::Arc;
use std::time::Duration;

use haproxy_acl::AclSet;
use haproxy_cfg::model::Proxy;
use haproxy_cfg::values::{TimeUnit, parse_time};

use super::adapters::AclCondition;
use super::cfg_err;
use crate::ProxyError;
use crate::http::RequestCondition;
use crate::statspage::{DEFAULT_REALM, DEFAULT_URI, StatsPage};

/// The proxy's stats page, when any `stats` keyword other than `stats socket`-like global ones
/// enables it (`stats enable`, `uri`, `auth`, `realm`, `refresh`, `admin`, `scope`…).
pub(super) fn page(p: &Proxy, acls: &AclSet) -> Result<Option<StatsPage>, ProxyError> {
    if p.stats.is_empty() {
        return Ok(None);
    }
    let mut page = StatsPage {
        uri: DEFAULT_URI.to_owned(),
        realm: DEFAULT_REALM.to_owned(),
        users: Vec::new(),
        refresh: None,
        admin: None,
        hide_version: false,
        scope: Vec::new(),
        show_node: None,
        show_desc: None,
        show_legends: false,
        proxy: p.name.clone(),
    };
    for d in &p.stats {
        let err = |m: &str| {
            cfg_err(format!(
                "parsing [{}:{}] : 'stats {}' : {m}",
                d.loc.file,
                d.loc.line,
                d.words.get(1).map_or("", String::as_str)
            ))
        };
        let arg = d.words.get(2).cloned();
        let rest = || {
            d.words
                .get(2..)
                .map(|w| w.join(" "))
                .filter(|s| !s.is_empty())
        };
        match d.words.get(1).map(String::as_str).unwrap_or_default() {
            "enable" | "show-modules" => {}
            "uri" => page.uri = arg.ok_or_else(|| err("missing URI"))?,
            "realm" => page.realm = rest().ok_or_else(|| err("missing realm"))?,
            "auth" => {
                let a = arg.ok_or_else(|| err("missing user:password"))?;
                if !a.contains(':') {
                    return Err(err("expects <user>:<passwd>"));
                }
                page.users.push(a);
            }
            "refresh" => {
                let t = arg.ok_or_else(|| err("missing refresh delay"))?;
                let secs = parse_time(&t, TimeUnit::Seconds)
                    .map_err(|e| err(&format!("invalid refresh delay '{t}': {e}")))?;
                page.refresh = Some(Duration::from_secs(u64::from(secs.value)));
            }
            "hide-version" => page.hide_version = true,
            "show-legends" => page.show_legends = true,
            "show-node" => page.show_node = Some(arg.unwrap_or_else(hostname)),
            "show-desc" => page.show_desc = Some(rest().unwrap_or_default()),
            "scope" => page
                .scope
                .push(arg.ok_or_else(|| err("missing proxy name"))?),
            "admin" => {
                let words: Vec<String> = d.words.get(2..).unwrap_or_default().to_vec();
                let cond = acls
                    .parse_condition(&words)
                    .map_err(|e| err(&e.to_string()))?;
                page.admin = Some(Arc::new(AclCondition(cond)) as Arc<dyn RequestCondition>);
            }
            other => return Err(err(&format!("'stats {other}' is not supported yet"))),
        }
    }
    Ok(Some(page))
}

/// The host name, for `stats show-node` without a name.
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_default()
}
