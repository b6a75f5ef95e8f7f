//! The request target's authority against the Host header, as HAProxy 2.6's H1 parser checks
//! it, and the scheme-based normalisation that drops a default port (`http_scheme_based_normalize`).

use super::{H1Error, RequestHead};

/// The port of `authority` (`host:port`, `[v6]:port`), if it ends with `:` and digits.
fn split_port(authority: &str) -> (&str, Option<&str>) {
    match authority.rsplit_once(':') {
        Some((host, port))
            if !port.is_empty()
                && port.bytes().all(|b| b.is_ascii_digit())
                && (!host.starts_with('[') || host.ends_with(']')) =>
        {
            (host, Some(port))
        }
        _ => (authority, None),
    }
}

/// The authority of an absolute-form target (`scheme://[userinfo@]authority[/path]`), with
/// its scheme; `None` for origin-form (`/...`) and asterisk-form targets.
fn absolute_authority(uri: &str) -> Option<(&str, &str, &str)> {
    if uri.starts_with('/') || uri.starts_with('*') {
        return None;
    }
    let (scheme, rest) = uri.split_once("://")?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at_checked(end)?;
    let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
    Some((scheme, authority, path))
}

fn is_default_port(scheme: Option<&str>, port: &str) -> bool {
    match scheme.map(str::to_ascii_lowercase).as_deref() {
        None => port == "80" || port == "443",
        Some("http") => port == "80",
        Some("https") => port == "443",
        Some(_) => false,
    }
}

/// Checks the authority of `head`'s target against its Host header, then normalises:
/// - CONNECT: the target must carry a port; a Host with a port must name the same host and port
///   (a default port is then dropped from Host), a Host without one needs a default port;
/// - absolute-form: a Host present must equal the authority; a default port for the scheme is
///   dropped from the target and from every Host field.
///
/// # Errors
/// [`H1Error::Authority`] when they disagree (HAProxy answers 400).
pub(crate) fn check_and_normalize(head: &mut RequestHead) -> Result<(), H1Error> {
    // The common case, an origin-form target, has nothing to check.
    if !head.is_connect() && (head.uri.starts_with('/') || head.uri.starts_with('*')) {
        return Ok(());
    }
    let host = head
        .headers
        .get("host")
        .map(|h| String::from_utf8_lossy(h).into_owned());
    if head.is_connect() {
        let authority = head
            .uri
            .rsplit_once('@')
            .map_or(head.uri.as_str(), |(_, a)| a);
        let (uri_host, Some(uri_port)) = split_port(authority) else {
            return Err(H1Error::Authority);
        };
        let Some(host) = host else { return Ok(()) };
        match split_port(&host) {
            (h, Some(p)) => {
                if !h.eq_ignore_ascii_case(uri_host) || p != uri_port {
                    return Err(H1Error::Authority);
                }
                if is_default_port(None, uri_port) {
                    let h = h.to_owned();
                    head.headers.set_all("host", h.as_bytes());
                }
            }
            (h, None) => {
                if !is_default_port(None, uri_port) || !h.eq_ignore_ascii_case(uri_host) {
                    return Err(H1Error::Authority);
                }
            }
        }
        return Ok(());
    }
    let Some((scheme, authority, path)) = absolute_authority(&head.uri) else {
        return Ok(());
    };
    if let Some(h) = &host
        && !authority.is_empty()
        && !h.eq_ignore_ascii_case(authority)
    {
        return Err(H1Error::Authority);
    }
    let (bare, port) = split_port(authority);
    if let Some(port) = port
        && is_default_port(Some(scheme), port)
    {
        let (uri, bare) = (format!("{scheme}://{bare}{path}"), bare.to_owned());
        head.uri = uri;
        head.headers.set_all("host", bare.as_bytes());
    }
    Ok(())
}
