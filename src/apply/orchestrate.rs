//! The order of a run: phases (database, servers, load balancer), batches within a phase (a
//! canary of one, then `--batch` at a time; each serving host drained from its load balancers
//! while it changes), and the rules that stop a run: a failed batch leaves the later batches of
//! its phase alone, a failed or unreachable host stops the later phases, and Ctrl-C starts no
//! new host.

use super::drain;
use super::host::HostRun;
use super::{Event, HostReport, Outcome, Run};
use crate::plan::{Change, Phase, ResourcePlan, ServiceAction};
use futures_util::future::join_all;
use std::sync::atomic::Ordering;
use std::time::Instant;
use tokio::sync::Semaphore;

/// Whether a host already runs all its services (a change to it would touch live traffic).
fn serving(r: &ResourcePlan) -> bool {
    !r.changes.iter().any(|c| {
        matches!(
            c,
            Change::Package { .. }
                | Change::Service {
                    action: ServiceAction::Start,
                    ..
                }
        )
    })
}

/// One phase's resources in the batches they run in, one batch after another. Hosts that
/// already serve and have changes go `batch` at a time (a rolling change), and when there are
/// several, the first goes alone first (the canary): a change that passes its checker but breaks
/// the service then costs one server, not the site. Hosts that do not serve yet (nothing to
/// drain, no traffic to lose), and those without changes, go with the batch after the canary.
/// The load balancers of a VIP go one at a time after those, serving or not (a first install of
/// keepalived on both must not leave the site without one), the one holding the VIP last: the
/// others (its backups) change first.
pub fn batches<'p>(in_phase: &[&'p ResourcePlan], batch: usize) -> Vec<Vec<&'p ResourcePlan>> {
    let batch = batch.max(1);
    let alone = |r: &&ResourcePlan| !r.changes.is_empty() && (r.holds_vip || r.shares_vip);
    let mut singles: Vec<&ResourcePlan> = in_phase.iter().copied().filter(alone).collect();
    // Stable: the backups keep their plan order, the holders go after them.
    singles.sort_by_key(|r| r.holds_vip);
    let rest: Vec<&ResourcePlan> = in_phase.iter().copied().filter(|r| !alone(r)).collect();
    let rolling: Vec<&ResourcePlan> = rest
        .iter()
        .copied()
        .filter(|r| !r.changes.is_empty() && serving(r))
        .collect();
    let mut out: Vec<Vec<&ResourcePlan>> = if rolling.len() <= 1 {
        vec![rest.clone()]
    } else {
        let mut out = vec![vec![rolling[0]]];
        for chunk in rolling[1..].chunks(batch) {
            out.push(chunk.to_vec());
        }
        out[1].extend(
            rest.iter()
                .copied()
                .filter(|r| !rolling.iter().any(|x| x.owner == r.owner)),
        );
        out
    };
    // Keep each batch in plan order.
    for b in &mut out {
        b.sort_by_key(|r| in_phase.iter().position(|x| x.owner == r.owner));
    }
    out.retain(|b| !b.is_empty());
    out.extend(singles.into_iter().map(|r| vec![r]));
    out
}

/// One batch of a run, as `plan` shows it: who changes together, and which of them leave which
/// load balancers while they do.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Step {
    pub phase: Phase,
    pub hosts: Vec<String>,
    /// `(host, load balancer)` pairs: the host is drained there first.
    pub drained: Vec<(String, String)>,
    /// The VIP this batch's load balancer holds: the other load balancers are first checked
    /// ready to take it over.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vip_checked: Option<String>,
}

