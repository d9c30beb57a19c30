//! Output discipline: data on stdout, status and warnings on stderr; `--quiet` silences status and
//! warnings but never data or errors; `--color` and `NO_COLOR` decide the escape codes, also on
//! a terminal (a pseudo-terminal from util-linux `script`).

use crate::support::{cli, root};
use predicates::prelude::*;

const ESC: &str = "\x1b[";

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A topology with a warning (its password variable is unset) and nothing wrong.
const WARNED: &str = "examples/foobar.yaml";

#[test]
fn quiet_silences_status_and_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let loud = cli()
        .env_remove("FOOBAR_DB_PASSWORD")
        .env_remove("FOOBAR_TSIG_SECRET")
        .args(["render", "-i", WARNED, "--out"])
        .arg(dir.path().join("loud"))
        .output()
        .unwrap();
    assert!(loud.status.success());
    assert_eq!(text(&loud.stdout), "");
    let stderr = text(&loud.stderr);
    assert!(stderr.contains("warning: environment variable `FOOBAR_DB_PASSWORD`"));
    assert!(stderr.contains("Rendered 35 files for 6 hosts"), "{stderr}");

    for quiet in ["-q", "--quiet"] {
        let out = dir.path().join(format!("quiet{quiet}"));
        cli()
            .env_remove("FOOBAR_DB_PASSWORD")
            .env_remove("FOOBAR_TSIG_SECRET")
            .args(["render", quiet, "-i", WARNED, "--out"])
            .arg(&out)
            .assert()
            .success()
            .stdout("")
            .stderr("");
        assert!(out.join("manifest.json").is_file(), "the work is done");
    }
    // Before the command name too: the flag is global.
    cli()
        .args(["-q", "init"])
        .arg(dir.path().join("site"))
        .assert()
        .success()
        .stdout("")
        .stderr("");
}

#[test]
fn quiet_keeps_data_and_errors() {
    let dir = tempfile::tempdir().unwrap();
    // Data: the JSON summary, and validate's report (warnings included: they are its data).
    let out = cli()
        .env_remove("FOOBAR_DB_PASSWORD")
        .env_remove("FOOBAR_TSIG_SECRET")
        .args(["render", "-q", "--format", "json", "-i", WARNED, "--out"])
        .arg(dir.path().join("json"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["files"], 35);
    assert_eq!(text(&out.stderr), "");
    cli()
        .env_remove("FOOBAR_DB_PASSWORD")
        .env_remove("FOOBAR_TSIG_SECRET")
        .args(["validate", "--quiet", "-i", WARNED])
        .assert()
        .success()
        .stdout(predicate::str::contains("FOOBAR_DB_PASSWORD"))
        .stdout(predicate::str::contains("valid (2 warnings)"));
    cli()
        .args(["validate", "-q", "-i", "examples/invalid/unknown-key.yaml"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("unknown key `algoritm`"));
    // Errors: the topology's problems and the error that ends the command.
    cli()
        .args([
            "render",
            "-q",
            "-i",
            "examples/invalid/unknown-key.yaml",
            "--out",
        ])
        .arg(dir.path().join("bad"))
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicate::str::contains("unknown key `algoritm`"))
        .stderr(predicate::str::contains("is not a valid topology"));
    cli()
        .args(["render", "-q", "-i", "no/such.yaml", "--out"])
        .arg(dir.path().join("missing"))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("cannot read no/such.yaml"));
}

/// Runs the CLI with stdout and stderr on one pseudo-terminal; returns what it wrote there.
fn on_terminal(args: &[&str], color_env: Option<&str>) -> String {
    let quote = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
    let line: Vec<String> = std::iter::once(env!("CARGO_BIN_EXE_foobar-infra"))
        .chain(args.iter().copied())
        .map(quote)
        .collect();
    let mut script = std::process::Command::new("script");
    script
        .args(["-qec", &line.join(" "), "/dev/null"])
        .current_dir(root())
        .env_remove("NO_COLOR")
        .env("TERM", "xterm")
        .env_remove("FOOBAR_INFRA_INVENTORY");
    if let Some(value) = color_env {
        script.env("NO_COLOR", value);
    }
    let out = script
        .output()
        .expect("util-linux `script` (scripts/setup installs it)");
    text(&out.stdout)
}

const INVALID: [&str; 3] = ["validate", "-i", "examples/invalid/unknown-key.yaml"];

#[test]
fn a_terminal_gets_colours_unless_told_otherwise() {
    let auto = on_terminal(&INVALID, None);
    assert!(auto.contains("unknown key `algoritm`"), "{auto}");
    assert!(auto.contains(ESC), "a terminal gets colours: {auto}");
    let empty = on_terminal(&INVALID, Some(""));
    assert!(
        empty.contains(ESC),
        "an empty NO_COLOR counts as unset: {empty}"
    );

    let no_color = on_terminal(&INVALID, Some("1"));
    assert!(no_color.contains("unknown key `algoritm`"), "{no_color}");
    assert!(!no_color.contains(ESC), "NO_COLOR: {no_color:?}");
    for never in [
        ["--color", "never"].as_slice(),
        ["--color=never"].as_slice(),
    ] {
        let args: Vec<&str> = INVALID
            .iter()
            .copied()
            .chain(never.iter().copied())
            .collect();
        let out = on_terminal(&args, None);
        assert!(out.contains("unknown key `algoritm`"), "{out}");
        assert!(!out.contains(ESC), "{never:?}: {out:?}");
    }
    // Errors on stderr follow it too.
    let error = on_terminal(
        &[
            "--color",
            "never",
            "render",
            "-i",
            "no/such.yaml",
            "-o",
            "x",
        ],
        None,
    );
    assert!(error.contains("cannot read no/such.yaml"), "{error}");
    assert!(!error.contains(ESC), "{error:?}");
}

#[test]
fn color_always_colours_pipes_despite_no_color() {
    // `cli()` sets NO_COLOR and its output is a pipe: only --color always colours it.
    let plain = cli().args(INVALID).output().unwrap();
    assert!(!text(&plain.stdout).contains(ESC));
    let always = cli()
        .args(INVALID)
        .args(["--color", "always"])
        .output()
        .unwrap();
    assert_eq!(always.status.code(), Some(1));
    let stdout = text(&always.stdout);
    assert!(stdout.contains(ESC), "{stdout:?}");
    assert!(stdout.contains("unknown key `algoritm`"), "{stdout}");
    // On stderr: the warning's prefix and an error.
    let dir = tempfile::tempdir().unwrap();
    let warned = cli()
        .env_remove("FOOBAR_DB_PASSWORD")
        .env_remove("FOOBAR_TSIG_SECRET")
        .args(["--color", "always", "render", "-i", WARNED, "--out"])
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    assert!(
        text(&warned.stderr).contains("\x1b[33mwarning\x1b[0m: "),
        "{warned:?}"
    );
    let error = cli()
        .args([
            "--color",
            "always",
            "render",
            "-i",
            "no/such.yaml",
            "-o",
            "x",
        ])
        .output()
        .unwrap();
    assert!(text(&error.stderr).contains(ESC), "{error:?}");
    assert!(text(&error.stderr).contains("cannot read no/such.yaml"));
    cli()
        .args(["--color", "sometimes", "validate", "-i", WARNED])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("possible values"));
}
