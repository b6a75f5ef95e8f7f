//! Sample source for [`http::Request`] plus peer addresses (feature `http`).

use std::net::SocketAddr;

use crate::sample::SampleSource;

/// An [`http::Request`] seen by the ACL engine, with the connection's addresses.
#[derive(Debug)]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
pub struct HttpSource<'r, B> {
    req: &'r http::Request<B>,
    uri: String,
    src: Option<SocketAddr>,
    dst: Option<SocketAddr>,
}

impl<'r, B> HttpSource<'r, B> {
    /// Wraps a request and the client (`src`) and local (`dst`) addresses.
    pub fn new(
        req: &'r http::Request<B>,
        src: Option<SocketAddr>,
        dst: Option<SocketAddr>,
    ) -> Self {
        Self {
            req,
            uri: req.uri().to_string(),
            src,
            dst,
        }
    }
}

impl<B> SampleSource for HttpSource<'_, B> {
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
        Some(self.req.method().as_str().as_bytes())
    }
    fn uri(&self) -> Option<&[u8]> {
        Some(self.uri.as_bytes())
    }
    fn version(&self) -> Option<&[u8]> {
        Some(match self.req.version() {
            http::Version::HTTP_09 => b"0.9",
            http::Version::HTTP_10 => b"1.0",
            http::Version::HTTP_2 => b"2.0",
            http::Version::HTTP_3 => b"3.0",
            _ => b"1.1",
        })
    }
    fn header(&self, index: usize) -> Option<(&[u8], &[u8])> {
        self.req
            .headers()
            .iter()
            .nth(index)
            .map(|(n, v)| (n.as_str().as_bytes(), v.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AclSet;

    #[test]
    fn http_request_matches() {
        let req = http::Request::get("/api/x?a=1")
            .header("Host", "Example.com")
            .body(())
            .unwrap();
        let src = HttpSource::new(&req, Some("10.1.2.3:5555".parse().unwrap()), None);
        let mut set = AclSet::new();
        set.parse_acl(&["acl", "a", "path_beg", "/api"]).unwrap();
        set.parse_acl(&["acl", "h", "hdr(host)", "-i", "example.com"])
            .unwrap();
        set.parse_acl(&["acl", "n", "src", "10.0.0.0/8"]).unwrap();
        assert!(
            set.parse_condition(&["if", "a", "h", "n", "METH_GET", "HTTP_1.1"])
                .unwrap()
                .eval(&src)
        );
    }
}
