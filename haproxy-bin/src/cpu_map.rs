//! `cpu-map [auto:]<process-set>[/<thread-set>] <cpu-set>...`: which CPUs each worker thread may
//! run on, as HAProxy 2.6 reads the directive (process 1 only; later lines replace earlier ones
//! where they overlap; `auto:` binds the threads one by one to the CPUs in increasing order).

use nix::sched::{CpuSet, sched_setaffinity};
use nix::unistd::Pid;

/// Highest thread number (1-based) and number of CPUs a set may name (HAProxy's `MAX_THREADS`
/// and word size on 64-bit machines).
pub(crate) const MAX_SET: u32 = 64;

/// The CPU mask of each worker thread (index 0 is thread 1); `0` means "not mapped".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct CpuMap {
    masks: Vec<u64>,
}

/// A set of numbers from `base` to `base + MAX_SET - 1` (`all`, `odd`, `even` when
/// `allow_keywords`, `N`, `N-M`, `N-`), as a mask where bit `n - base` stands for number `n`.
fn parse_set(text: &str, base: u32, allow_keywords: bool) -> Result<u64, String> {
    let full = |from: u32| -> u64 { (from..MAX_SET).fold(0, |m, b| m | (1u64 << b)) };
    match text {
        "all" if allow_keywords => return Ok(full(0)),
        // Numbers are 1-based here: odd numbers are the even bits.
        "odd" if allow_keywords => return Ok(full(0) & 0x5555_5555_5555_5555),
        "even" if allow_keywords => return Ok(full(0) & 0xAAAA_AAAA_AAAA_AAAA),
        _ => {}
    }
    let bad = || format!("invalid range '{text}'");
    let num = |s: &str| -> Result<u32, String> {
        let n: u32 = s.parse().map_err(|_| bad())?;
        if n < base || n - base >= MAX_SET {
            return Err(bad());
        }
        Ok(n - base)
    };
    let (lo, hi) = match text.split_once('-') {
        Some((lo, "")) => (num(lo)?, MAX_SET - 1),
        Some((lo, hi)) => (num(lo)?, num(hi)?),
        None => {
            let n = num(text)?;
            (n, n)
        }
    };
    if lo > hi {
        return Err(bad());
    }
    Ok((lo..=hi).fold(0, |m, b| m | (1u64 << b)))
}

impl CpuMap {
    /// Reads the `cpu-map` lines (their words after the keyword) for `nbthread` threads.
    ///
    /// # Errors
    /// The reason, when a line is malformed or an `auto:` line has sets of different sizes.
    pub(crate) fn parse(lines: &[Vec<String>], nbthread: usize) -> Result<CpuMap, String> {
        let threads = nbthread.min(MAX_SET as usize);
        let mut masks = vec![0u64; threads];
        for words in lines {
            let Some((first, cpu_words)) = words.split_first() else {
                return Err("'cpu-map' expects a process/thread set and a CPU set".to_owned());
            };
            if cpu_words.is_empty() {
                return Err(format!("'cpu-map {first}' expects a CPU set"));
            }
            let (auto, sets) = match first.strip_prefix("auto:") {
                Some(rest) => (true, rest),
                None => (false, first.as_str()),
            };
            let (procs, thread_set) = match sets.split_once('/') {
                Some((p, t)) => (parse_set(p, 1, true)?, parse_set(t, 1, true)?),
                None => (parse_set(sets, 1, true)?, parse_set("all", 1, true)?),
            };
            let cpus = cpu_words
                .iter()
                .try_fold(0u64, |m, w| parse_set(w, 0, false).map(|s| m | s))?;
            if auto && thread_set.count_ones() != cpus.count_ones() {
                return Err(format!(
                    "'cpu-map {first}': the thread set and the CPU set must have the same size \
                     to be bound automatically"
                ));
            }
            // Only process 1 exists.
            if procs & 1 == 0 {
                continue;
            }
            let mut cpu_bits = (0..MAX_SET).filter(|b| cpus & (1u64 << b) != 0);
            for t in 0..MAX_SET {
                if thread_set & (1u64 << t) == 0 {
                    continue;
                }
                let mask = if auto {
                    cpu_bits.next().map_or(0, |b| 1u64 << b)
                } else {
                    cpus
                };
                if let Some(slot) = masks.get_mut(t as usize) {
                    *slot = mask;
                }
            }
        }
        Ok(CpuMap { masks })
    }

