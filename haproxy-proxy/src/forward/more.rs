//! Writing with a "more of this message follows" hint: on sockets, Linux `MSG_MORE`.
//!
//! A send flagged `MSG_MORE` lets the kernel hold a segment smaller than the MSS until the next
//! send (loopback's MSS is about 64 KiB), so a body written in several pieces leaves as few,
//! full segments: fewer packets, fewer receiver wake-ups and fewer ACKs to process. HAProxy
//! sets the flag on every send of a message but its last one (`CO_SFL_MSG_MORE`); the callers
//! here do the same, so the last piece of a message always goes out unflagged and pushes
//! whatever the kernel held. The hint costs no syscall of its own (no `TCP_CORK` toggling):
//! it is a flag of the send itself.

use std::io;
use std::os::fd::AsFd;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use rustix::net::SendFlags;
use tokio::io::{AsyncWrite, Interest};
use tokio::net::{TcpStream, UnixStream};

/// A writer that can be told that more bytes of the same message follow at once.
///
/// Streams stay generic (any [`AsyncWrite`] can implement this with the default method, which
/// ignores the hint); TCP and unix sockets pass it to the kernel, wrappers forward it.
pub trait WriteMore: AsyncWrite + Unpin {
    /// Writes some of `data` like [`AsyncWrite::poll_write`]; `more` says that more bytes of
    /// the same message follow (the default ignores it).
    fn poll_write_more(
        &mut self,
        cx: &mut Context<'_>,
        data: &[u8],
        more: bool,
    ) -> Poll<io::Result<usize>> {
        let _ = more;
        Pin::new(self).poll_write(cx, data)
    }
}

/// Writes all of `data` to `w`, every send flagged with `more` (see [`WriteMore`]).
pub(crate) async fn write_all_more<W: WriteMore + ?Sized>(
    w: &mut W,
    data: &[u8],
    more: bool,
) -> io::Result<()> {
    let mut off = 0;
    std::future::poll_fn(|cx| {
        while let Some(rest) = data.get(off..).filter(|r| !r.is_empty()) {
            match ready!(w.poll_write_more(cx, rest, more)) {
                Ok(0) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Ok(n) => off += n,
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
        Poll::Ready(Ok(()))
    })
    .await
}

/// A writer that passes the "more follows" hint on only when allowed: `option http-no-delay`
/// (in the frontend or the chosen backend) makes HAProxy send every piece as soon as it has it
/// (`CF_NEVER_WAIT` on both channels, so no `MSG_MORE`), which a slowly streamed response such
/// as server-sent events needs: a flagged piece waits up to 200 ms in the kernel.
#[derive(Debug)]
pub(crate) struct Hinted<W> {
    inner: W,
    /// `false` drops every hint (each send goes out at once).
    allow_more: bool,
}

impl<W> Hinted<W> {
    /// Wraps `inner`; `no_delay` drops every hint.
    pub(crate) fn new(inner: W, no_delay: bool) -> Self {
        Hinted {
            inner,
            allow_more: !no_delay,
        }
    }
}

impl<W: AsyncWrite + Unpin> AsyncWrite for Hinted<W> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, data)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

impl<W: WriteMore> WriteMore for Hinted<W> {
    fn poll_write_more(
        &mut self,
        cx: &mut Context<'_>,
        data: &[u8],
        more: bool,
    ) -> Poll<io::Result<usize>> {
        self.inner
            .poll_write_more(cx, data, more && self.allow_more)
    }
}

/// The readiness calls of a tokio socket.
trait Socket: AsFd {
    fn write_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>>;
    fn attempt(&self, f: impl FnOnce() -> io::Result<usize>) -> io::Result<usize>;
}

impl Socket for TcpStream {
    fn write_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_write_ready(cx)
    }

    fn attempt(&self, f: impl FnOnce() -> io::Result<usize>) -> io::Result<usize> {
        self.try_io(Interest::WRITABLE, f)
    }
}

impl Socket for UnixStream {
    fn write_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_write_ready(cx)
    }

    fn attempt(&self, f: impl FnOnce() -> io::Result<usize>) -> io::Result<usize> {
        self.try_io(Interest::WRITABLE, f)
    }
}

/// One non-blocking `send(MSG_MORE)` on `s` once the reactor says it is writable (the same
/// readiness loop tokio's own `poll_write` runs: a spurious wake-up clears the readiness and
/// the next turn returns `Pending`).
fn poll_send_more<S: Socket>(s: &S, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
    if data.is_empty() {
        return Poll::Ready(Ok(0));
    }
    let flags = SendFlags::MORE | SendFlags::NOSIGNAL | SendFlags::DONTWAIT;
    loop {
        ready!(s.write_ready(cx))?;
        match s.attempt(|| rustix::net::send(s, data, flags).map_err(io::Error::from)) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            other => return Poll::Ready(other),
        }
    }
}

