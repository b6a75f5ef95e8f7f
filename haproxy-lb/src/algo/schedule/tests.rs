use super::*;
use crate::algo::roundrobin::WEIGHT_SCALE;

fn model(weights: &[u32]) -> Fwrr {
    let servers: Vec<_> = weights
        .iter()
        .map(|&w| (w * WEIGHT_SCALE, false, w > 0))
        .collect();
    Fwrr::new(&servers)
}

fn names(s: &Schedule, n: usize) -> String {
    (0..n)
        .map(|_| char::from(b'a' + u8::try_from(s.next().unwrap()).unwrap()))
        .collect()
}

#[test]
fn weights_1_2_3_interleave_as_haproxy() {
    let s = Schedule::build(model(&[1, 2, 3]), false).unwrap();
    assert_eq!(names(&s, 12), "cbcacbcbcacb");
}

#[test]
fn an_empty_group_has_no_schedule() {
    assert!(Schedule::build(model(&[0, 0]), false).is_err());
    assert!(Schedule::build(model(&[1, 2]), true).is_err());
}

#[test]
fn the_schedule_gives_the_model_s_own_picks() {
    let sets: [&[u32]; 6] = [
        &[1, 2, 3],
        &[6, 3, 3, 5],
        &[3, 1, 7, 1],
        &[7, 3, 200, 1],
        &[5, 1, 3, 2],
        &[1, 0, 4, 256, 9],
    ];
    for w in sets {
        let s = Schedule::build(model(w), false).unwrap();
        let mut g = model(w);
        let picks = (3 * s.seq.len()).max(4 * s.cycle());
        for n in 0..picks {
            let want = g.next_server(false);
            assert_eq!(s.next(), want, "{w:?} pick {n}");
        }
        // Replaying to the cursor gives the model's own state there.
        assert_eq!(s.current().state(false), g.state(false), "{w:?}");
    }
}

#[test]
fn a_change_continues_from_the_cursor() {
    let s = Schedule::build(model(&[1, 2, 3]), false).unwrap();
    let mut g = model(&[1, 2, 3]);
    for _ in 0..7 {
        assert_eq!(s.next(), g.next_server(false));
    }
    let mut m = s.current();
    m.update_weight(0, 3 * WEIGHT_SCALE);
    g.update_weight(0, 3 * WEIGHT_SCALE);
    let s = Schedule::build(m, false).unwrap();
    for n in 0..200 {
        assert_eq!(s.next(), g.next_server(false), "pick {n}");
    }
}

#[test]
fn a_long_order_is_bounded() {
    // 300 servers with unequal large weights: the order stays within MAX_SCHEDULE.
    let w: Vec<u32> = (0..300).map(|i| 1 + (i * 37) % 256).collect();
    let s = Schedule::build(model(&w), false).unwrap();
    assert!(s.seq.len() <= MAX_SCHEDULE);
    assert!(s.cycle() > 0);
}

#[test]
fn a_capped_order_repeats_its_last_window() {
    // Weights 1/2/3: a 96-pick window. A cap of 100 keeps one window; a cap of 10 (shorter
    // than a window) still keeps one whole window.
    for cap in [100, 10] {
        let s = Schedule::build_capped(model(&[1, 2, 3]), false, cap).unwrap();
        assert_eq!(s.seq.len(), 96, "cap {cap}");
        assert_eq!(s.cycle(), 96);
        let mut counts = [0u32; 3];
        for _ in 0..96 * 5 {
            counts[s.next().unwrap()] += 1;
        }
        assert_eq!(counts, [80, 160, 240], "shares stay proportional");
    }
    // At MAX_SCHEDULE itself nothing is cut for ordinary sets.
    let s = Schedule::build(model(&[1, 2, 3]), false).unwrap();
    assert!(s.seq.len() < MAX_SCHEDULE);
}

#[test]
fn every_cursor_position_replays_to_the_model_s_state() {
    for w in [&[1u32, 2, 3][..], &[2, 1, 1, 3]] {
        let s = Schedule::build(model(w), false).unwrap();
        let mut g = model(w);
        for n in 0..(s.seq.len() * 2 + 7) {
            assert_eq!(s.current().state(false), g.state(false), "{w:?} at {n}");
            assert_eq!(s.next(), g.next_server(false));
        }
    }
}
