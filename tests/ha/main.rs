//! The HA lab (inventories/lab-ha.yaml) end to end: its own test binary, after tests/e2e. The
//! lab fixture and helpers are tests/e2e's (support.rs), with the HA inventory.
//! Needs root, podman and the Debian package mirror, like tests/e2e.

#[path = "../common/lab_ssh.rs"]
mod lab_ssh;
#[allow(dead_code)]
#[path = "../e2e/support.rs"]
mod support;

mod replica;
