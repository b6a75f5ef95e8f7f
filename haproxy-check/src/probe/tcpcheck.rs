//! `option tcp-check` rule sequences and the engine that runs them.
//!
//! Follows configuration.txt 4.2 `tcp-check connect|send|send-binary|expect`; the protocol
//! checks (`redis-check`, `smtpchk`, ...) are built from the same rules, as in HAProxy 2.6.

use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};

use regex::bytes::Regex;
use tokio::time::Instant;

use super::session::{Next, Session, StepError};
use super::{CheckConn, proto};
use crate::{CheckError, CheckOutcome, CheckStatus};

/// Largest number of rules in one sequence.
pub const MAX_RULES: usize = 256;

/// Where a `tcp-check connect` goes, when it overrides the server address.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConnectRule {
    /// `port <p>`.
    pub port: Option<u16>,
    /// `addr <ip>`.
    pub addr: Option<IpAddr>,
}

/// What an `expect` rule looks for.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Matcher {
    /// `string <s>`: the response contains `s`.
    String(Vec<u8>),
    /// `rstring <re>`: the response matches the regular expression.
    Rstring(Regex),
    /// `binary <hex>`: the response contains these bytes.
    Binary(Vec<u8>),
    /// `rbinary <re>`: the hex dump (upper case) of the response matches the expression.
    Rbinary(Regex),
    /// A protocol-specific evaluator used by the built-in checks.
    Custom(proto::Custom),
}

/// Where a result's `last_chk` text comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum InfoSrc {
    /// A fixed text.
    Fixed(String),
    /// The response from byte `skip`, left-trimmed of spaces, cut at the first CR or LF.
    PayloadLine { skip: usize },
    /// The response from byte `skip` up to the first NUL.
    PayloadCstr { skip: usize },
}

impl InfoSrc {
    pub(crate) fn render(&self, buf: &[u8]) -> String {
        match self {
            Self::Fixed(s) => s.clone(),
            Self::PayloadLine { skip } => payload_line(buf, *skip),
            Self::PayloadCstr { skip } => payload_cstr(buf, *skip),
        }
    }
}

/// The response from `skip`, spaces trimmed on the left, cut at the first CR or LF.
pub(crate) fn payload_line(buf: &[u8], skip: usize) -> String {
    let rest = buf.get(skip..).unwrap_or_default();
    let start = rest.iter().position(|b| *b != b' ').unwrap_or(rest.len());
    let rest = rest.get(start..).unwrap_or_default();
    let end = rest
        .iter()
        .position(|b| *b == b'\r' || *b == b'\n')
        .unwrap_or(rest.len());
    String::from_utf8_lossy(rest.get(..end).unwrap_or_default()).into_owned()
}

/// The response from `skip` up to the first NUL byte.
pub(crate) fn payload_cstr(buf: &[u8], skip: usize) -> String {
    let rest = buf.get(skip..).unwrap_or_default();
    let end = rest.iter().position(|b| *b == 0).unwrap_or(rest.len());
    String::from_utf8_lossy(rest.get(..end).unwrap_or_default()).into_owned()
}

/// One `tcp-check expect` rule.
#[derive(Debug, Clone)]
pub struct Expect {
    pub(crate) matcher: Matcher,
    pub(crate) negate: bool,
    pub(crate) min_recv: Option<usize>,
    pub(crate) ok_status: CheckStatus,
    pub(crate) error_status: CheckStatus,
    pub(crate) tout_status: CheckStatus,
    pub(crate) on_success: Option<InfoSrc>,
    pub(crate) on_error: Option<InfoSrc>,
    pub(crate) code_from_payload: bool,
}

impl Expect {
    /// An expect rule with HAProxy's defaults (ok L7OK, error L7RSP, timeout L7TOUT).
    pub fn new(matcher: Matcher) -> Self {
        Self {
            matcher,
            negate: false,
            min_recv: None,
            ok_status: CheckStatus::L7Ok,
            error_status: CheckStatus::L7Rsp,
            tout_status: CheckStatus::L7Timeout,
            on_success: None,
            on_error: None,
            code_from_payload: false,
        }
    }

    /// `expect string <s>`.
    pub fn string(s: impl Into<Vec<u8>>) -> Self {
        Self::new(Matcher::String(s.into()))
    }

    /// `expect binary <hex>`.
    ///
    /// # Errors
    /// [`CheckError::InvalidRule`] when `hex` is not an even number of hex digits.
    pub fn binary(hex: &str) -> Result<Self, CheckError> {
        Ok(Self::new(Matcher::Binary(parse_hex(hex)?)))
    }

