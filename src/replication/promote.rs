//! `promote HOST`'s steps on the database hosts, through `Remote`: fence the old primary (when it
//! answers), then make the replica the primary. What the app servers need (their app env naming
//! the new primary, a rolling restart with health checks) is an ordinary apply of a topology
//! whose `database.primary` is HOST: `commands::promote` runs it.

use crate::remote::{Remote, Script};
use serde::Serialize;

/// The longest the replica is given to apply what it received before it is promoted.
pub const RELAY_WAIT_SECONDS: u64 = 60;

/// The longest the replica is given to reach the old primary's last position once that one is
/// read-only; past it the fence is undone and nothing is promoted.
pub const CATCH_UP_SECONDS: u64 = 30;

/// What became of the old primary.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case", tag = "fence")]
pub enum Fence {
    /// It answered: read_only set (when its server answered) and the replica caught up with it,
    /// its service stopped. `read_only_was` is what read_only was before (to undo the fence).
    Fenced {
        done: Vec<String>,
        #[serde(skip)]
        read_only_was: Option<bool>,
    },
    /// It could not be reached (down): nothing could be done there.
    Unreachable { why: String },
    /// It answered over SSH but fencing failed (undone as far as it went).
    Failed { why: String },
}

impl Fence {
    pub fn describe(&self, host: &str) -> String {
        match self {
            Fence::Fenced { done, .. } => format!("fenced {host}: {}", done.join(", ")),
            Fence::Unreachable { why } => {
                format!(
                    "{host} is unreachable, not fenced ({why}): it must not come back as a primary"
                )
            }
            Fence::Failed { why } => format!("fencing {host} failed: {why}"),
        }
    }
}

/// Why the replica must not be promoted, checked before anything changes: it must replicate from
/// the old primary (at `old_address`) with its SQL thread running and no error (its IO thread may
/// be down with the old primary); and an old primary that could not be reached while the replica
/// still receives from it is alive: promoting without fencing it would make two primaries.
pub fn refusal(
    host: &str,
    old: &str,
    old_address: &str,
    status: Option<&super::Status>,
    sql_error: &str,
    old_unreachable: Option<&str>,
) -> Option<String> {
    let Some(s) = status else {
        return Some(format!(
            "{host}'s replication state is unknown: it is not promoted"
        ));
    };
    if s.source.as_deref() != Some(old_address) {
        return Some(format!(
            "{host} replicates from {}, not from the primary {old} ({old_address}): it is not promoted",
            s.source.as_deref().unwrap_or("nowhere")
        ));
    }
    if !s.sql_running || !sql_error.is_empty() {
        return Some(format!(
            "{host}'s SQL thread is {}{}: what it received is not all applied, so it is not promoted (fix replication there, `START SLAVE`, then promote again)",
            if s.sql_running { "running" } else { "stopped" },
            if sql_error.is_empty() {
                String::new()
            } else {
                format!(" with an error: {sql_error}")
            }
        ));
    }
    if let Some(why) = old_unreachable
        && s.io_running
    {
        return Some(format!(
            "{old} could not be reached ({why}), but {host}'s IO thread still receives from it: {old} is alive, and promoting without fencing it would leave two primaries taking writes. Nothing was changed: restore SSH to {old} and promote again"
        ));
    }
    None
}

/// The mark left on both hosts: who promoted whom, when.
pub fn mark(host: &str, old: &str, at: u64) -> String {
    format!("{host} promoted in place of {old} at {at} (unix time)")
}

pub fn read_only_script() -> Script {
    Script::new("fence-read-only", include_str!("sh/read_only.sh"))
}

/// read_only put back to what it was when the replica did not catch up.
pub fn read_only_undo_script(was: bool) -> Script {
    Script::new("fence-undo", "mysql -e \"SET GLOBAL read_only = $1\"\n").arg(if was {
        "1"
    } else {
        "0"
    })
}

pub fn gtid_wait_script(position: &str, seconds: u64) -> Script {
    Script::new("gtid-wait", include_str!("sh/gtid_wait.sh"))
        .arg(position)
        .arg(seconds.to_string())
}

