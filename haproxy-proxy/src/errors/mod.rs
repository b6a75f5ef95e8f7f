//! HAProxy's generated responses: default error pages (byte-exact, reference §6.7), errorfiles
//! (§6.6), and the `return` / `redirect` replies (§6.4, §6.5).

mod errorfile;
mod pages;
mod reply;
#[cfg(test)]
mod tests;

pub use errorfile::{ERRORFILE_CODES, ErrorPages, MAX_ERRORFILE_LEN, parse_errorfile};
pub use pages::{DefaultPage, default_page, raw_h1_page, reason};
pub use reply::{Reply, redirect_reply, return_reply};
