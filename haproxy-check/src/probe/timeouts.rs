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

/// Which PROXY protocol header check connections start with (`send-proxy`, `send-proxy-v2`,
/// `check-send-proxy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyHeader {
    /// v1 text: `PROXY TCP4 <check local ip> <server ip> <local port> <server port>\r\n`.
    V1,
    /// v2 binary with the LOCAL command and no addresses, as HAProxy 2.6 sends on checks.
    V2,
}

/// The v2 signature.
const V2_SIG: [u8; 12] = [
    0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
];

impl ProxyHeader {
    /// The header bytes for a check connection from `local` to `peer` (recorded from HAProxy 2.6.12).
    pub fn bytes(self, local: std::net::SocketAddr, peer: std::net::SocketAddr) -> Vec<u8> {
        match self {
            Self::V1 => {
                let fam = if local.is_ipv4() && peer.is_ipv4() {
                    "TCP4"
                } else {
                    "TCP6"
                };
                format!(
                    "PROXY {fam} {} {} {} {}\r\n",
                    local.ip(),
                    peer.ip(),
                    local.port(),
                    peer.port()
                )
                .into_bytes()
            }
            Self::V2 => {
                let mut v = V2_SIG.to_vec();
                v.extend_from_slice(&[0x20, 0x00, 0x00, 0x00]);
                v
            }
        }
    }
}

/// How check connections are made: deadlines, an optional PROXY header, optional TLS.
#[derive(Debug, Clone)]
pub struct CheckConn {
    pub(crate) timeouts: CheckTimeouts,
    pub(crate) send_proxy: Option<ProxyHeader>,
    #[cfg(feature = "tls")]
    pub(crate) tls: Option<super::TlsCheck>,
}

impl CheckConn {
    /// Plain TCP with these deadlines.
    pub fn new(timeouts: CheckTimeouts) -> Self {
        Self {
            timeouts,
            send_proxy: None,
            #[cfg(feature = "tls")]
            tls: None,
        }
    }

    /// Sends a PROXY header first (`send-proxy`, `send-proxy-v2`, `check-send-proxy`).
    pub fn with_send_proxy(mut self, h: Option<ProxyHeader>) -> Self {
        self.send_proxy = h;
        self
    }

    /// Speaks TLS after the connect (and after any PROXY header): `check-ssl`.
    #[cfg(feature = "tls")]
    pub fn with_tls(mut self, tls: Option<super::TlsCheck>) -> Self {
        self.tls = tls;
        self
    }

    /// The deadlines.
    pub fn timeouts(&self) -> CheckTimeouts {
        self.timeouts
    }
}

impl From<CheckTimeouts> for CheckConn {
    fn from(timeouts: CheckTimeouts) -> Self {
        Self::new(timeouts)
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

    #[test]
    fn proxy_headers_match_haproxy_checks() {
        let l: std::net::SocketAddr = "127.0.0.1:48014".parse().unwrap();
        let p: std::net::SocketAddr = "127.0.0.1:33471".parse().unwrap();
        assert_eq!(
            ProxyHeader::V1.bytes(l, p),
            b"PROXY TCP4 127.0.0.1 127.0.0.1 48014 33471\r\n".to_vec()
        );
        assert_eq!(
            ProxyHeader::V2.bytes(l, p),
            b"\r\n\r\n\x00\r\nQUIT\n\x20\x00\x00\x00".to_vec()
        );
    }
}
