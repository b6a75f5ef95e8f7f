//! `maxconn`: a bounded number of concurrent connections; the accept loop waits for a slot
//! before accepting, so the kernel backlog holds the rest (HAProxy pauses its listeners).

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Connection slots shared by listeners (per bind, per frontend or global).
#[derive(Debug, Clone)]
pub struct ConnGate {
    slots: Option<Arc<Semaphore>>,
}

/// A held slot; dropping it frees the slot and resumes accepting.
#[derive(Debug)]
pub struct ConnPermit {
    /// A boxed slice, not a `Vec`: 8 bytes less in every connection's task.
    _permits: Box<[OwnedSemaphorePermit]>,
}

impl ConnGate {
    /// A gate with `maxconn` slots; 0 means unlimited.
    pub fn new(maxconn: u32) -> Self {
        let slots = (maxconn > 0).then(|| Arc::new(Semaphore::new(maxconn as usize)));
        ConnGate { slots }
    }

    /// Free slots, or `None` when unlimited.
    pub fn available(&self) -> Option<usize> {
        self.slots.as_ref().map(|s| s.available_permits())
    }

    /// Waits for `n` slots at once, keeping one place in the queue (the runtime API holds slots
    /// back this way when `maxconn` is lowered); `None` when the gate is unlimited.
    pub async fn acquire_many(&self, n: u32) -> Option<ConnPermit> {
        let s = self.slots.as_ref()?;
        let p = Arc::clone(s).acquire_many_owned(n).await.ok()?;
        Some(ConnPermit {
            _permits: Box::new([p]),
        })
    }

    /// Waits for a slot in every gate (bind, frontend, global), taken in order.
    pub async fn acquire_all(gates: &[ConnGate]) -> ConnPermit {
        let mut permits = Vec::with_capacity(gates.len());
        for g in gates {
            if let Some(s) = &g.slots
                && let Ok(p) = Arc::clone(s).acquire_owned().await
            {
                permits.push(p);
            }
        }
        ConnPermit {
            _permits: permits.into_boxed_slice(),
        }
    }
}
