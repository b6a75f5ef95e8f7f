//! The static weighted map behind `static-rr` and `hash-type map-based`.
//!
//! Reimplemented from HAProxy 2.6's src/lb_map.c (`init_server_map()`, `recalc_server_map()`):
//! a table of `total weight` slots where each server appears as often as its effective
//! weight, spread by an error-diffusion pass that favours the first servers on ties.

/// The greatest common divisor of the user weights, skipping leading zeros, as
/// `init_server_map()` computes it (HAProxy's `wmult` for map-based algorithms).
pub(crate) fn weight_gcd(weights: impl IntoIterator<Item = u32>) -> u32 {
    let mut it = weights.into_iter().skip_while(|&w| w == 0);
    let Some(mut g) = it.next() else { return 1 };
    for mut w in it {
        if g <= 1 {
            break;
        }
        while w != 0 {
            let t = g % w;
            g = w;
            w = t;
        }
    }
    g
}

/// Builds the map from `(effective weight, eligible)` per server: `tot` slots, the `o`-th
/// filled by the server whose accumulated score is highest (`recalc_server_map()`).
pub(crate) fn build(servers: &[(u32, bool)], tot: u32) -> Vec<usize> {
    let mut table = Vec::with_capacity(tot as usize);
    let mut score = vec![0i64; servers.len()];
    let t = i64::from(tot);
    for _ in 0..tot {
        let mut best: Option<usize> = None;
        let mut max = 0i64;
        for (i, &(w, ok)) in servers.iter().enumerate() {
            if !ok {
                continue;
            }
            if tot == 1 {
                best = Some(i);
                break;
            }
            let Some(sc) = score.get_mut(i) else { continue };
            *sc += i64::from(w);
            let v = (*sc + t) / t;
            if best.is_none() || v > max {
                max = v;
                best = Some(i);
            }
        }
        if let Some(b) = best {
            if let Some(sc) = score.get_mut(b) {
                *sc -= t;
            }
            table.push(b);
        }
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_rr_order_for_weights_1_2_3() {
        let t = build(&[(1, true), (2, true), (3, true)], 6);
        assert_eq!(t, vec![0, 2, 1, 2, 1, 2]);
    }

    #[test]
    fn gcd_reduces_weights() {
        assert_eq!(weight_gcd([0, 4, 6, 8]), 2);
        assert_eq!(weight_gcd([0, 0]), 1);
        assert_eq!(weight_gcd([3]), 3);
    }
}
