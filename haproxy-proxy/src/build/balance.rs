//! `balance`, `hash-type` and the server lines (weights, backups, `maxconn`, `maxqueue`,
//! `slowstart`, `disabled`) from the model to a haproxy-lb balancer.

use std::sync::Arc;

use haproxy_acl::AclSet;
use haproxy_cfg::model::{self, Balance, Proxy};
use haproxy_lb::{
    Algorithm, BalanceConfig, Balancer, HashFunction, HashType, Hasher, ServerSpec, ServerState,
    UriOptions,
};

use super::adapters::{BackendBalancer, hdr_name};
use super::cfg_err;
use crate::ProxyError;

fn algorithm(p: &Proxy) -> Result<Algorithm, ProxyError> {
    Ok(match p.balance.as_ref().unwrap_or(&Balance::RoundRobin) {
        Balance::RoundRobin => Algorithm::RoundRobin,
        Balance::StaticRr => Algorithm::StaticRr,
        Balance::LeastConn => Algorithm::LeastConn,
        Balance::First => Algorithm::First,
        Balance::Source => Algorithm::Source,
        Balance::Uri {
            len,
            depth,
            whole,
            path_only,
        } => Algorithm::Uri(UriOptions {
            len: len.map_or(0, |v| v as usize),
            depth: depth.map(|v| v as usize),
            whole: *whole,
            path_only: *path_only,
        }),
        Balance::UrlParam { name, .. } => Algorithm::UrlParam(name.clone()),
        Balance::Hdr {
            name,
            use_domain_only,
        } => Algorithm::Hdr {
            name: name.clone(),
            use_domain_only: *use_domain_only,
        },
        Balance::RdpCookie(name) => Algorithm::RdpCookie(name.clone()),
        Balance::Random(draws) => Algorithm::Random { draws: *draws },
        // The expression's bytes are hashed as a whole URI would be (see `hash_expr`): all of
        // them, an empty sample included; a missing one falls back to round robin.
        Balance::Hash(_) => Algorithm::Uri(UriOptions {
            len: 0,
            depth: None,
            whole: true,
            path_only: false,
        }),
    })
}

/// One server line as haproxy-lb sees it: id, weight, backup, `maxconn`/`maxqueue`, `slowstart`
/// and `disabled` (maintenance).
///
/// `minconn` at or above `maxconn` (or alone) becomes the static `maxconn`, as HAProxy turns it;
/// `minconn` below `maxconn` gives HAProxy's dynamic limit over the backend's `fullconn`.
fn spec(i: usize, s: &model::Server) -> ServerSpec {
    let params = &s.params;
    let id = params
        .id
        .and_then(|v| u32::try_from(v).ok())
        .unwrap_or(u32::try_from(i + 1).unwrap_or(u32::MAX));
    let limit = |v: Option<i64>| v.and_then(|n| u32::try_from(n).ok()).unwrap_or(0);
    let mut spec = ServerSpec::new(id, s.name.clone())
        .with_weight(params.weight.unwrap_or(1))
        .with_limits(limit(params.maxconn), limit(params.maxqueue))
        .with_minconn(limit(params.minconn))
        // HAProxy keeps slowstart in seconds, rounded up.
        .with_slowstart(params.slowstart.map_or(0, |ms| ms.div_ceil(1000)));
    // As HAProxy settles them at startup (so `servers()` shows its `maxconn`).
    (spec.minconn, spec.maxconn) = spec.settled_limits();
    if params.backup == Some(true) {
        spec = spec.with_backup();
    }
    if params.disabled == Some(true) {
        spec = spec.with_state(ServerState::Maintenance);
    }
    spec
}

/// The balancer of a backend (or listen) section with its `fullconn` (see `fullconn.rs`);
/// `None` inside when it has no server.
///
/// A `balance hash` expression is parsed with `acls`, which shares the process's pattern
/// references (so `set map` / `add map` over the runtime API reach it as they reach the rules)
/// and reads map files from the section's `default-path` directory.
pub(super) fn balancer(
    p: &Proxy,
    acls: AclSet,
    fullconn: u32,
) -> Result<Arc<BackendBalancer>, ProxyError> {
    let algo = algorithm(p)?;
    let hash_expr = match &p.balance {
        Some(Balance::Hash(expr)) => Some(acls.parse_sample(expr).map_err(|e| {
            cfg_err(format!(
                "backend '{}': failed to parse 'balance hash' sample expression <{expr}> : {e}",
                p.name
            ))
        })?),
        _ => None,
    };
    let hdr = hdr_name(&algo);
    let mut config = BalanceConfig::new(algo).with_fullconn(fullconn);
    if let Some(ht) = p.hash_type {
        let function = match ht.function {
            model::HashFunction::Sdbm => HashFunction::Sdbm,
            model::HashFunction::Djb2 => HashFunction::Djb2,
            model::HashFunction::Wt6 => HashFunction::Wt6,
            model::HashFunction::Crc32 => HashFunction::Crc32,
        };
        let method = match ht.method {
            model::HashMethod::MapBased => HashType::MapBased,
            model::HashMethod::Consistent => HashType::Consistent,
        };
        config = config.with_hash(
            method,
            Hasher {
                function,
                avalanche: ht.avalanche,
            },
        );
    }
    config.hash_balance_factor = p.hash_balance_factor.unwrap_or(0);
    config.allbackups = p.options.is_set("allbackups");
    let abort_on_close = p.options.is_set("abortonclose");
    if p.servers.is_empty() {
        return Ok(Arc::new(BackendBalancer::new(None, hdr, abort_on_close)));
    }
    let specs = p
        .servers
        .iter()
        .enumerate()
        .map(|(i, s)| spec(i, s))
        .collect();
    let balancer = Balancer::new(config, specs).map_err(|e| {
        cfg_err(format!(
            "backend '{}': {}",
            p.name,
            e.haproxy_message()
                .map_or_else(|| e.to_string(), str::to_owned)
        ))
    })?;
    let redistribute = p.options.is_set("redispatch") && !p.options.is_set("persist");
    Ok(Arc::new(
        BackendBalancer::new(Some(balancer), hdr, abort_on_close)
            .with_redistribute(redistribute)
            .with_hash_expr(hash_expr),
    ))
}
