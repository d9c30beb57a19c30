//! What a host has now, read in one batched probe (one round trip): OS and service manager,
//! the packages it needs, hash/mode/owner of every managed file, state of every service, system
//! users, the deployed release, and on the database host the database, users and grants.
//! A second round trip fetches the contents of non-sensitive files that differ, for diffs.

mod replication;

pub use replication::{ReplicationFacts, SlaveStatus};

use crate::desired::{Action, HostState};
use crate::remote::{Remote, RemoteError, Script};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileFacts {
    pub sha256: String,
    pub mode: u32,
    pub owner: String,
    pub group: String,
    /// What is at the path when it is not a regular file (`symbolic link`, `directory`...):
    /// never read or followed, only replaced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_regular: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceFacts {
    /// `enabled`, `disabled`, `static`, or empty when the unit does not exist.
    pub enabled: String,
    /// `active`, `inactive`, `failed`, ...
    pub active: String,
    /// When it last entered the active state (monotonic µs): changes on every (re)start.
    pub since: String,
    /// The main process: changes on a restart, not on a reload.
    pub main_pid: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DbUser {
    pub host: String,
    /// The stored password hash: compared locally, never shown or saved.
    #[serde(skip)]
    pub auth: String,
    /// Privileges on the application database.
    pub privileges: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DbFacts {
    /// Whether the server answered (false: not installed or not running yet).
    pub running: bool,
    pub database_exists: bool,
    pub users: Vec<DbUser>,
    /// Hash of the schema file last loaded by the tool.
    pub schema_sha256: Option<String>,
    /// With replication: the host's state in it, and the replication account's hosts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replication: Option<ReplicationFacts>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replication_users: Vec<DbUser>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observed {
    pub os: String,
    pub systemd: bool,
    /// Package -> installed.
    pub packages: BTreeMap<String, bool>,
    /// Path -> facts, `None` when the file does not exist.
    pub files: BTreeMap<String, Option<FileFacts>>,
    pub services: BTreeMap<String, ServiceFacts>,
    pub users: BTreeMap<String, bool>,
    /// The release `current` points at.
    pub release: Option<String>,
    pub database: Option<DbFacts>,
    /// Service actions an earlier run owed and did not do (interrupted or failed).
    pub pending: Vec<(String, Action)>,
    /// Contents of differing, non-sensitive files (second round trip).
    #[serde(skip)]
    pub contents: BTreeMap<String, String>,
    /// The SSH connection the probe came by, as the host's sshd saw it.
    #[serde(skip)]
    pub ssh_connection: Option<crate::firewall::SshConnection>,
    /// On a host that should have a firewall: whether it is loaded, and what listens.
    #[serde(skip)]
    pub firewall: Option<FirewallFacts>,
    /// On a host that should not have one: the firewall's table is loaded all the same (the
    /// topology turned it off; this tool does not remove it).
    #[serde(skip)]
    pub stray_firewall: bool,
    /// On a load balancer of a VIP: whether it holds the VIP now, and keepalived's VRRP state
    /// (`MASTER`, `BACKUP`, `FAULT`; `STOPPED` when keepalived does not run, `UNKNOWN` when it
    /// runs and has not said).
    #[serde(skip)]
    pub vip: Option<VipFacts>,
}

/// The floating address as one load balancer sees it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VipFacts {
    pub held: bool,
    pub state: Option<String>,
}

/// The firewall's table as the kernel has it, and the sockets listening beside it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FirewallFacts {
    /// `nft list table` found the table.
    pub loaded: bool,
    /// Why it did not (what `nft` said).
    pub why_not: String,
    /// The lines of `ss -H -tulnp`.
    pub listening: Vec<String>,
    /// Why `ss` could not be asked (not installed).
    pub no_listening: Option<String>,
}

