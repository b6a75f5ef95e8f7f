//! The built-in error pages, as HAProxy 2.6.12 sends them.

/// The reason phrase HAProxy puts on the status line for `code` (its `http_get_reason` table).
pub fn reason(code: u16) -> &'static str {
    match code {
        100 => "Continue",
        101 => "Switching Protocols",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        203 => "Non-Authoritative Information",
        204 => "No Content",
        205 => "Reset Content",
        206 => "Partial Content",
        300 => "Multiple Choices",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        305 => "Use Proxy",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Request Entity Too Large",
        414 => "Request-URI Too Long",
        415 => "Unsupported Media Type",
        416 => "Requested range unsatisfiable",
        417 => "Expectation failed",
        418 => "I'm a teapot",
        421 => "Misdirected Request",
        422 => "Unprocessable Content",
        425 => "Too Early",
        426 => "Upgrade Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        _ => "Other",
    }
}

/// (code, reason on the page, text line) for every built-in page.
const PAGES: &[(u16, &str, &str)] = &[
    (200, "OK", "Service ready."),
    (400, "Bad request", "Your browser sent an invalid request."),
    (
        401,
        "Unauthorized",
        "You need a valid user and password to access this content.",
    ),
    (
        403,
        "Forbidden",
        "Request forbidden by administrative rules.",
    ),
    (404, "Not Found", "The resource could not be found."),
    (
        405,
        "Method Not Allowed",
        "A request was made of a resource using a request method not supported by that resource",
    ),
    // COMPAT: HAProxy's 407 page says "Unauthorized" and repeats the 401 text.
    (
        407,
        "Unauthorized",
        "You need a valid user and password to access this content.",
    ),
    (
        408,
        "Request Time-out",
        "Your browser didn't send a complete request in time.",
    ),
    (
        410,
        "Gone",
        "The resource is no longer available and will not be available again.",
    ),
    (
        413,
        "Payload Too Large",
        "The request entity exceeds the maximum allowed.",
    ),
    (
        421,
        "Misdirected Request",
        "Request sent to a non-authoritative server.",
    ),
    (
        422,
        "Unprocessable Content",
        "The server cannot process the contained instructions.",
    ),
    (425, "Too Early", "Your browser sent early data."),
    (
        429,
        "Too Many Requests",
        "You have sent too many requests in a given amount of time.",
    ),
    (
        500,
        "Internal Server Error",
        "An internal server error occurred.",
    ),
    // COMPAT: the leading dot is in HAProxy's own page.
    (
        501,
        "Not Implemented",
        ".The server does not support the functionality required to fulfill the request.",
    ),
    (
        502,
        "Bad Gateway",
        "The server returned an invalid or incomplete response.",
    ),
    (
        503,
        "Service Unavailable",
        "No server is available to handle this request.",
    ),
    (
        504,
        "Gateway Time-out",
        "The server didn't respond in time.",
    ),
];

fn lookup(code: u16) -> Option<(&'static str, String)> {
    let (_, reason, text) = PAGES.iter().find(|(c, _, _)| *c == code)?;
    Some((
        reason,
        format!("<html><body><h1>{code} {reason}</h1>\n{text}\n</body></html>\n"),
    ))
}

/// A built-in page: status line, header fields, body.
pub type DefaultPage = (String, Vec<(&'static str, String)>, Vec<u8>);

/// The built-in page for `code` without the `connection` header, which the stream adds
/// (`content-length`, `cache-control: no-cache`, `content-type: text/html`, then the body).
pub fn default_page(code: u16) -> Option<DefaultPage> {
    let (reason, body) = lookup(code)?;
    let headers = vec![
        ("content-length", body.len().to_string()),
        ("cache-control", "no-cache".to_owned()),
        ("content-type", "text/html".to_owned()),
    ];
    Some((
        format!("HTTP/1.1 {code} {reason}"),
        headers,
        body.into_bytes(),
    ))
}

/// The raw page the H1 parser sends before any HTTP processing (400 on a parse error, 408 on a
/// timeout, 413 and 422 on refused bodies): capitalised names, and `Connection: close` before
/// `Content-Type` on 400 and 408 only, as in HAProxy's `http_err_msgs` (reference §6.7).
pub fn raw_h1_page(code: u16) -> Option<Vec<u8>> {
    let (reason, body) = lookup(code)?;
    let connection = if code == 400 || code == 408 {
        "Connection: close\r\n"
    } else {
        ""
    };
    let mut out = format!(
        "HTTP/1.1 {code} {reason}\r\nContent-length: {}\r\nCache-Control: no-cache\r\n{connection}Content-Type: text/html\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body.as_bytes());
    Some(out)
}
