//! Check status codes, their CSV names, descriptions and HAProxy 2.6 enum numbers.

use std::fmt;

/// The status of the last check, as HAProxy 2.6 records it (`check_status` in `show stat`).
///
/// The discriminants follow HAProxy 2.6's `enum healthcheck_status` (the value written in
/// `show servers state` `srv_check_status`); see [`CheckStatus::number`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum CheckStatus {
    /// `UNK`: unknown.
    Unknown,
    /// `INI`: initializing (no check finished yet).
    Init,
    /// `START`: check started.
    Start,
    /// `CHECKED`: the agent replied but changed nothing.
    Checked,
    /// `HANA`: health analyze (passive health) detected enough errors.
    Hana,
    /// `SOCKERR`: socket error.
    SockErr,
    /// `L4OK`: layer 4 check passed.
    L4Ok,
    /// `L4TOUT`: layer 4 timeout.
    L4Timeout,
    /// `L4CON`: layer 4 connection problem.
    L4Con,
    /// `L6OK`: layer 6 check passed.
    L6Ok,
    /// `L6TOUT`: layer 6 timeout.
    L6Timeout,
    /// `L6RSP`: layer 6 invalid response.
    L6Rsp,
    /// `L7TOUT`: layer 7 timeout.
    L7Timeout,
    /// `L7RSP`: layer 7 invalid response.
    L7Rsp,
    /// `L57DATA`: internal marker; statuses from here on carry a code.
    L57Data,
    /// `L7OK`: layer 7 check passed.
    L7Ok,
    /// `L7OKC`: layer 7 check conditionally passed (e.g. 404 with `disable-on-404`).
    L7OkC,
    /// `L7STS`: layer 7 wrong status.
    L7Sts,
    /// `PROCERR`: external check process error.
    ProcErr,
    /// `PROCTOUT`: external check process timeout.
    ProcTimeout,
    /// `PROCOK`: external check passed.
    ProcOk,
}

/// What a finished check means for the health counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CheckResult {
    /// The check says nothing about health (INI, CHECKED, ...).
    Neutral,
    /// The check failed.
    Failed,
    /// The check passed.
    Passed,
    /// The check passed conditionally (`L7OKC`): the server goes to NOLB.
    CondPass,
}

impl CheckStatus {
    /// Every status, in enum order.
    pub const ALL: [CheckStatus; 21] = [
        Self::Unknown,
        Self::Init,
        Self::Start,
        Self::Checked,
        Self::Hana,
        Self::SockErr,
        Self::L4Ok,
        Self::L4Timeout,
        Self::L4Con,
        Self::L6Ok,
        Self::L6Timeout,
        Self::L6Rsp,
        Self::L7Timeout,
        Self::L7Rsp,
        Self::L57Data,
        Self::L7Ok,
        Self::L7OkC,
        Self::L7Sts,
        Self::ProcErr,
        Self::ProcTimeout,
        Self::ProcOk,
    ];

