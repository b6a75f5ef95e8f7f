//! Scenarios of a server's final answer before the whole request body (a 413, or a 417 refusing
//! `Expect: 100-continue`; the origin's `/early-*` paths). HAProxy 2.6.12 forwards the answer,
//! keeps the client connection and goes on with the request body: to the server while it keeps
//! its connection (which then carries the next request), read and dropped once it closed (the
//! next request goes to a new server connection). The rest of the body comes in at most two
//! further packets here: with more, 2.6.12 was seen closing the client connection or not
//! depending on timing (docs/compat.md).

use super::table::{Scenario, one};

const GET_B: &[u8] = b"GET /b HTTP/1.1\r\nHost: h\r\n\r\n";

pub(super) fn scenarios() -> Vec<Scenario> {
    vec![
        one(
            "early 413 then close, content-length body still to come",
            &[],
            &[],
            &[
                b"POST /early-close HTTP/1.1\r\nHost: h\r\nContent-Length: 30\r\n\r\n0123456789",
                b"0123456789",
                b"0123456789",
                GET_B,
            ],
        ),
        one(
            "early 413 then close, chunked body still to come",
            &[],
            &[],
            &[
                b"POST /early-close HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
                b"5\r\nworld\r\n",
                b"0\r\n\r\n",
                GET_B,
            ],
        ),
        one(
            "early 413 on a kept server connection, content-length body",
            &[],
            &[],
            &[
                b"POST /early-keep HTTP/1.1\r\nHost: h\r\nContent-Length: 30\r\n\r\n0123456789",
                b"0123456789",
                b"0123456789",
                GET_B,
            ],
        ),
        one(
            "early 413 on a kept server connection, chunked body",
            &[],
            &[],
            &[
                b"POST /early-keep HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
                b"5\r\nworld\r\n",
                b"0\r\n\r\n",
                GET_B,
            ],
        ),
        one(
            "early 413 with server-close, content-length body",
            &["option http-server-close"],
            &[],
            &[
                b"POST /early-keep HTTP/1.1\r\nHost: h\r\nContent-Length: 20\r\n\r\n0123456789",
                b"0123456789",
                GET_B,
            ],
        ),
        one(
            "early 417 refusing expect 100-continue then close, body sent anyway",
            &[],
            &[],
            &[
                b"POST /early-417-close HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 10\r\n\r\n",
                b"0123456789",
                GET_B,
            ],
        ),
        one(
            "early 417 refusing expect 100-continue on a kept connection, body sent anyway",
            &[],
            &[],
            &[
                b"POST /early-417-keep HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 10\r\n\r\n",
                b"0123456789",
                GET_B,
            ],
        ),
        one(
            "early 413 refusing expect 100-continue then close, chunked body sent anyway",
            &[],
            &[],
            &[
                b"POST /early-close HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n",
                b"3\r\nabc\r\n0\r\n\r\n",
                GET_B,
            ],
        ),
        one(
            "early 417 refusing expect 100-continue, the next request sent instead of the body",
            &[],
            &[],
            &[
                b"POST /early-417-keep HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 10\r\n\r\n",
                GET_B,
            ],
        ),
    ]
}
