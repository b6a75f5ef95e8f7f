//! The balancing algorithms' internal state machines.

pub(crate) mod consistent;
pub(crate) mod kind;
pub(crate) mod leastconn;
pub(crate) mod map;
pub(crate) mod roundrobin;
pub(crate) mod schedule;
