//! `balance` and `hash-type` from the model to a haproxy-lb balancer.

use haproxy_cfg::model::{self, Balance, Proxy};
use haproxy_lb::{
    Algorithm, BalanceConfig, Balancer, HashFunction, HashType, Hasher, ServerSpec, UriOptions,
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
        Balance::Hash(_) => {
            return Err(cfg_err(format!(
                "backend '{}': 'balance hash <expr>' is not supported yet",
                p.name
            )));
        }
    })
}

/// The balancer of a backend (or listen) section; `None` inside when it has no server.
pub(super) fn balancer(p: &Proxy) -> Result<BackendBalancer, ProxyError> {
    let algo = algorithm(p)?;
    let hdr = hdr_name(&algo);
    let mut config = BalanceConfig::new(algo);
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
    if p.servers.is_empty() {
        return Ok(BackendBalancer {
            balancer: None,
            hdr_name: hdr,
        });
    }
    let specs = p
        .servers
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let id = s
                .params
                .id
                .and_then(|v| u32::try_from(v).ok())
                .unwrap_or(u32::try_from(i + 1).unwrap_or(u32::MAX));
            let mut spec =
                ServerSpec::new(id, s.name.clone()).with_weight(s.params.weight.unwrap_or(1));
            if s.params.backup == Some(true) {
                spec = spec.with_backup();
            }
            if s.params.disabled == Some(true) {
                spec = spec.with_state(haproxy_lb::ServerState::Maintenance);
            }
            spec
        })
        .collect();
    let balancer = Balancer::new(config, specs).map_err(|e| {
        cfg_err(format!(
            "backend '{}': {}",
            p.name,
            e.haproxy_message()
                .map_or_else(|| e.to_string(), str::to_owned)
        ))
    })?;
    Ok(BackendBalancer {
        balancer: Some(balancer),
        hdr_name: hdr,
    })
}
