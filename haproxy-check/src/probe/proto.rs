//! The built-in protocol checks (`redis-check`, `smtpchk`, `pgsql-check`, `mysql-check`,
//! `ldap-check`, `ssl-hello-chk`), built as tcp-check rulesets as HAProxy 2.6 does.

use super::tcpcheck::{Expect, InfoSrc, Matcher, TcpCheck, TcpRule, compile, payload_cstr};
use crate::{CheckError, CheckStatus};

/// Largest user or domain name accepted by the protocol checks, in bytes.
pub const MAX_NAME_LEN: usize = 255;

/// A protocol evaluator that plain matchers cannot express.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Custom {
    /// The MySQL initial handshake (or error) packet.
    MysqlHandshake,
    /// The MySQL OK (or error) packet answering an authentication.
    MysqlOk,
    /// The LDAP BindResponse.
    LdapBind,
}

/// A status, an optional code and the `last_chk` text.
pub(crate) type Verdict = (CheckStatus, Option<u32>, String);

/// What an evaluator decided.
#[derive(Debug)]
pub(crate) enum Eval {
    Wait,
    Done(Result<Verdict, Verdict>),
}

const LDAP_RFC: &str = "See RFC: http://tools.ietf.org/html/rfc4511#section-4.1.9";

impl Custom {
    pub(crate) fn eval(self, buf: &[u8], last: bool) -> Eval {
        match self {
            Self::MysqlHandshake | Self::MysqlOk => {
                mysql_packet(buf, last, self == Self::MysqlHandshake)
            }
            Self::LdapBind => ldap_bind(buf, last),
        }
    }
}

fn mysql_packet(buf: &[u8], last: bool, first: bool) -> Eval {
    let Some((hdr, payload)) = buf.split_first_chunk::<4>() else {
        return if last {
            Eval::Done(Err((CheckStatus::L7Rsp, None, String::new())))
        } else {
            Eval::Wait
        };
    };
    let len = usize::from(hdr[0]) | usize::from(hdr[1]) << 8 | usize::from(hdr[2]) << 16;
    let Some(payload) = payload.get(..len) else {
        return if last {
            Eval::Done(Err((CheckStatus::L7Rsp, None, String::new())))
        } else {
            Eval::Wait
        };
    };
    match payload.first() {
        Some(0xff) => {
            let code = payload
                .get(1..3)
                .and_then(|c| c.first_chunk::<2>())
                .map(|[lo, hi]| u32::from(*lo) | u32::from(*hi) << 8);
            // post-4.1 errors carry '#' and a 5-byte SQL state before the message.
            let skip = if payload.get(3) == Some(&b'#') { 9 } else { 3 };
            Eval::Done(Err((CheckStatus::L7Sts, code, payload_cstr(payload, skip))))
        }
        Some(v) if first => {
            if *v == 10 || *v == 9 {
                Eval::Done(Ok((CheckStatus::L7Ok, None, payload_cstr(payload, 1))))
            } else {
                Eval::Done(Err((CheckStatus::L7Rsp, None, String::new())))
            }
        }
        Some(0x00) => Eval::Done(Ok((CheckStatus::L7Ok, None, String::new()))),
        _ => Eval::Done(Err((CheckStatus::L7Rsp, None, String::new()))),
    }
}

/// Reads a BER length at `pos`; returns (length, bytes used).
fn ber_len(buf: &[u8], pos: usize) -> Option<(usize, usize)> {
    let first = *buf.get(pos)?;
    if first & 0x80 == 0 {
        return Some((usize::from(first), 1));
    }
    let n = usize::from(first & 0x7f);
    if n == 0 || n > 4 {
        return None;
    }
    let bytes = buf.get(pos.checked_add(1)?..pos.checked_add(1)?.checked_add(n)?)?;
    let len = bytes
        .iter()
        .fold(0usize, |acc, b| acc << 8 | usize::from(*b));
    Some((len, n.checked_add(1)?))
}

