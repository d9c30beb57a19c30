//! Hostile topologies (tests/hostile/): every free-text value that could add lines or syntax to
//! a rendered file, leave its output folder or reach a command line is refused by `validate` at
//! its own position, and `render` writes nothing. Values at the edges of the grammars
//! (tests/hostile/accepted/) are accepted, rendered, and pass the real parsers.

use crate::support::{cli, load, root, stem, yaml_files};
use foobar_infra::check_configs::{self, Status};
use foobar_infra::render::{self, Secrets};
use std::path::Path;

const VALUE: &str = "topology::invalid-value";
const NAME: &str = "topology::invalid-name";

/// Each file of tests/hostile and the one error it plants: code, line, column.
const CASES: &[(&str, &str, u64, u64)] = &[
    ("app-name-user", VALUE, 10, 9),
    ("app-socket-long", VALUE, 10, 11),
    ("command-continuation", VALUE, 11, 12),
    ("command-dollar", VALUE, 11, 12),
    ("command-newline", VALUE, 11, 12),
    ("command-prefix", VALUE, 11, 12),
    ("command-second", VALUE, 11, 12),
    ("db-name-quote", NAME, 13, 9),
    ("db-name-reserved", VALUE, 13, 9),
    ("db-name-reserved-case", VALUE, 13, 9),
    ("db-user-long", NAME, 13, 9),
    ("db-user-quote", NAME, 13, 9),
    ("db-user-reserved", VALUE, 13, 9),
    ("document-root", VALUE, 10, 18),
    ("document-root-long", VALUE, 10, 18),
    ("env-cr", VALUE, 11, 15),
    ("env-newline", VALUE, 12, 7),
    ("env-nul", VALUE, 11, 15),
    ("env-tab", VALUE, 11, 15),
    ("group-name", NAME, 14, 5),
    ("health-hash", VALUE, 14, 11),
    ("health-query", VALUE, 13, 16),
    ("module-newline", VALUE, 10, 11),
    ("password-env", NAME, 13, 20),
    ("password-inline", VALUE, 13, 22),
    ("php-version-traversal", VALUE, 11, 16),
    ("record-name", NAME, 14, 15),
    ("route-prefix", VALUE, 16, 22),
    ("script-include", VALUE, 11, 11),
    ("script-location", VALUE, 11, 11),
    ("script-traversal", VALUE, 11, 11),
    ("server-name", NAME, 10, 18),
    ("ssh-jump-command", VALUE, 10, 9),
    ("ssh-known-hosts", VALUE, 10, 16),
    ("ssh-user", VALUE, 10, 9),
    ("static-directive", VALUE, 10, 22),
    ("static-root", VALUE, 10, 32),
    ("static-variable", VALUE, 10, 22),
    ("stats-socket", VALUE, 13, 17),
    ("user-newline", VALUE, 10, 9),
    ("user-root", VALUE, 10, 9),
    ("zone-long", NAME, 13, 9),
];

fn rel(path: &Path) -> String {
    path.strip_prefix(root()).unwrap().display().to_string()
}

#[test]
fn every_hostile_file_has_a_case() {
    let mut files: Vec<String> = yaml_files("tests/hostile")
        .iter()
        .map(|p| stem(p))
        .collect();
    let mut cases: Vec<&str> = CASES.iter().map(|c| c.0).collect();
    files.sort();
    cases.sort();
    assert_eq!(files, cases);
}

/// Exactly the planted error, at the value, with a help saying how to write one.
#[test]
fn validate_refuses_each_hostile_value_where_it_is() {
    for (file, code, line, column) in CASES {
        let path = format!("tests/hostile/{file}.yaml");
        let out = cli()
            .args(["validate", "--format", "json", "-i", &path])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{file} is refused");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let errors: Vec<&serde_json::Value> = v["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["severity"] == "error")
            .collect();
        assert_eq!(
            errors.len(),
            1,
            "{file}: exactly the planted error: {errors:#?}"
        );
        let e = errors[0];
        assert_eq!(e["code"], *code, "{file}: {e:#}");
        assert_eq!(
            (e["line"].as_u64().unwrap(), e["column"].as_u64().unwrap()),
            (*line, *column),
            "{file}: {e:#}"
        );
        let message = e["message"].as_str().unwrap();
        assert!(
            !message.contains('\n'),
            "{file}: one-line message: {message:?}"
        );
    }
}

/// `render` refuses too, and writes nothing: not in its output folder, not beside it.
#[test]
fn render_writes_nothing_for_a_hostile_file() {
    for path in yaml_files("tests/hostile") {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("a/b/out");
        cli()
            .args(["render", "-i", &rel(&path), "--out"])
            .arg(&out)
            .assert()
            .code(1);
        let written: Vec<_> = walkdir(tmp.path());
        assert!(written.is_empty(), "{}: wrote {written:?}", rel(&path));
    }
}

/// Every file and folder below `dir`.
fn walkdir(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                stack.push(p.clone());
            }
            out.push(p);
        }
    }
    out
}

/// What `validate` accepts, `render` renders, and the real parsers accept the files.
#[test]
fn values_at_the_edges_are_accepted_rendered_and_parsed() {
    let tera = render::templates::load(None).unwrap();
    for path in yaml_files("tests/hostile/accepted") {
        let rel = rel(&path);
        cli().args(["validate", "-i", &rel]).assert().success();
        let loaded = load(&rel);
        let t = loaded.topology.as_ref().unwrap();
        let desired = render::render(t, &loaded.source, &tera, &Secrets::redacted()).unwrap();
        let zone = render::zone_file(t, &tera).unwrap();
        for outcome in check_configs::run(&desired, zone.as_ref()).unwrap() {
            assert!(
                !matches!(outcome.status, Status::Failed(_)),
                "{rel}: {outcome:#?}"
            );
        }
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("out");
        cli()
            .args(["render", "-i", &rel, "--out"])
            .arg(&out)
            .assert()
            .success();
        for p in walkdir(tmp.path()) {
            assert!(p.starts_with(&out), "{rel}: {} outside --out", p.display());
        }
    }
}

fn rendered(example: &str, host: &str, file: &str) -> String {
    let loaded = load(&format!("tests/hostile/accepted/{example}.yaml"));
    let t = loaded.topology.as_ref().unwrap();
    let tera = render::templates::load(None).unwrap();
    let desired = render::render(t, &loaded.source, &tera, &Secrets::redacted()).unwrap();
    desired
        .host(host)
        .unwrap()
        .file(file)
        .unwrap()
        .content
        .clone()
}

/// The unit gets the command as written, `./` resolved and `%` doubled; nothing else changes.
#[test]
fn the_command_line_reaches_exec_start_whole() {
    let unit = rendered(
        "command",
        "web-01",
        "/etc/systemd/system/example-app.service",
    );
    let exec: Vec<&str> = unit.lines().filter(|l| l.starts_with("Exec")).collect();
    assert_eq!(
        exec,
        [
            "ExecStart=/srv/example/current/bin/server --name 'a b' --greeting \"hi there\" \
          --rate 50%% --x=a;b"
        ]
    );
}

/// Quotes, backslashes and `$` in environment values are escaped as systemd's EnvironmentFile
/// and php-fpm's `env[]` read them back.
#[test]
fn environment_values_are_escaped_for_the_env_file() {
    let env = rendered("gunicorn", "web-01", "/etc/example/app.env");
    let line = env.lines().find(|l| l.starts_with("QUOTES=")).unwrap();
    assert_eq!(
        line,
        r#"QUOTES="a \"double\" and 'single' \\ back \$HOME \${X} `cmd` é ; # = end\\""#
    );
}