/// `WriteMore` for a socket type: flagged sends go through [`poll_send_more`] on the socket
/// that `$sock` names (the stream itself, or the one a write half refers to), the others
/// through its plain `poll_write`.
macro_rules! socket_write_more {
    ($($ty:ty => |$s:ident| $sock:expr),+ $(,)?) => {$(
        impl WriteMore for $ty {
            fn poll_write_more(
                &mut self,
                cx: &mut Context<'_>,
                data: &[u8],
                more: bool,
            ) -> Poll<io::Result<usize>> {
                if more {
                    let $s = &*self;
                    poll_send_more($sock, cx, data)
                } else {
                    Pin::new(self).poll_write(cx, data)
                }
            }
        }
    )+};
}

socket_write_more! {
    TcpStream => |s| s,
    UnixStream => |s| s,
    tokio::net::tcp::WriteHalf<'_> => |s| s.as_ref(),
    tokio::net::tcp::OwnedWriteHalf => |s| s.as_ref(),
}

/// `WriteMore` for a pointer type: the hint goes to what it points to.
macro_rules! forward_write_more {
    ($($ty:ty),+ $(,)?) => {$(
        impl<T: WriteMore + ?Sized> WriteMore for $ty {
            fn poll_write_more(
                &mut self,
                cx: &mut Context<'_>,
                data: &[u8],
                more: bool,
            ) -> Poll<io::Result<usize>> {
                (**self).poll_write_more(cx, data, more)
            }
        }
    )+};
}

forward_write_more!(&mut T, Box<T>);

/// In-memory and split writers: the hint means nothing to them.
impl WriteMore for tokio::io::Sink {}
impl WriteMore for Vec<u8> {}
impl WriteMore for tokio::io::DuplexStream {}
impl<T: AsyncWrite> WriteMore for tokio::io::WriteHalf<T> {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use tokio::io::AsyncReadExt;
    use tokio::net::TcpListener;

    async fn pair() -> (TcpStream, TcpStream) {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let a = TcpStream::connect(l.local_addr().unwrap()).await.unwrap();
        let (b, _) = l.accept().await.unwrap();
        a.set_nodelay(true).unwrap();
        (a, b)
    }

    #[tokio::test]
    async fn flagged_bytes_wait_for_the_unflagged_last_piece() {
        let (mut a, mut b) = pair().await;
        write_all_more(&mut a, b"head ", true).await.unwrap();
        write_all_more(&mut a, b"body ", true).await.unwrap();
        // Held by the kernel (sub-MSS, nothing in flight to be acknowledged).
        let mut got = [0u8; 64];
        let early = tokio::time::timeout(Duration::from_millis(60), b.read(&mut got)).await;
        assert!(early.is_err(), "flagged bytes were sent at once: {early:?}");
        write_all_more(&mut a, b"end", false).await.unwrap();
        let mut all = Vec::new();
        while all.len() < 13 {
            let n = tokio::time::timeout(Duration::from_millis(100), b.read(&mut got))
                .await
                .expect("the unflagged send pushes everything")
                .unwrap();
            assert!(n > 0);
            all.extend_from_slice(got.get(..n).unwrap());
        }
        assert_eq!(all, b"head body end");
    }

    #[tokio::test]
    async fn halves_and_wrappers_forward_the_hint() {
        let (mut a, mut b) = pair().await;
        {
            let (_r, mut w) = a.split();
            let mut by_ref = &mut w;
            write_all_more(&mut by_ref, b"x", true).await.unwrap();
        }
        let mut got = [0u8; 8];
        let early = tokio::time::timeout(Duration::from_millis(60), b.read(&mut got)).await;
        assert!(early.is_err());
        let (_r, mut w) = a.into_split();
        write_all_more(&mut w, b"y", false).await.unwrap();
        let mut all = Vec::new();
        while all.len() < 2 {
            let n = b.read(&mut got).await.unwrap();
            assert!(n > 0);
            all.extend_from_slice(got.get(..n).unwrap());
        }
        assert_eq!(all, b"xy");
    }

    #[tokio::test]
    async fn no_delay_drops_the_hint_and_a_plain_wrapper_keeps_it() {
        let (a, mut b) = pair().await;
        let mut pushed = Hinted::new(a, true);
        write_all_more(&mut pushed, b"now", true).await.unwrap();
        let mut got = [0u8; 8];
        let n = tokio::time::timeout(Duration::from_millis(100), b.read(&mut got))
            .await
            .expect("an unhinted send leaves at once")
            .unwrap();
        assert_eq!(got.get(..n), Some(&b"now"[..]));
        let mut kept = Hinted::new(pushed.inner, false);
        write_all_more(&mut kept, b"later", true).await.unwrap();
        let early = tokio::time::timeout(Duration::from_millis(60), b.read(&mut got)).await;
        assert!(early.is_err(), "the hint was dropped: {early:?}");
    }

    #[tokio::test]
    async fn unix_sockets_and_memory_writers_take_the_hint() {
        let (mut a, mut b) = UnixStream::pair().unwrap();
        write_all_more(&mut a, b"un", true).await.unwrap();
        write_all_more(&mut a, b"ix", false).await.unwrap();
        drop(a);
        let mut all = Vec::new();
        b.read_to_end(&mut all).await.unwrap();
        assert_eq!(all, b"unix");
        let mut v = Vec::new();
        write_all_more(&mut v, b"mem", true).await.unwrap();
        assert_eq!(v, b"mem");
        write_all_more(&mut tokio::io::sink(), &[0u8; 10], true)
            .await
            .unwrap();
    }
}
