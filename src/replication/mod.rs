//! MariaDB GTID replication between the `db` hosts: each host's part in it (from render), the
//! state a replica is in (from the probe), what contradicts the topology, and the seed of a new
//! replica from a dump of the primary. All pure; `apply` and `promote` run the scripts.

pub mod promote;

use crate::observe::{DbFacts, ReplicationFacts};
use crate::remote::Script;
use crate::secret::Secret;
use serde::{Deserialize, Serialize};

/// Where the state marks `promote` leaves live, in the tool's state folder on a host.
pub const PROMOTED_MARK: &str = "promoted";
pub const FENCED_MARK: &str = "fenced";

pub use crate::desired::ReplicationPart as Part;

impl Part {
    /// `CHANGE MASTER TO` this host's primary, over GTID, with the password: stdin only.
    pub fn change_master(&self) -> Secret {
        Secret::new(format!(
            "CHANGE MASTER TO MASTER_HOST={}, MASTER_PORT={}, MASTER_USER={}, MASTER_PASSWORD={}, MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1;\n",
            sql_string(&self.primary_address),
            self.port,
            sql_string(&self.user),
            sql_string(self.password.expose()),
        ))
    }
}

pub use crate::sql::string as sql_string;

/// A replica's state as `plan` and `verify` report it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    /// The primary the topology names.
    pub primary: String,
    /// The address the replica replicates from (`None`: not configured as a replica).
    pub source: Option<String>,
    pub io_running: bool,
    pub sql_running: bool,
    /// Seconds_Behind_Master (`None`: a thread is stopped).
    pub lag_seconds: Option<u64>,
    /// The replica's gtid_slave_pos.
    pub gtid_slave_pos: String,
    /// The primary's gtid_binlog_pos, when it was read in the same run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_gtid_binlog_pos: Option<String>,
    /// What the threads last said.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub error: String,
    /// `@@read_only`: a replica that is not takes writes of its own (they diverge it).
    #[serde(default)]
    pub read_only: bool,
}

impl Status {
    /// A replica's status from its facts (none when the host is not a replica or did not answer).
    pub fn of(part: &Part, facts: &DbFacts) -> Option<Status> {
        if !part.replica || !facts.running {
            return None;
        }
        let r = facts.replication.clone().unwrap_or_default();
        let s = r.source.as_ref();
        Some(Status {
            primary: format!("{} ({})", part.primary, part.primary_address),
            source: s.map(|s| s.master_host.clone()),
            io_running: s.is_some_and(|s| s.io_running == "Yes"),
            sql_running: s.is_some_and(|s| s.sql_running == "Yes"),
            lag_seconds: s.and_then(|s| s.seconds_behind),
            gtid_slave_pos: r.gtid_slave_pos.clone(),
            primary_gtid_binlog_pos: None,
            read_only: r.read_only,
            error: s
                .map(|s| [s.last_io_error.as_str(), s.last_sql_error.as_str()])
                .into_iter()
                .flatten()
                .filter(|e| !e.is_empty())
                .collect::<Vec<_>>()
                .join("; "),
        })
    }

    /// Replicating from the topology's primary.
    pub fn from_primary(&self, part: &Part) -> bool {
        self.source.as_deref() == Some(part.primary_address.as_str())
    }

    /// What is wrong with it, if anything: a verify failure.
    pub fn problem(&self, part: &Part) -> Option<String> {
        match &self.source {
            None => Some("not replicating (no primary configured)".into()),
            Some(_) if !self.from_primary(part) => Some(format!(
                "replicating from {}, not from the primary {}",
                self.source.as_deref().unwrap_or_default(),
                self.primary
            )),
            Some(_) if !(self.io_running && self.sql_running) => Some(format!(
                "replication stopped: IO thread {}, SQL thread {}{}",
                yes(self.io_running),
                yes(self.sql_running),
                if self.error.is_empty() {
                    String::new()
                } else {
                    format!(": {}", self.error)
                }
            )),
            _ if !self.read_only => Some(
                "read_only is OFF: clients can write to the replica, and what they write is not on the primary (`SET GLOBAL read_only = 1` there; its server.cnf says ON)".into(),
            ),
            _ => None,
        }
    }

