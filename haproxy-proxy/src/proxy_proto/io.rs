//! Reading a PROXY header from a stream (`accept-proxy`).

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};

use super::{ProxyHeader, ProxyProtoError, parse};

/// Bytes read per call while the header is incomplete.
const READ_CHUNK: usize = 256;

/// Reads a PROXY header within `timeout`; returns it and any bytes read past it.
///
/// # Errors
/// A [`ProxyProtoError`] for a malformed header, an early close, an I/O error or the timeout.
pub async fn read_header<S: AsyncRead + Unpin>(
    stream: &mut S,
    timeout: Duration,
) -> Result<(ProxyHeader, Vec<u8>), ProxyProtoError> {
    let work = async {
        let mut buf = Vec::with_capacity(READ_CHUNK);
        loop {
            if let Some((header, len)) = parse(&buf)? {
                let rest = buf.get(len..).unwrap_or_default().to_vec();
                return Ok((header, rest));
            }
            let mut chunk = [0u8; READ_CHUNK];
            let n = stream
                .read(&mut chunk)
                .await
                .map_err(|e| ProxyProtoError::Io(e.kind()))?;
            if n == 0 {
                return Err(ProxyProtoError::Truncated);
            }
            buf.extend_from_slice(chunk.get(..n).unwrap_or_default());
        }
    };
    tokio::time::timeout(timeout, work)
        .await
        .map_err(|_| ProxyProtoError::Timeout)?
}
