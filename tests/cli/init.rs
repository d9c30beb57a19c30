//! `init`: every choice writes a topology the real `validate` accepts as written (and whose
//! configs pass the real parsers); nothing that exists is overwritten; the password is a file
//! git ignores, never a value in the topology.

use crate::support::cli;
use foobar_infra::topology::{AppKind, Engine};
use predicates::prelude::*;
use std::path::Path;

/// `validate --format json` of a written topology: exit code and report.
fn validate(topology: &Path, extra: &[&str]) -> (Option<i32>, serde_json::Value) {
    let out = cli()
        .args(["validate", "--format", "json"])
        .args(extra)
        .arg("-i")
        .arg(topology)
        .output()
        .unwrap();
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code(), report)
}

fn hosts_rendered(topology: &Path) -> u64 {
    let out = tempfile::tempdir().unwrap();
    let rendered = cli()
        .args(["render", "--format", "json", "-i"])
        .arg(topology)
        .arg("--out")
        .arg(out.path().join("rendered"))
        .output()
        .unwrap();
    assert!(rendered.status.success(), "{rendered:?}");
    let v: serde_json::Value = serde_json::from_slice(&rendered.stdout).unwrap();
    v["hosts"].as_u64().unwrap()
}

/// Every --app and --db, with the real parsers on the rendered configs: valid, no warning.
#[test]
fn every_app_and_database_validates_as_written() {
    let tmp = tempfile::tempdir().unwrap();
    for (app, _) in AppKind::ALL {
        for (db, _) in Engine::ALL {
            let dir = tmp.path().join(format!("{app}-{db}"));
            cli()
                .args(["init", "--app", app, "--db", db])
                .arg(&dir)
                .assert()
                .success();
            let topology = dir.join("topology.yaml");
            let text = std::fs::read_to_string(&topology).unwrap();
            assert!(text.contains(&format!("  kind: {app}\n")), "{text}");
            assert!(text.contains(&format!("  engine: {db}\n")), "{text}");
            let (code, report) = validate(&topology, &["--check-configs"]);
            assert_eq!(code, Some(0), "{app} {db}: {report:#}");
            assert_eq!(report["valid"], true, "{app} {db}: {report:#}");
            assert_eq!(report["warnings"], 0, "{app} {db}: {report:#}");
            let checks = report["config_checks"].as_array().unwrap();
            assert!(
                checks.iter().all(|c| c["status"] == "passed"),
                "{app} {db}: {report:#}"
            );
        }
    }
}

/// --web N gives N web/app servers (and the load balancer and database), for each N.
#[test]
fn every_web_count_validates_with_that_many_servers() {
    let tmp = tempfile::tempdir().unwrap();
    for web in (1..=6).chain([42, 99]) {
        let dir = tmp.path().join(format!("web{web}"));
        cli()
            .args([
                "init",
                "--web",
                &web.to_string(),
                "--domain",
                "shop.example.org",
            ])
            .arg(&dir)
            .assert()
            .success();
        let topology = dir.join("topology.yaml");
        let (code, report) = validate(&topology, &[]);
        assert_eq!(code, Some(0), "--web {web}: {report:#}");
        assert_eq!(report["warnings"], 0, "--web {web}: {report:#}");
        assert_eq!(hosts_rendered(&topology), web + 2, "--web {web}");
    }
    cli()
        .args(["init", "--web", "0"])
        .arg(tmp.path().join("none"))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("--web"));
    assert!(!tmp.path().join("none").exists());
}

