//! The extension points the wiring implements: choosing a backend and picking a server.
//!
//! `build` implements [`ChooseBackend`] with haproxy-acl conditions (`use_backend ... if`,
//! `default_backend`) and [`PickServer`] with haproxy-lb balancers.

use std::net::SocketAddr;

use crate::h1::RequestHead;

/// What is known about a stream when routing decisions are taken.
#[derive(Debug, Clone, Copy)]
pub struct StreamView<'a> {
    /// The client's address (after `accept-proxy`, the one the PROXY header gave).
    pub src: SocketAddr,
    /// The address the client connected to.
    pub dst: SocketAddr,
    /// The request head, in HTTP mode.
    pub request: Option<&'a RequestHead>,
}

/// Chooses the backend for a stream (`use_backend` rules, then `default_backend`).
pub trait ChooseBackend: Send + Sync {
    /// The index of the chosen backend, or `None` (HAProxy answers 503).
    fn choose(&self, stream: &StreamView<'_>) -> Option<usize>;
}

/// Picks a server of a backend (the balancer, honouring weights, backups and health).
pub trait PickServer: Send + Sync {
    /// The index of the chosen server in the backend's list; `avoid` is the server that just
    /// failed, for `option redispatch`. `None` means no server is usable (503).
    fn pick(&self, backend: usize, stream: &StreamView<'_>, avoid: Option<usize>) -> Option<usize>;
}

/// Always the same backend: a frontend with only `default_backend`.
#[derive(Debug, Clone, Copy)]
pub struct DefaultBackend(pub usize);

impl ChooseBackend for DefaultBackend {
    fn choose(&self, _stream: &StreamView<'_>) -> Option<usize> {
        Some(self.0)
    }
}
