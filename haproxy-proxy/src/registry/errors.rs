//! `show errors`: the last malformed request of each frontend (the bytes as received, when, from
//! whom), kept when the HTTP/1 parser refuses a request head, and HAProxy's dump of it.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

/// Most bytes of a bad request kept (HAProxy keeps one buffer: `tune.bufsize`, 16384).
pub const MAX_CAPTURED_BYTES: usize = 16_384;

/// Bytes per dump line before it wraps (HAProxy breaks long lines the same way).
const DUMP_WIDTH: usize = 72;

/// One captured bad request.
#[derive(Debug, Clone)]
struct Captured {
    when: SystemTime,
    src: SocketAddr,
    event: u64,
    bytes: Vec<u8>,
}

/// The last bad request of each frontend, by frontend index.
#[derive(Debug)]
pub struct ErrorCaptures {
    last: Vec<Mutex<Option<Captured>>>,
    events: AtomicU64,
}

impl ErrorCaptures {
    /// Room for `frontends` frontends.
    pub fn new(frontends: usize) -> ErrorCaptures {
        ErrorCaptures {
            last: (0..frontends).map(|_| Mutex::new(None)).collect(),
            events: AtomicU64::new(0),
        }
    }

    /// Keeps `bytes` (up to [`MAX_CAPTURED_BYTES`]) as frontend `frontend`'s last bad request.
    pub fn capture(&self, frontend: usize, src: SocketAddr, bytes: &[u8]) {
        let event = self.events.fetch_add(1, Relaxed);
        let Some(slot) = self.last.get(frontend) else {
            return;
        };
        let kept = bytes.get(..MAX_CAPTURED_BYTES).unwrap_or(bytes).to_vec();
        *slot.lock().unwrap_or_else(PoisonError::into_inner) = Some(Captured {
            when: SystemTime::now(),
            src,
            event,
            bytes: kept,
        });
    }

    /// How many bad requests were captured since start.
    pub fn total(&self) -> u64 {
        self.events.load(Relaxed)
    }

    /// The `show errors` dump of the frontends `wanted` picks (`(index, name, id)`), in
    /// HAProxy's layout: the total line, then one block per frontend with a capture.
    pub fn dump(&self, frontends: &[(usize, &str, u32)]) -> String {
        let mut out = format!(
            "Total events captured on [{}] : {}\n",
            clf_date(SystemTime::now()),
            self.total()
        );
        for &(i, name, id) in frontends {
            let Some(c) = self
                .last
                .get(i)
                .and_then(|m| m.lock().unwrap_or_else(PoisonError::into_inner).clone())
            else {
                continue;
            };
            let len = c.bytes.len();
            let _ = write!(
                out,
                " \n[{}] frontend {name} (#{id}): invalid request\n  backend <NONE> (#-1), server <NONE> (#-1), event #{}, src {}\n  buffer starts at 0 (including 0 out), {} free,\n  len {len}\n  \n",
                clf_date(c.when),
                c.event,
                c.src,
                MAX_CAPTURED_BYTES.saturating_sub(len),
            );
            dump_bytes(&mut out, &c.bytes);
        }
        out
    }
}

/// HAProxy's text dump: the offset, then the bytes with `\r`, `\n`, `\t` and non-printable
/// ones escaped, a new line after each `\n` or every [`DUMP_WIDTH`] bytes.
fn dump_bytes(out: &mut String, bytes: &[u8]) {
    let mut at = 0;
    while at < bytes.len() {
        let _ = write!(out, "  {at:05}  ");
        let start = at;
        while let Some(&b) = bytes.get(at) {
            at += 1;
            match b {
                b'\r' => out.push_str("\\r"),
                b'\n' => out.push_str("\\n"),
                b'\t' => out.push_str("\\t"),
                0x20..=0x7e => out.push(char::from(b)),
                _ => {
                    let _ = write!(out, "\\x{b:02x}");
                }
            }
            if b == b'\n' || at - start >= DUMP_WIDTH {
                break;
            }
        }
        out.push('\n');
    }
}

/// `21/Nov/2026:22:15:26.481` (UTC).
fn clf_date(t: SystemTime) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let mon = usize::try_from(month - 1)
        .ok()
        .and_then(|m| MONTHS.get(m))
        .unwrap_or(&"Jan");
    format!(
        "{day:02}/{mon}/{year}:{:02}:{:02}:{:02}.{:03}",
        rem / 3600,
        rem / 60 % 60,
        rem % 60,
        d.subsec_millis()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_dumps_follow_haproxy() {
        let t = UNIX_EPOCH + std::time::Duration::from_millis(1_795_299_326_481);
        assert_eq!(clf_date(t), "21/Nov/2026:22:15:26.481");
        assert_eq!(clf_date(UNIX_EPOCH), "01/Jan/1970:00:00:00.000");
        let mut out = String::new();
        dump_bytes(&mut out, b"GE(T / HTTP/1.1\r\nHost: x\r\n\r\n\x01");
        assert_eq!(
            out,
            "  00000  GE(T / HTTP/1.1\\r\\n\n  00017  Host: x\\r\\n\n  00026  \\r\\n\n  00028  \\x01\n"
        );
    }

    #[test]
    fn a_capture_keeps_at_most_its_bound() {
        let c = ErrorCaptures::new(1);
        let src: SocketAddr = "127.0.0.1:1".parse().unwrap();
        c.capture(0, src, &vec![b'a'; MAX_CAPTURED_BYTES + 10]);
        c.capture(3, src, b"x");
        assert_eq!(c.total(), 2);
        let d = c.dump(&[(0, "fe", 2)]);
        assert!(d.contains("  len 16384\n"), "{d}");
        assert!(d.contains(", 0 free,"), "{d}");
        assert!(d.contains("frontend fe (#2): invalid request"), "{d}");
    }
}
