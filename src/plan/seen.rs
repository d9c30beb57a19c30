//! What a saved plan remembers of what it saw, and why a saved plan no longer fits.

use super::{Change, Owner, Plan, sha256_hex};
use crate::desired::HostState;
use crate::observe::Observed;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A file as a saved plan remembers it: mode, owner, group, and content hash (none for
/// sensitive files).
pub type SeenFile = (u32, String, String, Option<String>);

/// What a saved plan remembers of a host's state, to refuse a stale plan.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seen {
    /// Path -> (mode, owner, group, content hash). Sensitive files keep no hash: a hash of a
    /// file holding a password would let anyone holding the plan test guesses.
    pub files: BTreeMap<String, Option<SeenFile>>,
    pub packages: BTreeMap<String, bool>,
    pub release: Option<String>,
    /// Hash of everything else observed (services, users, database objects).
    pub rest: String,
}

/// What the saved plan remembers of `observed`.
pub fn seen(desired: &HostState, observed: &Observed, want_hash: Option<&str>) -> Seen {
    let files = observed
        .files
        .iter()
        .map(|(path, f)| {
            let sensitive = desired.file(path).is_some_and(|d| d.sensitive);
            // A file its service owns once created (a dynamic zone) only counts as there or not.
            if desired.file(path).is_some_and(|d| d.create_only) {
                let there: Option<SeenFile> =
                    f.as_ref().map(|_| (0, String::new(), String::new(), None));
                return (path.clone(), there);
            }
            let facts = f.as_ref().map(|f| {
                (
                    f.mode,
                    f.owner.clone(),
                    f.group.clone(),
                    (!sensitive).then(|| f.sha256.clone()),
                )
            });
            (path.clone(), facts)
        })
        .collect();
    // Only whether each stored password matches the secret: never a hash of it (anyone holding
    // the plan could test guesses against one).
    let passwords: BTreeMap<String, bool> = observed
        .database
        .iter()
        .flat_map(|d| &d.users)
        .map(|u| (u.host.clone(), want_hash.is_some_and(|h| h == u.auth)))
        .collect();
    let rest = serde_json::json!({
        "services": observed.services.iter().map(|(k, v)| (k.clone(), (v.enabled.clone(), v.active.clone()))).collect::<BTreeMap<_, _>>(),
        "users": observed.users,
        "database": observed.database,
        "passwords": passwords,
        "pending": observed.pending,
    })
    .to_string();
    Seen {
        files,
        packages: observed.packages.clone(),
        release: observed.release.clone(),
        rest: sha256_hex(rest.as_bytes()),
    }
}

/// How the changes computed now differ from the saved ones.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Difference {
    /// A change that would now be made and was not planned.
    Extra(Change),
    /// A planned change that is no longer needed.
    Missing(Change),
    /// The same changes, in another order or number.
    Reordered,
}

/// The first change that differs between the saved plan and the one computed now (diff text
/// aside: a diff is only a view of the same change).
pub fn first_difference(saved: &[Change], now: &[Change]) -> Option<Difference> {
    let strip = |c: &Change| match c {
        Change::File {
            path,
            action,
            sensitive,
            mode,
            owner,
            replaces,
            certificate,
            ..
        } => Change::File {
            path: path.clone(),
            action: *action,
            sensitive: *sensitive,
            diff: None,
            mode: mode.clone(),
            owner: owner.clone(),
            replaces: replaces.clone(),
            // Which certificate comes is the change itself, not a view of it.
            certificate: certificate.clone(),
        },
        other => other.clone(),
    };
    let a: Vec<Change> = saved.iter().map(strip).collect();
    let b: Vec<Change> = now.iter().map(strip).collect();
    if a == b {
        return None;
    }
    let extra = b
        .iter()
        .find(|c| !a.contains(c))
        .cloned()
        .map(Difference::Extra);
    let missing = a
        .iter()
        .find(|c| !b.contains(c))
        .cloned()
        .map(Difference::Missing);
    Some(extra.or(missing).unwrap_or(Difference::Reordered))
}

/// Why a saved plan no longer fits what its owner has now: the first thing that differs.
pub fn stale_reason(saved: &Seen, now: &Seen) -> Option<String> {
    for (path, before) in &saved.files {
        if now.files.get(path) != Some(before) {
            return Some(format!("{path} changed"));
        }
    }
    for (pkg, before) in &saved.packages {
        if now.packages.get(pkg) != Some(before) {
            return Some(format!("package {pkg} changed"));
        }
    }
    if saved.release != now.release {
        return Some("the deployed release changed".into());
    }
    (saved.rest != now.rest).then(|| "its services, users or database objects changed".into())
}

/// Why a saved plan may no longer be applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stale {
    /// What the owner has moved since the plan was made.
    Moved { owner: Owner, why: String },
    /// The changes computed now are not the ones that were approved.
    Differs {
        owner: Owner,
        difference: Difference,
    },
    /// The owner could not be observed now.
    Unobserved { owner: Owner },
}

/// Checks a saved plan against one made now, owner by owner: the saved plan is what was
/// approved, so nothing may have moved and nothing else may be done.
pub fn staleness(saved: &Plan, now: &Plan) -> Option<Stale> {
    for old in &saved.resources {
        let Some(current) = now.resources.iter().find(|r| r.owner == old.owner) else {
            return Some(Stale::Unobserved {
                owner: old.owner.clone(),
            });
        };
        if let Some(why) = stale_reason(&old.seen, &current.seen) {
            let why = match old.owner {
                Owner::Zone { .. } => "a record it manages changed on the server".into(),
                Owner::Host { .. } => why,
            };
            return Some(Stale::Moved {
                owner: old.owner.clone(),
                why,
            });
        }
        if let Some(difference) = first_difference(&old.changes, &current.changes) {
            return Some(Stale::Differs {
                owner: old.owner.clone(),
                difference,
            });
        }
    }
    None
}
