//! `user`/`uid` and `group`/`gid` on unix-socket `bind` lines: names resolved from the system's
//! account databases (`/etc/passwd`, `/etc/group`), the way getpwnam/getgrnam read them.

use std::path::Path;

/// The most bytes read from an account database.
pub const MAX_ACCOUNT_DB_LEN: u64 = 16 * 1024 * 1024;

/// Finds `name` in a colon-separated database and returns its third field (the id).
fn lookup(text: &str, name: &str) -> Option<u32> {
    text.lines().map(|l| l.split(':')).find_map(|mut f| {
        (f.next() == Some(name))
            .then(|| f.nth(1))
            .flatten()
            .and_then(|id| id.parse().ok())
    })
}

fn read_db(path: &Path) -> Option<String> {
    use std::io::Read;
    let mut text = String::new();
    std::fs::File::open(path)
        .ok()?
        .take(MAX_ACCOUNT_DB_LEN)
        .read_to_string(&mut text)
        .ok()?;
    Some(text)
}

/// The uid of user `name` (a name only, as HAProxy's `user`; numbers go with `uid`).
pub fn user_id(name: &str) -> Option<u32> {
    lookup(&read_db(Path::new("/etc/passwd"))?, name)
}

/// The gid of group `name` (a name only, as HAProxy's `group`; numbers go with `gid`).
pub fn group_id(name: &str) -> Option<u32> {
    lookup(&read_db(Path::new("/etc/group"))?, name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_come_from_the_databases() {
        let db = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/sbin/nologin\n";
        assert_eq!(lookup(db, "nobody"), Some(65534));
        assert_eq!(lookup(db, "nobod"), None);
        assert_eq!(lookup("broken", "broken"), None);
        assert_eq!(user_id("root"), Some(0));
        assert_eq!(user_id("0"), None, "a number is not a user name");
        assert_eq!(group_id("root"), Some(0));
        assert_eq!(user_id("no-such-user-here"), None);
    }
}
