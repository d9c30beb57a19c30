//! `promote HOST`'s steps on the database hosts, through `Remote`: fence the old primary (when it
//! answers), then make the replica the primary. What the app servers need (their app env naming
//! the new primary, a rolling restart with health checks) is an ordinary apply of a topology
//! whose `database.primary` is HOST: `commands::promote` runs it.

use crate::remote::{Remote, Script};
use serde::Serialize;

/// The longest the replica is given to apply what it received before it is promoted.
pub const RELAY_WAIT_SECONDS: u64 = 60;

/// What became of the old primary.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case", tag = "fence")]
pub enum Fence {
    /// It answered: read_only set (when its server answered), its service stopped.
    Fenced { done: Vec<String> },
    /// It could not be reached (down): nothing could be done there.
    Unreachable { why: String },
    /// It answered over SSH but fencing failed.
    Failed { why: String },
}

impl Fence {
    pub fn describe(&self, host: &str) -> String {
        match self {
            Fence::Fenced { done } => format!("fenced {host}: {}", done.join(", ")),
            Fence::Unreachable { why } => {
                format!(
                    "{host} is unreachable, not fenced ({why}): it must not come back as a primary"
                )
            }
            Fence::Failed { why } => format!("fencing {host} failed: {why}"),
        }
    }
}

/// The mark left on both hosts: who promoted whom, when.
pub fn mark(host: &str, old: &str, at: u64) -> String {
    format!("{host} promoted in place of {old} at {at} (unix time)")
}

pub fn fence_script(service: &str, mark: &str) -> Script {
    Script::new("fence", include_str!("sh/fence.sh"))
        .arg(service)
        .arg(mark)
}

pub fn promote_script(wait_seconds: u64, mark: &str) -> Script {
    Script::new("promote", include_str!("sh/promote.sh"))
        .arg(wait_seconds.to_string())
        .arg(mark)
}

/// Fences the old primary, whose MariaDB runs as `service`.
pub async fn fence(
    remote: Option<&dyn Remote>,
    service: &str,
    mark: &str,
    unreachable: &str,
) -> Fence {
    let Some(remote) = remote else {
        return Fence::Unreachable {
            why: unreachable.to_string(),
        };
    };
    match remote.run(&fence_script(service, mark), b"").await {
        Ok(out) if out.ok() => Fence::Fenced {
            done: out
                .stdout
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect(),
        },
        Ok(out) => Fence::Failed { why: out.text() },
        Err(e) => Fence::Unreachable { why: e.to_string() },
    }
}

/// Makes the replica behind `remote` the primary; its GTID position once it is.
pub async fn promote(remote: &dyn Remote, mark: &str) -> Result<String, String> {
    let out = remote
        .run(&promote_script(RELAY_WAIT_SECONDS, mark), b"")
        .await
        .map_err(|e| e.to_string())?;
    if !out.ok() {
        return Err(out.text());
    }
    Ok(out
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("gtid\t"))
        .unwrap_or_default()
        .to_string())
}
