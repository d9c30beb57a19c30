//! One host's changes: a pure function of what it should have and what it has.

use super::{
    CertificateChange, Change, DbAction, FileAction, Owner, Phase, ResourcePlan, ServiceAction,
};
use super::{native_password_hash, seen};
use crate::desired::{Action, HostState};
use crate::observe::{DbFacts, Observed, ServiceFacts};
use crate::secret::Secret;
use std::collections::BTreeMap;

fn unified_diff(path: &str, old: &str, new: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("{path} (live)"), &format!("{path} (rendered)"))
        .to_string()
}

/// The schema file's hash, when the database has one.
pub type SchemaHash = Option<String>;

/// The database objects to create or fix, from what the (answering) server holds.
fn database_changes(
    db: &crate::desired::DatabaseState,
    facts: &DbFacts,
    want_hash: Option<&str>,
    schema: &SchemaHash,
    changes: &mut Vec<Change>,
) {
    let change = |action, object: String, revoke: Vec<String>| Change::Database {
        action,
        object,
        revoke,
    };
    if !facts.database_exists {
        changes.push(change(
            DbAction::CreateDatabase,
            db.name.clone(),
            Vec::new(),
        ));
    }
    let mut want: Vec<String> = db.privileges.iter().map(|p| p.to_string()).collect();
    want.sort();
    for client in &db.clients {
        let object = format!("{}@{client}", db.user);
        let Some(u) = facts.users.iter().find(|u| u.host == *client) else {
            changes.push(change(DbAction::CreateUser, object, Vec::new()));
            continue;
        };
        // Only a mysql_native_password hash (`*HEX`) can be compared with the secret here; other
        // plugins (MySQL 8's caching_sha2_password) are salted and left as they are.
        if let Some(h) = want_hash
            && u.auth.starts_with('*')
            && h != u.auth
        {
            changes.push(change(DbAction::SetPassword, object.clone(), Vec::new()));
        }
        let extra: Vec<String> = u
            .privileges
            .iter()
            .filter(|p| !want.contains(p))
            .cloned()
            .collect();
        if u.privileges != want {
            changes.push(change(DbAction::FixGrants, object, extra));
        }
    }
    if let Some(hash) = schema
        && db.schema.is_some()
        && facts.schema_sha256.as_deref() != Some(hash.as_str())
    {
        changes.push(change(DbAction::LoadSchema, db.name.clone(), Vec::new()));
    }
    if let Some(part) = &db.replication {
        replication_changes(part, facts, changes);
    }
}

/// The replication account on each peer's address (created, or its password set), and the seed
/// of a replica that follows no primary or another one.
fn replication_changes(
    part: &crate::replication::Part,
    facts: &DbFacts,
    changes: &mut Vec<Change>,
) {
    let want_hash = native_password_hash(&part.password);
    for peer in &part.peers {
        let object = format!("{}@{peer}", part.user);
        match facts.replication_users.iter().find(|u| u.host == *peer) {
            None => changes.push(Change::Database {
                action: DbAction::CreateUser,
                object,
                revoke: Vec::new(),
            }),
            Some(u) if u.auth.starts_with('*') && u.auth != want_hash => {
                changes.push(Change::Database {
                    action: DbAction::SetPassword,
                    object,
                    revoke: Vec::new(),
                })
            }
            Some(_) => {}
        }
    }
    // A new replica (its server not answering yet) is seeded once it does.
    if crate::replication::needs_seed(part, facts) || (part.replica && !facts.running) {
        changes.push(Change::Database {
            action: DbAction::SeedReplica,
            object: format!("replica of {} ({})", part.primary, part.primary_address),
            revoke: Vec::new(),
        });
    }
}

/// A firewall whose unit is active but whose table is gone (`nft flush ruleset` by hand, another
/// tool's ruleset loaded over it) is loaded again, unless a change already does it.
fn firewall_unloaded(desired: &HostState, observed: &Observed, changes: &mut Vec<Change>) {
    let unit = crate::firewall::UNIT;
    let unloaded = desired.firewall.is_some()
        && observed.firewall.as_ref().is_some_and(|f| !f.loaded)
        && observed
            .services
            .get(unit)
            .is_some_and(|f| f.active == "active");
    let planned = changes
        .iter()
        .any(|c| matches!(c, Change::Service { name, .. } if name == unit));
    if unloaded && !planned {
        changes.push(Change::Service {
            name: unit.to_string(),
            action: ServiceAction::Reload,
            reason: format!("its table inet {} is not loaded", crate::firewall::TABLE),
        });
    }
}

