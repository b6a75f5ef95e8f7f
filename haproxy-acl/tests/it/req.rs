//! A plain request struct implementing the sample source, shared by the integration tests.

use std::net::SocketAddr;

use haproxy_acl::{SampleSource, Userlist};

#[derive(Debug, Clone, Default)]
pub(crate) struct Req {
    pub(crate) method: String,
    pub(crate) uri: String,
    pub(crate) version: String,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) src: Option<SocketAddr>,
    pub(crate) dst: Option<SocketAddr>,
    pub(crate) body_len: Option<u64>,
    pub(crate) ssl_sni: Option<String>,
    pub(crate) nbsrv: Option<i64>,
    pub(crate) userlist: Option<Userlist>,
}

impl Req {
    pub(crate) fn get(uri: &str) -> Self {
        Self {
            method: "GET".into(),
            uri: uri.into(),
            version: "1.1".into(),
            src: Some("127.0.0.1:40000".parse().unwrap()),
            dst: Some("127.0.0.1:80".parse().unwrap()),
            ..Self::default()
        }
    }
    pub(crate) fn hdr(mut self, n: &str, v: &str) -> Self {
        self.headers.push((n.into(), v.into()));
        self
    }
}

impl SampleSource for Req {
    fn src(&self) -> Option<SocketAddr> {
        self.src
    }
    fn dst(&self) -> Option<SocketAddr> {
        self.dst
    }
    fn is_http(&self) -> bool {
        true
    }
    fn method(&self) -> Option<&[u8]> {
        Some(self.method.as_bytes())
    }
    fn uri(&self) -> Option<&[u8]> {
        Some(self.uri.as_bytes())
    }
    fn version(&self) -> Option<&[u8]> {
        Some(self.version.as_bytes())
    }
    fn header(&self, i: usize) -> Option<(&[u8], &[u8])> {
        self.headers
            .get(i)
            .map(|(n, v)| (n.as_bytes(), v.as_bytes()))
    }
    fn body_len(&self) -> Option<u64> {
        self.body_len.or(Some(0))
    }
    fn ssl_fc(&self) -> bool {
        self.ssl_sni.is_some()
    }
    fn ssl_fc_sni(&self) -> Option<&[u8]> {
        self.ssl_sni.as_deref().map(str::as_bytes)
    }
    fn nbsrv(&self, _backend: Option<&str>) -> Option<i64> {
        self.nbsrv
    }
    fn userlist(&self, name: &str) -> Option<&Userlist> {
        (name == "users").then_some(self.userlist.as_ref()?)
    }
}
