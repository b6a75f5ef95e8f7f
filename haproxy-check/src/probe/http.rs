//! `option httpchk` with `http-check send` and `http-check expect`.

use std::net::SocketAddr;

use regex::bytes::Regex;
use tokio::time::Instant;

use super::CheckConn;
use super::session::{Next, Session};
use super::tcpcheck::compile;
use crate::{CheckError, CheckOutcome, CheckStatus};

/// Largest number of headers `http-check send` may add.
pub const MAX_SEND_HEADERS: usize = 64;

/// Largest number of codes or ranges in `http-check expect status`.
pub const MAX_STATUS_RANGES: usize = 64;

/// What an `http-check expect` looks at.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum HttpMatch {
    /// `status <codes>`: codes and ranges such as `200,300-399`.
    Status(Vec<(u16, u16)>),
    /// `rstatus <re>`: the status code, as text, matches.
    Rstatus(Regex),
    /// `string <s>`: the body contains `s`.
    String(Vec<u8>),
    /// `rstring <re>`: the body matches.
    Rstring(Regex),
    /// `hdr name <n> [value <v>]`: a header is present (with that value).
    Hdr {
        /// Header name, compared case-insensitively.
        name: String,
        /// Exact value, if required.
        value: Option<String>,
    },
}

impl HttpMatch {
    /// Parses a status list: `200`, `200,201`, `200-299,302`.
    ///
    /// # Errors
    /// [`CheckError::InvalidRule`] on a bad number or range, or more than [`MAX_STATUS_RANGES`] items.
    pub fn status(list: &str) -> Result<Self, CheckError> {
        let bad = || CheckError::InvalidRule(format!("invalid status list '{list}'"));
        let mut out = Vec::new();
        for item in list.split(',') {
            let (lo, hi) = match item.split_once('-') {
                Some((a, b)) => (
                    a.trim().parse().map_err(|_| bad())?,
                    b.trim().parse().map_err(|_| bad())?,
                ),
                None => {
                    let v: u16 = item.trim().parse().map_err(|_| bad())?;
                    (v, v)
                }
            };
            if lo > hi {
                return Err(bad());
            }
            out.push((lo, hi));
            if out.len() > MAX_STATUS_RANGES {
                return Err(bad());
            }
        }
        Ok(Self::Status(out))
    }

    /// `rstatus <re>`.
    ///
    /// # Errors
    /// [`CheckError::Regex`] when the expression does not compile.
    pub fn rstatus(re: &str) -> Result<Self, CheckError> {
        Ok(Self::Rstatus(compile(re)?))
    }

    /// `rstring <re>`.
    ///
    /// # Errors
    /// [`CheckError::Regex`] when the expression does not compile.
    pub fn rstring(re: &str) -> Result<Self, CheckError> {
        Ok(Self::Rstring(compile(re)?))
    }

    fn needs_body(&self) -> bool {
        matches!(self, Self::String(_) | Self::Rstring(_))
    }
}

/// One `http-check expect` rule.
#[derive(Debug, Clone)]
pub struct HttpExpect {
    matcher: HttpMatch,
    negate: bool,
    min_recv: Option<usize>,
    ok_status: CheckStatus,
    error_status: Option<CheckStatus>,
    tout_status: CheckStatus,
}

impl HttpExpect {
    /// An expect rule with HAProxy's defaults.
    pub fn new(matcher: HttpMatch) -> Self {
        Self {
            matcher,
            negate: false,
            min_recv: None,
            ok_status: CheckStatus::L7Ok,
            error_status: None,
            tout_status: CheckStatus::L7Timeout,
        }
    }

    /// `!`.
    pub fn negate(mut self) -> Self {
        self.negate = !self.negate;
        self
    }

    /// `min-recv <n>`.
    pub fn min_recv(mut self, n: usize) -> Self {
        self.min_recv = Some(n);
        self
    }

    /// `ok-status <st>`.
    pub fn ok_status(mut self, s: CheckStatus) -> Self {
        self.ok_status = s;
        self
    }