/// The order `apply` would take: batches of hosts with changes, phase by phase.
pub fn rollout(
    plans: &[ResourcePlan],
    desired: &crate::desired::Desired,
    batch: usize,
) -> Vec<Step> {
    let mut out = Vec::new();
    for phase in Phase::ALL {
        let in_phase: Vec<&ResourcePlan> = plans.iter().filter(|p| p.phase == phase).collect();
        for b in batches(&in_phase, batch) {
            let changing: Vec<&ResourcePlan> =
                b.into_iter().filter(|r| !r.changes.is_empty()).collect();
            if changing.is_empty() {
                continue;
            }
            let drained = changing
                .iter()
                .filter(|r| touches_traffic(r) && serving(r))
                .filter_map(|r| desired.host(r.owner.host()?))
                .flat_map(|h| {
                    h.memberships
                        .iter()
                        .map(|m| (h.name.clone(), m.lb_host.clone()))
                })
                .collect();
            let vip_checked = super::vip::holder_in(&changing)
                .and_then(|r| desired.host(r.owner.host()?))
                .and_then(|h| h.vip.clone());
            out.push(Step {
                phase,
                hosts: changing.iter().map(|r| r.name().to_string()).collect(),
                drained,
                vip_checked,
            });
        }
    }
    out
}

/// Whether a change makes the host's service drop or change requests (so it is drained first):
/// a reload or restart, a new release, a file's content.
fn touches_traffic(r: &ResourcePlan) -> bool {
    r.changes.iter().any(|c| match c {
        Change::Service { action, .. } => {
            matches!(action, ServiceAction::Reload | ServiceAction::Restart)
        }
        Change::Release { .. } => true,
        Change::File { action, .. } => *action != crate::plan::FileAction::Attributes,
        _ => false,
    })
}

fn report(name: &str, outcome: Outcome) -> HostReport {
    HostReport {
        host: name.to_string(),
        outcome,
        done: Vec::new(),
        seconds: 0.0,
    }
}

fn stops(outcome: &Outcome) -> bool {
    matches!(
        outcome,
        Outcome::Failed { .. } | Outcome::Interrupted | Outcome::Skipped { .. }
    )
}

/// Applies `plans`, phase by phase and batch by batch.
pub async fn apply(run: &Run<'_>, plans: &[ResourcePlan]) -> Vec<HostReport> {
    let mut reports: Vec<HostReport> = Vec::new();
    let mut failed_phase: Option<Phase> = None;
    for phase in Phase::ALL {
        let in_phase: Vec<&ResourcePlan> = plans.iter().filter(|p| p.phase == phase).collect();
        // An unreachable host fails its phase like a host whose steps failed.
        let lost: Vec<&(String, Phase, String)> =
            run.unreachable.iter().filter(|u| u.1 == phase).collect();
        for (host, _, error) in &lost {
            reports.push(report(
                host,
                Outcome::Failed {
                    step: "connect".into(),
                    error: error.clone(),
                    rolled_back: false,
                },
            ));
        }
        if let Some(f) = failed_phase {
            for r in in_phase {
                let reason = format!("a host of an earlier phase ({}) failed", f.describe());
                reports.push(report(r.name(), Outcome::Skipped { reason }));
            }
            continue;
        }
        let gate = Semaphore::new(run.forks.max(1));
        let mut results: Vec<HostReport> = Vec::new();
        // Why the later batches of this phase are left alone, once one failed.
        let mut stop: Option<String> = None;
        // What went unchecked before a VIP's holder changed, said in its report.
        let mut unchecked: Vec<(String, Vec<String>)> = Vec::new();
        for batch in batches(&in_phase, run.batch) {
            if stop.is_none()
                && let Some(holder) = super::vip::holder_in(&batch)
                && let Some(state) = holder.owner.host().and_then(|h| run.desired.host(h))
            {
                let message = "checking that the other load balancers can take the VIP";
                (run.on_event)(Event::Step {
                    host: holder.name(),
                    message,
                });
                match super::vip::backups_ready(run, state).await {
                    Ok(notes) => unchecked.push((holder.name().to_string(), notes)),
                    Err(why) => {
                        stop = Some(format!("{why}; {} kept the VIP unchanged", holder.name()))
                    }
                }
            }
            if let Some(reason) = &stop {
                for r in batch {
                    results.push(if r.changes.is_empty() {
                        report(r.name(), Outcome::Unchanged)
                    } else {
                        (run.on_event)(Event::Finished {
                            host: r.name(),
                            summary: "skipped",
                        });
                        report(
                            r.name(),
                            Outcome::Skipped {
                                reason: reason.clone(),
                            },
                        )
                    });
                }
                continue;
            }
            let mut outcomes = join_all(batch.iter().map(|r| one(run, r, &gate))).await;
            for o in &mut outcomes {
                if let Some((_, notes)) = unchecked.iter_mut().find(|(h, _)| *h == o.host) {
                    o.done.append(notes);
                }
            }
            if let Some(bad) = outcomes.iter().find(|r| stops(&r.outcome)) {
                let interrupted = outcomes.iter().any(|r| r.outcome == Outcome::Interrupted);
                stop = Some(if interrupted {
                    format!("interrupted while {} was next; left as it was", bad.host)
                } else {
                    format!("{} went first and failed; left as it was", bad.host)
                });
            }
            results.extend(outcomes);
        }
        if !lost.is_empty() || results.iter().any(|r| stops(&r.outcome)) {
            failed_phase = Some(phase);
        }
        reports.extend(results);
    }
    reports
}