    /// `expect rstring <re>`.
    ///
    /// # Errors
    /// [`CheckError::Regex`] when the expression does not compile.
    pub fn rstring(re: &str) -> Result<Self, CheckError> {
        Ok(Self::new(Matcher::Rstring(compile(re)?)))
    }

    /// `expect rbinary <re>` (matched against the upper-case hex dump of the response).
    ///
    /// # Errors
    /// [`CheckError::Regex`] when the expression does not compile.
    pub fn rbinary(re: &str) -> Result<Self, CheckError> {
        Ok(Self::new(Matcher::Rbinary(compile(re)?)))
    }

    /// `!`: the rule passes when the pattern is absent.
    pub fn negate(mut self) -> Self {
        self.negate = !self.negate;
        self
    }

    /// `min-recv <n>`: wait for at least `n` bytes; a mismatch after that is final.
    pub fn min_recv(mut self, n: usize) -> Self {
        self.min_recv = Some(n);
        self
    }

    /// `ok-status <st>`.
    pub fn ok_status(mut self, s: CheckStatus) -> Self {
        self.ok_status = s;
        self
    }

    /// `error-status <st>`.
    pub fn error_status(mut self, s: CheckStatus) -> Self {
        self.error_status = s;
        self
    }

    /// `tout-status <st>`.
    pub fn tout_status(mut self, s: CheckStatus) -> Self {
        self.tout_status = s;
        self
    }

    /// `on-success <text>`.
    pub fn on_success(mut self, text: impl Into<String>) -> Self {
        self.on_success = Some(InfoSrc::Fixed(text.into()));
        self
    }

    /// `on-error <text>`.
    pub fn on_error(mut self, text: impl Into<String>) -> Self {
        self.on_error = Some(InfoSrc::Fixed(text.into()));
        self
    }

    pub(crate) fn on_error_src(mut self, src: InfoSrc) -> Self {
        self.on_error = Some(src);
        self
    }

    pub(crate) fn on_success_src(mut self, src: InfoSrc) -> Self {
        self.on_success = Some(src);
        self
    }

    pub(crate) fn code_from_payload(mut self) -> Self {
        self.code_from_payload = true;
        self
    }

    /// The pattern part of HAProxy's mismatch message (recorded on 2.6.12: only plain strings are
    /// quoted; binary and regex patterns are named by kind).
    fn pattern_text(&self) -> String {
        match &self.matcher {
            Matcher::String(s) => format!(" '{}'", String::from_utf8_lossy(s)),
            Matcher::Binary(_) => " (binary)".to_owned(),
            Matcher::Rstring(_) => " (regex)".to_owned(),
            Matcher::Rbinary(_) => " (binary regex)".to_owned(),
            Matcher::Custom(_) => String::new(),
        }
    }

    /// How HAProxy names this rule after a connection error or timeout during it
    /// (`chk_report_conn_err`: `(expect string 'x')`, `(expect regex)`, ...).
    fn conn_error_text(&self) -> String {
        match &self.matcher {
            Matcher::String(s) => format!("(expect string '{}')", String::from_utf8_lossy(s)),
            // HAProxy prints the decoded bytes with `%.*s`: up to the first NUL.
            Matcher::Binary(b) => {
                let end = b.iter().position(|c| *c == 0).unwrap_or(b.len());
                format!(
                    "(expect binary '{}')",
                    String::from_utf8_lossy(b.get(..end).unwrap_or_default())
                )
            }
            Matcher::Rstring(_) => "(expect regex)".to_owned(),
            Matcher::Rbinary(_) => "(expect binary regex)".to_owned(),
            Matcher::Custom(_) => "(expect custom function)".to_owned(),
        }
    }
}

/// One rule of a `tcp-check` sequence.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum TcpRule {
    /// `tcp-check connect [port p] [addr ip]`.
    Connect(ConnectRule),
    /// `tcp-check send <s>` / `send-lf` (already rendered) / `send-binary <hex>`.
    Send(Vec<u8>),
    /// `tcp-check expect ...`.
    Expect(Expect),
}

/// A `tcp-check` ruleset (no rules = connect only).
#[derive(Debug, Clone, Default)]
pub struct TcpCheck {
    rules: Vec<TcpRule>,
    /// A user's `option tcp-check` ruleset (not a built-in protocol check nor a plain
    /// `check`): HAProxy then names the step in connection error and timeout texts.
    user: bool,
}