/// Computes one host's changes.
pub fn host_plan(
    desired: &HostState,
    observed: &Observed,
    db_password: Option<&Secret>,
    schema: &SchemaHash,
) -> ResourcePlan {
    let want_hash = db_password.map(native_password_hash);
    let mut changes = Vec::new();
    for p in &desired.packages {
        if !observed.packages.get(p).copied().unwrap_or(false) {
            changes.push(Change::Package { name: p.clone() });
        }
    }
    for u in &desired.users {
        if !observed.users.get(u).copied().unwrap_or(false) {
            changes.push(Change::User { name: u.clone() });
        }
    }
    // Services to notify, with the strongest action and the first reason.
    let mut notify: BTreeMap<String, (Action, String)> = BTreeMap::new();
    let mut bump = |service: &str, action: Action, reason: String| {
        let e = notify
            .entry(service.to_string())
            .or_insert((action, reason.clone()));
        if action > e.0 {
            *e = (action, reason);
        }
    };
    for (service, action) in &observed.pending {
        bump(
            service,
            *action,
            "owed by an earlier apply that did not finish".into(),
        );
    }
    if let Some(r) = &desired.release
        && observed.release.as_deref() != Some(r.sha256.as_str())
    {
        changes.push(Change::Release {
            app: r.app.clone(),
            from: observed.release.clone(),
            to: r.sha256.clone(),
            files: r.files,
        });
        for n in &r.notify {
            bump(
                &n.service,
                n.action,
                format!("release {} is deployed", &r.sha256[..12]),
            );
        }
    }
    for f in &desired.files {
        let live = observed.files.get(&f.path).cloned().flatten();
        // A file its service owns once created (a dynamic zone) is never compared again.
        if f.create_only && live.is_some() {
            continue;
        }
        let action = match &live {
            None => Some(FileAction::Create),
            Some(l) if l.sha256 != f.sha256 => Some(FileAction::Update),
            Some(l) if l.mode != f.mode || l.owner != f.owner || l.group != f.group => {
                Some(FileAction::Attributes)
            }
            Some(_) => None,
        };
        let Some(action) = action else { continue };
        let leaf = |pem: &str| {
            crate::certificate::Chain::parse(pem.as_bytes())
                .ok()
                .map(|c| c.leaf)
        };
        let certificate =
            (f.certificate && action != FileAction::Attributes).then(|| CertificateChange {
                from: live
                    .as_ref()
                    .filter(|l| l.not_regular.is_none())
                    .and_then(|_| observed.contents.get(&f.path))
                    .and_then(|old| leaf(old)),
                to: leaf(&f.content),
            });
        let diff = match (&live, f.sensitive, action) {
            (_, true, _) | (_, _, FileAction::Attributes) => None,
            _ if certificate.is_some() => None,
            (None, false, _) => Some(unified_diff(&f.path, "", &f.content)),
            // Nothing is read through a link: the file is shown as new.
            (Some(l), false, _) if l.not_regular.is_some() => {
                Some(unified_diff(&f.path, "", &f.content))
            }
            (Some(_), false, _) => observed
                .contents
                .get(&f.path)
                .map(|old| unified_diff(&f.path, old, &f.content)),
        };
        // A link (or anything but a regular file) is replaced whole: its mode and owner are not
        // the file's.
        let replaces = live.as_ref().and_then(|l| l.not_regular.clone());
        let regular = live.as_ref().filter(|l| l.not_regular.is_none());
        let mode = regular
            .filter(|l| l.mode != f.mode)
            .map(|l| (format!("{:04o}", l.mode), format!("{:04o}", f.mode)));
        let owner = regular
            .filter(|l| l.owner != f.owner || l.group != f.group)
            .map(|l| {
                (
                    format!("{}:{}", l.owner, l.group),
                    format!("{}:{}", f.owner, f.group),
                )
            });
        // The database's configuration changing in read_only alone (a promote's edit) is set
        // live: a restart would stop the new primary's writes.
        let read_only_alone = action == FileAction::Update
            && f.template == "mysql/server.cnf.tera"
            && observed
                .contents
                .get(&f.path)
                .is_some_and(|old| crate::replication::read_only_alone(old, &f.content));
        if action != FileAction::Attributes {
            for n in &f.notify {
                bump(
                    &n.service,
                    if read_only_alone {
                        Action::Reload
                    } else {
                        n.action
                    },
                    format!(
                        "{} {}",
                        f.path,
                        if action == FileAction::Create {
                            "is created"
                        } else {
                            "changes"
                        }
                    ),
                );
            }
        }
        changes.push(Change::File {
            path: f.path.clone(),
            action,
            sensitive: f.sensitive,
            diff,
            mode,
            owner,
            replaces,
            certificate: certificate.map(Box::new),
        });
    }
    if let Some(db) = &desired.database {
        let facts = observed.database.clone().unwrap_or_default();
        let server_installed = desired.packages.iter().any(|p| {
            (p.starts_with("mariadb-server") || p.starts_with("mysql-server"))
                && observed.packages.get(p) == Some(&true)
        });
        if !facts.running && server_installed {
            // Installed but not answering: what it holds is unknown, so nothing is invented.
            // A replica is seeded once it answers (the seed leaves a replicating one alone).
            changes.push(Change::Database {
                action: DbAction::Ensure,
                object: db.name.clone(),
                revoke: Vec::new(),
            });
            if let Some(part) = db.replication.as_ref().filter(|r| r.replica) {
                changes.push(Change::Database {
                    action: DbAction::SeedReplica,
                    object: format!("replica of {} ({})", part.primary, part.primary_address),
                    revoke: Vec::new(),
                });
            }
        } else {
            database_changes(db, &facts, want_hash.as_deref(), schema, &mut changes);
        }
    }
    // A unit file whose content changes (not only its mode or owner): its service restarts.
    let changed_units: Vec<String> = changes
        .iter()
        .filter_map(|c| match c {
            Change::File { path, action, .. } if *action != FileAction::Attributes => path
                .strip_prefix("/etc/systemd/system/")
                .map(str::to_string),
            _ => None,
        })
        .collect();
    for s in &desired.services {
        let facts: ServiceFacts = observed.services.get(&s.name).cloned().unwrap_or_default();
        let exists = !facts.enabled.is_empty() && facts.enabled != "not-found";
        if s.enabled && facts.enabled != "enabled" {
            changes.push(Change::Service {
                name: s.name.clone(),
                action: ServiceAction::Enable,
                reason: if exists {
                    "not enabled".into()
                } else {
                    "new service".into()
                },
            });
        }
        if s.running && facts.active != "active" {
            changes.push(Change::Service {
                name: s.name.clone(),
                action: ServiceAction::Start,
                reason: if exists {
                    format!(
                        "it is {}",
                        if facts.active.is_empty() {
                            "inactive"
                        } else {
                            &facts.active
                        }
                    )
                } else {
                    "new service".into()
                },
            });
        } else if let Some((action, reason)) = notify.get(&s.name) {
            let mut action = *action;
            let mut reason = reason.clone();
            // The firewall's unit re-reads everything on a reload; a restart would stop it (its
            // table gone) before starting it again.
            if s.name.ends_with(".service")
                && changed_units.contains(&s.name)
                && s.name != crate::firewall::UNIT
            {
                action = Action::Restart;
                reason = format!("its unit file changes ({reason})");
            }
            changes.push(Change::Service {
                name: s.name.clone(),
                action: match action {
                    Action::Reload => ServiceAction::Reload,
                    Action::Restart => ServiceAction::Restart,
                },
                reason,
            });
        }
    }
    firewall_unloaded(desired, observed, &mut changes);
    ResourcePlan {
        owner: Owner::Host {
            host: desired.name.clone(),
            address: desired.address.clone(),
        },
        phase: Phase::of(desired),
        changes,
        seen: seen(desired, observed, want_hash.as_deref()),
        note: None,
        replication: desired
            .database
            .as_ref()
            .and_then(|d| Some((d.replication.as_ref()?, observed.database.as_ref()?)))
            .and_then(|(part, facts)| crate::replication::Status::of(part, facts)),
        holds_vip: observed.vip.as_ref().is_some_and(|v| v.held),
        shares_vip: desired.vip.is_some(),
    }
}

#[cfg(test)]
#[path = "host_tests.rs"]
mod tests;