    /// `error-status <st>` (default: L7STS for status matches, L7RSP for content).
    pub fn error_status(mut self, s: CheckStatus) -> Self {
        self.error_status = Some(s);
        self
    }

    /// `tout-status <st>`.
    pub fn tout_status(mut self, s: CheckStatus) -> Self {
        self.tout_status = s;
        self
    }
}

/// An HTTP check: the request to send and what to expect.
#[derive(Debug, Clone)]
pub struct HttpCheck {
    method: String,
    uri: String,
    version: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    expect: Option<HttpExpect>,
    disable_on_404: bool,
    send_state: bool,
}

impl Default for HttpCheck {
    fn default() -> Self {
        Self {
            method: "OPTIONS".to_owned(),
            uri: "/".to_owned(),
            version: "HTTP/1.0".to_owned(),
            headers: Vec::new(),
            body: Vec::new(),
            expect: None,
            disable_on_404: false,
            send_state: false,
        }
    }
}

fn token_ok(what: &str, s: &str) -> Result<(), CheckError> {
    if s.is_empty() || s.bytes().any(|b| b <= b' ' || b == 0x7f) {
        return Err(CheckError::InvalidRule(format!("invalid {what} '{s}'")));
    }
    Ok(())
}

impl HttpCheck {
    /// `option httpchk [<method>] [<uri>] [<version>]` (defaults `OPTIONS / HTTP/1.0`).
    ///
    /// # Errors
    /// [`CheckError::InvalidRule`] when a part is empty or has spaces or control characters.
    pub fn new(
        method: Option<&str>,
        uri: Option<&str>,
        version: Option<&str>,
    ) -> Result<Self, CheckError> {
        let mut c = Self::default();
        if let Some(m) = method {
            token_ok("method", m)?;
            m.clone_into(&mut c.method);
        }
        if let Some(u) = uri {
            token_ok("uri", u)?;
            u.clone_into(&mut c.uri);
        }
        if let Some(v) = version {
            token_ok("version", v)?;
            v.clone_into(&mut c.version);
        }
        Ok(c)
    }

