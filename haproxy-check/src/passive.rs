//! Passive health: `observe layer4|layer7`, `error-limit`, `on-error` (configuration.txt 5.2).
//!
//! The proxy feeds real connection and response outcomes; after `error-limit` consecutive
//! errors the `on-error` action runs against the server's [`Health`], as HAProxy's
//! `check_health_analyze()` does.

use std::time::{Duration, Instant};

use crate::{CheckError, CheckOutcome, CheckStatus, Health, Transition};

/// HAProxy's default `error-limit`, 10.
pub const DEFAULT_ERROR_LIMIT: u32 = 10;

/// Largest accepted `error-limit`.
pub const MAX_ERROR_LIMIT: u32 = 1 << 20;

/// `observe <mode>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Observe {
    /// `layer4`: connection outcomes only.
    Layer4,
    /// `layer7`: HTTP responses too (valid statuses 100-499, 501, 505); layer-4 errors still count.
    Layer7,
}

/// `on-error <mode>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnError {
    /// `fastinter`: only check again sooner.
    FastInter,
    /// `fail-check` (default): count one failed check.
    #[default]
    FailCheck,
    /// `sudden-death`: one failed check away from DOWN, then a failed check.
    SuddenDeath,
    /// `mark-down`: DOWN at once.
    MarkDown,
}

/// A real outcome the proxy observed on a server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// A connection succeeded.
    ConnectOk,
    /// A connection failed or timed out.
    ConnectError,
    /// A complete HTTP response with this status.
    HttpStatus(u16),
    /// An invalid HTTP response.
    HttpInvalid,
    /// A read error while waiting for the response.
    ReadError,
    /// A read timeout while waiting for the response.
    ReadTimeout,
    /// The server closed the connection before answering.
    BrokenPipe,
}

/// How an event counts under an `observe` mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Ignore,
    Error,
    Ok,
}

impl Event {
    fn class(self, mode: Observe) -> Class {
        match (self, mode) {
            (Self::ConnectError, _) => Class::Error,
            (Self::ConnectOk, Observe::Layer4) => Class::Ok,
            (Self::ConnectOk, Observe::Layer7) => Class::Ignore,
            (_, Observe::Layer4) => Class::Ignore,
            (Self::HttpStatus(s), Observe::Layer7) => {
                if (100..=499).contains(&s) || s == 501 || s == 505 {
                    Class::Ok
                } else {
                    Class::Error
                }
            }
            (_, Observe::Layer7) => Class::Error,
        }
    }

    /// HAProxy's text for the event, used in the `HANA` check info.
    pub fn description(self) -> &'static str {
        match self {
            Self::ConnectOk => "L4 successful connection",
            Self::ConnectError => "L4 unsuccessful connection",
            Self::HttpStatus(s) if (100..=499).contains(&s) || s == 501 || s == 505 => {
                "Correct http response"
            }
            Self::HttpStatus(_) => "Wrong http response",
            Self::HttpInvalid => "Invalid http response",
            Self::ReadError => "Read error (http)",
            Self::ReadTimeout => "Read timeout (http)",
            Self::BrokenPipe => "Close from server (http)",
        }
    }
}

/// What an observed event led to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Verdict {
    /// The state change it caused, if any.
    pub transition: Option<Transition>,
    /// Whether the next active check should run after `fastinter`.
    pub fastinter: bool,
}

/// Passive-health state of one server.
#[derive(Debug, Clone)]
pub struct Passive {
    observe: Observe,
    limit: u32,
    on_error: OnError,
    consecutive: u32,
    failed_hana: u64,
}

impl Passive {
    /// `observe <mode> error-limit <n> on-error <action>`.
    ///
    /// # Errors
    /// [`CheckError::InvalidParam`] when `limit` is 0 or above [`MAX_ERROR_LIMIT`].
    pub fn new(observe: Observe, limit: u32, on_error: OnError) -> Result<Self, CheckError> {
        if limit == 0 || limit > MAX_ERROR_LIMIT {
            return Err(CheckError::InvalidParam {
                name: "error-limit",
                reason: format!("must be between 1 and {MAX_ERROR_LIMIT}, got {limit}"),
            });
        }
        Ok(Self {
            observe,
            limit,
            on_error,
            consecutive: 0,
            failed_hana: 0,
        })
    }

    /// Consecutive errors so far.
    pub fn consecutive_errors(&self) -> u32 {
        self.consecutive
    }