fn ldap_bind(buf: &[u8], last: bool) -> Eval {
    let bad = || {
        Eval::Done(Err((
            CheckStatus::L7Rsp,
            None,
            "Not LDAPv3 protocol".to_owned(),
        )))
    };
    if buf.len() < 14 && !last {
        return Eval::Wait;
    }
    if buf.first() != Some(&0x30) {
        return bad();
    }
    let Some((total, used)) = ber_len(buf, 1) else {
        return bad();
    };
    let body_start = 1 + used;
    if buf.len() < body_start.saturating_add(total) {
        return if last { bad() } else { Eval::Wait };
    }
    let body = buf.get(body_start..body_start + total).unwrap_or_default();
    // messageID INTEGER 1, then [APPLICATION 1] BindResponse.
    let Some(rest) = body.strip_prefix(&[0x02, 0x01, 0x01][..]) else {
        return bad();
    };
    let Some(rest) = rest.strip_prefix(&[0x61][..]) else {
        return bad();
    };
    let Some((_, used)) = ber_len(rest, 0) else {
        return bad();
    };
    let rest = rest.get(used..).unwrap_or_default();
    match rest {
        [0x0a, 0x01, 0x00, ..] => Eval::Done(Ok((CheckStatus::L7Ok, None, "Success".to_owned()))),
        [0x0a, 0x01, code, ..] => Eval::Done(Err((
            CheckStatus::L7Sts,
            Some(u32::from(*code)),
            LDAP_RFC.to_owned(),
        ))),
        _ => bad(),
    }
}

/// `option redis-check`: sends `PING`, expects `+PONG`.
pub fn redis_check() -> TcpCheck {
    TcpCheck::from_rules(vec![
        TcpRule::Send(b"*1\r\n$4\r\nPING\r\n".to_vec()),
        TcpRule::Expect(
            Expect::string("+PONG")
                .error_status(CheckStatus::L7Sts)
                .on_error_src(InfoSrc::PayloadLine { skip: 0 })
                .on_success("Redis server is ok"),
        ),
    ])
}

fn check_name(what: &str, name: &str) -> Result<(), CheckError> {
    if name.len() > MAX_NAME_LEN || name.bytes().any(|b| b == 0 || b == b'\r' || b == b'\n') {
        return Err(CheckError::InvalidRule(format!(
            "{what} must be at most {MAX_NAME_LEN} bytes without NUL, CR or LF"
        )));
    }
    Ok(())
}

fn smtp_expects(rules: &mut Vec<TcpRule>, last: bool) -> Result<(), CheckError> {
    rules.push(TcpRule::Expect(
        Expect::new(Matcher::Rstring(compile("^[0-9]{3}[ \r]")?))
            .min_recv(4)
            .error_status(CheckStatus::L7Rsp)
            .on_error_src(InfoSrc::PayloadLine { skip: 0 }),
    ));
    let mut e = Expect::new(Matcher::Rstring(compile("^2[0-9]{2}[ \r]")?))
        .min_recv(4)
        .error_status(CheckStatus::L7Sts)
        .on_error_src(InfoSrc::PayloadLine { skip: 4 })
        .code_from_payload();
    if last {
        e = e.on_success_src(InfoSrc::PayloadLine { skip: 4 });
    }
    rules.push(TcpRule::Expect(e));
    Ok(())
}

