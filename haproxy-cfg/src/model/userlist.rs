//! `userlist` sections.

use super::Location;

/// A `userlist`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Userlist {
    /// Name.
    pub name: String,
    /// Where it was declared.
    pub loc: Location,
    /// `group` lines.
    pub groups: Vec<UserGroup>,
    /// `user` lines.
    pub users: Vec<User>,
}

/// `group <name> [users a,b]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserGroup {
    /// Name.
    pub name: String,
    /// Members listed on the group line.
    pub users: Vec<String>,
    /// Where it was declared.
    pub loc: Location,
}

/// `user <name> [password <hash>|insecure-password <pw>] [groups a,b]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Name.
    pub name: String,
    /// crypt(3) hash.
    pub password: Option<String>,
    /// Clear-text password.
    pub insecure_password: Option<String>,
    /// Groups listed on the user line.
    pub groups: Vec<String>,
    /// Where it was declared.
    pub loc: Location,
}
