//! `bind fd@N`: a listening socket inherited from the parent process (systemd, a wrapper, a
//! previous haproxy). The descriptor is duplicated with `pidfd_getfd(2)` on our own pidfd
//! (Linux 5.6+), which hands back an owned descriptor without `unsafe`; the original number
//! stays open, so the listener can be reopened after a pause.

use std::os::fd::OwnedFd;

use rustix::process::{PidfdFlags, PidfdGetfdFlags, getpid, pidfd_getfd, pidfd_open};

/// A duplicate of this process's descriptor `fd`.
///
/// # Errors
/// `EBADF` when `fd` is not open, or the kernel's error when pidfds are unavailable.
pub fn inherited_fd(fd: i32) -> std::io::Result<OwnedFd> {
    let me = pidfd_open(getpid(), PidfdFlags::empty())?;
    Ok(pidfd_getfd(&me, fd, PidfdGetfdFlags::empty())?)
}

#[cfg(test)]
mod tests {
    use std::os::fd::AsRawFd;

    use super::*;

    #[test]
    fn duplicates_an_open_descriptor_and_refuses_a_closed_one() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let dup = match inherited_fd(l.as_raw_fd()) {
            Ok(d) => d,
            // A container's seccomp profile may forbid pidfd_getfd without CAP_SYS_PTRACE.
            Err(e) if matches!(e.raw_os_error(), Some(1 | 38)) => {
                eprintln!("skipping: pidfd_getfd is not permitted here ({e})");
                return;
            }
            Err(e) => panic!("{e}"),
        };
        assert_ne!(dup.as_raw_fd(), l.as_raw_fd());
        let again = std::net::TcpListener::from(dup);
        assert_eq!(again.local_addr().unwrap(), l.local_addr().unwrap());
        assert!(inherited_fd(1 << 20).is_err());
    }
}