/// `option smtpchk [HELO|EHLO <domain>]`: expects a 2xx greeting, sends `HELO localhost` (or the
/// given command), expects a 2xx reply; the code and text of the reply become check_code and last_chk.
///
/// # Errors
/// [`CheckError::InvalidRule`] for a verb other than HELO/EHLO or a bad domain.
pub fn smtp_check(cmd: Option<(&str, &str)>) -> Result<TcpCheck, CheckError> {
    let line = match cmd {
        None => "HELO localhost".to_owned(),
        Some((verb, domain)) => {
            if !verb.eq_ignore_ascii_case("HELO") && !verb.eq_ignore_ascii_case("EHLO") {
                return Err(CheckError::InvalidRule(format!(
                    "smtpchk verb must be HELO or EHLO, got '{verb}'"
                )));
            }
            check_name("smtpchk domain", domain)?;
            format!("{verb} {domain}")
        }
    };
    let mut rules = Vec::new();
    smtp_expects(&mut rules, false)?;
    rules.push(TcpRule::Send(format!("{line}\r\n").into_bytes()));
    smtp_expects(&mut rules, true)?;
    Ok(TcpCheck::from_rules(rules))
}

/// `option pgsql-check user <u>`: sends a StartupMessage, expects an authentication request.
///
/// # Errors
/// [`CheckError::InvalidRule`] for a user name that is too long or has NUL/CR/LF.
pub fn pgsql_check(user: &str) -> Result<TcpCheck, CheckError> {
    check_name("pgsql-check user", user)?;
    let mut body = vec![0x00, 0x03, 0x00, 0x00];
    body.extend_from_slice(b"user\0");
    body.extend_from_slice(user.as_bytes());
    body.extend_from_slice(b"\0\0");
    let len = u32::try_from(body.len().saturating_add(4)).unwrap_or(u32::MAX);
    let mut pkt = len.to_be_bytes().to_vec();
    pkt.extend_from_slice(&body);
    Ok(TcpCheck::from_rules(vec![
        TcpRule::Send(pkt),
        TcpRule::Expect(
            Expect::new(Matcher::Rstring(compile("^E")?))
                .negate()
                .min_recv(5)
                .error_status(CheckStatus::L7Rsp)
                .on_error_src(InfoSrc::PayloadCstr { skip: 6 }),
        ),
        TcpRule::Expect(
            Expect::new(Matcher::Rbinary(compile(
                "^52000000[A-Z0-9]{2}000000(00|02|03|04|05|06|07|09|0A)",
            )?))
            .min_recv(9)
            .error_status(CheckStatus::L7Sts)
            .on_success("PostgreSQL server is ok")
            .on_error("PostgreSQL unknown error"),
        ),
    ]))
}

/// The MySQL client protocol generation used by `mysql-check user <u> [post-41|pre-41]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MysqlProto {
    /// `post-41` (the default).
    #[default]
    Post41,
    /// `pre-41`.
    Pre41,
}

/// `option mysql-check [user <u> [post-41|pre-41]]`: parses the server handshake; with a user,
/// also sends an authentication packet (no password) followed by QUIT, and expects an OK packet.
///
/// # Errors
/// [`CheckError::InvalidRule`] for a user name that is too long or has NUL/CR/LF.
pub fn mysql_check(user: Option<(&str, MysqlProto)>) -> Result<TcpCheck, CheckError> {
    let mut rules = vec![TcpRule::Expect(Expect::new(Matcher::Custom(
        Custom::MysqlHandshake,
    )))];
    if let Some((user, proto)) = user {
        check_name("mysql-check user", user)?;
        let mut payload = match proto {
            MysqlProto::Post41 => {
                let mut p = vec![0x00, 0x82, 0x00, 0x00, 0x00, 0x80, 0x00, 0x01, 0x21];
                p.extend_from_slice(&[0u8; 23]);
                p
            }
            MysqlProto::Pre41 => vec![0x00, 0x80, 0x00, 0x00, 0x01],
        };
        payload.extend_from_slice(user.as_bytes());
        payload.extend_from_slice(&[0, 0]);
        let len = payload.len();
        let mut pkt = vec![(len & 0xff) as u8, (len >> 8 & 0xff) as u8, 0, 1];
        pkt.extend_from_slice(&payload);
        // HAProxy sends the QUIT packet right behind the authentication packet.
        pkt.extend_from_slice(&[0x01, 0x00, 0x00, 0x00, 0x01]);
        rules.push(TcpRule::Send(pkt));
        rules.push(TcpRule::Expect(Expect::new(Matcher::Custom(
            Custom::MysqlOk,
        ))));
    }
    Ok(TcpCheck::from_rules(rules))
}

