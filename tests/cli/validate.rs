//! `validate`: diagnostics at the right line and column, in every format, with exit codes.

use crate::support::{cli, lab_home, root, stem, yaml_files};
use predicates::prelude::*;

/// Every planted error in examples/invalid is reported in narrated text and JSON.
#[test]
fn each_invalid_example_is_diagnosed() {
    let files = yaml_files("examples/invalid");
    assert!(
        files.len() >= 12,
        "examples/invalid has one file per diagnostic"
    );
    for path in files {
        let rel = path.strip_prefix(root()).unwrap().display().to_string();
        let name = stem(&path);
        let human = cli().args(["validate", "-i", &rel]).output().unwrap();
        let text = String::from_utf8(human.stdout).unwrap();
        insta::assert_snapshot!(format!("validate_human__{name}"), text);
        let json = cli()
            .args(["validate", "--format", "json", "-i", &rel])
            .output()
            .unwrap();
        let value: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
        insta::assert_json_snapshot!(format!("validate_json__{name}"), value);
        // Warnings alone keep the topology valid; any error makes it invalid.
        let has_errors = value["errors"].as_u64().unwrap() > 0;
        assert_eq!(
            human.status.code(),
            Some(if has_errors { 1 } else { 0 }),
            "{rel}"
        );
        assert_eq!(
            json.status.code(),
            Some(if has_errors { 1 } else { 0 }),
            "{rel}"
        );
        for d in value["diagnostics"].as_array().unwrap() {
            assert!(
                d["line"].as_u64().unwrap() >= 1,
                "{rel}: every diagnostic has a line: {d}"
            );
            assert!(
                d["column"].as_u64().unwrap() >= 1,
                "{rel}: every diagnostic has a column: {d}"
            );
        }
    }
}

/// The planted error of each single-problem example is where the file's comment says it is.
#[test]
fn planted_errors_are_at_their_exact_position() {
    let cases = [
        ("yaml-syntax", "topology::yaml-syntax", 6, 16),
        ("wrong-type", "topology::wrong-type", 11, 12),
        ("unknown-key", "topology::unknown-key", 11, 3),
        ("unknown-host", "topology::unknown-host", 13, 13),
        ("backend-not-web", "topology::backend-not-web", 16, 13),
        ("duplicate-host", "topology::duplicate-key", 10, 3),
        ("duplicate-address", "topology::duplicate-address", 11, 14),
        ("port-clash", "topology::port-clash", 13, 11),
        ("dns-not-lb", "topology::dns-not-lb", 13, 15),
        ("db-client-unknown", "topology::unknown-db-client", 15, 27),
        ("invalid-address", "topology::invalid-address", 8, 14),
        ("secret-unset", "topology::secret-unset", 16, 10),
        ("inline-password", "topology::inline-secret", 11, 13),
        ("invalid-interval", "topology::invalid-value", 12, 15),
        ("unused-role", "topology::unused-role", 6, 17),
    ];
    for (file, code, line, column) in cases {
        let out = cli()
            .args([
                "validate",
                "--format",
                "json",
                "-i",
                &format!("examples/invalid/{file}.yaml"),
            ])
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let diags = v["diagnostics"].as_array().unwrap();
        assert_eq!(
            diags.len(),
            1,
            "{file}: exactly the planted problem: {diags:#?}"
        );
        assert_eq!(diags[0]["code"], code, "{file}");
        assert_eq!(
            (
                diags[0]["line"].as_u64().unwrap(),
                diags[0]["column"].as_u64().unwrap()
            ),
            (line, column),
            "{file}"
        );
    }
}

