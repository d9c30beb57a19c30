//! What a host has now, read in one batched probe (one round trip): OS and service manager,
//! the packages it needs, hash/mode/owner of every managed file, state of every service, system
//! users, the deployed release, and on the database host the database, users and grants.
//! A second round trip fetches the contents of non-sensitive files that differ, for diffs.

use crate::desired::HostState;
use crate::transport::quote::{sh, words};
use crate::transport::{Connection, TransportError};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Where the tool keeps its own records on a host (lock, schema marker, backups).
pub const STATE_DIR: &str = "/var/lib/foobar-infra";

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileFacts {
    pub sha256: String,
    pub mode: u32,
    pub owner: String,
    pub group: String,
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
    pub pending: Vec<(String, String)>,
    /// Contents of differing, non-sensitive files (second round trip).
    #[serde(skip)]
    pub contents: BTreeMap<String, String>,
}

/// The probe script for what `desired` manages.
pub fn probe_script(desired: &HostState) -> String {
    let mut s = String::new();
    s.push_str(". /etc/os-release 2>/dev/null && printf 'os\\t%s %s\\n' \"${ID:-}\" \"${VERSION_ID:-}\" || true\n");
    s.push_str("[ -d /run/systemd/system ] && printf 'systemd\\tyes\\n' || true\n");
    if !desired.packages.is_empty() {
        let pkgs = words(desired.packages.iter().map(String::as_str));
        s.push_str(&format!(
            "dpkg-query -W -f='pkg\\t${{Package}}\\t${{db:Status-Status}}\\n' {pkgs} 2>/dev/null || true\n"
        ));
    }
    for u in &desired.users {
        s.push_str(&format!(
            "getent passwd {} >/dev/null && printf 'user\\t%s\\n' {} || true\n",
            sh(u),
            sh(u)
        ));
    }
    if !desired.files.is_empty() {
        // One stat and one sha256sum for all files; missing files simply print nothing.
        let paths = words(desired.files.iter().map(|f| f.path.as_str()));
        s.push_str(&format!(
            "stat -c 'stat\t%n\t%a\t%U\t%G' -- {paths} 2>/dev/null || true\n"
        ));
        s.push_str(&format!(
            "sha256sum -- {paths} 2>/dev/null | sed 's/^/sha\t/' || true\n"
        ));
    }
    if !desired.services.is_empty() {
        // One systemctl for all units: one block per unit, in argument order, blank-line separated.
        let units = words(desired.services.iter().map(|s| s.name.as_str()));
        s.push_str(&format!(
            "systemctl show -p UnitFileState,ActiveState,ActiveEnterTimestampMonotonic,MainPID -- {units} 2>/dev/null | sed 's/^/svc\t/' || true\n"
        ));
    }
    s.push_str(&format!(
        "[ -f {pending} ] && sed 's/^/pending\\t/' {pending} || true\n",
        pending = crate::apply::scripts::PENDING
    ));
    if let Some(r) = &desired.release {
        s.push_str(&format!(
            "l=$(readlink {}/current 2>/dev/null || true); printf 'release\\t%s\\n' \"${{l##*/}}\"\n",
            sh(&r.root)
        ));
    }
    if let Some(db) = &desired.database {
        let name = &db.name;
        let user = &db.user;
        s.push_str(&format!(
            "if command -v mysql >/dev/null 2>&1 && mysql -N -B -r -e 'SELECT 1' >/dev/null 2>&1; then\n\
             printf 'dbrunning\\n'\n\
             mysql -N -B -r -e \"SELECT CONCAT('dbexists\\t', SCHEMA_NAME) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME='{name}'; SELECT CONCAT_WS('\\t', 'dbuser', Host, HEX(authentication_string)) FROM mysql.user WHERE User='{user}'\"\n\
             for h in $(mysql -N -B -r -e \"SELECT Host FROM mysql.user WHERE User='{user}'\"); do mysql -N -B -r -e \"SHOW GRANTS FOR '{user}'@'$h'\" | sed \"s/^/grant\\t$h\\t/\"; done\n\
             fi\n"
        ));
        s.push_str(&format!(
            "[ -f {dir}/schema-{name}.sha256 ] && printf 'schema\\t%s\\n' \"$(cat {dir}/schema-{name}.sha256)\" || true\n",
            dir = STATE_DIR
        ));
    }
    s
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
    // Index of the unit whose `systemctl show` block is being read.
    let mut unit = 0usize;
    for line in out.lines() {
        let parts: Vec<&str> = line.split('\t').collect();
        match parts.as_slice() {
            ["os", v] => o.os = v.to_string(),
            ["systemd", "yes"] => o.systemd = true,
            ["pkg", name, status] => {
                o.packages.insert(name.to_string(), *status == "installed");
            }
            ["user", name] => {
                o.users.insert(name.to_string(), true);
            }
            ["stat", path, mode, owner, group] => {
                let e = o
                    .files
                    .entry(path.to_string())
                    .or_insert(None)
                    .get_or_insert_with(FileFacts::default);
                e.mode = u32::from_str_radix(mode, 8).unwrap_or(0);
                e.owner = owner.to_string();
                e.group = group.to_string();
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
            ["dbuser", host, auth] => {
                if let Some(d) = db.as_mut() {
                    // Printed as hex: some plugins store binary hashes.
                    let auth = hex::decode(auth)
                        .map(|b| String::from_utf8_lossy(&b).into_owned())
                        .unwrap_or_default();
                    d.users.push(DbUser {
                        host: host.to_string(),
                        auth,
                        privileges: Vec::new(),
                    });
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
                    o.pending.push((svc.to_string(), action.to_string()));
                }
            }
            ["schema", hash] => {
                if let Some(d) = db.as_mut() {
                    d.schema_sha256 = Some(hash.to_string());
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
    o
}

/// Runs the probe on one host.
pub async fn observe(conn: &Connection, desired: &HostState) -> Result<Observed, TransportError> {
    let out = conn.exec(&probe_script(desired), b"").await?;
    if !out.ok() {
        return Err(TransportError::Script {
            host: conn.target.host.clone(),
            what: "the state probe".into(),
            detail: out.stderr.trim().to_string(),
        });
    }
    Ok(parse(desired, &out.stdout))
}

/// Largest file whose contents are fetched for a diff.
const DIFF_LIMIT: u64 = 256 * 1024;

/// Fetches the current contents of `paths` (base64 on the wire, so any byte survives).
pub async fn fetch_contents(
    conn: &Connection,
    paths: &[String],
) -> Result<BTreeMap<String, String>, TransportError> {
    if paths.is_empty() {
        return Ok(BTreeMap::new());
    }
    let script = format!(
        "for f in {}; do if [ -f \"$f\" ] && [ $(stat -c %s \"$f\") -le {DIFF_LIMIT} ]; then printf '%s\\t' \"$f\"; base64 -w0 < \"$f\"; echo; fi; done\n",
        words(paths.iter().map(String::as_str))
    );
    let out = conn.exec(&script, b"").await?;
    if !out.ok() {
        return Err(TransportError::Script {
            host: conn.target.host.clone(),
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
