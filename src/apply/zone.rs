//! A zone's step: read it again, send one signed update whose prerequisites are what the plan
//! saw, then read it back: each record as planned, and the SOA serial moved.

use super::{Event, Outcome, Run};
use crate::dns::{Rrset, Update};
use crate::plan::{Change, ResourcePlan, record_changes};

type RecordChange = (String, Option<Rrset>, Option<Rrset>);

fn failed(step: &str, error: String) -> Outcome {
    Outcome::Failed {
        step: step.into(),
        error,
        rolled_back: false,
    }
}

fn show(r: &Option<Rrset>) -> String {
    r.as_ref().map_or("(none)".into(), |r| {
        format!("{} IN A {}", r.ttl, r.addresses.join(", "))
    })
}

/// Applies a zone's record changes; returns the outcome and what was done.
pub async fn apply(run: &Run<'_>, r: &ResourcePlan) -> (Outcome, Vec<String>) {
    let name = r.name();
    let say = |message: &str| {
        (run.on_event)(Event::Step {
            host: name,
            message,
        })
    };
    let (Some(authority), Some(zone)) = (run.authority, run.desired.dns.as_ref()) else {
        return (
            Outcome::Skipped {
                reason: "no DNS server to send the update to".into(),
            },
            Vec::new(),
        );
    };
    say("reading the zone");
    let names = crate::dns::names(zone);
    let before = match authority.observe(&names).await {
        Ok(f) => f,
        Err(e) => return (failed("read zone", e.to_string()), Vec::new()),
    };
    let planned = |changes: &[Change]| -> Vec<RecordChange> {
        changes
            .iter()
            .filter_map(|c| match c {
                Change::Record { name, from, to } => Some((name.clone(), from.clone(), to.clone())),
                _ => None,
            })
            .collect()
    };
    // A plan made while the server did not answer saw nothing to hold the zone to: its changes
    // are computed now, from what the server holds.
    let changes = if r.note.is_some() {
        planned(&record_changes(zone, &before))
    } else {
        planned(&r.changes)
    };
    if changes.is_empty() {
        return (Outcome::Unchanged, Vec::new());
    }
    let update = Update::new(&changes, &before.registry);
    say(&format!(
        "sending one signed update ({} records)",
        changes.len()
    ));
    if let Err(e) = authority.update(&update).await {
        return (failed("update", e.to_string()), Vec::new());
    }
    say("reading the zone back");
    let after = match authority.observe(&names).await {
        Ok(f) => f,
        Err(e) => return (failed("check", e.to_string()), Vec::new()),
    };
    let mut done: Vec<String> = changes
        .iter()
        .map(|(n, from, to)| format!("{n}. {} -> {}", show(from), show(to)))
        .collect();
    for (n, _, to) in &changes {
        let now = after.records.get(n).cloned().flatten();
        if &now != to {
            return (
                failed(
                    "check",
                    format!(
                        "the server accepted the update, but {n} now holds {} instead of {}",
                        show(&now),
                        show(to)
                    ),
                ),
                done,
            );
        }
    }
    if after.serial == before.serial {
        return (
            failed(
                "check",
                format!(
                    "the records changed but the SOA serial did not move from {}",
                    before.serial
                ),
            ),
            done,
        );
    }
    done.push(format!("SOA serial {} -> {}", before.serial, after.serial));
    (Outcome::Changed, done)
}
