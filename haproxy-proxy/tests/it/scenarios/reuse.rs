//! `http-reuse never|safe|aggressive|always`: which idle server connection a request may take,
//! seen by the server as which connection carries each request. The clients run one after the
//! other, so a later client finds the connections earlier ones left idle.

use super::table::{Scenario, fe_be, lines};

const GET_A: &[u8] = b"GET /a HTTP/1.1\r\nHost: h\r\n\r\n";
const GET_B: &[u8] = b"GET /b HTTP/1.1\r\nHost: h\r\n\r\n";
const GET_C: &[u8] = b"GET /c HTTP/1.1\r\nHost: h\r\n\r\n";
/// The server answers and closes: the client's next request has no connection of its own.
const SERVER_CLOSES: &[u8] = b"GET /server-close HTTP/1.1\r\nHost: h\r\n\r\n";

fn reuse(name: &'static str, mode: &str, clients: &[&[&[u8]]]) -> Scenario {
    let be = if mode.is_empty() {
        String::new()
    } else {
        lines(&[&format!("http-reuse {mode}")])
    };
    Scenario {
        name,
        global: "",
        config: fe_be("", &be),
        clients: clients
            .iter()
            .map(|parts| parts.iter().map(|p| p.to_vec()).collect())
            .collect(),
        half_close: false,
    }
}

pub(super) fn scenarios() -> Vec<Scenario> {
    vec![
        reuse(
            "http-reuse safe: a later request takes an idle connection another client left",
            "",
            &[&[GET_A], &[SERVER_CLOSES, GET_B]],
        ),
        reuse(
            "http-reuse safe: a first request opens its own connection",
            "safe",
            &[&[GET_A, GET_B], &[GET_C]],
        ),
        reuse(
            "http-reuse never: no request takes another client's idle connection",
            "never",
            &[&[GET_A], &[SERVER_CLOSES, GET_B]],
        ),
        reuse(
            "http-reuse always: a first request takes an idle connection",
            "always",
            &[&[GET_A], &[GET_C]],
        ),
        reuse(
            "http-reuse aggressive: a first request opens its own beside an unproven idle one",
            "aggressive",
            &[&[GET_A], &[GET_C]],
        ),
        reuse(
            "http-reuse aggressive: a first request takes an idle connection that carried two",
            "aggressive",
            &[&[GET_A, GET_B], &[GET_C]],
        ),
        reuse(
            "http-reuse aggressive: a later request takes any idle connection",
            "aggressive",
            &[&[GET_A], &[SERVER_CLOSES, GET_B]],
        ),
    ]
}
