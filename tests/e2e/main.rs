//! plan / apply against the lab's real hosts: a fresh lab is provisioned once, then each test
//! checks one behaviour and leaves the site as it found it. Tests run one at a time.
//! Needs root, podman and the Debian package mirror (`.ci/run` installs the rest).

#[path = "../common/lab_ssh.rs"]
mod lab_ssh;
mod support;

mod apply;
mod dns;
mod firewall;
mod load;
mod plan;
mod rolling;
mod secrets;
mod security;
mod tls;
mod verify;
