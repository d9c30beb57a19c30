//! Putting back what a host's run swapped in: its files and its release, then bringing back
//! the services that depend on them.

use super::host::HostRun;
use super::scripts::{self, Restore};
use crate::desired::Action;
use std::collections::BTreeMap;

/// The services to bring back after `swapped` files are restored, with the strongest action
/// each needs: what the files notify, and what the run owed.
pub(super) fn services_to_restore(
    run: &HostRun,
    swapped: &[(String, bool)],
) -> Vec<(String, Action)> {
    let mut services: BTreeMap<String, Action> = BTreeMap::new();
    let mut bump = |name: &str, action: Action| {
        let e = services.entry(name.to_string()).or_insert(action);
        *e = (*e).max(action);
    };
    for (path, _) in swapped {
        if let Some(f) = run.desired.file(path) {
            for n in &f.notify {
                bump(&n.service, n.action);
            }
        }
    }
    for (name, action) in run.owed() {
        bump(&name, action);
    }
    services.into_iter().collect()
}

impl HostRun<'_> {
    /// Puts back what this run swapped (files, the release) and re-applies their services'
    /// actions. `Ok` only when everything was put back and every service came back; otherwise
    /// what did not (and the pending record stays, for the next plan).
    pub(super) async fn rollback(&mut self) -> Result<(), String> {
        let release = match (&self.switched_from, &self.desired.release) {
            (Some(from), Some(r)) => Some((r.root.as_str(), from.as_str())),
            _ => None,
        };
        // A firewall loaded without a file swapped (its table had gone missing, its unit was
        // stopped) is put back too: the change journal says how it was.
        let firewall = self.changes().any(|c| {
            matches!(c, crate::plan::Change::Service { name, .. } if name == crate::firewall::UNIT)
        });
        if self.swapped.is_empty() && release.is_none() && !firewall {
            return Err("nothing had been swapped in".into());
        }
        let restore = Restore {
            release,
            swapped: &self.swapped,
            daemon_reload: self
                .swapped
                .iter()
                .any(|(p, _)| p.starts_with("/etc/systemd/system/")),
            services: services_to_restore(self, &self.swapped),
        };
        let what = match (self.swapped.len(), release.is_some()) {
            (n, true) => format!("rolled back {n} file(s) and the release"),
            (n, false) => format!("rolled back {n} file(s)"),
        };
        match self.remote.run(&scripts::rollback(&restore), b"").await {
            Ok(o) if o.ok() => {
                self.done.push(what);
                Ok(())
            }
            Ok(o) => Err(o.text()),
            Err(e) => Err(e.to_string()),
        }
    }
}