impl TcpCheck {
    /// Builds a ruleset.
    ///
    /// # Errors
    /// [`CheckError::InvalidRule`] when there are more than [`MAX_RULES`] rules, or when a
    /// `connect` appears but the sequence does not start with one (HAProxy's rule).
    pub fn new(rules: Vec<TcpRule>) -> Result<Self, CheckError> {
        if rules.len() > MAX_RULES {
            return Err(CheckError::InvalidRule(format!(
                "too many tcp-check rules ({} > {MAX_RULES})",
                rules.len()
            )));
        }
        let has_connect = rules.iter().any(|r| matches!(r, TcpRule::Connect(_)));
        if has_connect && !matches!(rules.first(), Some(TcpRule::Connect(_))) {
            return Err(CheckError::InvalidRule(
                "first step MUST also be a 'connect' when there is a 'connect' step in the tcp-check ruleset"
                    .to_owned(),
            ));
        }
        Ok(Self { rules, user: true })
    }

    /// Builds a ruleset known to be valid (built-in protocol checks).
    pub(crate) fn from_rules(rules: Vec<TcpRule>) -> Self {
        Self { rules, user: false }
    }

    /// What HAProxy appends to a connection error or timeout text at `step` (1-based; 0 is
    /// the implicit first connect), only for a user's ruleset (`chk_report_conn_err`).
    fn step_text(&self, step: usize) -> String {
        if !self.user {
            return String::new();
        }
        if step == 0 {
            return " at initial connection step of tcp-check".to_owned();
        }
        let what = match self.rules.get(step.saturating_sub(1)) {
            Some(TcpRule::Connect(ConnectRule { port: Some(p), .. })) => {
                format!(" (connect port {p})")
            }
            Some(TcpRule::Connect(_)) => " (connect)".to_owned(),
            Some(TcpRule::Send(_)) => " (send)".to_owned(),
            Some(TcpRule::Expect(e)) => format!(" {}", e.conn_error_text()),
            None => String::new(),
        };
        format!(" at step {step} of tcp-check{what}")
    }

    /// The rules.
    pub fn rules(&self) -> &[TcpRule] {
        &self.rules
    }

    /// Runs the sequence against `target` and returns HAProxy's status, code and info.
    pub async fn run(&self, target: SocketAddr, conn: impl Into<CheckConn>) -> CheckOutcome {
        let conn = conn.into();
        let start = Instant::now();
        let (status, code, info) = self.run_inner(target, &conn, start).await;
        CheckOutcome::new(status, code, info, start.elapsed())
    }

    async fn run_inner(
        &self,
        target: SocketAddr,
        t: &CheckConn,
        start: Instant,
    ) -> (CheckStatus, Option<u32>, String) {
        let mut session: Option<Session> = None;
        let mut did_io = false;
        let mut last_success: Option<(CheckStatus, Option<u32>, String)> = None;
        if !matches!(self.rules.first(), Some(TcpRule::Connect(_))) {
            let next = Next::after(self.rules.first());
            match Session::connect(target, t, start, next).await {
                Ok(s) => session = Some(s),
                Err(e) => return (e.status, None, e.info + &self.step_text(0)),
            }
        }
        for (idx, rule) in self.rules.iter().enumerate() {
            let step = idx.saturating_add(1);
            match rule {
                TcpRule::Connect(c) => {
                    let addr = SocketAddr::new(
                        c.addr.unwrap_or(target.ip()),
                        c.port.unwrap_or(target.port()),
                    );
                    let next = Next::after(self.rules.get(step));
                    match Session::connect(addr, t, start, next).await {
                        Ok(s) => session = Some(s),
                        Err(e) => return (e.status, None, e.info + &self.step_text(step)),
                    }
                }
                TcpRule::Send(data) => {
                    did_io = true;
                    let Some(s) = session.as_mut() else {
                        return (CheckStatus::SockErr, None, String::new());
                    };
                    if let Err(StepError { status, info }) = s.send(data).await {
                        return (status, None, info + &self.step_text(step));
                    }
                }
                TcpRule::Expect(e) => {
                    did_io = true;
                    let Some(s) = session.as_mut() else {
                        return (CheckStatus::SockErr, None, String::new());
                    };
                    match eval_expect(s, e, step, &self.step_text(step)).await {
                        Ok(ok) => last_success = Some(ok),
                        Err(fail) => return fail,
                    }
                }
            }
        }
        if !did_io {
            let tls = session.as_ref().is_some_and(|s| s.tls);
            let status = if tls {
                CheckStatus::L6Ok
            } else {
                CheckStatus::L4Ok
            };
            // A plain `check` says nothing; an explicit `tcp-check connect` ruleset says
            // `(tcp-check)` (recorded on 2.6.12).
            let info = if self.rules.is_empty() {
                ""
            } else {
                "(tcp-check)"
            };
            return (status, None, info.to_owned());
        }
        last_success.unwrap_or((CheckStatus::L7Ok, None, "(tcp-check)".to_owned()))
    }
}

