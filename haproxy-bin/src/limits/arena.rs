//! `-m` and the allocator. By default mimalloc reserves about a gigabyte of address space up
//! front, so an `RLIMIT_AS` of a few hundred megabytes (what `-m` sets, as HAProxy does)
//! leaves no room to start a thread, and would bound nothing once set (allocations come from
//! the reservation). Under `-m` the process therefore re-executes itself once, before reading
//! the configuration, with mimalloc told to reserve small arenas ([`ARENA_RESERVE`]): the
//! address-space limit then bounds the memory the process actually grows to.

use std::ffi::OsString;
use std::os::unix::process::CommandExt as _;
use std::process::Command;

/// mimalloc's setting for the address space it reserves at a time (read when it starts).
pub(crate) const ARENA_ENV: &str = "MIMALLOC_ARENA_RESERVE";

/// What it is set to under `-m`: arenas of 8 MiB, so that the address space follows use.
pub(crate) const ARENA_RESERVE: &str = "8MiB";

/// Under `-m` (`memmax_mb` not 0), unless mimalloc's setting is already in the environment
/// (set by the operator, or by this very step), replaces the process with the same program
/// and arguments and small arenas. Returns only when that is not needed, or with the reason
/// the program could not be executed (startup then goes on with the default arenas).
pub(crate) fn reexec_with_small_arenas(memmax_mb: i32) -> Option<std::io::Error> {
    if memmax_mb == 0 || std::env::var_os(ARENA_ENV).is_some() {
        return None;
    }
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => return Some(e),
    };
    let mut args = std::env::args_os();
    let arg0 = args.next().unwrap_or_else(|| OsString::from("haproxy"));
    Some(
        Command::new(exe)
            .arg0(arg0)
            .args(args)
            .env(ARENA_ENV, ARENA_RESERVE)
            .exec(),
    )
}
