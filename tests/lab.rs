//! The lab against the real engine: hosts come up with systemd and sshd, log in as the
//! topology's user with sudo, stop and start again, and `lab down` leaves nothing behind; on a
//! machine that never ran it, `lab up` first issues the certificate the lab topology names.
//! Needs root and podman (`.ci/run` installs it).

#[path = "common/lab_ssh.rs"]
mod lab_ssh;

use assert_cmd::Command;
use std::process::Command as Std;
use std::time::{Duration, Instant};

const HOSTS: [(&str, &str); 5] = [
    ("lb-01", "10.89.7.10"),
    ("web-01", "10.89.7.21"),
    ("web-02", "10.89.7.22"),
    ("web-03", "10.89.7.23"),
    ("db-01", "10.89.7.30"),
];

fn cli() -> Command {
    let mut c = Command::cargo_bin("foobar-infra").unwrap();
    c.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1");
    c
}

/// Runs a command on a lab host as the topology's user (deploy), strict host key checking on.
fn ssh(address: &str, command: &str) -> std::process::Output {
    lab_ssh::ssh_output(address, command)
}

fn system_running(address: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let out = ssh(address, "systemctl is-system-running");
        let state = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if state == "running"
            || Instant::now() > deadline
            || !matches!(state.as_str(), "starting" | "initializing")
        {
            return state;
        }
        std::thread::sleep(Duration::from_millis(300));
    }
}

fn podman(args: &[&str]) -> String {
    let out = Std::new("podman").args(args).output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `lab up` on a machine that never ran the lab (a home folder of its own): it issues the site
/// certificate that inventories/lab.yaml's `load_balancer.tls` names before it validates the
/// topology, and brings the hosts up.
fn first_lab_up_on_a_fresh_machine() {
    let home = tempfile::tempdir().unwrap();
    let fresh = |args: &[&str]| {
        let mut c = cli();
        c.env("HOME", home.path())
            .env_remove("FOOBAR_INFRA_LAB_DIR")
            .args(args);
        c.output().unwrap()
    };
    let up = fresh(&["lab", "up", "-i", "inventories/lab.yaml"]);
    let stderr = String::from_utf8_lossy(&up.stderr);
    let tls = home.path().join(".local/state/foobar-infra/lab/tls");
    let down = fresh(&["lab", "down"]);
    assert!(up.status.success(), "lab up on a fresh machine: {stderr}");
    assert!(
        stderr.contains(&format!("Issued {}", tls.join("site.pem").display())),
        "{stderr}"
    );
    for f in ["ca.pem", "ca.key", "site.pem", "site.key"] {
        assert!(tls.join(f).is_file(), "{f}");
    }
    assert!(down.status.success());
}

#[test]
fn lab_lifecycle() {
    // Start from no lab at all (another test binary may have left one provisioned).
    cli().args(["lab", "down"]).assert().success();
    first_lab_up_on_a_fresh_machine();
    let up = cli()
        .args(["lab", "up", "-i", "inventories/lab.yaml"])
        .output()
        .unwrap();
    assert!(
        up.status.success(),
        "lab up: {}",
        String::from_utf8_lossy(&up.stderr)
    );
    let table = String::from_utf8_lossy(&up.stdout);
    for (host, address) in HOSTS {
        assert!(
            table.contains(host) && table.contains(address),
            "{host} in the table:\n{table}"
        );
        assert_eq!(system_running(address), "running", "{host}");
        let who = ssh(address, "id -un; sudo -n id -un; hostname");
        assert_eq!(
            String::from_utf8_lossy(&who.stdout),
            format!("deploy\nroot\n{host}\n"),
            "{host}: deploy with sudo"
        );
        // Bare: the stack is for apply to install.
        let bare = ssh(
            address,
            "command -v haproxy nginx mariadbd gunicorn || true",
        );
        assert_eq!(
            String::from_utf8_lossy(&bare.stdout).trim(),
            "",
            "{host} has no web stack"
        );
    }

    // Running it again changes nothing.
    let again = cli()
        .args(["lab", "up", "-i", "inventories/lab.yaml"])
        .output()
        .unwrap();
    assert!(again.status.success());
    assert!(
        !String::from_utf8_lossy(&again.stderr).contains("(created)"),
        "no host re-created"
    );

    // A hard stop takes the host away; start brings it back with the same identity.
    cli().args(["lab", "stop", "web-02"]).assert().success();
    assert!(
        !ssh("10.89.7.22", "true").status.success(),
        "web-02 is down"
    );
    let status = cli()
        .args(["lab", "status", "--format", "json"])
        .output()
        .unwrap();
    let rows: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    let web02 = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["host"] == "web-02")
        .unwrap();
    assert_eq!(web02["state"], "exited");
    cli().args(["lab", "start", "web-02"]).assert().success();
    assert!(
        ssh("10.89.7.22", "true").status.success(),
        "web-02 is back, same host key"
    );
    assert_eq!(system_running("10.89.7.22"), "running");

    cli()
        .args(["lab", "stop", "web-99"])
        .assert()
        .code(1)
        .stderr(predicates::str::contains("web-99"));

    // Down removes every container and the network, and nothing else.
    cli().args(["lab", "down"]).assert().success();
    assert_eq!(
        podman(&[
            "ps",
            "-a",
            "--filter",
            "label=foobar.lab=1",
            "--format",
            "{{.Names}}"
        ])
        .trim(),
        ""
    );
    assert_eq!(
        podman(&[
            "network",
            "ls",
            "--filter",
            "name=foobar-lab",
            "--format",
            "{{.Name}}"
        ])
        .trim(),
        ""
    );
    assert!(
        podman(&["image", "ls", "--format", "{{.Repository}}"]).contains("foobar-lab"),
        "the image stays cached"
    );
}
