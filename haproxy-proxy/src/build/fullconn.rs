//! Each backend's `fullconn`, as HAProxy 2.6 settles it at startup (`proxy_adjust_all_maxconn`):
//! the keyword when written, otherwise a tenth (rounded up, at least 1) of the summed `maxconn`
//! of the frontends that can send it traffic. It is the load at which servers with a dynamic
//! limit (`minconn` below `maxconn`) reach their `maxconn`, and the backend's `slim` column.

use haproxy_cfg::model::{Config, Proxy, ProxyKind, RuleKind};

use super::count;

/// Each of `backends`' `fullconn` (in their order).
///
/// A frontend (or listen section) that is not disabled counts its `maxconn` (the global one when
/// it has none) once for its `default_backend` (a listen section without one: for itself), and
/// once for each backend its `use_backend` rules name with a fixed name, unless an earlier such
/// rule or the default backend already names it. Names built at run time (`%[...]`) are not
/// counted, as HAProxy cannot know them. A listen section without `default_backend` whose own
/// rule names it counts twice for itself, as in HAProxy (its default backend is unset there).
/// Without `maxconn` in the global section, HAProxy derives the global one from the open-file
/// limit; the `haproxy` binary does the same before the build (haproxy-bin's `limits.rs`), so
/// it counts here. A runtime built in-process without any `maxconn` is unlimited, which adds
/// nothing.
pub(super) fn derive(cfg: &Config, backends: &[&Proxy]) -> Vec<u32> {
    let global = u64::from(count(cfg.global.maxconn));
    let index_of = |name: &str| backends.iter().position(|p| p.name == name);
    let mut sums = vec![0u64; backends.len()];
    let mut add = |b: Option<usize>, n: u64| {
        if let Some(s) = b.and_then(|b| sums.get_mut(b)) {
            *s += n;
        }
    };
    for p in &cfg.proxies {
        if p.disabled || !matches!(p.kind, ProxyKind::Frontend | ProxyKind::Listen) {
            continue;
        }
        let maxconn = match count(p.maxconn) {
            0 => global,
            m => u64::from(m),
        };
        let default = p.default_backend.as_ref().map(|(n, _)| index_of(n));
        match default {
            Some(d) => add(d, maxconn),
            None if p.kind == ProxyKind::Listen => add(index_of(&p.name), maxconn),
            None => {}
        }
        let default = default.flatten();
        let mut seen: Vec<usize> = Vec::new();
        for rule in p.rules.iter().filter(|r| r.kind == RuleKind::UseBackend) {
            let name = rule.words.first().map(String::as_str).unwrap_or_default();
            if name.contains('%') {
                continue;
            }
            let target = index_of(name);
            if let Some(t) = target
                && Some(t) != default
                && !seen.contains(&t)
            {
                seen.push(t);
                add(Some(t), maxconn);
            }
        }
    }
    backends
        .iter()
        .zip(sums)
        .map(|(p, sum)| match count(p.fullconn) {
            0 => u32::try_from(sum.div_ceil(10).max(1)).unwrap_or(u32::MAX),
            written => written,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use haproxy_cfg::load::{SystemEnv, load};
    use haproxy_cfg::parse_str;

    use super::*;

    fn fullconn(text: &str) -> Vec<(String, u32)> {
        let loaded = load(&[parse_str("t.cfg", text)], &SystemEnv);
        let backends: Vec<&Proxy> = loaded
            .config
            .proxies
            .iter()
            .filter(|p| matches!(p.kind, ProxyKind::Backend | ProxyKind::Listen) && !p.disabled)
            .collect();
        let names = backends.iter().map(|p| p.name.clone());
        names.zip(derive(&loaded.config, &backends)).collect()
    }

    #[test]
    fn a_tenth_of_the_frontends_maxconn_rounded_up_and_at_least_one() {
        let got = fullconn(
            "global\n maxconn 95\nfrontend f\n bind :1\n default_backend b\nbackend b\nbackend idle\n",
        );
        assert_eq!(got, [("b".to_owned(), 10), ("idle".to_owned(), 1)]);
    }

    #[test]
    fn without_any_maxconn_nothing_is_added() {
        let got = fullconn("frontend f\n bind :1\n default_backend b\nbackend b\n");
        assert_eq!(got, [("b".to_owned(), 1)]);
    }

    #[test]
    fn a_huge_sum_saturates() {
        let mut text = String::from("global\n maxconn 2147483647\n");
        for i in 0..30 {
            text.push_str(&format!("frontend f{i}\n bind :1\n default_backend b\n"));
        }
        text.push_str("backend b\n");
        // 30 x 2^31-1 / 10 does not fit in 32 bits.
        assert_eq!(fullconn(&text), [("b".to_owned(), u32::MAX)]);
    }
}