    /// `http-check send hdr <name> <value>` (names go out in lower case, as HAProxy's HTX does).
    ///
    /// # Errors
    /// [`CheckError::InvalidRule`] past [`MAX_SEND_HEADERS`] or on a bad name or value.
    pub fn header(mut self, name: &str, value: &str) -> Result<Self, CheckError> {
        token_ok("header name", name)?;
        if value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
            return Err(CheckError::InvalidRule(format!(
                "invalid header value '{value}'"
            )));
        }
        if self.headers.len() >= MAX_SEND_HEADERS {
            return Err(CheckError::InvalidRule(format!(
                "more than {MAX_SEND_HEADERS} headers"
            )));
        }
        self.headers
            .push((name.to_ascii_lowercase(), value.to_owned()));
        Ok(self)
    }

    /// `http-check send body <s>`.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// `http-check expect ...`.
    pub fn expect(mut self, e: HttpExpect) -> Self {
        self.expect = Some(e);
        self
    }

    /// `http-check disable-on-404`: a 404 gives L7OKC and puts the server in NOLB.
    pub fn disable_on_404(mut self) -> Self {
        self.disable_on_404 = true;
        self
    }

    /// `http-check send-state`: adds `x-haproxy-server-state` with the caller's state text.
    pub fn send_state(mut self) -> Self {
        self.send_state = true;
        self
    }

    /// Whether `send-state` is on.
    pub fn sends_state(&self) -> bool {
        self.send_state
    }

    /// The request bytes; `state` is the `x-haproxy-server-state` value when `send-state` is on,
    /// e.g. `UP 2/3; name=bck/srv2; node=lb1; weight=1/2; scur=13/22; qcur=0`.
    pub fn request(&self, state: Option<&str>) -> Vec<u8> {
        let mut out = format!("{} {} {}\r\n", self.method, self.uri, self.version);
        for (n, v) in &self.headers {
            out.push_str(&format!("{n}: {v}\r\n"));
        }
        if let (true, Some(s)) = (self.send_state, state) {
            out.push_str(&format!("x-haproxy-server-state: {s}\r\n"));
        }
        if !self.body.is_empty() {
            out.push_str(&format!("content-length: {}\r\n", self.body.len()));
        }
        if self.version.eq_ignore_ascii_case("HTTP/1.1") {
            out.push_str("connection: close\r\n");
        }
        out.push_str("\r\n");
        let mut bytes = out.into_bytes();
        bytes.extend_from_slice(&self.body);
        bytes
    }

    /// Runs the check against `target`.
    pub async fn run(
        &self,
        target: SocketAddr,
        conn: impl Into<CheckConn>,
        state: Option<&str>,
    ) -> CheckOutcome {
        let conn = conn.into();
        let start = Instant::now();
        let (status, code, info) = self.run_inner(target, &conn, start, state).await;
        CheckOutcome::new(status, code, info, start.elapsed())
    }

    async fn run_inner(
        &self,
        target: SocketAddr,
        t: &CheckConn,
        start: Instant,
        state: Option<&str>,
    ) -> (CheckStatus, Option<u32>, String) {
        let mut s = match Session::connect(target, t, start, Next::Send).await {
            Ok(s) => s,
            Err(e) => return (e.status, None, e.info),
        };
        self.exchange(&mut s, state).await
    }

    /// Sends this check's request on an open session and judges the response.
    pub(crate) async fn exchange(
        &self,
        s: &mut Session,
        state: Option<&str>,
    ) -> (CheckStatus, Option<u32>, String) {
        if let Err(e) = s.send(&self.request(state)).await {
            return (e.status, None, e.info);
        }
        let tout = self
            .expect
            .as_ref()
            .map_or(CheckStatus::L7Timeout, |e| e.tout_status);
        let needs_body = self.expect.as_ref().is_some_and(|e| e.matcher.needs_body());
        let min_recv = self.expect.as_ref().and_then(|e| e.min_recv).unwrap_or(0);
        let resp = loop {
            match Response::parse(&s.buf) {
                Parsed::Invalid => return (CheckStatus::L7Rsp, None, String::new()),
                Parsed::Partial if s.is_last() => {
                    if s.buf.is_empty() {
                        return (CheckStatus::L7Rsp, None, String::new());
                    }
                    return (CheckStatus::L7Rsp, None, String::new());
                }
                Parsed::Done(r) => {
                    let body_done = !needs_body || r.body_complete(&s.buf) || s.is_last();
                    if body_done && (s.buf.len() >= min_recv || s.is_last()) {
                        break r;
                    }
                }
                Parsed::Partial => {}
            }
            match s.fill().await {
                Ok(true) => {}
                Ok(false) => return (tout, None, String::new()),
                Err(e) => return (e.status, None, e.info),
            }
        };
        let code = u32::from(resp.code);
        let body = s.buf.get(resp.head_len..).unwrap_or_default();
        // Observed on 2.6.12: a passing HTTP check leaves last_chk empty; a failing one shows
        // the reason phrase.
        if self.disable_on_404 && resp.code == 404 {
            return (CheckStatus::L7OkC, Some(code), String::new());
        }
        let Some(e) = &self.expect else {
            return if (200..400).contains(&resp.code) {
                (CheckStatus::L7Ok, Some(code), String::new())
            } else {
                (CheckStatus::L7Sts, Some(code), resp.reason)
            };
        };
        let (found, err_default, err_info) = match &e.matcher {
            HttpMatch::Status(list) => (
                list.iter().any(|(lo, hi)| (*lo..=*hi).contains(&resp.code)),
                CheckStatus::L7Sts,
                resp.reason.clone(),
            ),
            HttpMatch::Rstatus(re) => (
                re.is_match(resp.code.to_string().as_bytes()),
                CheckStatus::L7Sts,
                resp.reason.clone(),
            ),
            HttpMatch::String(p) => (
                p.is_empty() || body.windows(p.len()).any(|w| w == p.as_slice()),
                CheckStatus::L7Rsp,
                "HTTP content check did not match".to_owned(),
            ),
            HttpMatch::Rstring(re) => (
                re.is_match(body),
                CheckStatus::L7Rsp,
                "HTTP content check did not match".to_owned(),
            ),
            HttpMatch::Hdr { name, value } => (
                resp.headers.iter().any(|(n, v)| {
                    n.eq_ignore_ascii_case(name) && value.as_ref().is_none_or(|want| v == want)
                }),
                CheckStatus::L7Rsp,
                "HTTP header check did not match".to_owned(),
            ),
        };
        if found != e.negate {
            (e.ok_status, Some(code), String::new())
        } else {
            (e.error_status.unwrap_or(err_default), Some(code), err_info)
        }
    }
}

