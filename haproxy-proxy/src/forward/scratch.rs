//! The per-thread read buffer: a read lands in it and the bytes move on at once (written to the
//! other side, or appended to a message buffer), so that a connection waiting for its next bytes
//! holds no buffer of its own.

use std::cell::RefCell;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, ReadBuf};

/// Size of the per-thread buffer (`tune.bufsize`): the most one read takes.
pub const READ_CHUNK: usize = crate::h1::DEFAULT_BUFSIZE;

/// Size of the stack buffer used in the unexpected case where the scratch buffer is in use.
const FALLBACK_CHUNK: usize = 2048;

thread_local! {
    static SCRATCH: RefCell<Box<[u8]>> = RefCell::new(vec![0u8; READ_CHUNK].into_boxed_slice());
}

/// Runs `f` with the thread's scratch buffer (or a small stack buffer if it is already borrowed).
pub(crate) fn with_scratch<T>(f: impl FnOnce(&mut [u8]) -> T) -> T {
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut scratch) => f(&mut scratch),
        Err(_) => f(&mut [0u8; FALLBACK_CHUNK]),
    })
}

/// Reads once from `r` (up to [`READ_CHUNK`] bytes) and appends what came to `buf`; `Ok(0)` at
/// end of stream. Nothing is allocated while the read waits.
pub(crate) async fn read_append<R: AsyncRead + Unpin>(
    r: &mut R,
    buf: &mut Vec<u8>,
) -> std::io::Result<usize> {
    std::future::poll_fn(|cx: &mut Context<'_>| {
        with_scratch(|scratch| {
            let mut rb = ReadBuf::new(scratch);
            match Pin::new(&mut *r).poll_read(cx, &mut rb) {
                Poll::Ready(Ok(())) => {
                    buf.extend_from_slice(rb.filled());
                    Poll::Ready(Ok(rb.filled().len()))
                }
                Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
                Poll::Pending => Poll::Pending,
            }
        })
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    #[tokio::test]
    async fn reads_append_to_the_buffer_and_zero_means_end() {
        let (mut a, mut b) = tokio::io::duplex(64);
        a.write_all(b"hello").await.unwrap();
        let mut buf = b"> ".to_vec();
        assert_eq!(read_append(&mut b, &mut buf).await.unwrap(), 5);
        assert_eq!(buf, b"> hello");
        drop(a);
        assert_eq!(read_append(&mut b, &mut buf).await.unwrap(), 0);
        assert_eq!(buf, b"> hello");
    }

    #[test]
    fn a_nested_use_gets_the_small_fallback_buffer() {
        let (outer, inner) = with_scratch(|s| (s.len(), with_scratch(|t| t.len())));
        assert_eq!((outer, inner), (READ_CHUNK, FALLBACK_CHUNK));
    }
}
