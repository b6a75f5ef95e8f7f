//! The proxy's sample source: what haproxy-acl fetches read from a stream (peer addresses and the
//! request head).

use std::net::SocketAddr;

use haproxy_acl::SampleSource;

use crate::h1::Version;
use crate::route::StreamView;

/// A [`StreamView`] seen by haproxy-acl: `src`, `dst`, and in HTTP mode the method, URI, version
/// and headers of the request head.
#[derive(Debug, Clone, Copy)]
pub struct StreamSample<'a, 'b>(pub &'a StreamView<'b>);

impl SampleSource for StreamSample<'_, '_> {
    fn src(&self) -> Option<SocketAddr> {
        Some(self.0.src)
    }

    fn dst(&self) -> Option<SocketAddr> {
        Some(self.0.dst)
    }

    fn is_http(&self) -> bool {
        self.0.request.is_some()
    }

    fn method(&self) -> Option<&[u8]> {
        self.0.request.map(|r| r.method.as_bytes())
    }

    fn uri(&self) -> Option<&[u8]> {
        self.0.request.map(|r| r.uri.as_bytes())
    }

    fn version(&self) -> Option<&[u8]> {
        self.0.request.map(|r| {
            if r.version == Version::HTTP_10 {
                &b"1.0"[..]
            } else {
                &b"1.1"[..]
            }
        })
    }

    fn header(&self, index: usize) -> Option<(&[u8], &[u8])> {
        self.0.request.and_then(|r| r.headers.iter().nth(index))
    }
}