/// Largest number of steps in an `http-check connect` sequence.
pub const MAX_HTTP_STEPS: usize = 64;

/// One step of an HTTP check sequence.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum HttpStep {
    /// `http-check connect [port p] [addr ip]`: opens a new connection.
    Connect(super::ConnectRule),
    /// An `http-check send` followed by its `http-check expect`, on the current connection.
    Exchange(HttpCheck),
}

/// `http-check connect` sequences: several connections, each with send/expect pairs.
#[derive(Debug, Clone)]
pub struct HttpSequence {
    steps: Vec<HttpStep>,
}

impl HttpSequence {
    /// Builds a sequence.
    ///
    /// # Errors
    /// [`CheckError::InvalidRule`] when empty, longer than [`MAX_HTTP_STEPS`], or when a connect
    /// appears but the sequence does not start with one.
    pub fn new(steps: Vec<HttpStep>) -> Result<Self, CheckError> {
        if steps.is_empty() || steps.len() > MAX_HTTP_STEPS {
            return Err(CheckError::InvalidRule(format!(
                "an http-check sequence needs 1 to {MAX_HTTP_STEPS} steps"
            )));
        }
        let has_connect = steps.iter().any(|s| matches!(s, HttpStep::Connect(_)));
        if has_connect && !matches!(steps.first(), Some(HttpStep::Connect(_))) {
            return Err(CheckError::InvalidRule(
                "first step MUST also be a 'connect' when there is a 'connect' step in the http-check ruleset"
                    .to_owned(),
            ));
        }
        Ok(Self { steps })
    }

    /// Runs the steps in order; the first failure is the result, else the last exchange's.
    pub async fn run(
        &self,
        target: SocketAddr,
        conn: impl Into<CheckConn>,
        state: Option<&str>,
    ) -> CheckOutcome {
        let conn = conn.into();
        let start = Instant::now();
        let mut session: Option<Session> = None;
        let mut last = (CheckStatus::L4Ok, None, String::new());
        if !matches!(self.steps.first(), Some(HttpStep::Connect(_))) {
            match Session::connect(target, &conn, start, Next::Send).await {
                Ok(s) => session = Some(s),
                Err(e) => return CheckOutcome::new(e.status, None, e.info, start.elapsed()),
            }
        }
        for step in &self.steps {
            match step {
                HttpStep::Connect(c) => {
                    let addr = SocketAddr::new(
                        c.addr.unwrap_or(target.ip()),
                        c.port.unwrap_or(target.port()),
                    );
                    match Session::connect(addr, &conn, start, Next::Send).await {
                        Ok(s) => session = Some(s),
                        Err(e) => {
                            return CheckOutcome::new(e.status, None, e.info, start.elapsed());
                        }
                    }
                }
                HttpStep::Exchange(h) => {
                    let Some(s) = session.as_mut() else {
                        return CheckOutcome::new(CheckStatus::SockErr, None, "", start.elapsed());
                    };
                    last = h.exchange(s, state).await;
                    if !matches!(
                        last.0.result(),
                        crate::CheckResult::Passed | crate::CheckResult::CondPass
                    ) {
                        break;
                    }
                    // The next exchange reads a fresh response.
                    s.buf.clear();
                }
            }
        }
        CheckOutcome::new(last.0, last.1, last.2, start.elapsed())
    }
}

