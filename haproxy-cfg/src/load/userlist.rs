//! `userlist` sections.

use super::{Ctx, Loader};
use crate::diag::Origin;
use crate::model::{User, UserGroup, Userlist};

/// `userlist <name>`.
pub(super) fn header(l: &mut Loader<'_>, ctx: &Ctx<'_>) {
    let name = ctx.arg(1);
    if name.is_empty() {
        let msg = format!("'{}' expects <name> as arguments.", ctx.arg(0));
        return l.alert(ctx, ctx.col(0), "missing-name", Origin::ParsingTight, msg);
    }
    if let Some(u) = l.config.userlists.iter().find(|u| u.name == name) {
        let msg = format!("ignoring duplicate userlist '{name}'.");
        let _ = u;
        l.warn(
            ctx,
            ctx.col(1),
            "duplicate-userlist",
            Origin::ParsingTight,
            msg,
        );
        return;
    }
    l.config.userlists.push(Userlist {
        name: name.to_owned(),
        loc: ctx.loc(),
        groups: Vec::new(),
        users: Vec::new(),
    });
    l.current_userlist = Some(l.config.userlists.len() - 1);
}

/// `group` and `user` lines.
pub(super) fn directive(l: &mut Loader<'_>, ctx: &Ctx<'_>) {
    let kw = ctx.arg(0);
    let loc = ctx.loc();
    match kw {
        "group" => {
            let name = ctx.arg(1).to_owned();
            if name.is_empty() {
                let msg = format!("'{kw}' expects <name> as arguments.");
                return l.alert(ctx, ctx.col(0), "missing-name", Origin::ParsingTight, msg);
            }
            let Some(ul) = l.userlist_mut() else { return };
            if ul.groups.iter().any(|g| g.name == name) {
                let msg = format!(
                    "ignoring duplicate group '{name}' in userlist '{}'.",
                    ul.name
                );
                return l.warn(
                    ctx,
                    ctx.col(1),
                    "duplicate-group",
                    Origin::ParsingTight,
                    msg,
                );
            }
            let mut users = Vec::new();
            let mut i = 2;
            while !ctx.arg(i).is_empty() {
                if ctx.arg(i) == "users" {
                    users.extend(
                        ctx.arg(i + 1)
                            .split(',')
                            .filter(|s| !s.is_empty())
                            .map(str::to_owned),
                    );
                    i += 2;
                } else {
                    let msg = format!("'{kw}' only supports 'users' option.");
                    return l.alert(ctx, ctx.col(i), "bad-argument", Origin::ParsingTight, msg);
                }
            }
            if let Some(ul) = l.userlist_mut() {
                ul.groups.push(UserGroup { name, users, loc });
            }
        }
        "user" => {
            let name = ctx.arg(1).to_owned();
            if name.is_empty() {
                let msg = format!("'{kw}' expects <name> as arguments.");
                return l.alert(ctx, ctx.col(0), "missing-name", Origin::ParsingTight, msg);
            }
            let Some(ul) = l.userlist_mut() else { return };
            if ul.users.iter().any(|u| u.name == name) {
                let msg = format!(
                    "ignoring duplicate user '{name}' in userlist '{}'.",
                    ul.name
                );
                return l.warn(ctx, ctx.col(1), "duplicate-user", Origin::ParsingTight, msg);
            }
            let mut u = User {
                name,
                password: None,
                insecure_password: None,
                groups: Vec::new(),
                loc,
            };
            let mut i = 2;
            while !ctx.arg(i).is_empty() {
                match ctx.arg(i) {
                    "password" => u.password = Some(ctx.arg(i + 1).to_owned()),
                    "insecure-password" => u.insecure_password = Some(ctx.arg(i + 1).to_owned()),
                    "groups" => u.groups.extend(
                        ctx.arg(i + 1)
                            .split(',')
                            .filter(|s| !s.is_empty())
                            .map(str::to_owned),
                    ),
                    _ => {
                        let msg = format!(
                            "'{kw}' only supports 'password', 'insecure-password' and 'groups' options."
                        );
                        return l.alert(ctx, ctx.col(i), "bad-argument", Origin::ParsingTight, msg);
                    }
                }
                i += 2;
            }
            if let Some(ul) = l.userlist_mut() {
                ul.users.push(u);
            }
        }
        _ => {
            let msg = format!("unknown keyword '{kw}' in 'users' section");
            l.alert(
                ctx,
                ctx.col(0),
                "unknown-keyword",
                Origin::ParsingTight,
                msg,
            );
        }
    }
}
