//! The soft-stop settings of the global section: `close-spread-time`, `hard-stop-after`, and
//! each frontend's `option idle-close-on-response`.

use std::time::Duration;

use haproxy_cfg::model::Config;
use haproxy_cfg::values::{TimeUnit, parse_time};

use crate::runtime::{CloseSpread, SoftStop};

/// Global `close-spread-time` (the typed model keeps it as a plain directive): `infinite` never
/// closes early, a time spreads the closes over it, 0 or none closes at once.
pub(super) fn close_spread(cfg: &Config) -> CloseSpread {
    let last = cfg
        .global
        .other
        .iter()
        .rev()
        .filter(|d| d.words.first().is_some_and(|w| w == "close-spread-time"))
        .find_map(|d| d.words.get(1));
    match last.map(String::as_str) {
        Some("infinite") => CloseSpread::Never,
        Some(t) => match parse_time(t, TimeUnit::Millis) {
            Ok(t) if t.value > 0 => CloseSpread::Window(Duration::from_millis(u64::from(t.value))),
            _ => CloseSpread::AtOnce,
        },
        None => CloseSpread::AtOnce,
    }
}

/// Sets the registry's soft-stop state from the configuration; `keep_idle` holds each
/// frontend's `option idle-close-on-response`, by frontend index.
pub(super) fn configure(stop: &SoftStop, cfg: &Config, keep_idle: Vec<bool>) {
    stop.configure(close_spread(cfg), keep_idle);
    if let Some(ms) = cfg.global.hard_stop_after {
        stop.set_hard_stop_after(Duration::from_millis(u64::from(ms)));
    }
}
