//! The rate limits of the configuration, which the typed model keeps as plain directives: the
//! global `maxconnrate` and `maxsessrate`, and a frontend's `rate-limit sessions <n>`.

use haproxy_cfg::model::{Config, Directive, Proxy};
use haproxy_cfg::values::atol;

/// The first `maxconnrate` / `maxsessrate` of the global section: HAProxy 2.6 keeps the first
/// and alerts on a repeat; read with `atol()` into an unsigned int (0 = none).
pub(super) fn global(cfg: &Config, keyword: &str) -> u32 {
    cfg.global
        .other
        .iter()
        .filter(|d| d.words.first().is_some_and(|w| w == keyword))
        .find_map(|d| d.words.get(1))
        .map_or(0, |v| truncate(atol(v)))
}

/// A frontend's `rate-limit sessions` (0 = none): its own last one, else the one of the
/// defaults section it was built from (the model does not copy untyped directives from it),
/// and so on up a `defaults b from a` chain (each step names an earlier section, so the chain is
/// no longer than the count of defaults sections).
pub(super) fn frontend_sessions(cfg: &Config, p: &Proxy) -> u32 {
    let mut section = Some(p);
    for _ in 0..=cfg.defaults.len() {
        let Some(s) = section else { break };
        if let Some(v) = last_rate_limit(&s.other) {
            return v;
        }
        section = s
            .defaults
            .as_ref()
            .and_then(|(_, loc)| cfg.defaults.iter().find(|d| &d.loc == loc));
    }
    0
}

fn last_rate_limit(directives: &[Directive]) -> Option<u32> {
    directives
        .iter()
        .rev()
        .find_map(|d| match d.words.as_slice() {
            [kw, what, value, ..] if kw == "rate-limit" && what == "sessions" => {
                Some(strtoul(value).unwrap_or(0))
            }
            _ => None,
        })
}

/// C's `strtoul(text, &end, 0)` with HAProxy's check that nothing follows: `0x` hex, a leading
/// `0` octal, else decimal; `None` when it is not all digits (HAProxy refuses the line).
fn strtoul(text: &str) -> Option<u32> {
    let (digits, radix) =
        if let Some(h) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
            (h, 16)
        } else if text.len() > 1 && text.starts_with('0') {
            (text.get(1..)?, 8)
        } else {
            (text, 10)
        };
    if digits.is_empty() {
        return None;
    }
    u64::from_str_radix(digits, radix)
        .ok()
        .map(|v| u32::try_from(v).unwrap_or(u32::MAX))
}

/// A C `long` stored into an `unsigned int`: the low 32 bits.
fn truncate(v: i64) -> u32 {
    u32::try_from(v.rem_euclid(1 << 32)).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use haproxy_cfg::load::{SystemEnv, load};

    fn config(text: &str) -> Config {
        load(&[haproxy_cfg::parse_str("t.cfg", text)], &SystemEnv).config
    }

    #[test]
    fn globals_keep_the_first_value_read_as_atol() {
        let c = config("global\n    maxconnrate 5x\n    maxconnrate 9\n    maxsessrate 7\n");
        assert_eq!(global(&c, "maxconnrate"), 5);
        assert_eq!(global(&c, "maxsessrate"), 7);
        assert_eq!(global(&config("global\n    daemon\n"), "maxsessrate"), 0);
        assert_eq!(truncate(-1), u32::MAX);
    }

    #[test]
    fn frontends_read_their_own_then_their_defaults() {
        let c = config(
            "defaults d\n    mode http\n    rate-limit sessions 0x10\n\
             frontend a\n    bind :0\n    rate-limit sessions 3\n    rate-limit sessions 4\n\
             defaults e from d\n    mode http\n\
             frontend b from e\n    bind :0\n\
             defaults\n    mode http\n\
             frontend c\n    bind :0\n",
        );
        let p = |n: &str| c.proxies.iter().find(|p| p.name == n).expect(n);
        assert_eq!(frontend_sessions(&c, p("a")), 4);
        assert_eq!(frontend_sessions(&c, p("b")), 16);
        assert_eq!(frontend_sessions(&c, p("c")), 0);
    }

    #[test]
    fn strtoul_takes_every_base_and_refuses_garbage() {
        assert_eq!(strtoul("10"), Some(10));
        assert_eq!(strtoul("010"), Some(8));
        assert_eq!(strtoul("0x1f"), Some(31));
        assert_eq!(strtoul("0"), Some(0));
        assert_eq!(strtoul("5s"), None);
        assert_eq!(strtoul("0x"), None);
        assert_eq!(strtoul("99999999999"), Some(u32::MAX));
    }
}
