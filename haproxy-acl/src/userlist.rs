//! User lists for `http_auth(<userlist>)`.

use std::fmt;
use std::sync::Arc;

/// Checks a password against a stored hash (for `password <hash>` users; HAProxy uses crypt(3)).
pub type HashVerifier = Arc<dyn Fn(&str, &[u8]) -> bool + Send + Sync>;

/// One user of a [`Userlist`].
#[derive(Debug, Clone)]
struct User {
    name: String,
    secret: Secret,
    groups: Vec<String>,
}

#[derive(Debug, Clone)]
enum Secret {
    Insecure(Vec<u8>),
    Hashed(String),
}

/// A `userlist` section: users, their passwords and groups.
///
/// `insecure-password` users are checked here; `password <hash>` users are checked by the
/// [`HashVerifier`] given with [`Userlist::with_verifier`] (without one they never authenticate).
#[derive(Clone, Default)]
pub struct Userlist {
    users: Vec<User>,
    verifier: Option<HashVerifier>,
}

impl fmt::Debug for Userlist {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Userlist")
            .field("users", &self.users)
            .field("verifier", &self.verifier.is_some())
            .finish()
    }
}

impl Userlist {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the function that checks hashed passwords.
    pub fn with_verifier(mut self, verifier: HashVerifier) -> Self {
        self.verifier = Some(verifier);
        self
    }

    /// Adds a user with a clear-text password (`user NAME insecure-password PASS groups G1,G2`).
    pub fn add_insecure(&mut self, name: &str, password: &str, groups: &[&str]) {
        self.users.push(User {
            name: name.to_owned(),
            secret: Secret::Insecure(password.as_bytes().to_vec()),
            groups: groups.iter().map(|g| (*g).to_owned()).collect(),
        });
    }

    /// Adds a user with a hashed password (`user NAME password HASH`).
    pub fn add_hashed(&mut self, name: &str, hash: &str, groups: &[&str]) {
        self.users.push(User {
            name: name.to_owned(),
            secret: Secret::Hashed(hash.to_owned()),
            groups: groups.iter().map(|g| (*g).to_owned()).collect(),
        });
    }

    /// Returns the user's groups when `user` and `password` are valid.
    pub fn authenticate(&self, user: &[u8], password: &[u8]) -> Option<&[String]> {
        let u = self.users.iter().find(|u| u.name.as_bytes() == user)?;
        let ok = match &u.secret {
            Secret::Insecure(p) => p.as_slice() == password,
            Secret::Hashed(h) => self.verifier.as_ref().is_some_and(|v| v(h, password)),
        };
        ok.then_some(u.groups.as_slice())
    }
}

/// Decodes the credentials of an `Authorization: Basic ...` header value into (user, password).
pub(crate) fn basic_credentials(value: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let rest = value.trim_ascii();
    let (scheme, b64) = rest.split_at_checked(6)?;
    if !scheme.eq_ignore_ascii_case(b"basic ") {
        return None;
    }
    let raw = base64_decode(b64.trim_ascii())?;
    let colon = raw.iter().position(|&b| b == b':')?;
    let (user, pass) = raw.split_at(colon);
    Some((user.to_vec(), pass.get(1..).unwrap_or_default().to_vec()))
}

fn base64_decode(input: &[u8]) -> Option<Vec<u8>> {
    fn val(c: u8) -> Option<u32> {
        Some(u32::from(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        }))
    }
    let body = input
        .strip_suffix(b"==")
        .or_else(|| input.strip_suffix(b"="))
        .unwrap_or(input);
    let mut out = Vec::with_capacity(input.len() / 4 * 3);
    let mut acc = 0u32;
    let mut bits = 0u32;
    for &c in body {
        acc = (acc << 6) | val(c)?;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(((acc >> bits) & 0xff) as u8);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_header_decodes_and_checks() {
        let (u, p) = basic_credentials(b"Basic YWxpY2U6c2VjcmV0").unwrap();
        assert_eq!(
            (u.as_slice(), p.as_slice()),
            (&b"alice"[..], &b"secret"[..])
        );
        let mut ul = Userlist::new();
        ul.add_insecure("alice", "secret", &["admin"]);
        assert_eq!(ul.authenticate(&u, &p).unwrap(), &["admin".to_owned()]);
        assert!(ul.authenticate(b"alice", b"nope").is_none());
        assert!(basic_credentials(b"Bearer abc").is_none());
        assert!(basic_credentials(b"Basic !!!").is_none());
    }

    #[test]
    fn hashed_users_need_a_verifier() {
        let mut ul = Userlist::new();
        ul.add_hashed("bob", "$5$x", &[]);
        assert!(ul.authenticate(b"bob", b"pw").is_none());
        let ul = ul.with_verifier(Arc::new(|h, p| h == "$5$x" && p == b"pw"));
        assert!(ul.authenticate(b"bob", b"pw").is_some());
    }
}