/// A second init overwrites nothing: it stops at the topology, naming it, and leaves the
/// password and the .gitignore as they were.
#[test]
fn a_second_init_refuses_to_overwrite() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("site");
    cli().arg("init").arg(&dir).assert().success();
    let topology = dir.join("topology.yaml");
    std::fs::write(&topology, "# mine\n").unwrap();
    let password = std::fs::read(dir.join("secrets/db-password")).unwrap();
    let gitignore = std::fs::read(dir.join(".gitignore")).unwrap();
    cli()
        .args(["init", "--app", "php-fpm"])
        .arg(&dir)
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicate::str::contains(format!(
            "{} already exists",
            topology.display()
        )))
        .stderr(predicate::str::contains("never overwrites"));
    assert_eq!(std::fs::read_to_string(&topology).unwrap(), "# mine\n");
    assert_eq!(
        std::fs::read(dir.join("secrets/db-password")).unwrap(),
        password
    );
    assert_eq!(std::fs::read(dir.join(".gitignore")).unwrap(), gitignore);
}

/// The password is a random line in a file only its owner reads, named by the topology and
/// ignored by git; the topology holds no password.
#[test]
fn the_password_is_a_private_ignored_file() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let mut passwords = Vec::new();
    for name in ["a", "b"] {
        let dir = tmp.path().join(name);
        cli()
            .arg("init")
            .arg(&dir)
            .assert()
            .success()
            .stdout("")
            .stderr(predicate::str::contains("secrets/db-password"));
        let file = dir.join("secrets/db-password");
        let meta = std::fs::metadata(&file).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        let dir_mode = std::fs::metadata(dir.join("secrets")).unwrap();
        assert_eq!(dir_mode.permissions().mode() & 0o777, 0o700);
        let password = std::fs::read_to_string(&file).unwrap();
        assert_eq!(password.len(), 33, "{password:?}");
        assert!(password.trim_end().bytes().all(|b| b.is_ascii_hexdigit()));
        let topology = std::fs::read_to_string(dir.join("topology.yaml")).unwrap();
        assert!(topology.contains("    file: secrets/db-password\n"));
        assert!(!topology.contains(password.trim_end()));
        assert!(!topology.contains("value:"), "{topology}");
        let ignore = std::fs::read_to_string(dir.join(".gitignore")).unwrap();
        assert!(ignore.lines().any(|l| l == "/secrets/"), "{ignore}");
        passwords.push(password);
    }
    assert_ne!(passwords[0], passwords[1]);
}

/// An existing .gitignore keeps its lines and gets the secrets line once; one that ignores the
/// secrets already is left alone; an existing password file is kept.
#[test]
fn existing_files_are_added_to_or_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("repo");
    std::fs::create_dir_all(dir.join("secrets")).unwrap();
    std::fs::write(dir.join(".gitignore"), "target").unwrap();
    std::fs::write(dir.join("secrets/db-password"), "chosen-by-me\n").unwrap();
    cli()
        .arg("init")
        .arg(&dir)
        .assert()
        .success()
        .stderr(predicate::str::contains("Added /secrets/ to"))
        .stderr(predicate::str::contains("Kept"));
    let ignore = std::fs::read_to_string(dir.join(".gitignore")).unwrap();
    assert!(ignore.starts_with("target\n"), "{ignore}");
    assert_eq!(ignore.matches("/secrets/").count(), 1, "{ignore}");
    assert_eq!(
        std::fs::read_to_string(dir.join("secrets/db-password")).unwrap(),
        "chosen-by-me\n"
    );

    let other = tmp.path().join("ignored");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(other.join(".gitignore"), "secrets/\n").unwrap();
    cli().arg("init").arg(&other).assert().success();
    assert_eq!(
        std::fs::read_to_string(other.join(".gitignore")).unwrap(),
        "secrets/\n"
    );
}

/// A domain that is not a DNS name is refused, naming the flag, before anything is written.
#[test]
fn a_bad_domain_is_refused_before_writing() {
    let tmp = tempfile::tempdir().unwrap();
    for domain in [
        "exa mple.com",
        "a..b",
        "-x.com",
        "*.example.com",
        "",
        "1.com",
    ] {
        let dir = tmp.path().join("site");
        cli()
            .arg("init")
            .arg(format!("--domain={domain}"))
            .arg(&dir)
            .assert()
            .code(1)
            .stderr(predicate::str::contains("--domain"));
        assert!(!dir.exists(), "{domain}: nothing written");
    }
}