/// `option ldap-check`: an anonymous LDAPv3 bind; resultCode 0 passes.
pub fn ldap_check() -> TcpCheck {
    TcpCheck::from_rules(vec![
        TcpRule::Send(vec![
            0x30, 0x0c, 0x02, 0x01, 0x01, 0x60, 0x07, 0x02, 0x01, 0x03, 0x04, 0x00, 0x80, 0x00,
        ]),
        TcpRule::Expect(Expect::new(Matcher::Custom(Custom::LdapBind))),
    ])
}

/// The SSLv3 ClientHello that `ssl-hello-chk` sends, byte for byte as HAProxy 2.6 does
/// (recorded on loopback): 39 cipher suites, a random made of the current UNIX time followed by
/// `HAPROXYSSLCHK\nHAPROXYSSLCHK\n`, no session id, null compression.
pub fn ssl_client_hello() -> Vec<u8> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut hs = vec![0x03, 0x00];
    hs.extend_from_slice(&((now & 0xffff_ffff) as u32).to_be_bytes());
    hs.extend_from_slice(b"HAPROXYSSLCHK\nHAPROXYSSLCHK\n");
    hs.push(0x00); // session id length
    let suites: Vec<u16> = (0x0001..=0x001b).chain(0x002f..=0x003a).collect();
    hs.extend_from_slice(&((suites.len() * 2) as u16).to_be_bytes());
    for s in suites {
        hs.extend_from_slice(&s.to_be_bytes());
    }
    hs.extend_from_slice(&[0x01, 0x00]); // compression: null
    let hlen = hs.len();
    let mut msg = vec![0x01, 0x00, (hlen >> 8 & 0xff) as u8, (hlen & 0xff) as u8];
    msg.extend_from_slice(&hs);
    let rlen = msg.len();
    let mut rec = vec![
        0x16,
        0x03,
        0x00,
        (rlen >> 8 & 0xff) as u8,
        (rlen & 0xff) as u8,
    ];
    rec.extend_from_slice(&msg);
    rec
}

/// `option ssl-hello-chk`: sends a ClientHello, expects a handshake (0x16) or alert (0x15) record.
///
/// # Errors
/// [`CheckError::Regex`] only if the built-in expression failed to compile.
pub fn ssl_hello_check() -> Result<TcpCheck, CheckError> {
    Ok(TcpCheck::from_rules(vec![
        TcpRule::Send(ssl_client_hello()),
        TcpRule::Expect(
            Expect::rbinary("^1[56]")?
                .min_recv(5)
                .ok_status(CheckStatus::L6Ok)
                .error_status(CheckStatus::L6Rsp)
                .tout_status(CheckStatus::L6Timeout),
        ),
    ]))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn evaluators_never_panic(data in prop::collection::vec(any::<u8>(), 0..300), last in any::<bool>()) {
            for c in [Custom::MysqlHandshake, Custom::MysqlOk, Custom::LdapBind] {
                let _ = c.eval(&data, last);
            }
        }
    }

    #[test]
    fn ber_long_lengths() {
        assert_eq!(ber_len(&[0x84, 0, 0, 0, 0x10], 0), Some((16, 5)));
        assert_eq!(ber_len(&[0x85, 0, 0, 0, 0, 0], 0), None);
        assert_eq!(ber_len(&[0x82, 0x01], 0), None);
    }

    #[test]
    fn names_are_bounded() {
        assert!(pgsql_check(&"u".repeat(MAX_NAME_LEN)).is_ok());
        assert!(pgsql_check(&"u".repeat(MAX_NAME_LEN + 1)).is_err());
        assert!(mysql_check(Some(("a\0b", MysqlProto::Post41))).is_err());
    }
}