    /// `hanafail`: how many times the limit was reached.
    pub fn failed_hana(&self) -> u64 {
        self.failed_hana
    }

    /// A passing active check clears the error run (as HAProxy does when observing).
    pub fn check_passed(&mut self) {
        self.consecutive = 0;
    }

    /// Feeds one event; runs the `on-error` action against `health` when the limit is reached.
    pub fn observe(&mut self, ev: Event, health: &mut Health, now: Instant) -> Verdict {
        match ev.class(self.observe) {
            Class::Ignore => return Verdict::default(),
            Class::Ok => {
                self.consecutive = 0;
                return Verdict::default();
            }
            Class::Error => {}
        }
        self.consecutive = self.consecutive.saturating_add(1);
        if self.consecutive < self.limit {
            return Verdict::default();
        }
        let info = format!(
            "Detected {} consecutive errors, last one was: {}",
            self.consecutive,
            ev.description()
        );
        self.consecutive = 0;
        self.failed_hana = self.failed_hana.saturating_add(1);
        let fail = CheckOutcome::new(CheckStatus::Hana, None, info, Duration::ZERO);
        let rise = health.params().rise();
        let transition = match self.on_error {
            OnError::FastInter => None,
            OnError::FailCheck => health.record(fail, now),
            OnError::SuddenDeath => {
                if health.health() > rise {
                    health.force_health(rise.saturating_add(1), now);
                }
                health.record(fail, now)
            }
            OnError::MarkDown => {
                health.force_health(rise, now);
                health.record(fail, now)
            }
        };
        Verdict {
            transition,
            fastinter: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CheckParams;

    fn up() -> (Health, Instant) {
        let t0 = Instant::now();
        let mut h = Health::new(CheckParams::default(), t0);
        h.record(
            CheckOutcome::new(CheckStatus::L4Ok, None, "", Duration::ZERO),
            t0,
        );
        (h, t0)
    }

    #[test]
    fn fail_check_after_limit() {
        let (mut h, t0) = up();
        let mut p = Passive::new(Observe::Layer4, 3, OnError::FailCheck).unwrap();
        p.observe(Event::ConnectError, &mut h, t0);
        p.observe(Event::ConnectError, &mut h, t0);
        assert_eq!(h.health(), 4);
        let v = p.observe(Event::ConnectError, &mut h, t0);
        assert!(v.fastinter);
        assert_eq!(h.status_text(false), "UP 2/3");
        assert_eq!(h.last().status, CheckStatus::Hana);
        assert_eq!(
            h.last().info,
            "Detected 3 consecutive errors, last one was: L4 unsuccessful connection"
        );
        assert_eq!(p.failed_hana(), 1);
    }

    #[test]
    fn success_resets_the_run() {
        let (mut h, t0) = up();
        let mut p = Passive::new(Observe::Layer7, 2, OnError::MarkDown).unwrap();
        p.observe(Event::HttpStatus(503), &mut h, t0);
        p.observe(Event::HttpStatus(404), &mut h, t0);
        assert_eq!(p.consecutive_errors(), 0);
        p.observe(Event::HttpStatus(502), &mut h, t0);
        let v = p.observe(Event::ReadTimeout, &mut h, t0);
        assert_eq!(v.transition, Some(Transition::Down));
    }

    #[test]
    fn layer4_ignores_http_and_sudden_death_leaves_one_step() {
        let (mut h, t0) = up();
        let mut p = Passive::new(Observe::Layer4, 1, OnError::SuddenDeath).unwrap();
        assert_eq!(
            p.observe(Event::HttpStatus(500), &mut h, t0),
            Verdict::default()
        );
        p.observe(Event::ConnectError, &mut h, t0);
        assert_eq!(h.status_text(false), "UP 1/3");
        let mut p = Passive::new(Observe::Layer4, 1, OnError::FastInter).unwrap();
        let v = p.observe(Event::ConnectError, &mut h, t0);
        assert_eq!((v.transition, v.fastinter), (None, true));
        assert_eq!(h.status_text(false), "UP 1/3");
    }

    #[test]
    fn limit_bounds() {
        assert!(Passive::new(Observe::Layer4, 0, OnError::FailCheck).is_err());
        assert!(Passive::new(Observe::Layer4, MAX_ERROR_LIMIT, OnError::FailCheck).is_ok());
        assert!(Passive::new(Observe::Layer4, MAX_ERROR_LIMIT + 1, OnError::FailCheck).is_err());
    }
}
