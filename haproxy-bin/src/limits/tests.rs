use haproxy_cfg::load::{SystemEnv, load};
use haproxy_cfg::parse_str;

use super::*;

/// The configuration the figures below were read from on HAProxy 2.6.12 (`show info`
/// under `ulimit -n 1024`, 4096 and 20000: tests/data/haproxy-2.6/limits/README.md).
const BASE: &str = "global\n stats socket /tmp/x.sock level admin\n nbthread 2\n\
    frontend f\n bind 127.0.0.1:1\n default_backend b\nbackend b\n server s 127.0.0.1:2\n";

fn cfg(text: &str) -> Config {
    load(&[parse_str("t.cfg", text)], &SystemEnv).config
}

/// The figures without `-m`, on two threads, every descriptor limit permitted.
fn settle(c: &Config, cli_maxconn: Option<u32>, fds: FdLimits) -> Limits {
    let start = Startup {
        cli_maxconn,
        memmax_mb: 0,
        threads: 2,
        fds,
    };
    derive(c, start, &|_| true).expect("no -m, no failure")
}

fn fds(n: u64) -> FdLimits {
    FdLimits { soft: n, hard: n }
}

#[test]
fn the_fd_limit_gives_haproxys_figures() {
    let c = cfg(BASE);
    for (n, maxconn) in [(1024, 498), (4096, 2034), (20_000, 9986)] {
        let got = settle(&c, None, fds(n));
        let want = Limits {
            maxconn,
            maxsock: n as u32,
            nofile: n as u32,
            fd_hard_limit: 0,
            memmax_mb: 0,
        };
        assert_eq!(got, want, "ulimit -n {n}");
    }
}

#[test]
fn the_hard_limit_counts_when_higher() {
    let got = settle(
        &cfg(BASE),
        None,
        FdLimits {
            soft: 1024,
            hard: 4096,
        },
    );
    assert_eq!(got.maxconn, 2034);
}

#[test]
fn a_written_maxconn_or_dash_n_wins_and_sets_maxsock() {
    let got = settle(&cfg(BASE), Some(500), fds(1024));
    assert_eq!(
        got,
        Limits {
            maxconn: 500,
            maxsock: 1028,
            nofile: 1028,
            fd_hard_limit: 0,
            memmax_mb: 0,
        }
    );
    let text = BASE.replace("nbthread 2", "nbthread 2\n maxconn 300\n ulimit-n 5000");
    let got = settle(&cfg(&text), None, fds(1024));
    assert_eq!(
        got,
        Limits {
            maxconn: 300,
            maxsock: 628,
            nofile: 5000,
            fd_hard_limit: 0,
            memmax_mb: 0,
        }
    );
}

#[test]
fn a_tiny_limit_still_gives_the_default_maxconn() {
    let got = settle(&cfg(BASE), None, fds(100));
    assert_eq!(got.maxconn, DEFAULT_MAXCONN);
    assert_eq!(got.maxsock, 228);
}

#[test]
fn listeners_checks_and_port_ranges_take_descriptors() {
    // 10 reserved + 10 ports + 3 for check, agent-check and agent-port + 6 per threads.
    let text = "global\n nbthread 2\nfrontend f\n bind 127.0.0.1:1-10\n default_backend b\n\
        backend b\n server s 127.0.0.1:2 check agent-check agent-port 9\n";
    let got = settle(&cfg(text), None, fds(1029));
    assert_eq!(got.maxconn, 500);
    assert_eq!(got.maxsock, 1029);
}

#[test]
fn splicing_without_limits_keeps_half_a_pipe_per_connection() {
    let text = BASE.replace(
        "default_backend b",
        "default_backend b\n option splice-auto",
    );
    let got = settle(&cfg(&text), None, fds(1024));
    // 2 x 996 / 5, then a quarter of it in pipes (two descriptors each).
    assert_eq!(got.maxconn, 398);
    assert_eq!(got.maxsock, 28 + 2 * 398 + 2 * (398 / 4));
}

#[test]
fn maxpipes_takes_two_descriptors_per_pipe() {
    let text = BASE.replace("nbthread 2", "nbthread 2\n maxconn 300\n maxpipes 10");
    assert_eq!(settle(&cfg(&text), None, fds(1024)).maxsock, 628 + 20);
}

#[test]
fn figures_stop_at_the_largest_c_int() {
    let got = settle(&cfg(BASE), None, fds(u64::MAX));
    assert_eq!(u64::from(got.maxconn), (MAX_FIGURE - 28) / 2);
    assert_eq!(u64::from(got.maxsock), 28 + 2 * u64::from(got.maxconn));
    let text = BASE.replace("nbthread 2", "nbthread 2\n maxconn 2147483647");
    assert_eq!(
        u64::from(settle(&cfg(&text), None, fds(1024)).maxsock),
        MAX_FIGURE
    );
}
#[test]
fn strict_limits_hold_unless_the_global_section_says_no_the_last_line_winning() {
    let with =
        |lines: &str| strict_limits(&cfg(&BASE.replace("global\n", &format!("global\n{lines}"))));
    assert!(with(""));
    assert!(!with(" no strict-limits\n"));
    assert!(with(" no strict-limits\n strict-limits\n"));
    assert!(!with(" strict-limits\n no strict-limits\n"));
    // Other negations leave it alone.
    assert!(with(" no busy-polling\n"));
}

