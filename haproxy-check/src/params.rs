//! Per-server check parameters: rise, fall and the three intervals.

use std::time::Duration;

use crate::CheckError;

/// Largest accepted `rise` or `fall` value; keeps `rise + fall - 1` far from overflow.
pub const MAX_RISE_FALL: u32 = 1 << 20;

/// HAProxy's default check interval (`inter`), 2000 ms.
pub const DEFAULT_INTER: Duration = Duration::from_millis(2000);

/// HAProxy's default `rise`, 2.
pub const DEFAULT_RISE: u32 = 2;

/// HAProxy's default `fall`, 3.
pub const DEFAULT_FALL: u32 = 3;

/// The server-line parameters that drive the health counter and the schedule
/// (configuration.txt 5.2: `inter`, `fastinter`, `downinter`, `rise`, `fall`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckParams {
    rise: u32,
    fall: u32,
    inter: Duration,
    fastinter: Option<Duration>,
    downinter: Option<Duration>,
}

impl Default for CheckParams {
    fn default() -> Self {
        Self {
            rise: DEFAULT_RISE,
            fall: DEFAULT_FALL,
            inter: DEFAULT_INTER,
            fastinter: None,
            downinter: None,
        }
    }
}

impl CheckParams {
    /// Builds parameters with the given `rise` and `fall` and default intervals.
    ///
    /// # Errors
    /// [`CheckError::InvalidParam`] when `rise` or `fall` is 0 or above [`MAX_RISE_FALL`].
    pub fn new(rise: u32, fall: u32) -> Result<Self, CheckError> {
        for (name, v) in [("rise", rise), ("fall", fall)] {
            if v == 0 || v > MAX_RISE_FALL {
                return Err(CheckError::InvalidParam {
                    name,
                    reason: format!("must be between 1 and {MAX_RISE_FALL}, got {v}"),
                });
            }
        }
        Ok(Self {
            rise,
            fall,
            ..Self::default()
        })
    }

    /// Sets `inter`.
    ///
    /// # Errors
    /// [`CheckError::InvalidParam`] when the interval is zero.
    pub fn with_inter(mut self, inter: Duration) -> Result<Self, CheckError> {
        self.inter = nonzero("inter", inter)?;
        Ok(self)
    }

    /// Sets `fastinter`.
    ///
    /// # Errors
    /// [`CheckError::InvalidParam`] when the interval is zero.
    pub fn with_fastinter(mut self, fastinter: Duration) -> Result<Self, CheckError> {
        self.fastinter = Some(nonzero("fastinter", fastinter)?);
        Ok(self)
    }

    /// Sets `downinter`.
    ///
    /// # Errors
    /// [`CheckError::InvalidParam`] when the interval is zero.
    pub fn with_downinter(mut self, downinter: Duration) -> Result<Self, CheckError> {
        self.downinter = Some(nonzero("downinter", downinter)?);
        Ok(self)
    }

    /// `rise`: consecutive successes needed to go UP.
    pub fn rise(&self) -> u32 {
        self.rise
    }

    /// `fall`: consecutive failures needed to go DOWN.
    pub fn fall(&self) -> u32 {
        self.fall
    }

    /// The top of the health counter, `rise + fall - 1`.
    pub fn max_health(&self) -> u32 {
        self.rise.saturating_add(self.fall).saturating_sub(1)
    }

    /// `inter`.
    pub fn inter(&self) -> Duration {
        self.inter
    }

    /// `fastinter`, defaulting to `inter`.
    pub fn fastinter(&self) -> Duration {
        self.fastinter.unwrap_or(self.inter)
    }

    /// `downinter`, defaulting to `inter`.
    pub fn downinter(&self) -> Duration {
        self.downinter.unwrap_or(self.inter)
    }
}

fn nonzero(name: &'static str, d: Duration) -> Result<Duration, CheckError> {
    if d.is_zero() {
        return Err(CheckError::InvalidParam {
            name,
            reason: "must be greater than zero".to_owned(),
        });
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_are_enforced_at_the_limit() {
        assert!(CheckParams::new(MAX_RISE_FALL, MAX_RISE_FALL).is_ok());
        assert!(CheckParams::new(MAX_RISE_FALL + 1, 1).is_err());
        assert!(CheckParams::new(1, 0).is_err());
        let p = CheckParams::new(MAX_RISE_FALL, MAX_RISE_FALL).unwrap();
        assert_eq!(p.max_health(), 2 * MAX_RISE_FALL - 1);
    }

    #[test]
    fn intervals_default_to_inter() {
        let p = CheckParams::default()
            .with_inter(Duration::from_millis(500))
            .unwrap();
        assert_eq!(p.fastinter(), Duration::from_millis(500));
        assert_eq!(p.downinter(), Duration::from_millis(500));
        assert!(p.with_fastinter(Duration::ZERO).is_err());
    }
}
