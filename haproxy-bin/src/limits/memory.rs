//! `-m <megabytes>`: the global `maxconn` HAProxy 2.6 derives from a memory limit when none
//! is written (the clear-text branch of `init()`; haproxy-rs has no TLS, so the branches for
//! SSL connections never apply). Each connection is costed as one stream with its two
//! buffers; the count is rounded down to two significant digits.
//!
//! COMPAT: the per-stream cost is HAProxy's own: the size of its stream, channel and connection
//! structures on the recorded 2.6.12 amd64 build ([`STREAM_STRUCTS`]) plus the capture lengths
//! and two `tune.bufsize` buffers. haproxy-rs's streams are smaller and hold no buffers while
//! idle; the figure is kept so that the same `-m` gives the same `maxconn` as HAProxy.

use haproxy_cfg::model::Config;

use super::global_atol;

/// Bytes of HAProxy 2.6.12's `struct stream`, two `struct channel` and two `struct
/// connection` (its `STREAM_MAX_COST` without the capture lengths), measured on the Debian
/// amd64 build: with `-m 172` the largest `tune.http.logurilen` that still gives
/// `maxconn 5000` is 571, so the cost is `floor(172 MiB x 0.97 / 5000) - 572 - 2 x 64 -
/// 2 x 16384`.
pub(super) const STREAM_STRUCTS: i64 = 1520;

/// HAProxy's `REQURI_LEN`: the captured request URI when `tune.http.logurilen` is not set.
const REQURI_LEN: i64 = 1024;

/// HAProxy's `CAPTURE_LEN`: a captured cookie when `tune.http.cookielen` is not set.
const CAPTURE_LEN: i64 = 64;

/// HAProxy's default `tune.bufsize`.
const DEFAULT_BUFSIZE: i64 = 16_384;

/// HAProxy's `MEM_USABLE_RATIO`: the share of the limit left once its structures' overhead
/// (about 3%) is counted.
const MEM_USABLE_RATIO: f64 = 0.97;

/// HAProxy's `SSL_SESSION_MAX_COST` plus `SSL_HANDSHAKE_MAX_COST` (16 KiB + 76 KiB): only its
/// alert for a limit too small uses them.
const SSL_CONN_COST: i64 = 16_384 + 76 * 1024;

/// Bytes in a megabyte, as `-m` counts them.
const MEGABYTE: i64 = 1_048_576;

/// HAProxy's `round_2dig()`: `i` rounded down to two significant digits.
pub(super) fn round_2dig(mut i: u32) -> u32 {
    let mut mul = 1u32;
    while i >= 100 {
        i /= 10;
        mul = mul.wrapping_mul(10);
    }
    i.wrapping_mul(mul)
}

/// The bytes one connection is costed (`STREAM_MAX_COST + 2 x tune.bufsize`).
pub(super) fn stream_cost(cfg: &Config) -> i64 {
    // `tune.http.logurilen N` and `tune.http.cookielen N` keep N + 1 (the terminating NUL);
    // 0 (not set) takes the default, as HAProxy's check_config_validity() does.
    let len =
        |kw: &str, default: i64| match global_atol(cfg, kw).map(|v| (v as i32).wrapping_add(1)) {
            Some(v) if v != 0 => i64::from(v),
            _ => default,
        };
    let bufsize = cfg
        .global
        .tune
        .bufsize
        .map_or(DEFAULT_BUFSIZE, |b| i64::from(b as i32));
    STREAM_STRUCTS
        + len("tune.http.logurilen", REQURI_LEN)
        + 2 * len("tune.http.cookielen", CAPTURE_LEN)
        + 2 * bufsize
}

/// The global `maxconn` a limit of `memmax_mb` megabytes allows, as HAProxy 2.6 settles it:
/// the memory share left after `maxzlibmem`, divided by [`stream_cost`] and rounded; when
/// `permitted` refuses the descriptors that needs, once more bounded by `ideal` (what the
/// descriptor limit allows), then, refused again, the first figure is kept and the descriptor
/// step reports it. `Err` is HAProxy's alert when not even one connection fits.
pub(super) fn maxconn(
    cfg: &Config,
    memmax_mb: i32,
    ideal: i64,
    permitted: &dyn Fn(i64) -> bool,
) -> Result<i64, String> {
    // C: the `int` times an unsigned long long, kept in an int64_t.
    let mut mem = i64::from(memmax_mb).wrapping_mul(MEGABYTE);
    // `maxzlibmem N` keeps N megabytes in a C `long`.
    mem = mem.wrapping_sub(
        global_atol(cfg, "maxzlibmem")
            .unwrap_or(0)
            .wrapping_mul(MEGABYTE),
    );
    mem = (mem as f64 * MEM_USABLE_RATIO) as i64;
    let cost = stream_cost(cfg).max(1);
    let mut maxconn = 0i64;
    for retried in 0..3 {
        // C: the int64_t quotient stored in an `int`, rounded as an `unsigned int`.
        let mut m = (mem / cost) as i32;
        if retried == 1 {
            m = m.min(i32::try_from(ideal).unwrap_or(i32::MAX));
        }
        m = round_2dig(m as u32) as i32;
        if mem <= 0 || m == 0 {
            return Err(format!(
                "Cannot compute the automatic maxconn because global.maxsslconn is already too \
                 high for the global.memmax value ({memmax_mb} MB). The absolute maximum \
                 possible value is {}, but 0 was found.",
                (mem / SSL_CONN_COST) as i32
            ));
        }
        maxconn = i64::from(m);
        if permitted(maxconn) {
            break;
        }
    }
    Ok(maxconn)
}
