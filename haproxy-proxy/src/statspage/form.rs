//! The stats page's admin form: `POST <uri>` with `s=<server>&…&action=<act>&b=<backend>`,
//! applied to the registry, answered by a `303` to `<uri>;st=<CODE>` (reference §4.4).

use crate::registry::{Admin, Health, Registry};

/// The largest form body read; a longer one is answered `EXCD`.
pub const MAX_FORM_LEN: usize = 16 * 1024;

/// The outcome codes HAProxy puts in `;st=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormResult {
    /// Every named server was changed.
    Done,
    /// Some servers changed, others were unknown.
    Part,
    /// No server was named.
    None,
    /// Unknown action or backend, or only unknown servers.
    Errp,
    /// The client may not use the admin form.
    Deny,
    /// The form was too large.
    Excd,
}

impl FormResult {
    /// The code as written after `;st=`.
    pub fn code(self) -> &'static str {
        match self {
            FormResult::Done => "DONE",
            FormResult::Part => "PART",
            FormResult::None => "NONE",
            FormResult::Errp => "ERRP",
            FormResult::Deny => "DENY",
            FormResult::Excd => "EXCD",
        }
    }
}

/// Decodes `application/x-www-form-urlencoded` text (`+` is a space, `%XX` a byte).
fn url_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        match c {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = b
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                if let Some(v) = hex {
                    out.push(v);
                    i += 2;
                } else {
                    out.push(c);
                }
            }
            _ => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What one action does to a server; `None` for actions this proxy does not apply.
fn apply_one(reg: &Registry, b: usize, s: usize, action: &str) -> Option<()> {
    let sv = reg.backends.get(b)?.servers.get(s)?;
    match action {
        "ready" => sv.set_admin(Admin::Ready),
        "drain" => sv.set_admin(Admin::Drain),
        "maint" => sv.set_admin(Admin::Maint),
        "hrunn" => sv.set_health(Health::Up),
        "hnolb" => sv.set_health(Health::NoLb),
        "hdown" => sv.set_health(Health::Down),
        _ => return None,
    }
    reg.apply_server_state(b, s);
    Some(())
}

/// The actions the form offers; others are `ERRP`.
const KNOWN_ACTIONS: [&str; 13] = [
    "ready", "drain", "maint", "dhlth", "ehlth", "hrunn", "hnolb", "hdown", "dagent", "eagent",
    "arunn", "adown", "shutdown",
];

/// Applies a posted form to the registry.
pub fn apply(reg: &Registry, body: &[u8]) -> FormResult {
    if body.len() > MAX_FORM_LEN {
        return FormResult::Excd;
    }
    let text = String::from_utf8_lossy(body);
    let (mut servers, mut action, mut backend) = (Vec::new(), None, None);
    for pair in text.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        match k {
            "s" => servers.push(url_decode(v)),
            "action" => action = Some(url_decode(v)),
            "b" => backend = Some(url_decode(v)),
            _ => {}
        }
    }
    let Some(action) = action.filter(|a| KNOWN_ACTIONS.contains(&a.as_str())) else {
        return FormResult::Errp;
    };
    let Some(backend) = backend else {
        return FormResult::Errp;
    };
    let b = match backend.strip_prefix('#') {
        Some(id) => id
            .parse::<u32>()
            .ok()
            .and_then(|id| reg.backends.iter().position(|be| be.id == id)),
        None => reg.backend(&backend).map(|(i, _)| i),
    };
    let Some(b) = b else {
        return FormResult::Errp;
    };
    if servers.is_empty() {
        return FormResult::None;
    }
    let (mut applied, mut unknown) = (0usize, 0usize);
    for name in &servers {
        let idx = reg
            .backends
            .get(b)
            .and_then(|be| be.servers.iter().position(|s| &s.name == name));
        match idx.and_then(|s| apply_one(reg, b, s, &action)) {
            Some(()) => applied += 1,
            None => unknown += 1,
        }
    }
    match (applied, unknown) {
        (0, _) => FormResult::Errp,
        (_, 0) => FormResult::Done,
        _ => FormResult::Part,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_decoding() {
        assert_eq!(url_decode("%23%32+x%zz"), "#2 x%zz");
        assert_eq!(url_decode("%"), "%");
    }

    #[test]
    fn empty_registry_answers_errp_or_excd() {
        let reg = Registry::empty();
        assert_eq!(apply(&reg, b"s=a&action=maint&b=be"), FormResult::Errp);
        assert_eq!(apply(&reg, b"s=a&action=bogus&b=be"), FormResult::Errp);
        assert_eq!(apply(&reg, b"s=a&b=be"), FormResult::Errp);
        let big = vec![b'a'; MAX_FORM_LEN + 1];
        assert_eq!(apply(&reg, &big), FormResult::Excd);
    }
}