/// The probe for what `desired` manages.
pub fn probe_script(desired: &HostState) -> Script {
    let db = desired.database.as_ref();
    Script::new("probe", include_str!("probe.sh"))
        .list(&desired.packages)
        .list(&desired.users)
        .list(desired.files.iter().map(|f| f.path.as_str()))
        .list(desired.services.iter().map(|s| s.name.as_str()))
        .arg(desired.release.as_ref().map_or("", |r| r.root.as_str()))
        .arg(db.map_or("", |d| d.name.as_str()))
        .arg(db.map_or("", |d| d.user.as_str()))
        .arg(crate::firewall::TABLE)
        .arg(if desired.firewall.is_some() { "1" } else { "" })
        .arg(
            db.and_then(|d| d.replication.as_ref())
                .map_or("", |r| r.user.as_str()),
        )
        .arg(desired.vip.as_deref().unwrap_or(""))
        .arg(crate::desired::VRRP_STATE)
}

/// Privileges granted on `db`.* in a `SHOW GRANTS` line, upper-case and sorted.
fn grant_privileges(line: &str, db: &str) -> Option<Vec<String>> {
    let rest = line.strip_prefix("GRANT ")?;
    let on = format!(" ON `{db}`.*");
    let (privs, _) = rest.split_once(&on)?;
    let mut v: Vec<String> = privs
        .split(',')
        .map(|p| p.trim().to_uppercase())
        .filter(|p| !p.is_empty())
        .collect();
    v.sort();
    Some(v)
}

/// Parses the probe's output.
pub fn parse(desired: &HostState, out: &str) -> Observed {
    let mut o = Observed::default();
    for p in &desired.packages {
        o.packages.insert(p.clone(), false);
    }
    for u in &desired.users {
        o.users.insert(u.clone(), false);
    }
    for f in &desired.files {
        o.files.insert(f.path.clone(), None);
    }
    let mut db = desired.database.as_ref().map(|_| DbFacts::default());
    let mut firewall = desired.firewall.as_ref().map(|_| FirewallFacts::default());
    // Index of the unit whose `systemctl show` block is being read.
    let mut unit = 0usize;
    for line in out.lines() {
        let parts: Vec<&str> = line.split('\t').collect();
        match parts.as_slice() {
            ["os", v] => o.os = v.to_string(),
            ["ssh", v] => o.ssh_connection = crate::firewall::SshConnection::parse(v),
            ["systemd", "yes"] => o.systemd = true,
            ["pkg", name, status] => {
                o.packages.insert(name.to_string(), *status == "installed");
            }
            ["user", name] => {
                o.users.insert(name.to_string(), true);
            }
            ["stat", path, mode, owner, group, kind] => {
                let e = o
                    .files
                    .entry(path.to_string())
                    .or_insert(None)
                    .get_or_insert_with(FileFacts::default);
                e.mode = u32::from_str_radix(mode, 8).unwrap_or(0);
                e.owner = owner.to_string();
                e.group = group.to_string();
                e.not_regular = (!kind.starts_with("regular")).then(|| kind.to_string());
            }
            ["sha", line] => {
                if let Some((hash, path)) = line.split_once("  ") {
                    let e = o
                        .files
                        .entry(path.to_string())
                        .or_insert(None)
                        .get_or_insert_with(FileFacts::default);
                    e.sha256 = hash.to_string();
                }
            }
            ["svc", ""] => unit += 1,
            ["svc", prop] => {
                if let (Some(s), Some((key, value))) =
                    (desired.services.get(unit), prop.split_once('='))
                {
                    let facts = o.services.entry(s.name.clone()).or_default();
                    let value = value.to_string();
                    match key {
                        "UnitFileState" => facts.enabled = value,
                        "ActiveState" => facts.active = value,
                        "ActiveEnterTimestampMonotonic" => facts.since = value,
                        "MainPID" => facts.main_pid = value,
                        _ => {}
                    }
                }
            }
            ["release", hash] if !hash.is_empty() => o.release = Some(hash.to_string()),
            ["dbrunning"] => {
                if let Some(d) = db.as_mut() {
                    d.running = true;
                }
            }
            ["dbexists", _] => {
                if let Some(d) = db.as_mut() {
                    d.database_exists = true;
                }
            }
            [kind @ ("dbuser" | "repluser"), host, auth] => {
                if let Some(d) = db.as_mut() {
                    // Printed as hex: some plugins store binary hashes.
                    let auth = hex::decode(auth)
                        .map(|b| String::from_utf8_lossy(&b).into_owned())
                        .unwrap_or_default();
                    let user = DbUser {
                        host: host.to_string(),
                        auth,
                        privileges: Vec::new(),
                    };
                    if *kind == "dbuser" {
                        d.users.push(user);
                    } else {
                        d.replication_users.push(user);
                    }
                }
            }
            ["repl", rest @ ..] => {
                if let Some(d) = db.as_mut() {
                    replication::parse_line(
                        d.replication.get_or_insert_with(Default::default),
                        rest,
                    );
                }
            }
            ["grant", host, grant] => {
                if let (Some(d), Some(want)) = (db.as_mut(), desired.database.as_ref())
                    && let Some(privs) = grant_privileges(grant, &want.name)
                    && let Some(u) = d.users.iter_mut().find(|u| u.host == *host)
                {
                    u.privileges = privs;
                }
            }
            ["pending", line] => {
                if let Some((svc, action)) = line.split_once(' ') {
                    // Written by this tool; anything but a reload is owed as the stronger restart.
                    let action = if action == "reload" {
                        Action::Reload
                    } else {
                        Action::Restart
                    };
                    o.pending.push((svc.to_string(), action));
                }
            }
            ["schema", hash] => {
                if let Some(d) = db.as_mut() {
                    d.schema_sha256 = Some(hash.to_string());
                }
            }
            ["fwtable", "loaded"] => match firewall.as_mut() {
                Some(f) => f.loaded = true,
                None => o.stray_firewall = true,
            },
            ["fwtable", "missing", why] => {
                if let Some(f) = firewall.as_mut() {
                    f.why_not = why.to_string();
                }
            }
            ["listen", socket] => {
                if let Some(f) = firewall.as_mut() {
                    f.listening.push(socket.to_string());
                }
            }
            ["vip", held] => o.vip.get_or_insert_with(VipFacts::default).held = *held == "held",
            ["vrrp", state] => {
                o.vip.get_or_insert_with(VipFacts::default).state = Some(state.to_string())
            }
            ["nolisten", why] => {
                if let Some(f) = firewall.as_mut() {
                    f.no_listening = Some(why.to_string());
                }
            }
            _ => {}
        }
    }
    // A service that does not exist yet reads as "" / "inactive".
    for s in &desired.services {
        o.services.entry(s.name.clone()).or_default();
    }
    o.database = db;
    o.firewall = firewall;
    o
}

