use std::sync::{Arc, Mutex};
use std::time::Duration;

use haproxy_cfg::diag::Severity;
use haproxy_check::passive::Event;

use super::*;
use crate::registry::PassiveTap;
use crate::side::{Side, StreamState, Termination};
use crate::{StreamFacts, Timers};

#[test]
fn stderr_lines_use_haproxy_tags_and_pid() {
    assert_eq!(
        stderr_line(Severity::Warning, 42, "Server app/s1 is UP"),
        "[WARNING]  (42) : Server app/s1 is UP\n"
    );
    assert_eq!(
        stderr_line(Severity::Alert, 7, "backend 'app' has no server available!"),
        "[ALERT]    (7) : backend 'app' has no server available!\n"
    );
}

#[test]
fn memory_log_keeps_the_last_lines_at_its_bound() {
    let log = MemoryLog::default();
    for i in 0..=MEMORY_LOG_LINES {
        log.log(Severity::Warning, &i.to_string());
    }
    let lines = log.lines();
    assert_eq!(lines.len(), MEMORY_LOG_LINES);
    assert_eq!(lines.first().map(|l| l.1.as_str()), Some("1"));
}

fn tapped(facts: &StreamFacts) -> Vec<(usize, usize, Event)> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s2 = Arc::clone(&seen);
    let tap = PassiveTap::new(move |b, s, e| s2.lock().unwrap().push((b, s, e)));
    tap.feed(facts);
    seen.lock().unwrap().clone()
}

#[test]
fn passive_tap_reports_connects_and_responses() {
    let ok = StreamFacts {
        backend: Some(1),
        server: Some(2),
        retries: 2,
        status: Some(503),
        timers: Timers {
            tc: Some(Duration::ZERO),
            ..Timers::default()
        },
        ..StreamFacts::default()
    };
    assert_eq!(
        tapped(&ok),
        vec![
            (1, 2, Event::ConnectError),
            (1, 2, Event::ConnectError),
            (1, 2, Event::ConnectOk),
            (1, 2, Event::HttpStatus(503)),
        ]
    );
    let refused = StreamFacts {
        backend: Some(0),
        server: Some(0),
        termination: Termination::new(Side::Server, StreamState::Connect),
        ..StreamFacts::default()
    };
    assert_eq!(tapped(&refused), vec![(0, 0, Event::ConnectError)]);
    let timeout = StreamFacts {
        termination: Termination::new(Side::ServerTimeout, StreamState::Headers),
        ..ok.clone()
    };
    assert_eq!(tapped(&timeout).last(), Some(&(1, 2, Event::ReadTimeout)));
    let moved = StreamFacts {
        redispatched: true,
        redispatched_from: Some(0),
        retries: 3,
        ..ok.clone()
    };
    assert_eq!(
        tapped(&moved),
        vec![
            (1, 0, Event::ConnectError),
            (1, 0, Event::ConnectError),
            (1, 0, Event::ConnectError),
            (1, 2, Event::ConnectOk),
            (1, 2, Event::HttpStatus(503)),
        ]
    );
    let no_server = StreamFacts {
        backend: Some(0),
        ..StreamFacts::default()
    };
    assert!(tapped(&no_server).is_empty());
}

#[test]
fn passive_tap_bounds_events_per_stream() {
    let many = StreamFacts {
        backend: Some(0),
        server: Some(0),
        retries: u32::MAX,
        termination: Termination::new(Side::Server, StreamState::Connect),
        ..StreamFacts::default()
    };
    let n = tapped(&many).len();
    assert_eq!(n, crate::registry::MAX_EVENTS_PER_STREAM as usize + 1);
}