/// One host's change, at most `gate` at a time.
async fn one(run: &Run<'_>, r: &ResourcePlan, gate: &Semaphore) -> HostReport {
    let name = r.name();
    let finish = |summary: &str| {
        (run.on_event)(Event::Finished {
            host: name,
            summary,
        })
    };
    if r.changes.is_empty() {
        finish("unchanged");
        return report(name, Outcome::Unchanged);
    }
    let _permit = gate.acquire().await;
    if run.interrupt.load(Ordering::SeqCst) {
        finish("interrupted");
        return report(name, Outcome::Interrupted);
    }
    let started = Instant::now();
    if let crate::plan::Owner::Zone { .. } = &r.owner {
        let (outcome, done) = super::zone::apply(run, r).await;
        finish(&match &outcome {
            Outcome::Changed => format!("changed ({} records)", done.len().saturating_sub(1)),
            Outcome::Failed { step, .. } => format!("failed at {step}"),
            _ => "unchanged".into(),
        });
        return HostReport {
            host: name.to_string(),
            outcome,
            done,
            seconds: started.elapsed().as_secs_f64(),
        };
    }
    let remote = r.owner.host().and_then(|h| run.remotes.get(h));
    let (Some(remote), Some(desired)) = (remote, r.owner.host().and_then(|h| run.desired.host(h)))
    else {
        return report(
            name,
            Outcome::Skipped {
                reason: "not connected".into(),
            },
        );
    };
    // A serving host whose change touches its traffic leaves every load balancer first.
    let drained = if touches_traffic(r) && serving(r) && !desired.memberships.is_empty() {
        match drain::take_out(run, desired).await {
            Ok(d) => Some(d),
            Err((why, d)) => {
                let (mut done, _) = drain::put_back(run, name, &d.out).await;
                let mut all = d.done;
                all.append(&mut done);
                finish("failed at drain");
                return HostReport {
                    host: name.to_string(),
                    outcome: Outcome::Failed {
                        step: "drain".into(),
                        error: why,
                        rolled_back: false,
                    },
                    done: all,
                    seconds: started.elapsed().as_secs_f64(),
                };
            }
        }
    } else {
        None
    };
    let mut host = HostRun::new(remote.as_ref(), desired, r, run);
    let mut outcome = host.run().await;
    let mut done = Vec::new();
    if let Some(d) = drained {
        done = d.done;
        done.append(&mut host.done);
        // Back in service whatever happened (a failed change was rolled back; Ctrl-C too), if
        // it served before.
        let (mut back, failed) = drain::put_back(run, name, &d.out).await;
        done.append(&mut back);
        if let Some(why) = failed {
            match &mut outcome {
                Outcome::Failed { error, .. } => {
                    error.push_str(&format!("\nand it is not back in service: {why}"))
                }
                _ => {
                    outcome = Outcome::Failed {
                        step: "ready".into(),
                        error: why,
                        rolled_back: false,
                    }
                }
            }
        }
    } else {
        done.append(&mut host.done);
    }
    finish(&match &outcome {
        Outcome::Changed => format!("changed ({} steps)", done.len()),
        Outcome::Failed { step, .. } => format!("failed at {step}"),
        Outcome::Interrupted => "interrupted".into(),
        _ => "unchanged".into(),
    });
    HostReport {
        host: name.to_string(),
        outcome,
        done,
        seconds: started.elapsed().as_secs_f64(),
    }
}
