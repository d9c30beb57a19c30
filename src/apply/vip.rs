//! The load balancers that share a VIP change one at a time, the one holding the VIP last: before
//! it goes, every other one must be ready to take the VIP over (keepalived running as BACKUP,
//! not holding the VIP itself, its own HAProxy answering the site's health check), so that the
//! holder's change never leaves the site without a load balancer to move to.

use super::Run;
use super::scripts;
use crate::desired::HostState;
use crate::plan::ResourcePlan;

/// How many times a backup's VRRP state is read, a second apart, before it is judged not ready
/// (keepalived's check rises after two passes a second apart).
const READY_TRIES: u32 = 8;

/// Whether `batch` holds the VIP and so waits for its backups to be ready.
pub fn holder_in<'p>(batch: &[&'p ResourcePlan]) -> Option<&'p ResourcePlan> {
    batch
        .iter()
        .copied()
        .find(|r| r.holds_vip && !r.changes.is_empty())
}

/// The other load balancers of `holder`'s VIP.
fn backups<'d>(run: &Run<'d>, holder: &HostState) -> Vec<&'d HostState> {
    run.desired
        .hosts
        .iter()
        .filter(|h| h.vip.is_some() && h.vip == holder.vip && h.name != holder.name)
        .collect()
}

/// Whether one load balancer, as its probe saw it, would take the VIP over (or, holding it too
/// in a split, serves it already): `Err` says why not.
pub fn ready(facts: Option<&crate::observe::VipFacts>) -> Result<(), String> {
    let Some(v) = facts else {
        return Err("the probe did not read its VRRP state".into());
    };
    match (v.held, v.state.as_deref().unwrap_or("UNKNOWN")) {
        (false, "BACKUP") | (true, "MASTER") => Ok(()),
        (true, state) => Err(format!("it holds the VIP with keepalived in state {state}")),
        (false, "STOPPED") => Err("keepalived is not running".into()),
        (false, "UNKNOWN") => Err(
            "keepalived has not said its state since its notify script was installed (a reload \
             does not say it): restart keepalived there (`systemctl restart keepalived`; it does \
             not hold the VIP)"
                .into(),
        ),
        (false, state) => Err(format!("keepalived is in state {state}, not BACKUP")),
    }
}

/// Checks, before `holder` changes, that every other load balancer of its VIP is ready to take
/// it over. `Ok` carries what was not checked (a load balancer a `--limit` left out); `Err` says
/// which one is not ready and why (an unreachable one is not ready). keepalived's state is read
/// again for a while before a refusal: a backup whose HAProxy was just reloaded passes through
/// FAULT until its check rises again.
pub async fn backups_ready(run: &Run<'_>, holder: &HostState) -> Result<Vec<String>, String> {
    let vip = holder.vip.clone().unwrap_or_default();
    let mut unchecked = Vec::new();
    for backup in backups(run, holder) {
        let not_ready = |why: String| {
            format!(
                "{} is not ready to take the VIP {vip} over: {why}",
                backup.name
            )
        };
        if let Some((_, _, why)) = run.unreachable.iter().find(|u| u.0 == backup.name) {
            return Err(not_ready(format!("it is unreachable ({why})")));
        }
        let Some(remote) = run.remotes.get(&backup.name) else {
            unchecked.push(format!(
                "{} was not checked ready to take the VIP {vip}: it is not in this run",
                backup.name
            ));
            continue;
        };
        let mut tries = READY_TRIES;
        loop {
            let facts = crate::observe::observe(remote.as_ref(), backup)
                .await
                .map_err(|e| not_ready(e.to_string()))?;
            match ready(facts.vip.as_ref()) {
                Ok(()) => break,
                Err(why) if tries <= 1 => return Err(not_ready(why)),
                Err(_) => {
                    tries -= 1;
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                }
            }
        }
        let Some(http) = backup.lb_health() else {
            continue;
        };
        let out = remote
            .run(&scripts::backup_health(http, &backup.address), b"")
            .await
            .map_err(|e| not_ready(e.to_string()))?;
        if !out.ok() {
            return Err(not_ready(format!(
                "its HAProxy does not answer on {}: {}",
                backup.address,
                out.text().trim()
            )));
        }
    }
    Ok(unchecked)
}
