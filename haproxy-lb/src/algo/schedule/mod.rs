//! `roundrobin` without a lock: HAProxy's fwrr order computed ahead, read with an atomic cursor.
//!
//! The fwrr model ([`Fwrr`]) runs when a group's servers change and records its picks until its
//! state at a window boundary repeats: the order is then `seq[..prefix]` once and
//! `seq[prefix..]` forever. A pick is one `fetch_add` on the schedule's cursor and a table
//! read. Windows are not all alike (servers left in the "current" tree carry their positions
//! over), which is why the cycle is searched for rather than assumed to be one window.
//!
//! On a change, the model is replayed from the schedule's starting state to the pick the
//! cursor has reached, HAProxy's procedure for the change is applied to it
//! (`fwrr_set_server_status_up/down()`, `fwrr_update_server_weight()`), and the order is
//! recomputed from there, so the sequence continues exactly as HAProxy's would.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::algo::roundrobin::Fwrr;

/// The most picks one schedule records. A group whose order has not repeated by then (or
/// whose single window is longer) replays its last recorded window, an approximation that
/// needs thousands of servers with large, unequal weights to be reached.
pub(crate) const MAX_SCHEDULE: usize = 1 << 22;

/// The most model states one schedule keeps for replays (one per window from the first; a
/// later window replays from the last one kept). Orders seen so far repeat after two windows.
const MAX_CHECKPOINTS: usize = 16;

/// One group's (active or backup servers') pick order and the cursor pickers advance.
#[derive(Debug)]
pub(crate) struct Schedule {
    /// Server indices in pick order (`MAX_SERVERS` indices fit in 16 bits). Kept whole, not
    /// shrunk to a shorter period of the picks: the model's state repeats only every cycle,
    /// and a change is applied to the state at the cursor.
    seq: Vec<u16>,
    /// Picks before the repeating part.
    prefix: usize,
    /// The model at the start of each of the first [`MAX_CHECKPOINTS`] windows (the first is
    /// the state before the first pick), to replay from the nearest one on a change.
    checkpoints: Vec<Fwrr>,
    /// Picks per window.
    window: usize,
    backup: bool,
    /// Picks taken from this schedule so far.
    cursor: AtomicU64,
}

impl Schedule {
    /// Runs `model`'s group `backup` until its state repeats. Gives the model back when the
    /// group has no usable server (nothing to pick).
    pub(crate) fn build(model: Fwrr, backup: bool) -> Result<Self, Box<Fwrr>> {
        Self::build_capped(model, backup, MAX_SCHEDULE)
    }

    /// [`Schedule::build`] with at most `cap` recorded picks (or one window if longer).
    fn build_capped(model: Fwrr, backup: bool, cap: usize) -> Result<Self, Box<Fwrr>> {
        let Some(window) = usize::try_from(model.window(backup))
            .ok()
            .filter(|&w| w > 0)
        else {
            return Err(Box::new(model));
        };
        let mut g = model.clone();
        let mut seen: HashMap<Vec<i64>, usize> = HashMap::new();
        let mut seq: Vec<u16> = Vec::new();
        let mut checkpoints = Vec::new();
        let prefix = loop {
            let st = g.state(backup);
            if let Some(&p) = seen.get(&st) {
                break p;
            }
            if seq.len() + window > cap.max(window) {
                break seq.len().saturating_sub(window);
            }
            seen.insert(st, seq.len());
            if checkpoints.len() < MAX_CHECKPOINTS {
                checkpoints.push(g.clone());
            }
            for _ in 0..window {
                match g.next_server(backup).map(u16::try_from) {
                    Some(Ok(i)) => seq.push(i),
                    _ => return Err(Box::new(model)),
                }
            }
        };
        Ok(Self {
            seq,
            prefix,
            checkpoints,
            window,
            backup,
            cursor: AtomicU64::new(0),
        })
    }

    /// The next server in the order (advances the cursor). Past the recorded picks, the
    /// cursor is brought back to the equivalent place in the cycle, so the common pick is an
    /// increment and a table read, without a division.
    pub(crate) fn next(&self) -> Option<usize> {
        let n = self.cursor.fetch_add(1, Ordering::Relaxed);
        let pos = match usize::try_from(n) {
            Ok(i) if i < self.seq.len() => i,
            _ => {
                let pos = self.position(n);
                // Best effort: another picker may have moved the cursor meanwhile.
                let _ = self.cursor.compare_exchange(
                    n.wrapping_add(1),
                    pos as u64 + 1,
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                );
                pos
            }
        };
        self.seq.get(pos).map(|&i| usize::from(i))
    }

    /// Index in `seq` of the `n`-th pick; the model's state there is the one at pick `n`.
    fn position(&self, n: u64) -> usize {
        let len = self.seq.len();
        let cycle = len.saturating_sub(self.prefix).max(1) as u64;
        match usize::try_from(n) {
            Ok(n) if n < len => n,
            _ => self.prefix + ((n - self.prefix as u64) % cycle) as usize,
        }
    }

    /// The length of the order's repeating part.
    pub(crate) fn cycle(&self) -> usize {
        self.seq.len() - self.prefix
    }

    /// The model as it stands after the picks taken so far (the nearest checkpoint replayed).
    pub(crate) fn current(&self) -> Fwrr {
        let n = self.position(self.cursor.load(Ordering::Acquire));
        let span = self.window.max(1);
        let k = (n / span).min(self.checkpoints.len().saturating_sub(1));
        let Some(mut g) = self.checkpoints.get(k).cloned() else {
            return Fwrr::default();
        };
        for _ in (k * span)..n {
            if g.next_server(self.backup).is_none() {
                break;
            }
        }
        g
    }
}

#[cfg(test)]
mod tests;
