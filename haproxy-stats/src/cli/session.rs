//! A CLI session: bytes in, reply bytes out, exactly framed as HAProxy 2.6 frames them.

use super::api::{Level, RuntimeApi};
use super::commands::{Outcome, execute};
use super::split::{PAYLOAD_PATTERN, split_words};
use crate::StatsError;

/// Longest command line (or line plus payload) a session accepts: HAProxy's 16 kB buffer minus
/// the byte reserved for the terminating NUL. A longer request closes the session silently.
pub const MAX_LINE_LEN: usize = 16_383;

/// Largest payload accepted after `<<` (the same buffer holds line and payload).
pub const MAX_PAYLOAD_LEN: usize = MAX_LINE_LEN;

/// One connection to a stats socket.
///
/// Feed it the bytes the client sent; it returns the bytes to send back and tells when the
/// connection must be closed. Non-interactive mode answers every complete command in the
/// buffer then closes; `prompt` switches to interactive mode (`> ` prompts, `+ ` while a
/// payload is being read).
#[derive(Debug, Clone)]
pub struct Cli {
    level: Level,
    prompt: bool,
    buf: Vec<u8>,
    payload: Option<(String, String)>,
    closed: bool,
    close_reason: Option<StatsError>,
    timeout_secs: u32,
}

impl Cli {
    /// A new session at the socket's level.
    #[must_use]
    pub fn new(level: Level) -> Self {
        Self {
            level,
            prompt: false,
            buf: Vec::new(),
            payload: None,
            closed: false,
            close_reason: None,
            timeout_secs: 10,
        }
    }

    /// The same session with its idle timeout set to `stats timeout` (seconds).
    #[must_use]
    pub fn with_timeout_secs(mut self, secs: u32) -> Self {
        self.timeout_secs = secs;
        self
    }

    /// The current level (lowered by `operator` / `user`).
    #[must_use]
    pub fn level(&self) -> Level {
        self.level
    }

    /// Whether the session is closed; later input is ignored.
    #[must_use]
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// Why the session closed on its own, when a bound was exceeded (HAProxy closes without a
    /// reply; the proxy may log this).
    #[must_use]
    pub fn close_reason(&self) -> Option<&StatsError> {
        self.close_reason.as_ref()
    }

    /// Whether interactive (`prompt`) mode is on.
    #[must_use]
    pub fn is_interactive(&self) -> bool {
        self.prompt
    }

    /// The idle timeout set with `set timeout cli` (default 10 s, `stats timeout`).
    #[must_use]
    pub fn timeout_secs(&self) -> u32 {
        self.timeout_secs
    }

    /// Processes received bytes and returns the reply bytes.
    pub fn feed(&mut self, input: &[u8], api: &mut dyn RuntimeApi) -> Vec<u8> {
        let mut out = Vec::new();
        if self.closed {
            return out;
        }
        self.buf.extend_from_slice(input);
        while !self.closed {
            let Some((line, consumed)) = self.next_line() else {
                let pending = self.payload.as_ref().map_or(0, |(l, p)| l.len() + p.len());
                if self.buf.len() + pending > MAX_LINE_LEN {
                    self.close();
                    self.close_reason = Some(StatsError::LineTooLong {
                        limit: MAX_LINE_LEN,
                    });
                }
                break;
            };
            self.buf.drain(..consumed.min(self.buf.len()));
            self.on_line(&line, api, &mut out);
            if !self.prompt && self.payload.is_none() && self.buf.is_empty() {
                self.close();
            }
        }
        out
    }

    fn close(&mut self) {
        self.closed = true;
        self.buf.clear();
        self.payload = None;
    }

    /// The next complete line: in payload mode up to LF; otherwise up to an unescaped `;` or LF.
    fn next_line(&self) -> Option<(String, usize)> {
        let mut i = 0;
        while let Some(&b) = self.buf.get(i) {
            match b {
                b'\\' if self.payload.is_none() => i += 2,
                b'\n' => break,
                b';' if self.payload.is_none() => break,
                _ => i += 1,
            }
        }
        self.buf.get(i)?;
        let raw = self.buf.get(..i)?;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        Some((String::from_utf8_lossy(raw).into_owned(), i + 1))
    }

    fn on_line(&mut self, line: &str, api: &mut dyn RuntimeApi, out: &mut Vec<u8>) {
        if let Some((cmd, mut payload)) = self.payload.take() {
            if line.is_empty() {
                self.run(&cmd, Some(&payload), api, out);
            } else if cmd.len() + payload.len() + line.len() + 1 > MAX_PAYLOAD_LEN {
                // HAProxy's request buffer is full: the session ends without a reply.
                self.close();
                self.close_reason = Some(StatsError::PayloadTooLarge {
                    limit: MAX_PAYLOAD_LEN,
                });
            } else {
                if !payload.is_empty() {
                    payload.push('\n');
                }
                payload.push_str(line);
                self.payload = Some((cmd, payload));
                if self.prompt {
                    out.extend_from_slice(b"+ ");
                }
            }
            return;
        }
        if line.ends_with(PAYLOAD_PATTERN) {
            self.payload = Some((line.to_owned(), String::new()));
            if self.prompt {
                out.extend_from_slice(b"+ ");
            }
            return;
        }
        self.run(line, None, api, out);
    }

    fn run(
        &mut self,
        line: &str,
        payload: Option<&str>,
        api: &mut dyn RuntimeApi,
        out: &mut Vec<u8>,
    ) {
        let words = split_words(line);
        match execute(&words, payload, self.level, api) {
            Outcome::Reply(text) => out.extend_from_slice(text.as_bytes()),
            Outcome::Quit => {
                self.close();
                return;
            }
            Outcome::TogglePrompt => self.prompt = !self.prompt,
            Outcome::SetLevel(l) => self.level = l,
            Outcome::SetTimeout(s) => self.timeout_secs = s,
        }
        if self.prompt {
            out.extend_from_slice(b"\n> ");
        } else {
            // A few HAProxy replies lack their own final LF, so they end with a single one.
            out.push(b'\n');
        }
    }
}