    /// The short name shown in the CSV `check_status` column (`L7OK`, `L4CON`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Self::Unknown => "UNK",
            Self::Init => "INI",
            Self::Start => "START",
            Self::Checked => "CHECKED",
            Self::Hana => "HANA",
            Self::SockErr => "SOCKERR",
            Self::L4Ok => "L4OK",
            Self::L4Timeout => "L4TOUT",
            Self::L4Con => "L4CON",
            Self::L6Ok => "L6OK",
            Self::L6Timeout => "L6TOUT",
            Self::L6Rsp => "L6RSP",
            Self::L7Timeout => "L7TOUT",
            Self::L7Rsp => "L7RSP",
            Self::L57Data => "L57DATA",
            Self::L7Ok => "L7OK",
            Self::L7OkC => "L7OKC",
            Self::L7Sts => "L7STS",
            Self::ProcErr => "PROCERR",
            Self::ProcTimeout => "PROCTOUT",
            Self::ProcOk => "PROCOK",
        }
    }

    /// Parses a short name (`L7OK`, ...), as used by `ok-status`, `error-status`, `tout-status`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.name() == name)
    }

    /// The long description shown in the CSV `check_desc` column and in state-change logs.
    pub fn description(self) -> &'static str {
        match self {
            Self::Unknown => "Unknown",
            Self::Init => "Initializing",
            Self::Start => "Check started",
            Self::Checked => "No status change",
            Self::Hana => "Health analyze",
            Self::SockErr => "Socket error",
            Self::L4Ok => "Layer4 check passed",
            Self::L4Timeout => "Layer4 timeout",
            Self::L4Con => "Layer4 connection problem",
            Self::L6Ok => "Layer6 check passed",
            Self::L6Timeout => "Layer6 timeout",
            Self::L6Rsp => "Layer6 invalid response",
            Self::L7Timeout => "Layer7 timeout",
            Self::L7Rsp => "Layer7 invalid response",
            Self::L57Data => "Layer5-7 data",
            Self::L7Ok => "Layer7 check passed",
            Self::L7OkC => "Layer7 check conditionally passed",
            Self::L7Sts => "Layer7 wrong status",
            Self::ProcErr => "External check error",
            Self::ProcTimeout => "External check timeout",
            Self::ProcOk => "External check passed",
        }
    }

    /// HAProxy 2.6's numeric value (`show servers state` `srv_check_status`).
    pub fn number(self) -> u8 {
        match self {
            Self::Unknown => 0,
            Self::Init => 1,
            Self::Start => 2,
            Self::Checked => 3,
            Self::Hana => 4,
            Self::SockErr => 5,
            Self::L4Ok => 6,
            Self::L4Timeout => 7,
            Self::L4Con => 8,
            Self::L6Ok => 9,
            Self::L6Timeout => 10,
            Self::L6Rsp => 11,
            Self::L7Timeout => 12,
            Self::L7Rsp => 13,
            Self::L57Data => 14,
            Self::L7Ok => 15,
            Self::L7OkC => 16,
            Self::L7Sts => 17,
            Self::ProcErr => 18,
            Self::ProcTimeout => 19,
            Self::ProcOk => 20,
        }
    }

    /// Whether HAProxy prints a `check_code` (and `, code: N` in logs) with this status.
    pub fn has_code(self) -> bool {
        self >= Self::L57Data
    }

    /// What this status means for the rise/fall counter.
    pub fn result(self) -> CheckResult {
        match self {
            Self::L4Ok | Self::L6Ok | Self::L7Ok | Self::ProcOk => CheckResult::Passed,
            Self::L7OkC => CheckResult::CondPass,
            Self::Unknown | Self::Init | Self::Start | Self::Checked | Self::L57Data => {
                CheckResult::Neutral
            }
            Self::Hana
            | Self::SockErr
            | Self::L4Timeout
            | Self::L4Con
            | Self::L6Timeout
            | Self::L6Rsp
            | Self::L7Timeout
            | Self::L7Rsp
            | Self::L7Sts
            | Self::ProcErr
            | Self::ProcTimeout => CheckResult::Failed,
        }
    }
}

impl fmt::Display for CheckStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_follow_enum_order() {
        for (i, s) in CheckStatus::ALL.iter().enumerate() {
            assert_eq!(usize::from(s.number()), i);
            assert_eq!(CheckStatus::from_name(s.name()), Some(*s));
        }
    }

    #[test]
    fn reference_descriptions() {
        assert_eq!(
            CheckStatus::L4Con.description(),
            "Layer4 connection problem"
        );
        assert_eq!(
            CheckStatus::L7OkC.description(),
            "Layer7 check conditionally passed"
        );
        assert_eq!(CheckStatus::Init.description(), "Initializing");
        assert!(CheckStatus::L7Sts.has_code());
        assert!(!CheckStatus::L7Rsp.has_code());
    }
}
