//! Desired x Observed -> Plan: per host, in order, what would be installed, created, changed, and
//! which services would be enabled, started, reloaded or restarted and why. Plain data, saved
//! with `plan --out` and shown by `ui::plan_view`.

use crate::desired::{Action, HostState};
use crate::observe::{DbFacts, Observed, ServiceFacts};
use crate::secret::Secret;
use serde::{Deserialize, Serialize};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

pub const FORMAT_VERSION: u32 = 1;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileAction {
    Create,
    Update,
    /// Same content; mode or owner differ.
    Attributes,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ServiceAction {
    Enable,
    Start,
    Reload,
    Restart,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    Package {
        name: String,
    },
    User {
        name: String,
    },
    Release {
        app: String,
        from: Option<String>,
        to: String,
        files: usize,
    },
    File {
        path: String,
        action: FileAction,
        sensitive: bool,
        /// Unified diff (never for sensitive files).
        #[serde(skip_serializing_if = "Option::is_none")]
        diff: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        mode: Option<(String, String)>,
        #[serde(skip_serializing_if = "Option::is_none")]
        owner: Option<(String, String)>,
    },
    Database {
        action: DbAction,
        /// The object: database name, or `user@client`.
        object: String,
        /// Privileges to take away (FixGrants): anything beyond least privilege.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        revoke: Vec<String>,
    },
    Service {
        name: String,
        action: ServiceAction,
        reason: String,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DbAction {
    CreateDatabase,
    CreateUser,
    SetPassword,
    FixGrants,
    LoadSchema,
    /// The server is installed but not answering: ensure the database and users once it runs.
    Ensure,
}

impl Change {
    /// Terraform-like bucket: does this add something, or change what exists?
    pub fn is_addition(&self) -> bool {
        match self {
            Change::Package { .. } | Change::User { .. } => true,
            Change::Release { from, .. } => from.is_none(),
            Change::File { action, .. } => *action == FileAction::Create,
            Change::Database { action, .. } => {
                matches!(action, DbAction::CreateDatabase | DbAction::CreateUser)
            }
            Change::Service { .. } => false,
        }
    }

    /// Services follow from the other changes; they are not counted as resources.
    pub fn is_resource(&self) -> bool {
        !matches!(self, Change::Service { .. })
    }
}

/// A file as a saved plan remembers it: mode, owner, group, and content hash (none for
/// sensitive files).
pub type SeenFile = (u32, String, String, Option<String>);

/// What a saved plan remembers of a host's state, to refuse a stale plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seen {
    /// Path -> (mode, owner, group, content hash). Sensitive files keep no hash: a hash of a
    /// file holding a password would let anyone holding the plan test guesses.
    pub files: BTreeMap<String, Option<SeenFile>>,
    pub packages: BTreeMap<String, bool>,
    pub release: Option<String>,
    /// Hash of everything else observed (services, users, database objects).
    pub rest: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct HostPlan {
    pub host: String,
    pub address: String,
    /// 0 database, 1 app/web servers, 2 load balancer and DNS: applied in this order.
    pub phase: u8,
    pub changes: Vec<Change>,
    pub seen: Seen,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Plan {
    pub format: u32,
    /// The topology file (absolute) and the hash of its text.
    pub topology: String,
    pub topology_sha256: String,
    pub templates: Option<String>,
    /// Hash of every non-sensitive rendered file, package and service of every host.
    pub desired_sha256: String,
    pub hosts: Vec<HostPlan>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub add: usize,
    pub change: usize,
    pub remove: usize,
}

impl Plan {
    pub fn summary(&self) -> Summary {
        let mut s = Summary::default();
        for c in self
            .hosts
            .iter()
            .flat_map(|h| &h.changes)
            .filter(|c| c.is_resource())
        {
            if c.is_addition() {
                s.add += 1;
            } else {
                s.change += 1;
            }
        }
        s
    }

    pub fn is_empty(&self) -> bool {
        self.hosts.iter().all(|h| h.changes.is_empty())
    }
}

/// The phase a host is applied in: the load balancer last, the database first.
pub fn phase(h: &HostState) -> u8 {
    use crate::topology::Role;
    if h.roles.iter().any(|r| matches!(r, Role::Lb | Role::Dns)) {
        2
    } else if h.roles.iter().any(|r| matches!(r, Role::Web | Role::App)) {
        1
    } else {
        0
    }
}

/// MySQL's `mysql_native_password` hash of a password: `*` + HEX(SHA1(SHA1(pw))).
pub fn native_password_hash(password: &Secret) -> String {
    let once = Sha1::digest(password.expose().as_bytes());
    let twice = Sha1::digest(once);
    format!("*{}", hex::encode_upper(twice))
}

pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// What the saved plan remembers of `observed`.
pub fn seen(desired: &HostState, observed: &Observed, want_hash: Option<&str>) -> Seen {
    let files = observed
        .files
        .iter()
        .map(|(path, f)| {
            let sensitive = desired.file(path).is_some_and(|d| d.sensitive);
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
        && facts.schema_sha256.as_deref() != Some(hash.as_str())
    {
        changes.push(change(DbAction::LoadSchema, db.name.clone(), Vec::new()));
    }
}

/// Computes one host's changes.
pub fn host_plan(
    desired: &HostState,
    observed: &Observed,
    db_password: Option<&Secret>,
    schema: &SchemaHash,
) -> HostPlan {
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
        let action = if action == "restart" {
            Action::Restart
        } else {
            Action::Reload
        };
        bump(
            service,
            action,
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
        let action = match &live {
            None => Some(FileAction::Create),
            Some(l) if l.sha256 != f.sha256 => Some(FileAction::Update),
            Some(l) if l.mode != f.mode || l.owner != f.owner || l.group != f.group => {
                Some(FileAction::Attributes)
            }
            Some(_) => None,
        };
        let Some(action) = action else { continue };
        let diff = match (&live, f.sensitive, action) {
            (_, true, _) | (_, _, FileAction::Attributes) => None,
            (None, false, _) => Some(unified_diff(&f.path, "", &f.content)),
            (Some(_), false, _) => observed
                .contents
                .get(&f.path)
                .map(|old| unified_diff(&f.path, old, &f.content)),
        };
        let mode = live
            .as_ref()
            .filter(|l| l.mode != f.mode)
            .map(|l| (format!("{:04o}", l.mode), format!("{:04o}", f.mode)));
        let owner = live
            .as_ref()
            .filter(|l| l.owner != f.owner || l.group != f.group)
            .map(|l| {
                (
                    format!("{}:{}", l.owner, l.group),
                    format!("{}:{}", f.owner, f.group),
                )
            });
        if action != FileAction::Attributes {
            for n in &f.notify {
                bump(
                    &n.service,
                    n.action,
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
            changes.push(Change::Database {
                action: DbAction::Ensure,
                object: db.name.clone(),
                revoke: Vec::new(),
            });
        } else {
            database_changes(db, &facts, want_hash.as_deref(), schema, &mut changes);
        }
    }
    let unit_changed = changes.iter().any(
        |c| matches!(c, Change::File { path, .. } if path.starts_with("/etc/systemd/system/")),
    );
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
            if unit_changed
                && s.name.ends_with(".service")
                && changes
                    .iter()
                    .any(|c| matches!(c, Change::File { path, .. } if path.ends_with(&s.name)))
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
    HostPlan {
        host: desired.name.clone(),
        address: desired.address.clone(),
        phase: phase(desired),
        changes,
        seen: seen(desired, observed, want_hash.as_deref()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn native_password_hash_matches_mysql() {
        // SELECT PASSWORD('password') in MariaDB.
        assert_eq!(
            native_password_hash(&Secret::new("password")),
            "*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19"
        );
    }
}
