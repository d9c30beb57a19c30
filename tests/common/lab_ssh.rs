//! Reaching lab hosts from tests as an operator would: ssh as `deploy`, the lab's key, strict
//! host key checking against the lab's known_hosts. Shared by the lab and e2e test binaries.

use std::path::PathBuf;
use std::process::{Command, Output};

/// The lab's state folder, as `foobar-infra lab` resolves it.
pub fn state_dir() -> PathBuf {
    std::env::var_os("FOOBAR_INFRA_LAB_DIR")
        .map(Into::into)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var("HOME").unwrap_or_else(|_| "/root".into()))
                .join(".local/state/foobar-infra/lab")
        })
}

/// Runs `command` on the lab host at `address` as `deploy`.
pub fn ssh_output(address: &str, command: &str) -> Output {
    let dir = state_dir();
    Command::new("ssh")
        .args(["-F", "/dev/null", "-i"])
        .arg(dir.join("id_ed25519"))
        .arg("-o")
        .arg(format!(
            "UserKnownHostsFile={}",
            dir.join("known_hosts").display()
        ))
        .args([
            "-o",
            "StrictHostKeyChecking=yes",
            "-o",
            "BatchMode=yes",
            "-o",
            "ConnectTimeout=5",
            "-o",
            "LogLevel=ERROR",
        ])
        .arg(format!("deploy@{address}"))
        .arg(command)
        .output()
        .expect("ssh runs")
}