#[test]
fn fd_hard_limit_caps_the_limit_the_figures_start_from() {
    let text = BASE.replace("nbthread 2", "nbthread 2\n fd-hard-limit 2000");
    let got = settle(&cfg(&text), None, fds(20_000));
    assert_eq!(
        (got.maxconn, got.maxsock, got.fd_hard_limit),
        (986, 2000, 2000)
    );
    // Above the limit it changes nothing; a negative one leaves the default maxconn.
    let text = BASE.replace("nbthread 2", "nbthread 2\n fd-hard-limit 30000");
    assert_eq!(settle(&cfg(&text), None, fds(20_000)).maxconn, 9986);
    let text = BASE.replace("nbthread 2", "nbthread 2\n fd-hard-limit -5");
    assert_eq!(
        settle(&cfg(&text), None, fds(20_000)).maxconn,
        DEFAULT_MAXCONN
    );
    // Kept as C keeps atol() in an int: 99999999999 is 1215752191.
    let text = BASE.replace("nbthread 2", "nbthread 2\n fd-hard-limit 99999999999");
    assert_eq!(
        settle(&cfg(&text), None, fds(20_000)).fd_hard_limit,
        1_215_752_191
    );
}

#[test]
fn only_a_set_fd_hard_limit_is_exceeded_and_a_negative_one_never() {
    assert!(!above_hard_limit(5000, 0));
    assert!(above_hard_limit(5001, 5000));
    assert!(!above_hard_limit(5000, 5000));
    assert!(!above_hard_limit(u64::MAX - 10, -5));
}

/// The figures with `-m` (HAProxy 2.6.12's, tests/data/haproxy-2.6/limits/figures.txt).
fn with_memmax(
    text: &str,
    mb: i32,
    n: u64,
    permitted: &dyn Fn(u64) -> bool,
) -> Result<Limits, String> {
    let start = Startup {
        cli_maxconn: None,
        memmax_mb: mb,
        threads: 2,
        fds: fds(n),
    };
    derive(&cfg(text), start, permitted)
}

#[test]
fn a_memory_limit_bounds_maxconn_by_the_cost_of_a_stream() {
    let within = |n: u64| move |s: u64| s <= n;
    // 100 MiB x 0.97 / 35,440 bytes = 2,869, rounded to 2,800.
    let got = with_memmax(BASE, 100, 20_000, &within(20_000)).expect("fits");
    assert_eq!((got.maxconn, got.maxsock, got.memmax_mb), (2800, 5628, 100));
    // 28,000 would need 56,028 descriptors: bounded by the 9,986 the limit allows, rounded.
    let got = with_memmax(BASE, 1000, 20_000, &within(20_000)).expect("fits");
    assert_eq!((got.maxconn, got.maxsock), (9900, 19_828));
    let got = with_memmax(BASE, 1000, 1024, &within(1024)).expect("fits");
    assert_eq!((got.maxconn, got.maxsock), (490, 1008));
    // Refused twice: the memory figure stays (the descriptor step reports it).
    let got = with_memmax(BASE, 1000, 1024, &|_| false).expect("fits");
    assert_eq!(got.maxconn, 28_000);
    // fd-hard-limit refuses what is above it whatever the system allows.
    let text = BASE.replace("nbthread 2", "nbthread 2\n fd-hard-limit 5000");
    let got = with_memmax(&text, 1000, 20_000, &|_| true).expect("fits");
    assert_eq!((got.maxconn, got.maxsock), (2400, 4828));
    // A written maxconn is kept as written.
    let text = BASE.replace("nbthread 2", "nbthread 2\n maxconn 300");
    assert_eq!(
        with_memmax(&text, 100, 20_000, &|_| true)
            .expect("fits")
            .maxconn,
        300
    );
}

#[test]
fn the_stream_cost_follows_bufsize_and_the_capture_lengths() {
    assert_eq!(memory::stream_cost(&cfg(BASE)), 35_440);
    let text = BASE.replace(
        "nbthread 2",
        "nbthread 2\n tune.bufsize 8192\n tune.http.logurilen 100\n tune.http.cookielen 10",
    );
    assert_eq!(
        memory::stream_cost(&cfg(&text)),
        memory::STREAM_STRUCTS + 101 + 2 * 11 + 2 * 8192
    );
}

#[test]
fn a_memory_limit_with_no_room_for_a_connection_is_haproxys_alert() {
    let err = with_memmax(BASE, -5, 20_000, &|_| true).expect_err("no room");
    assert_eq!(
        err,
        "Cannot compute the automatic maxconn because global.maxsslconn is already too high \
         for the global.memmax value (-5 MB). The absolute maximum possible value is -53, but \
         0 was found."
    );
    // 1 MiB holds 28 streams; maxzlibmem 1 takes the whole megabyte.
    assert_eq!(
        with_memmax(BASE, 1, 20_000, &|_| true)
            .expect("fits")
            .maxconn,
        28
    );
    let text = BASE.replace("nbthread 2", "nbthread 2\n maxzlibmem 1");
    assert!(with_memmax(&text, 1, 20_000, &|_| true).is_err());
}

#[test]
fn round_2dig_keeps_two_significant_digits() {
    use memory::round_2dig;
    assert_eq!(
        [0, 99, 100, 2869, 9986, 28_699, u32::MAX].map(round_2dig),
        [0, 99, 100, 2800, 9900, 28_000, 4_200_000_000]
    );
}
