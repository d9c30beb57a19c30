//! The high-availability lab (`inventories/lab-ha.yaml`): the reference design with a second
//! load balancer sharing a VIP, and db-02, a replica of db-01. Its own test binary, after
//! tests/e2e; the lab fixture and helpers are tests/e2e's. The lab is made fresh and applied
//! once without db-02 (its host up and bare, for the replica's test to add it); the scenarios
//! then run in one fixed order, since each leaves the lab as the next expects it: the pair's
//! (on the topology without db-02), then the replica's, which adds db-02 and ends with it
//! promoted. Needs root, podman and the Debian package mirror, like tests/e2e.

#[path = "../common/lab_ssh.rs"]
mod lab_ssh;
// The e2e helpers, shared: this binary uses some of them.
#[allow(dead_code)]
#[path = "../e2e/load.rs"]
mod load;
#[allow(dead_code)]
#[path = "../e2e/support.rs"]
mod support;

mod pair;
mod replica;

use std::sync::OnceLock;

pub const INVENTORY: &str = "inventories/lab-ha.yaml";
/// db-02 in the HA inventory: left out of the topology until the replica's test adds it.
pub const DB2_LINES: &str = "  db-02:\n    address: 10.89.7.31\n    roles: [db]\n";

/// The HA inventory without db-02 (paths made absolute), the topology the lab is first applied
/// with and the pair's scenarios use.
pub fn topology() -> &'static str {
    static WITHOUT: OnceLock<(tempfile::TempDir, String)> = OnceLock::new();
    &WITHOUT
        .get_or_init(|| support::variant_of(INVENTORY, |t| t.replace(DB2_LINES, "")))
        .1
}

/// Takes the HA lab (the first caller makes it, with every host of the inventory, and applies
/// `topology()` once).
pub fn lab() -> (
    std::sync::MutexGuard<'static, ()>,
    &'static (std::process::Output, f64),
) {
    support::lab_of(INVENTORY, topology())
}

/// The scenarios, in the order each expects the lab: the pair's, then the replica's.
#[test]
fn the_ha_lab() {
    pair::the_vip_moves_when_its_holder_stops_and_stays_when_it_returns();
    pair::a_change_of_the_load_balancers_rolls_across_the_pair_without_a_failed_request();
    pair::a_hung_haproxy_hands_the_vip_to_the_backup();
    pair::the_holder_is_left_alone_while_its_backup_cannot_take_the_vip();
    replica::a_replica_joins_a_primary_with_rows_follows_it_and_is_promoted_when_it_stops();
}
