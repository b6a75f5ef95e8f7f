//! Listening sockets: every `bind` address form, socket options via socket2, and `maxconn`
//! gating (accepting pauses while all slots are taken and resumes when one frees).

mod addr;
mod gate;
mod socket;
#[cfg(test)]
mod tests;

pub use addr::{BindTarget, MAX_PORTS_PER_BIND, parse_bind_addr};
pub use gate::{ConnGate, ConnPermit};
pub use socket::{Accepted, BindOptions, DEFAULT_BACKLOG, Listener, bind};
