//! The load balancers that share a VIP change one at a time, the one holding the VIP last: before
//! it goes, every other one must be ready to take the VIP over (keepalived running as BACKUP,
//! not holding the VIP itself, its own HAProxy answering the site's health check), so that the
//! holder's change never leaves the site without a load balancer to move to.

use super::Run;
use super::scripts;
use crate::desired::{HealthCheck, HostState, HttpCheck};
use crate::plan::ResourcePlan;

/// The load balancer's own health check (what its HAProxy must answer).
fn lb_check(host: &HostState) -> Option<&HttpCheck> {
    host.health.iter().find_map(|c| match c {
        HealthCheck::LoadBalancer(http) => Some(http),
        _ => None,
    })
}

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
        (false, state) => Err(format!("keepalived is in state {state}, not BACKUP")),
    }
}

/// Checks, before `holder` changes, that every other load balancer of its VIP is ready to take
/// it over. `Ok` carries what was not checked (a load balancer not in this run: a `--limit`, or
/// unreachable); `Err` says which one is not ready and why.
pub async fn backups_ready(run: &Run<'_>, holder: &HostState) -> Result<Vec<String>, String> {
    let vip = holder.vip.clone().unwrap_or_default();
    let mut unchecked = Vec::new();
    for backup in backups(run, holder) {
        let Some(remote) = run.remotes.get(&backup.name) else {
            unchecked.push(format!(
                "{} was not checked ready to take the VIP {vip}: it is not in this run",
                backup.name
            ));
            continue;
        };
        let not_ready = |why: String| {
            format!(
                "{} is not ready to take the VIP {vip} over: {why}",
                backup.name
            )
        };
        let facts = crate::observe::observe(remote.as_ref(), backup)
            .await
            .map_err(|e| not_ready(e.to_string()))?;
        ready(facts.vip.as_ref()).map_err(not_ready)?;
        let Some(http) = lb_check(backup) else {
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
