//! A TCP frontend switching to an HTTP backend: HAProxy upgrades the stream to HTTP, so the
//! backend's HTTP processing (header handling, `option forwardfor`, connection modes, error
//! pages) applies to every request of the connection. And `tcp-request content switch-mode
//! http`: the connection becomes HTTP in the frontend itself, whose `http-request` and
//! `use_backend` rules then run on each request.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::{AclChooser, LbPicker, Service};
use crate::counters::Counters;
use crate::http::{HttpService, RequestRule, ServerPool};
use crate::registry::Registry;
use crate::settings::{BackendSettings, FrontendSettings, Mode};

/// What every service of a runtime shares: backends, balancers, the frontend's counters and
/// the registry.
#[derive(Clone, Copy)]
pub(super) struct Shared<'a> {
    pub(super) backends: &'a [BackendSettings],
    pub(super) picker: &'a LbPicker,
    pub(super) counters: &'a Arc<Counters>,
    pub(super) registry: &'a Arc<Registry>,
}

impl Shared<'_> {
    /// An HTTP service over the shared parts, with a fresh connection pool.
    fn http_service(
        &self,
        frontend: FrontendSettings,
        rules: Vec<RequestRule>,
        chooser: AclChooser,
    ) -> UpgradeService {
        HttpService {
            frontend,
            backends: self.backends.to_vec(),
            rules,
            chooser,
            picker: self.picker.clone(),
            pool: ServerPool::new(),
            counters: Arc::clone(self.counters),
            registry: Arc::clone(self.registry),
        }
    }
}

/// The HTTP service a TCP frontend hands a connection to once it chose an HTTP backend: the
/// backend is fixed (the frontend's switching rules already ran); the backend's settings
/// (`http-request` rules, stats page, `option http-buffer-request`) apply.
pub type UpgradeService = HttpService<AclChooser, LbPicker>;

/// A TCP frontend's upgrade services, by backend index, and its `switch-mode http` service.
#[derive(Debug, Default)]
pub struct HttpUpgrades {
    by_backend: Vec<(usize, Arc<UpgradeService>)>,
    switched: Option<Arc<Service>>,
}

impl HttpUpgrades {
    /// The service for backend `idx`, when that backend is in HTTP mode.
    pub fn get(&self, idx: usize) -> Option<&Arc<UpgradeService>> {
        self.by_backend
            .iter()
            .find(|(i, _)| *i == idx)
            .map(|(_, s)| s)
    }

    /// The frontend served as HTTP after `tcp-request content switch-mode http`.
    pub fn switched(&self) -> Option<&Arc<Service>> {
        self.switched.as_ref()
    }

    /// The `switch-mode http` service: the frontend in HTTP mode with its `http-request` rules
    /// and `use_backend` rules; a rule naming a TCP backend leads to no backend (503).
    pub(super) fn with_switch(
        mut self,
        frontend: &FrontendSettings,
        chooser: &AclChooser,
        rules: Vec<RequestRule>,
        shared: &Shared<'_>,
    ) -> HttpUpgrades {
        let backends = shared.backends;
        let http_only = |i: usize| {
            if backends.get(i).is_some_and(|b| b.mode == Mode::Http) {
                i
            } else {
                usize::MAX
            }
        };
        let mut chooser = chooser.clone();
        for (_, i) in &mut chooser.rules {
            *i = http_only(*i);
        }
        chooser.default = chooser.default.map(http_only);
        for d in &mut chooser.dynamic {
            let names = d.names.iter().map(|(n, i)| (n.clone(), http_only(*i)));
            d.names = Arc::new(names.collect());
        }
        let frontend = FrontendSettings {
            mode: Mode::Http,
            ..frontend.clone()
        };
        self.switched = Some(Arc::new(shared.http_service(frontend, rules, chooser)));
        self
    }

    /// One service per HTTP backend a TCP frontend can switch to (its `use_backend` targets and
    /// default backend). The services share the frontend's counters; `http-request` rules of a
    /// TCP frontend do not apply (HAProxy ignores them there).
    pub(super) fn build(
        frontend: &FrontendSettings,
        chooser: &AclChooser,
        shared: &Shared<'_>,
    ) -> HttpUpgrades {
        let backends = shared.backends;
        if frontend.mode != Mode::Tcp {
            return HttpUpgrades::default();
        }
        // A dynamic name may lead to any backend.
        let any = chooser.dynamic.first().map(|_| 0..backends.len());
        let targets: BTreeSet<usize> = chooser
            .rules
            .iter()
            .map(|(_, i)| *i)
            .chain(chooser.default)
            .chain(any.into_iter().flatten())
            .filter(|i| backends.get(*i).is_some_and(|b| b.mode == Mode::Http))
            .collect();
        // The frontend's HTTP analysers do not run on a stream its backend upgraded: only the
        // backend's `option http-buffer-request` applies.
        let http_frontend = FrontendSettings {
            mode: Mode::Http,
            buffer_request: false,
            ..frontend.clone()
        };
        let by_backend = targets
            .into_iter()
            .map(|idx| {
                let fixed = AclChooser {
                    default: Some(idx),
                    ..AclChooser::default()
                };
                let svc = shared.http_service(http_frontend.clone(), Vec::new(), fixed);
                (idx, Arc::new(svc))
            })
            .collect();
        HttpUpgrades {
            by_backend,
            switched: None,
        }
    }
}