/// The `x-haproxy-server-state` value HAProxy 2.6 sends with `http-check send-state`, e.g.
/// `UP 1/3; address=127.0.0.1; port=8080; name=b/s; node=lb1; weight=1/1; scur=0/0; qcur=0`.
///
/// `weight` is (current, backend total); `scur` is (server sessions, backend sessions).
pub fn server_state_value(
    status: &str,
    addr: SocketAddr,
    name: &str,
    node: &str,
    weight: (u32, u32),
    scur: (u32, u32),
    qcur: u32,
) -> String {
    format!(
        "{status}; address={}; port={}; name={name}; node={node}; weight={}/{}; scur={}/{}; qcur={qcur}",
        addr.ip(),
        addr.port(),
        weight.0,
        weight.1,
        scur.0,
        scur.1
    )
}

/// Largest number of response headers parsed.
pub const MAX_RESPONSE_HEADERS: usize = 100;

#[derive(Debug)]
struct Response {
    code: u16,
    reason: String,
    headers: Vec<(String, String)>,
    head_len: usize,
    content_length: Option<usize>,
}

#[derive(Debug)]
enum Parsed {
    Partial,
    Invalid,
    Done(Response),
}

impl Response {
    fn parse(buf: &[u8]) -> Parsed {
        let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
            // Reject early what can never be HTTP.
            if buf.len() >= 5 && !buf.starts_with(b"HTTP/") {
                return Parsed::Invalid;
            }
            return Parsed::Partial;
        };
        let head = String::from_utf8_lossy(buf.get(..end).unwrap_or_default()).into_owned();
        let mut lines = head.split("\r\n");
        let status = lines.next().unwrap_or_default();
        let mut parts = status.splitn(3, ' ');
        let (Some(ver), Some(code)) = (parts.next(), parts.next()) else {
            return Parsed::Invalid;
        };
        if !ver.starts_with("HTTP/") || code.len() != 3 {
            return Parsed::Invalid;
        }
        let Ok(code) = code.parse::<u16>() else {
            return Parsed::Invalid;
        };
        let reason = parts.next().unwrap_or_default().to_owned();
        let mut headers = Vec::new();
        let mut content_length = None;
        for line in lines.take(MAX_RESPONSE_HEADERS) {
            if let Some((n, v)) = line.split_once(':') {
                let (n, v) = (n.trim().to_owned(), v.trim().to_owned());
                if n.eq_ignore_ascii_case("content-length") {
                    content_length = v.parse().ok();
                }
                headers.push((n, v));
            }
        }
        Parsed::Done(Self {
            code,
            reason,
            headers,
            head_len: end.saturating_add(4),
            content_length,
        })
    }

    fn body_complete(&self, buf: &[u8]) -> bool {
        self.content_length
            .is_some_and(|cl| buf.len() >= self.head_len.saturating_add(cl))
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn response_parser_never_panics(data in prop::collection::vec(any::<u8>(), 0..512)) {
            if let Parsed::Done(r) = Response::parse(&data) {
                prop_assert!(r.head_len <= data.len());
                let _ = r.body_complete(&data);
            }
        }

        #[test]
        fn status_list_parser_never_panics(s in "[0-9,\\- ]{0,40}") {
            let _ = HttpMatch::status(&s);
        }
    }

    #[test]
    fn parses_status_line_and_headers() {
        let Parsed::Done(r) =
            Response::parse(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 3\r\n\r\nabc")
        else {
            panic!("not parsed")
        };
        assert_eq!(
            (r.code, r.reason.as_str(), r.content_length),
            (503, "Service Unavailable", Some(3))
        );
        assert!(matches!(Response::parse(b"SSH-2.0"), Parsed::Invalid));
        assert!(matches!(Response::parse(b"HTTP/1.1 20"), Parsed::Partial));
        assert!(matches!(
            Response::parse(b"HTTP/1.1 2x0 OK\r\n\r\n"),
            Parsed::Invalid
        ));
    }
}
