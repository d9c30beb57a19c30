//! `apply`: makes each host match the plan. Phases (database, then app/web servers, then the
//! load balancer) and batches within them live in `orchestrate`; the steps of one host (lock,
//! packages, users, release, files staged and validated and renamed into place, services,
//! database objects, health checks) in `host`; putting back what a failed host had swapped in,
//! in `rollback`; what the remote scripts and this side agree on, in `protocol`.
//!
//! Everything here talks to hosts through [`Remote`] only and works from the plan and
//! [`Desired`]: never the topology or the templates. Progress goes out as [`Event`]s; the
//! caller decides how to show them.

pub mod bundle;
mod database;
mod drain;
mod host;
pub mod lock;
mod orchestrate;
pub mod protocol;
mod rollback;
pub mod scripts;
#[cfg(test)]
mod tests;
mod vip;
mod zone;

pub use orchestrate::{Step, apply, batches, rollout};

use crate::desired::Desired;
use crate::plan::Phase;
use crate::remote::Remote;
use crate::secret::Secret;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

/// How one host's part of a run ended.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case", tag = "result")]
pub enum Outcome {
    Unchanged,
    Changed,
    /// A step failed; `rolled_back` says whether swapped files were put back.
    Failed {
        step: String,
        error: String,
        rolled_back: bool,
    },
    /// Not attempted: an earlier phase or batch failed, or the host was unreachable.
    Skipped {
        reason: String,
    },
    Interrupted,
}

#[derive(Clone, Debug, Serialize)]
pub struct HostReport {
    pub host: String,
    #[serde(flatten)]
    pub outcome: Outcome,
    /// What was done, in order.
    pub done: Vec<String>,
    pub seconds: f64,
}

/// Set by Ctrl-C: no new step starts; the step under way (a file swap) completes.
pub type Interrupt = Arc<AtomicBool>;

/// Progress of a run, for whoever shows it.
#[derive(Clone, Copy, Debug)]
pub enum Event<'a> {
    /// A host starts a step.
    Step { host: &'a str, message: &'a str },
    /// A host is done: how it ended, in a few words.
    Finished { host: &'a str, summary: &'a str },
}

/// What one apply run works with, besides the plan.
pub struct Run<'a> {
    pub desired: &'a Desired,
    /// The hosts' connections, by host name.
    pub remotes: &'a BTreeMap<String, Arc<dyn Remote>>,
    /// Blanked out of any output a step reports.
    pub db_password: Option<&'a Secret>,
    /// The TSIG key's secret: blanked out too (named-checkconf quotes what it rejects).
    pub tsig: Option<&'a Secret>,
    /// The TLS private key: each of its lines blanked out too (a PEM rarely shows whole).
    pub tls_key: Option<&'a Secret>,
    /// The replication password: blanked out too.
    pub replication_password: Option<&'a Secret>,
    pub forks: usize,
    /// Serving hosts changed at once after the canary (a rolling change).
    pub batch: usize,
    /// The longest a server's sessions are waited for when it is drained.
    pub drain_timeout: std::time::Duration,
    /// How long a host waits for the run to confirm its change before its watchdog puts it
    /// back by itself (the operator's machine or connection died).
    pub confirm_timeout: std::time::Duration,
    pub interrupt: &'a Interrupt,
    pub on_event: &'a (dyn Fn(Event) + Sync),
    /// The release tar, packed once for every host that gets it.
    pub release_tar: Option<&'a [u8]>,
    /// Hosts that could not be reached: name, phase, error.
    pub unreachable: &'a [(String, Phase, String)],
    /// A drill (`FOOBAR_INFRA_DRILL=cut-ssh`): each new firewall also cuts SSH once loaded, so
    /// that the reconnect check and the host-side watchdog can be seen putting it back.
    pub drill_cut_ssh: bool,
    /// The zone's primary server, when the plan has record changes.
    pub authority: Option<&'a dyn crate::dns::Authority>,
}
