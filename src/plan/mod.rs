//! Desired x Observed -> Plan: for each owner of resources (a host today; a DNS zone on its
//! server next), in order, what would be installed, created, changed, and which services would
//! be enabled, started, reloaded or restarted and why. Plain data, saved with `plan --out` and
//! shown by `ui::plan_view`.

mod host;
mod seen;
pub mod vip;
mod zone;

pub use host::{SchemaHash, host_plan};
pub use seen::{
    Difference, Seen, SeenFile, Stale, first_difference, seen, stale_reason, staleness,
};
pub use zone::{record_changes, zone_plan};

use crate::desired::HostState;
use crate::secret::Secret;
use serde::{Deserialize, Serialize};
use sha1::Sha1;
use sha2::{Digest, Sha256};

/// Version 2: the plan is a list of resources by owner, with named phases.
pub const FORMAT_VERSION: u32 = 2;

/// The order changes are applied in: the database first, the load balancer (and DNS) last, so
/// the site never points at servers that are not ready.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Database,
    /// The database's replicas, once the primary is ready to be copied.
    Replicas,
    Servers,
    LoadBalancer,
    /// The zone's records, once the load balancer they point at serves.
    Dns,
}

impl Phase {
    /// Every phase, in the order it runs.
    pub const ALL: [Phase; 5] = [
        Phase::Database,
        Phase::Replicas,
        Phase::Servers,
        Phase::LoadBalancer,
        Phase::Dns,
    ];

    pub fn describe(self) -> &'static str {
        match self {
            Phase::Database => "database",
            Phase::Replicas => "database replicas",
            Phase::Servers => "app/web servers",
            Phase::LoadBalancer => "load balancer",
            Phase::Dns => "DNS records",
        }
    }

    /// The phase a host is applied in: the load balancer last, the database first.
    pub fn of(h: &HostState) -> Phase {
        use crate::topology::Role;
        if h.roles.iter().any(|r| matches!(r, Role::Lb | Role::Dns)) {
            Phase::LoadBalancer
        } else if h.roles.iter().any(|r| matches!(r, Role::Web | Role::App)) {
            Phase::Servers
        } else if h
            .database
            .as_ref()
            .and_then(|d| d.replication.as_ref())
            .is_some_and(|r| r.replica)
        {
            Phase::Replicas
        } else {
            Phase::Database
        }
    }
}

/// Who holds a set of resources, and so where their changes are made.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "owner", rename_all = "snake_case")]
pub enum Owner {
    /// A host, changed over SSH.
    Host { host: String, address: String },
    /// A DNS zone, changed with RFC 2136 updates to its primary server.
    Zone { zone: String, server: String },
}

/// `host web-01`: the owner as messages name it.
impl std::fmt::Display for Owner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Owner::Host { host, .. } => write!(f, "host {host}"),
            Owner::Zone { zone, server } => write!(f, "zone {zone} on {server}"),
        }
    }
}

impl Owner {
    /// The owner's name, for messages and `--limit`.
    pub fn name(&self) -> &str {
        match self {
            Owner::Host { host, .. } => host,
            Owner::Zone { zone, .. } => zone,
        }
    }

    /// The host to connect to.
    pub fn host(&self) -> Option<&str> {
        match self {
            Owner::Host { host, .. } => Some(host),
            Owner::Zone { .. } => None,
        }
    }
}

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

impl ServiceAction {
    /// The action's word, as plans show it and the remote scripts take it.
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceAction::Enable => "enable",
            ServiceAction::Start => "start",
            ServiceAction::Reload => "reload",
            ServiceAction::Restart => "restart",
        }
    }
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
        /// What stands at the path instead of a file (`symbolic link`...): replaced, never
        /// followed or read.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        replaces: Option<String>,
        /// A certificate chain's change, shown instead of a diff.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        certificate: Option<Box<CertificateChange>>,
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
    /// A name's A records in a zone: created, changed, or deleted (`to` none).
    Record {
        name: String,
        from: Option<crate::dns::Rrset>,
        to: Option<crate::dns::Rrset>,
    },
}

/// A certificate as it is on the host (none when missing or unreadable) and as it will be: what
/// a person checks of each, never the key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateChange {
    pub from: Option<crate::certificate::Summary>,
    pub to: Option<crate::certificate::Summary>,
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
    /// A replica that follows no primary (or another one): seeded from a dump of the primary,
    /// then replicating from it.
    SeedReplica,
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
            Change::Record { from, .. } => from.is_none(),
        }
    }

    /// Services follow from the other changes; they are not counted as resources.
    pub fn is_resource(&self) -> bool {
        !matches!(self, Change::Service { .. })
    }
}

/// The changes to the resources one owner holds, and what the plan saw of them.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ResourcePlan {
    #[serde(flatten)]
    pub owner: Owner,
    pub phase: Phase,
    pub changes: Vec<Change>,
    pub seen: Seen,
    /// What the plan could not see and assumed instead, said beside its changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// A database replica's replication, as the probe read it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replication: Option<crate::replication::Status>,
    /// A load balancer holding the VIP when planned: it changes last, after the others and a
    /// check of the site through the VIP.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub holds_vip: bool,
    /// A load balancer of the topology's VIP: it changes alone, never with another one.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub shares_vip: bool,
}

impl ResourcePlan {
    pub fn name(&self) -> &str {
        self.owner.name()
    }
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
    pub resources: Vec<ResourcePlan>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub add: usize,
    pub change: usize,
    pub remove: usize,
}

impl Change {
    /// A deletion: a record the zone no longer has.
    pub fn is_removal(&self) -> bool {
        matches!(self, Change::Record { to: None, .. })
    }
}

impl Plan {
    pub fn summary(&self) -> Summary {
        let mut s = Summary::default();
        for c in self
            .resources
            .iter()
            .flat_map(|r| &r.changes)
            .filter(|c| c.is_resource())
        {
            if c.is_removal() {
                s.remove += 1;
            } else if c.is_addition() {
                s.add += 1;
            } else {
                s.change += 1;
            }
        }
        s
    }

    pub fn is_empty(&self) -> bool {
        self.resources.iter().all(|r| r.changes.is_empty())
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
