//! Version banners (`-v`, `-vv`) and the usage text, in HAProxy's shape but naming this product.

/// The HAProxy version whose behaviour we reproduce.
pub(crate) const COMPAT_VERSION: &str = "2.6.12";
/// Our version, as in `HAProxy version 2.6.12-haproxy-rs-0.1.0`.
pub(crate) const VERSION: &str = concat!("2.6.12-haproxy-rs-", env!("CARGO_PKG_VERSION"));
/// Release date shown on the first banner line.
pub(crate) const RELEASE_DATE: &str = "2026/11/21";
/// Project page.
const URL: &str = "https://github.com/haproxy-rs/haproxy-rs";

/// The `-v` banner.
pub(crate) fn version() -> String {
    format!(
        "HAProxy version {VERSION} {RELEASE_DATE} - {URL}\n\
         Status: haproxy-rs, a Rust reimplementation of HAProxy {COMPAT_VERSION} (configuration check only in this release).\n\
         Known bugs: {URL}/issues\n\
         Running on: {}\n",
        running_on()
    )
}

/// The `-vv` banner: `-v` plus build options, features and defaults.
pub(crate) fn version_verbose() -> String {
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    format!(
        "{}Build options :\n  TARGET  = {}-{}\n  RUSTC   = rustc (edition 2024, MSRV 1.88)\n  PROFILE = {}\n\n\
         Feature list : +CHECK -PROXY -SSL -LUA -PCRE -PROMEX -QUIC\n\n\
         Default settings :\n  bufsize = 16384, maxrewrite = 1024, maxpollevents = 200\n\n\
         Built with multi-threading support (MAX_THREADS=64, default={threads}).\n\
         Configuration compatibility: HAProxy {COMPAT_VERSION} (see docs/compat.md).\n",
        version(),
        std::env::consts::OS,
        std::env::consts::ARCH,
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
    )
}

/// `Linux <release> <version> <machine>`, read from /proc like `uname`.
fn running_on() -> String {
    let read = |p: &str| {
        std::fs::read_to_string(p)
            .map(|s| s.trim().to_owned())
            .unwrap_or_default()
    };
    let os = read("/proc/sys/kernel/ostype");
    let os = if os.is_empty() {
        std::env::consts::OS.to_owned()
    } else {
        os
    };
    let parts = [
        os,
        read("/proc/sys/kernel/osrelease"),
        read("/proc/sys/kernel/version"),
        std::env::consts::ARCH.to_owned(),
    ];
    parts
        .iter()
        .filter(|s| !s.is_empty())
        .cloned()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The usage text printed on a wrong command line.
pub(crate) fn usage() -> String {
    "Usage : haproxy [-f <cfgfile|cfgdir>]* [ -vdVD ] [ -n <maxconn> ] [ -N <maxpconn> ]\n\
     \x20       [ -p <pidfile> ] [ -m <max megs> ] [ -C <dir> ] [-- <cfgfile>*]\n\
     \x20       -v prints the version ; -vv also prints the build options.\n\
     \x20       -c checks the configuration files and exits (0 valid, 1 errors, 2 no listener).\n\
     \x20       -f <file|dir> adds a configuration file, or every *.cfg file of a directory.\n\
     \x20       -q quiet mode : print nothing, only the exit code tells.\n\
     \x20       -dW makes any warning fatal (like 'zero-warning').\n\
     \x20       Other HAProxy 2.6 flags are accepted and have no effect on -c.\n"
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn banner_names_the_product_honestly_in_haproxys_shape() {
        let v = version();
        assert!(v.starts_with("HAProxy version 2.6.12-haproxy-rs-"));
        assert_eq!(v.lines().count(), 4);
        assert!(
            v.lines()
                .nth(3)
                .is_some_and(|l| l.starts_with("Running on: "))
        );
        let vv = version_verbose();
        assert!(
            vv.starts_with(&v) && vv.contains("Build options :") && vv.contains("bufsize = 16384")
        );
        assert!(usage().starts_with("Usage : haproxy "));
    }
}
