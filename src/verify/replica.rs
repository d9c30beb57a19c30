//! A replica as verify judges it: configured as one, answering, both threads running, following
//! the topology's primary, read-only; with the primary's position beside its own.

use super::Status;
use crate::desired::HostState;
use crate::observe::Observed;

/// The verdict on replica `desired` from what its probe read (`o`), with the primary's position
/// from what `observed` gives for the primary.
pub fn judge<'a>(
    desired: &HostState,
    o: &Observed,
    observed: impl Fn(&str) -> Option<&'a Observed>,
) -> (Status, String) {
    let fail = |why: String| (Status::Fail, why);
    let (Some(part), Some(db)) = (
        desired
            .database
            .as_ref()
            .and_then(|d| d.replication.as_ref()),
        o.database.as_ref(),
    ) else {
        return fail("the probe did not read the database".into());
    };
    let Some(mut status) = crate::replication::Status::of(part, db) else {
        return fail("the database does not answer over the local socket".into());
    };
    status.primary_gtid_binlog_pos = observed(&part.primary)
        .and_then(|p| p.database.as_ref()?.replication.as_ref())
        .map(|r| r.gtid_binlog_pos.clone());
    match status.problem(part) {
        Some(why) => fail(format!("{why} ({})", status.summary())),
        None => (Status::Pass, status.summary()),
    }
}
