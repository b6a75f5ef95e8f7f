//! A TCP frontend switching to an HTTP backend: HAProxy upgrades the stream to HTTP, so the
//! backend's HTTP processing (header handling, `option forwardfor`, connection modes, error
//! pages) applies to every request of the connection.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::{AclChooser, LbPicker};
use crate::counters::Counters;
use crate::http::{HttpService, ServerPool};
use crate::route::DefaultBackend;
use crate::settings::{BackendSettings, FrontendSettings, Mode};

/// The HTTP service a TCP frontend hands a connection to once it chose an HTTP backend: the
/// backend is fixed (the frontend's switching rules already ran).
pub type UpgradeService = HttpService<DefaultBackend, LbPicker>;

/// A TCP frontend's upgrade services, by backend index.
#[derive(Debug, Default)]
pub struct HttpUpgrades(Vec<(usize, Arc<UpgradeService>)>);

impl HttpUpgrades {
    /// The service for backend `idx`, when that backend is in HTTP mode.
    pub fn get(&self, idx: usize) -> Option<&Arc<UpgradeService>> {
        self.0.iter().find(|(i, _)| *i == idx).map(|(_, s)| s)
    }

    /// One service per HTTP backend a TCP frontend can switch to (its `use_backend` targets and
    /// default backend). The services share the frontend's counters; `http-request` rules of a
    /// TCP frontend do not apply (HAProxy ignores them there).
    pub(super) fn build(
        frontend: &FrontendSettings,
        chooser: &AclChooser,
        backends: &[BackendSettings],
        picker: &LbPicker,
        counters: &Arc<Counters>,
    ) -> HttpUpgrades {
        if frontend.mode != Mode::Tcp {
            return HttpUpgrades::default();
        }
        let targets: BTreeSet<usize> = chooser
            .rules
            .iter()
            .map(|(_, i)| *i)
            .chain(chooser.default)
            .filter(|i| backends.get(*i).is_some_and(|b| b.mode == Mode::Http))
            .collect();
        let http_frontend = FrontendSettings {
            mode: Mode::Http,
            ..frontend.clone()
        };
        HttpUpgrades(
            targets
                .into_iter()
                .map(|idx| {
                    let svc = HttpService {
                        frontend: http_frontend.clone(),
                        backends: backends.to_vec(),
                        rules: Vec::new(),
                        chooser: DefaultBackend(idx),
                        picker: picker.clone(),
                        pool: ServerPool::new(),
                        counters: Arc::clone(counters),
                    };
                    (idx, Arc::new(svc))
                })
                .collect(),
        )
    }
}