    /// The CPU mask of thread `index` (0-based), when mapped.
    pub(crate) fn mask(&self, index: usize) -> Option<u64> {
        self.masks.get(index).copied().filter(|m| *m != 0)
    }
}

/// Binds the calling thread to the CPUs of `mask`.
///
/// # Errors
/// The system's reason (a CPU that does not exist, for instance).
pub(crate) fn pin_current_thread(mask: u64) -> Result<(), String> {
    let mut set = CpuSet::new();
    for cpu in (0..MAX_SET).filter(|b| mask & (1u64 << b) != 0) {
        set.set(cpu as usize).map_err(|e| e.to_string())?;
    }
    sched_setaffinity(Pid::from_raw(0), &set).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &[&str]) -> Vec<Vec<String>> {
        text.iter()
            .map(|l| l.split_whitespace().map(str::to_owned).collect())
            .collect()
    }

    #[test]
    fn all_threads_share_the_listed_cpus() {
        let m = CpuMap::parse(&lines(&["1/all 0-3"]), 4).unwrap();
        for t in 0..4 {
            assert_eq!(m.mask(t), Some(0b1111));
        }
        assert_eq!(m.mask(4), None);
    }

    #[test]
    fn a_lone_process_number_means_every_thread() {
        let m = CpuMap::parse(&lines(&["1 1"]), 2).unwrap();
        assert_eq!(m.mask(0), Some(0b10));
        assert_eq!(m.mask(1), Some(0b10));
    }

    #[test]
    fn auto_binds_one_thread_per_cpu_in_increasing_order() {
        for line in ["auto:1/1-4 0-3", "auto:1/1-4 0-1 2-3", "auto:1/1-4 3 2 1 0"] {
            let m = CpuMap::parse(&lines(&[line]), 4).unwrap();
            assert_eq!(
                (0..4).map(|t| m.mask(t)).collect::<Vec<_>>(),
                vec![Some(1), Some(2), Some(4), Some(8)],
                "{line}"
            );
        }
    }

    #[test]
    fn auto_with_odd_threads_takes_the_odd_ones() {
        let m = CpuMap::parse(&lines(&["auto:1/odd 32-63"]), 4).unwrap();
        assert_eq!(m.mask(0), Some(1 << 32));
        assert_eq!(m.mask(1), None);
        assert_eq!(m.mask(2), Some(1 << 33));
    }

    #[test]
    fn auto_sets_of_different_sizes_are_refused() {
        assert!(CpuMap::parse(&lines(&["auto:1/1-4 0"]), 4).is_err());
        assert!(CpuMap::parse(&lines(&["auto:1/1 0-3"]), 4).is_err());
    }

    #[test]
    fn later_lines_replace_overlapping_ones() {
        let m = CpuMap::parse(&lines(&["1/all 0-1", "1/2 1"]), 2).unwrap();
        assert_eq!(m.mask(0), Some(0b11));
        assert_eq!(m.mask(1), Some(0b10));
    }

    #[test]
    fn open_ranges_run_to_the_last_cpu_and_thread() {
        let m = CpuMap::parse(&lines(&["1/1- 0-"]), 64).unwrap();
        assert_eq!(m.mask(63), Some(u64::MAX));
    }

    #[test]
    fn other_processes_and_threads_past_nbthread_are_ignored() {
        let m = CpuMap::parse(&lines(&["2/1 0", "1/3 1"]), 2).unwrap();
        assert_eq!(m, CpuMap::parse(&[], 2).unwrap());
    }

    #[test]
    fn set_limits() {
        assert_eq!(parse_set("64", 1, true), Ok(1u64 << 63));
        assert!(parse_set("65", 1, true).is_err());
        assert!(parse_set("0", 1, true).is_err());
        assert_eq!(parse_set("63", 0, false), Ok(1u64 << 63));
        assert!(parse_set("64", 0, false).is_err());
        assert!(parse_set("all", 0, false).is_err());
        assert!(parse_set("3-1", 0, false).is_err());
        assert!(parse_set("x", 0, false).is_err());
        assert!(CpuMap::parse(&lines(&["1/1"]), 1).is_err());
    }

    #[test]
    fn pinning_to_the_first_cpu_works() {
        pin_current_thread(1).unwrap();
        let set = nix::sched::sched_getaffinity(Pid::from_raw(0)).unwrap();
        assert!(set.is_set(0).unwrap());
        assert!(!set.is_set(1).unwrap());
    }
}
