//! Check timeouts: HAProxy's `inter` / `timeout connect` / `timeout check` rules.

use std::time::Duration;

/// The deadlines of one check (configuration.txt, `timeout check`).
///
/// With `timeout check` set, the connect timeout is `min(timeout connect, inter)` and
/// `timeout check` bounds the reading that follows. Without it, `inter` bounds the whole check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckTimeouts {
    /// Bound on the TCP connect.
    pub connect: Duration,
    /// Bound on everything after the connect (send and expect steps).
    pub read: Duration,
    /// When true, `read` counts from the start of the check (connect included), not from the connect.
    pub whole: bool,
}

impl CheckTimeouts {
    /// Derives the deadlines from `inter`, `timeout connect` and `timeout check`.
    pub fn new(
        inter: Duration,
        timeout_connect: Option<Duration>,
        timeout_check: Option<Duration>,
    ) -> Self {
        match timeout_check {
            Some(check) => Self {
                connect: timeout_connect.map_or(inter, |c| c.min(inter)),
                read: check,
                whole: false,
            },
            None => Self {
                connect: inter,
                read: inter,
                whole: true,
            },
        }
    }

    /// The same bound for the connect and for the whole check.
    pub fn uniform(d: Duration) -> Self {
        Self::new(d, None, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeout_check_splits_connect_and_read() {
        let ms = Duration::from_millis;
        let t = CheckTimeouts::new(ms(2000), Some(ms(5000)), Some(ms(300)));
        assert_eq!((t.connect, t.read, t.whole), (ms(2000), ms(300), false));
        let t = CheckTimeouts::new(ms(2000), Some(ms(100)), Some(ms(300)));
        assert_eq!(t.connect, ms(100));
        let t = CheckTimeouts::new(ms(2000), Some(ms(100)), None);
        assert_eq!((t.connect, t.read, t.whole), (ms(2000), ms(2000), true));
    }
}
