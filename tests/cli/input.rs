//! The topology as untrusted input: only a regular file is read, never more than the cap; any
//! line ending gives the right positions; thousands of problems are reported in one run.

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

/// Old-Mac (CR) and Windows (CRLF) line endings give the lines and columns LF gives, in JSON
/// and in the narrated report (miette's snippet included).
#[test]
fn every_line_ending_gives_the_planted_position() {
    let dir = tempfile::tempdir().unwrap();
    let lf = std::fs::read_to_string(root().join("examples/invalid/invalid-address.yaml")).unwrap();
    for (name, ending) in [("lf", "\n"), ("crlf", "\r\n"), ("cr", "\r")] {
        let path = dir.path().join(format!("{name}.yaml"));
        std::fs::write(&path, lf.replace('\n', ending)).unwrap();
        let out = cli()
            .args(["validate", "--format", "json", "-i"])
            .arg(&path)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{name}");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let d = &v["diagnostics"][0];
        assert_eq!(d["code"], "topology::invalid-address", "{name}");
        let place = [&d["line"], &d["column"], &d["end_line"], &d["end_column"]];
        assert_eq!(place, [8, 14, 8, 25], "{name}: {d}");
        let human = cli().args(["validate", "-i"]).arg(&path).output().unwrap();
        let text = String::from_utf8(human.stdout).unwrap();
        assert!(
            text.contains(&format!("    at {}:8:14\n", path.display())),
            "{name}: {text}"
        );
        assert!(
            text.contains("snippet line 8:     address: 192.0.2.300\n"),
            "{name}: {text}"
        );
        assert!(!text.contains('\r'), "{name}: no raw CR in the report");
    }
}

/// 20,000 located problems in one file: every one reported, in each format (this took minutes
/// when each position was found by scanning from the start of the file).
#[test]
fn twenty_thousand_problems_in_one_run() {
    const HOSTS: usize = 20_000;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("many.yaml");
    let mut text = String::from("domain: foobar.com\nhosts:\n");
    for i in 0..HOSTS {
        text.push_str(&format!(
            "  h{i}:\n    address: 192.0.{}.{}\n    roles: [app]\n",
            i / 250,
            300 + i % 250
        ));
    }
    std::fs::write(&path, &text).unwrap();
    let out = cli()
        .args(["validate", "--format", "json", "-i"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["errors"], HOSTS);
    let last = &v["diagnostics"][HOSTS - 1];
    assert_eq!(last["code"], "topology::invalid-address");
    assert_eq!([&last["line"], &last["column"]], [3 * HOSTS + 1, 14]);
    let github = cli()
        .args(["validate", "--format", "github", "-i"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8(github.stdout).unwrap().lines().count(),
        HOSTS
    );
    cli()
        .args(["validate", "-i"])
        .arg(&path)
        .assert()
        .code(1)
        .stdout(predicate::str::contains(format!(
            "    at {}:{}:14\n",
            path.display(),
            3 * HOSTS + 1
        )))
        .stdout(predicate::str::ends_with(format!(
            "invalid ({HOSTS} errors, 0 warnings)\n"
        )));
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
