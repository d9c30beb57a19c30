//! The high-availability lab (`inventories/lab-ha.yaml`): made fresh and applied once per run,
//! then each test checks one behaviour and leaves the lab as it found it. Tests run one at a
//! time. Needs root, podman and the Debian package mirror, like tests/e2e.

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

pub const INVENTORY: &str = "inventories/lab-ha.yaml";

/// Takes the HA lab for one test (the first caller makes it and applies once).
pub fn lab() -> (
    std::sync::MutexGuard<'static, ()>,
    &'static (std::process::Output, f64),
) {
    support::lab_of(INVENTORY)
}
