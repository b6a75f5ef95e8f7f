//! Listening sockets: every `bind` address form, socket options via socket2, and `maxconn`
//! gating (accepting pauses while all slots are taken and resumes when one frees).

mod addr;
mod gate;
mod inherit;
mod owner;
mod socket;
#[cfg(test)]
mod tests;

pub use addr::{BindTarget, MAX_PORTS_PER_BIND, parse_bind_addr};
pub use gate::{ConnGate, ConnPermit};
pub use inherit::inherited_fd;
pub use owner::{MAX_ACCOUNT_DB_LEN, group_id, user_id};
pub use socket::{
    Accepted, BindOptions, DEFAULT_BACKLOG, Listener, SUN_PATH_LEN, abstract_addr, bind,
};
