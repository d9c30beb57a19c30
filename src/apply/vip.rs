//! The load balancers that share a VIP change one after another, the one holding the VIP last:
//! before it goes, the site must answer through the VIP (from a load balancer that has already
//! changed), so that a change that broke the others never reaches the last one serving.

use super::Run;
use super::scripts;
use crate::desired::{HealthCheck, HostState};
use crate::plan::ResourcePlan;

/// The check the site must pass through the VIP before `holder` changes: the load balancer's own
/// health check, sent to the VIP instead of the loopback address.
pub fn check_for(holder: &HostState) -> Option<(String, crate::desired::HttpCheck)> {
    let vip = holder.vip.clone()?;
    holder.health.iter().find_map(|c| match c {
        HealthCheck::LoadBalancer(http) => Some((vip.clone(), http.clone())),
        _ => None,
    })
}

/// Whether `batch` holds the VIP and so waits for the check through it.
pub fn holder_in<'p>(batch: &[&'p ResourcePlan]) -> Option<&'p ResourcePlan> {
    batch
        .iter()
        .copied()
        .find(|r| r.holds_vip && !r.changes.is_empty())
}

/// Runs the check through the VIP from `from` (a load balancer changed before): `Err` says why
/// the site did not answer there.
pub async fn site_answers(run: &Run<'_>, from: &str, holder: &HostState) -> Result<(), String> {
    let Some((vip, http)) = check_for(holder) else {
        return Ok(());
    };
    let Some(remote) = run.remotes.get(from) else {
        return Err(format!(
            "{from} is not connected to check the site through {vip}"
        ));
    };
    let out = remote
        .run(&scripts::vip_health(&http, &vip), b"")
        .await
        .map_err(|e| e.to_string())?;
    if out.ok() {
        Ok(())
    } else {
        Err(format!(
            "the site does not answer through the VIP {vip} (from {from}): {}",
            out.text().trim()
        ))
    }
}