pub fn fence_script(service: &str, mark: &str) -> Script {
    Script::new("fence", include_str!("sh/fence.sh"))
        .arg(service)
        .arg(mark)
}

pub fn unfence_script(service: &str, read_only: bool) -> Script {
    Script::new("unfence", include_str!("sh/unfence.sh"))
        .arg(service)
        .arg(if read_only { "1" } else { "0" })
}

pub fn promote_script(wait_seconds: u64, mark: &str) -> Script {
    Script::new("promote", include_str!("sh/promote.sh"))
        .arg(wait_seconds.to_string())
        .arg(mark)
}

/// A tab-separated `key\tvalue` line of a script's output.
fn field<'a>(stdout: &'a str, key: &str) -> Option<&'a str> {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix('\t'))
}

/// Fences the old primary, whose MariaDB runs as `service`: read_only on, the replica waited for
/// until it has all the old primary wrote, then the service stopped. When the replica does not
/// catch up, read_only is put back and the fence fails: nothing is promoted.
pub async fn fence(
    old: Option<&dyn Remote>,
    replica: &dyn Remote,
    service: &str,
    mark: &str,
    unreachable: &str,
) -> Fence {
    let Some(remote) = old else {
        return Fence::Unreachable {
            why: unreachable.to_string(),
        };
    };
    let mut done = Vec::new();
    let read_only = match remote.run(&read_only_script(), b"").await {
        Err(e) => {
            return Fence::Unreachable { why: e.to_string() };
        }
        Ok(out) if out.code == Some(3) => {
            done.push("its server did not answer (read_only not set)".to_string());
            None
        }
        Ok(out) if !out.ok() => return Fence::Failed { why: out.text() },
        Ok(out) => Some((
            field(&out.stdout, "was") == Some("1"),
            field(&out.stdout, "gtid").unwrap_or_default().to_string(),
        )),
    };
    if let Some((was, position)) = &read_only {
        done.push("read_only set".to_string());
        let valid = position
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'-' || b == b',');
        let caught_up = if !valid {
            Err(format!("its GTID position reads `{position}`"))
        } else if position.is_empty() {
            Ok(())
        } else {
            match replica
                .run(&gtid_wait_script(position, CATCH_UP_SECONDS), b"")
                .await
            {
                Ok(out) if out.ok() => Ok(()),
                Ok(out) => Err(out.text()),
                Err(e) => Err(e.to_string()),
            }
        };
        if let Err(why) = caught_up {
            let undo = match remote.run(&read_only_undo_script(*was), b"").await {
                Ok(out) if out.ok() => "read_only put back".to_string(),
                Ok(out) => format!("read_only NOT put back: {}", out.text()),
                Err(e) => format!("read_only NOT put back: {e}"),
            };
            return Fence::Failed {
                why: format!("{why}; {undo}"),
            };
        }
        if !position.is_empty() {
            done.push(format!("the replica applied all of it (up to {position})"));
        }
    }
    match remote.run(&fence_script(service, mark), b"").await {
        Ok(out) if out.ok() => {
            done.extend(
                out.stdout
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(str::to_string),
            );
            Fence::Fenced {
                done,
                read_only_was: read_only.map(|(was, _)| was),
            }
        }
        Ok(out) => Fence::Failed { why: out.text() },
        Err(e) => Fence::Failed {
            why: format!("{e} (after {})", done.join(", ")),
        },
    }
}

/// Undoes a fence whose promote failed: the old primary's service started, read_only as it was,
/// its mark removed. What it did, or why it could not.
pub async fn unfence(remote: &dyn Remote, service: &str, read_only_was: bool) -> String {
    match remote
        .run(&unfence_script(service, read_only_was), b"")
        .await
    {
        Ok(out) if out.ok() => out.stdout.trim().to_string(),
        Ok(out) => format!("undoing the fence failed: {}", out.text()),
        Err(e) => format!("undoing the fence failed: {e}"),
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