/// Runs the probe on one host.
pub async fn observe(remote: &dyn Remote, desired: &HostState) -> Result<Observed, RemoteError> {
    let out = remote.run(&probe_script(desired), b"").await?;
    if !out.ok() {
        return Err(RemoteError::Script {
            host: remote.host().to_string(),
            what: "the state probe".into(),
            detail: out.stderr.trim().to_string(),
        });
    }
    Ok(parse(desired, &out.stdout))
}

/// Largest file whose contents are fetched for a diff.
const DIFF_LIMIT: u64 = 256 * 1024;

/// The script printing the contents of `paths` (those no larger than the diff limit).
pub fn fetch_script(paths: &[String]) -> Script {
    Script::new("fetch", include_str!("fetch.sh"))
        .arg(DIFF_LIMIT.to_string())
        .args(paths.iter().cloned())
}

/// Fetches the current contents of `paths`.
pub async fn fetch_contents(
    remote: &dyn Remote,
    paths: &[String],
) -> Result<BTreeMap<String, String>, RemoteError> {
    if paths.is_empty() {
        return Ok(BTreeMap::new());
    }
    let out = remote.run(&fetch_script(paths), b"").await?;
    if !out.ok() {
        return Err(RemoteError::Script {
            host: remote.host().to_string(),
            what: "reading files for the diff".into(),
            detail: out.stderr.trim().to_string(),
        });
    }
    let mut contents = BTreeMap::new();
    for line in out.stdout.lines() {
        if let Some((path, b64)) = line.split_once('\t')
            && let Some(bytes) = base64_decode(b64)
        {
            contents.insert(
                path.to_string(),
                String::from_utf8_lossy(&bytes).into_owned(),
            );
        }
    }
    Ok(contents)
}