    /// One line: `from 10.89.7.30, IO yes, SQL yes, lag 0 s, gtid 0-1-42 (primary 0-1-42)`.
    pub fn summary(&self) -> String {
        format!(
            "from {}, IO {}, SQL {}, lag {}, gtid {}{}",
            self.source.as_deref().unwrap_or("nowhere"),
            yes(self.io_running),
            yes(self.sql_running),
            self.lag_seconds
                .map_or_else(|| "unknown".to_string(), |l| format!("{l} s")),
            if self.gtid_slave_pos.is_empty() {
                "none"
            } else {
                &self.gtid_slave_pos
            },
            self.primary_gtid_binlog_pos
                .as_ref()
                .map_or_else(String::new, |p| format!(" (primary {p})")),
        )
    }
}

fn yes(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

/// Whether two versions of the database's configuration differ in `read_only` alone (comments
/// aside): what `SET GLOBAL read_only` applies without a restart.
pub fn read_only_alone(old: &str, new: &str) -> bool {
    let rest = |text: &str| -> Vec<String> {
        text.lines()
            .map(str::trim)
            .filter(|l| !l.starts_with('#') && !l.starts_with("read_only"))
            .map(str::to_string)
            .collect()
    };
    old != new && rest(old) == rest(new)
}

/// Whether apply must seed this replica: it answers and follows no primary, or another one.
/// A replica that follows the primary is left alone, even with a stopped thread (verify says so).
pub fn needs_seed(part: &Part, facts: &DbFacts) -> bool {
    Status::of(part, facts).is_some_and(|s| s.source.is_none() || !s.from_primary(part))
}

/// Where the live hosts contradict the topology's primary: a replica that `promote` made the
/// primary, a primary that replicates or was fenced. Each with the edit that resolves it.
pub fn contradictions(hosts: &[(&str, &Part, &ReplicationFacts)]) -> Vec<String> {
    let mut out = Vec::new();
    for (host, part, facts) in hosts {
        if part.replica
            && let Some(mark) = &facts.promoted
        {
            out.push(format!(
                "{host} is the live primary ({mark}), but the topology names {} as database.primary: edit the topology to say `database.primary: {host}` (this tool never demotes a promoted host by itself)",
                part.primary
            ));
        }
        if !part.replica {
            if let Some(mark) = &facts.fenced {
                out.push(format!(
                    "{host} was fenced by a promote ({mark}) and is no longer the primary, but the topology names it as database.primary: set `database.primary` to the promoted host"
                ));
            } else if let Some(s) = &facts.source {
                out.push(format!(
                    "{host} is database.primary in the topology, but it replicates from {}: set `database.primary` to the live primary",
                    s.master_host
                ));
            }
        }
    }
    out
}

/// The GTID position a dump made with `--gtid --master-data=2` starts from.
pub fn dump_gtid(dump: &str) -> Option<String> {
    let at = dump.find("gtid_slave_pos='")? + "gtid_slave_pos='".len();
    let rest = &dump[at..];
    let pos = &rest[..rest.find('\'')?];
    pos.bytes()
        .all(|b| b.is_ascii_digit() || b == b'-' || b == b',')
        .then(|| pos.to_string())
}

/// What the replica's seed reads on stdin: the dump loaded without writing the replica's binary
/// log, its GTID position, and the primary to follow.
pub fn seed_input(dump: &str, gtid: &str, part: &Part) -> Secret {
    Secret::new(format!(
        "SET SESSION sql_log_bin = 0;\n{dump}\nSET GLOBAL gtid_slave_pos = {};\n{}START SLAVE;\n",
        sql_string(gtid),
        part.change_master().expose()
    ))
}

/// The dump of `database` on the primary (consistent, with its GTID position).
pub fn dump_script(database: &str) -> Script {
    Script::new("replica-dump", include_str!("sh/dump.sh")).arg(database)
}

/// The seed on `host`, a replica of the primary at `primary_address`: `database` loaded from
/// stdin, then replication started and waited for; on any failure the replica is left not
/// replicating. A host that already follows that primary is left alone; one whose database holds
/// rows and where no seed began is refused (it may be the live primary, named wrongly).
pub fn seed_script(database: &str, primary_address: &str, host: &str) -> Script {
    Script::new("replica-seed", include_str!("sh/seed.sh"))
        .arg(database)
        .arg(primary_address)
        .arg(host)
}

#[cfg(test)]
mod tests;
