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
    // A server this run just set up may take a moment to load the zone: it is given a few
    // seconds before its silence counts.
    let patience = if r.note.is_some() { 20 } else { 1 };
    let mut attempt = 0;
    let before = loop {
        attempt += 1;
        match authority.observe(&names).await {
            Ok(f) => break f,
            Err(e) if attempt >= patience => {
                return (failed("read zone", e.to_string()), Vec::new());
            }
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(500)).await,
        }
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
    // A plan made while the server could not be read saw nothing to hold the zone to: its
    // changes are computed now, from what the server holds, and must be among those it showed
    // (nothing it did not show is overwritten or deleted).
    let changes = if r.note.is_some() {
        let shown = planned(&r.changes);
        let now = planned(&record_changes(zone, &before));
        if let Some((n, from, _)) = now.iter().find(|(n, from, to)| {
            from.is_some() || !shown.iter().any(|(m, _, t)| m == n && t == to)
        }) {
            return (
                failed(
                    "read zone",
                    format!(
                        "{n} holds {} now, which the plan did not show (it could not read the zone): plan again",
                        show(from)
                    ),
                ),
                Vec::new(),
            );
        }
        now
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