/// Standard base64, as `base64` prints it.
pub fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let bytes: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let pad = chunk.iter().filter(|&&c| c == b'=').count();
        let mut n: u32 = 0;
        for (i, &c) in chunk.iter().enumerate() {
            let v = if c == b'=' { 0 } else { val(c)? };
            n |= v << (18 - 6 * i);
        }
        let b = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(
            &b[..3usize
                .saturating_sub(pad)
                .min(chunk.len().saturating_sub(1))],
        );
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trip() {
        assert_eq!(base64_decode("aGVsbG8=").unwrap(), b"hello");
        assert_eq!(base64_decode("aGk=").unwrap(), b"hi");
        assert_eq!(base64_decode("YWJj").unwrap(), b"abc");
        assert_eq!(base64_decode("").unwrap(), b"");
        assert!(base64_decode("a$==").is_none());
    }

    fn host(firewall: bool) -> HostState {
        HostState {
            name: "db-01".into(),
            address: "10.0.0.3".into(),
            roles: Vec::new(),
            packages: Vec::new(),
            users: Vec::new(),
            files: Vec::new(),
            services: Vec::new(),
            release: None,
            database: None,
            health: Vec::new(),
            memberships: Vec::new(),
            firewall: firewall.then(|| crate::firewall::HostFirewall {
                rules: Vec::new(),
                vrrp_from: Vec::new(),
            }),
            vip: None,
        }
    }

    #[test]
    fn the_firewall_facts_are_read_only_where_a_firewall_is_wanted() {
        let out = "fwtable\tloaded\nlisten\ttcp   LISTEN 0  128  0.0.0.0:22  0.0.0.0:*\n";
        let f = parse(&host(true), out).firewall.unwrap();
        assert!(f.loaded);
        assert_eq!(f.listening, ["tcp   LISTEN 0  128  0.0.0.0:22  0.0.0.0:*"]);
        assert_eq!(parse(&host(false), out).firewall, None);
        // Loaded where the topology no longer wants it: said, for a warning.
        assert!(parse(&host(false), out).stray_firewall);
        assert!(!parse(&host(true), out).stray_firewall);
        assert!(!parse(&host(false), "").stray_firewall);
        let f = parse(
            &host(true),
            "fwtable\tmissing\tError: No such file or directory\nnolisten\tss is not installed\n",
        )
        .firewall
        .unwrap();
        assert!(!f.loaded && f.why_not.starts_with("Error: No such file"));
        assert_eq!(f.no_listening.as_deref(), Some("ss is not installed"));
        // A probe that said nothing of it: not loaded.
        assert!(!parse(&host(true), "").firewall.unwrap().loaded);
        let params = |h| probe_script(&h).parameters().to_vec();
        assert_eq!(params(host(true))[7..9], [crate::firewall::TABLE, "1"]);
        assert_eq!(params(host(false))[7..9], [crate::firewall::TABLE, ""]);
        // No replication: no replication user to read; no VIP (its state file is named all the
        // same).
        assert_eq!(
            params(host(false))[9..],
            ["", "", crate::desired::VRRP_STATE]
        );
    }

    #[test]
    fn the_vip_facts_are_read_from_a_load_balancer_of_a_vip() {
        let mut lb = host(false);
        lb.vip = Some("10.89.7.100".into());
        assert_eq!(probe_script(&lb).parameters()[10], "10.89.7.100");
        let o = parse(&lb, "vip\theld\nvrrp\tMASTER\n");
        assert_eq!(
            o.vip,
            Some(VipFacts {
                held: true,
                state: Some("MASTER".into())
            })
        );
        let o = parse(&lb, "vip\tnot-held\n");
        assert_eq!(o.vip.map(|v| (v.held, v.state)), Some((false, None)));
        let o = parse(&lb, "vip\tnot-held\nvrrp\tSTOPPED\n");
        assert_eq!(o.vip.and_then(|v| v.state).as_deref(), Some("STOPPED"));
        assert_eq!(parse(&host(false), "").vip, None);
    }

    #[test]
    fn grants_parse() {
        let l = "GRANT SELECT, INSERT, UPDATE, DELETE ON `foobar`.* TO `foobar`@`10.89.7.21`";
        assert_eq!(
            grant_privileges(l, "foobar").unwrap(),
            ["DELETE", "INSERT", "SELECT", "UPDATE"]
        );
        assert!(grant_privileges("GRANT USAGE ON *.* TO `foobar`@`x`", "foobar").is_none());
    }
}