#[test]
fn many_problems_are_reported_in_one_run() {
    let out = cli()
        .args([
            "validate",
            "--format",
            "json",
            "-i",
            "examples/invalid/many-problems.yaml",
        ])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let codes: Vec<&str> = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    for expected in [
        "topology::invalid-value",
        "topology::duplicate-address",
        "topology::web-without-app",
        "topology::unknown-key",
        "topology::unknown-host",
        "topology::dns-not-lb",
    ] {
        assert!(
            codes.contains(&expected),
            "{expected} missing from {codes:?}"
        );
    }
    assert!(codes.len() >= 8, "{codes:?}");
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn valid_examples_and_inventories_exit_zero() {
    // inventories/lab.yaml serves HTTPS with the certificate `lab up` issues.
    let home = lab_home();
    for dir in ["examples", "inventories"] {
        for path in yaml_files(dir) {
            let rel = path.strip_prefix(root()).unwrap().display().to_string();
            cli()
                .env("HOME", home.path())
                .args(["validate", "-i", &rel])
                .assert()
                .success()
                .stdout(predicate::str::contains(": valid ("));
        }
    }
}

#[test]
fn github_format_annotates_file_line_and_column() {
    cli()
        .args([
            "validate",
            "--format",
            "github",
            "-i",
            "examples/invalid/unknown-key.yaml",
        ])
        .assert()
        .code(1)
        .stdout(predicate::str::starts_with(
            "::error file=examples/invalid/unknown-key.yaml,line=11,col=3,",
        ))
        .stdout(predicate::str::contains("did you mean `algorithm`?"));
}

/// Config-check annotations escape the file name like the topology's own problems do.
#[test]
fn github_config_check_annotations_escape_the_file_name() {
    let dir = tempfile::tempdir().unwrap();
    let topology = dir.path().join("site,a:b.yaml");
    std::fs::copy(root().join("examples/minimal.yaml"), &topology).unwrap();
    let templates = dir.path().join("templates");
    std::fs::create_dir_all(templates.join("nginx")).unwrap();
    std::fs::write(
        templates.join("nginx/site.conf.tera"),
        "server { keepalive sixteen; }\n",
    )
    .unwrap();
    let out = cli()
        .args([
            "validate",
            "--check-configs",
            "--format",
            "github",
            "--templates",
        ])
        .arg(&templates)
        .arg("-i")
        .arg(&topology)
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let line = stdout
        .lines()
        .find(|l| l.contains("title=config-check"))
        .unwrap_or_else(|| panic!("a config-check annotation: {stdout}"));
    assert!(line.starts_with("::error file="), "{line}");
    assert!(
        line.contains("site%2Ca%3Ab.yaml,title=config-check::nginx rejects "),
        "{line}"
    );
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn unset_secret_is_a_warning_for_validate() {
    cli()
        .env_remove("FOOBAR_DB_PASSWORD")
        .args([
            "validate",
            "--format",
            "github",
            "-i",
            "examples/foobar.yaml",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "::warning file=examples/foobar.yaml,line=",
        ))
        .stdout(predicate::str::contains("FOOBAR_DB_PASSWORD"));
}

#[test]
fn missing_file_is_an_error_naming_it() {
    cli()
        .args(["validate", "-i", "examples/nope.yaml"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("examples/nope.yaml"));
}

#[test]
fn inventory_comes_from_the_environment_too() {
    cli()
        .env("FOOBAR_INFRA_INVENTORY", "examples/minimal.yaml")
        .arg("validate")
        .assert()
        .success()
        .stdout(predicate::str::contains("examples/minimal.yaml: valid"));
}

#[test]
fn help_documents_exit_codes() {
    cli()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("2    changes present"))
        .stdout(predicate::str::contains("130  interrupted"));
}

/// A usage error exits 1: 2 means "changes present" to a script running
/// `plan --detailed-exitcode`, so a mistyped option must not look like changes.
#[test]
fn usage_errors_exit_1_not_2() {
    cli()
        .args(["plan", "--detailed-exitcode", "--limt", "web-01"])
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicate::str::contains("unexpected argument '--limt'"));
    cli()
        .args(["validate"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("--inventory <FILE>"));
    cli()
        .arg("--version")
        .assert()
        .success()
        .stdout(predicate::str::starts_with("foobar-infra "));
}
