//! The topology as untrusted input: only a regular file is read, never more than the cap.

use crate::support::{cli, root};
use predicates::prelude::*;
use std::time::Duration;

/// Long enough for a slow CI machine, short enough that a blocked read fails the test.
const NO_HANG: Duration = Duration::from_secs(60);

#[test]
fn a_device_is_refused_before_it_is_read() {
    cli()
        .args(["validate", "-i", "/dev/zero"])
        .timeout(NO_HANG)
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "cannot read /dev/zero: it is a character device, not a regular file",
        ));
}

#[test]
fn a_fifo_is_refused_without_waiting_for_a_writer() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("topology.yaml");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    for command in ["validate", "render"] {
        let mut cmd = cli();
        cmd.args([command, "-i"]).arg(&fifo);
        if command == "render" {
            cmd.arg("--out").arg(dir.path().join("out"));
        }
        cmd.timeout(NO_HANG)
            .assert()
            .code(1)
            .stderr(predicate::str::contains(format!(
                "cannot read {}: it is a FIFO (named pipe), not a regular file",
                fifo.display()
            )));
    }
}

#[test]
fn a_folder_and_an_oversized_file_are_refused_with_what_they_are() {
    let dir = tempfile::tempdir().unwrap();
    cli()
        .args(["validate", "-i"])
        .arg(dir.path())
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "it is a directory, not a regular file",
        ));
    let big = dir.path().join("big.yaml");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(5 * 1024 * 1024)
        .unwrap();
    cli()
        .args(["validate", "--format", "json", "-i"])
        .arg(&big)
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicate::str::contains(format!(
            "cannot read {}: it is 5242880 bytes (5.0 MiB), over the limit of 4194304 bytes (4.0 MiB)",
            big.display()
        )));
}

#[test]
fn a_symbolic_link_to_a_topology_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("site.yaml");
    std::os::unix::fs::symlink(root().join("examples/minimal.yaml"), &link).unwrap();
    cli()
        .args(["validate", "-i"])
        .arg(&link)
        .assert()
        .success()
        .stdout(predicate::str::contains(": valid ("));
}

/// The schema file the topology names is untrusted too (the checks already refuse one that is
/// not a regular file): one over its 64 MiB cap fails render and `validate --check-configs`
/// with its size instead of being read whole.
#[test]
fn an_oversized_database_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let schema = dir.path().join("schema.sql");
    std::fs::File::create(&schema)
        .unwrap()
        .set_len(64 * 1024 * 1024 + 1)
        .unwrap();
    let text = std::fs::read_to_string(root().join("examples/foobar.yaml")).unwrap();
    let text = text
        .replace(
            "schema: app/schema.sql",
            &format!("schema: {}", schema.display()),
        )
        .replace(
            "source: app\n",
            &format!("source: {}\n", root().join("examples/app").display()),
        );
    let topology = dir.path().join("site.yaml");
    std::fs::write(&topology, text).unwrap();
    let expected = format!(
        "cannot read the database schema {}: it is 67108865 bytes (64.0 MiB), over the limit of \
         67108864 bytes (64.0 MiB)",
        schema.display()
    );
    cli()
        .args(["render", "--out"])
        .arg(dir.path().join("out"))
        .arg("-i")
        .arg(&topology)
        .timeout(NO_HANG)
        .assert()
        .code(1)
        .stderr(predicate::str::contains(expected.clone()));
    cli()
        .args(["validate", "--check-configs", "-i"])
        .arg(&topology)
        .timeout(NO_HANG)
        .assert()
        .code(1)
        .stderr(predicate::str::contains(expected));
}