use super::proto::Verdict;

impl Next {
    /// What follows a connect when `rule` is the next tcp-check rule.
    fn after(rule: Option<&TcpRule>) -> Self {
        match rule {
            Some(TcpRule::Expect(_)) => Self::Expect,
            Some(TcpRule::Send(_)) => Self::Send,
            Some(TcpRule::Connect(_)) | None => Self::Nothing,
        }
    }
}

/// Evaluates one expect rule, reading as needed; `conn_text` ends the text of a connection
/// error or timeout during the rule (see [`TcpCheck::step_text`]).
async fn eval_expect(
    s: &mut Session,
    e: &Expect,
    step: usize,
    conn_text: &str,
) -> Result<Verdict, Verdict> {
    let io_err = |x: StepError| (x.status, None, x.info + conn_text);
    let tout = || (e.tout_status, None, conn_text.to_owned());
    loop {
        let last = s.is_last();
        let enough = e.min_recv.is_none_or(|m| s.buf.len() >= m);
        if !enough && !last {
            if !s.fill().await.map_err(io_err)? {
                return Err(tout());
            }
            continue;
        }
        let found = match &e.matcher {
            Matcher::String(p) | Matcher::Binary(p) => contains(&s.buf, p),
            Matcher::Rstring(r) => r.is_match(&s.buf),
            Matcher::Rbinary(r) => r.is_match(hex_dump(&s.buf).as_bytes()),
            Matcher::Custom(c) => match c.eval(&s.buf, last) {
                proto::Eval::Wait => {
                    if !s.fill().await.map_err(io_err)? {
                        return Err(tout());
                    }
                    continue;
                }
                proto::Eval::Done(Ok((st, code, info))) => return Ok((st, code, info)),
                proto::Eval::Done(Err((st, code, info))) => return Err((st, code, info)),
            },
        };
        if !found && !last && e.min_recv.is_none() {
            if !s.fill().await.map_err(io_err)? {
                return Err(tout());
            }
            continue;
        }
        let code = if e.code_from_payload {
            std::str::from_utf8(s.buf.get(..3).unwrap_or_default())
                .ok()
                .and_then(|c| c.parse().ok())
        } else {
            None
        };
        if found != e.negate {
            // Without on-success HAProxy reports `(tcp-check)` (recorded on 2.6.12).
            let info = e
                .on_success
                .as_ref()
                .map_or_else(|| "(tcp-check)".to_owned(), |i| i.render(&s.buf));
            return Ok((e.ok_status, code, info));
        }
        let info = match &e.on_error {
            Some(src) => src.render(&s.buf),
            None => {
                let what = if e.negate {
                    "matched unwanted"
                } else {
                    "did not match"
                };
                format!("TCPCHK {what} content{} at step {step}", e.pattern_text())
            }
        };
        return Err((e.error_status, code, info));
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || hay.windows(needle.len()).any(|w| w == needle)
}

/// Upper-case hex dump, as HAProxy matches `rbinary` and prints `binary` patterns.
pub(crate) fn hex_dump(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().saturating_mul(2));
    for b in data {
        let _ = write!(out, "{b:02X}");
    }
    out
}

/// Parses a `send-binary` / `expect binary` hex string.
///
/// # Errors
/// [`CheckError::InvalidRule`] on an odd length or a non-hex digit.
pub fn parse_hex(hex: &str) -> Result<Vec<u8>, CheckError> {
    let bytes = hex.as_bytes();
    if !bytes.len().is_multiple_of(2) {
        return Err(CheckError::InvalidRule(format!(
            "odd number of hex digits in '{hex}'"
        )));
    }
    bytes
        .chunks_exact(2)
        .map(|pair| {
            std::str::from_utf8(pair)
                .ok()
                .and_then(|p| u8::from_str_radix(p, 16).ok())
                .ok_or_else(|| CheckError::InvalidRule(format!("invalid hex digits in '{hex}'")))
        })
        .collect()
}

pub(crate) fn compile(re: &str) -> Result<Regex, CheckError> {
    Regex::new(re).map_err(|e| CheckError::Regex {
        pattern: re.to_owned(),
        source: Box::new(e),
    })
}
