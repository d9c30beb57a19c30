//! The topology's JSON Schema: `foobar-infra schema` prints what the repository keeps in
//! schema/topology.schema.json, the README's key tables are generated from the same key table,
//! a real validator (the `jsonschema` crate, draft 2020-12) takes every example, inventory and
//! accepted edge case and refuses every invalid example whose problem JSON Schema can say, and
//! the examples and inventories name the schema for editors.
//!
//! After changing a key: `UPDATE_SCHEMA=1 cargo test --test cli schema` rewrites the schema file
//! and the README's tables; review and commit both.

use crate::support::{cli, load, root, stem, yaml_files};
use foobar_infra::topology::schema;
use serde_json::Value;
use std::path::Path;

const SCHEMA_FILE: &str = "schema/topology.schema.json";
const REGENERATE: &str = "run `UPDATE_SCHEMA=1 cargo test --test cli schema` and commit the result";

fn updating() -> bool {
    std::env::var_os("UPDATE_SCHEMA").is_some_and(|v| v == "1")
}

/// The files of examples/invalid/ whose problems only the semantic rules see (references between
/// sections, duplicates across hosts, secrets, roles without their section): the schema takes
/// them, `validate` does not.
const SEMANTIC: &[(&str, &str)] = &[
    ("backend-not-web", "a backend host without the web role"),
    ("db-client-unknown", "a database client that names no host"),
    (
        "dns-not-lb",
        "a record of the site that points at a web host",
    ),
    ("duplicate-address", "two hosts with one address"),
    ("port-clash", "two services on one port of one host"),
    ("secret-unset", "an unset password variable (a warning)"),
    ("unknown-host", "a backend that names no host"),
    (
        "unused-role",
        "a dns host without a dns section (a warning)",
    ),
];

/// The files of examples/invalid/ that are not YAML a validator can read: the parser refuses
/// them before any schema is applied.
const NOT_YAML: &[(&str, &str)] = &[
    ("duplicate-host", "a key twice in one mapping"),
    ("yaml-syntax", "a stray bracket"),
];

fn schema_json() -> Value {
    let text = std::fs::read_to_string(root().join(SCHEMA_FILE))
        .unwrap_or_else(|e| panic!("{SCHEMA_FILE}: {e}; {REGENERATE}"));
    serde_json::from_str(&text).expect("the schema file is JSON")
}

fn validator() -> jsonschema::Validator {
    jsonschema::draft202012::new(&schema_json()).expect("the schema compiles")
}

/// A topology as the validator sees it: YAML read into JSON.
fn as_json(path: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(path).expect("readable");
    serde_saphyr::from_str::<Value>(&text).map_err(|e| e.to_string())
}

/// The schema's complaints about a file, one line each.
fn complaints(v: &jsonschema::Validator, doc: &Value) -> Vec<String> {
    v.iter_errors(doc)
        .map(|e| format!("at {}: {e}", e.instance_path()))
        .collect()
}

#[test]
fn the_schema_file_is_what_schema_prints() {
    let out = cli().arg("schema").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = String::from_utf8(out.stdout).expect("UTF-8");
    let doc: Value = serde_json::from_str(&printed).expect("stdout is one JSON document");
    assert_eq!(
        doc["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    let path = root().join(SCHEMA_FILE);
    if updating() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &printed).unwrap();
    }
    let kept = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        kept == printed,
        "{SCHEMA_FILE} is not what `foobar-infra schema` prints: {REGENERATE}"
    );
}

/// The README's block of one section's table, between its markers.
fn block(name: &str) -> (String, String) {
    (
        format!("<!-- keys: {name} (generated from src/topology/load/keys/) -->\n"),
        "<!-- /keys -->".to_string(),
    )
}

#[test]
fn the_readme_tables_are_the_key_table() {
    let path = root().join("README.md");
    let mut readme = std::fs::read_to_string(&path).unwrap();
    let tables = schema::tables();
    assert!(tables.len() >= 9, "{} tables", tables.len());
    let mut stale = Vec::new();
    for (name, table) in &tables {
        let (start, end) = block(name);
        let Some(from) = readme.find(&start).map(|i| i + start.len()) else {
            panic!(
                "README.md has no `{}` block for the keys of {name}",
                start.trim()
            );
        };
        let to = from + readme[from..].find(&end).expect("the block's end marker");
        // Blank lines around the table, so that Markdown sees the markers as blocks of their own.
        let table = format!("\n{table}\n");
        if readme[from..to] != table {
            stale.push(*name);
            readme.replace_range(from..to, &table);
        }
    }
    // No block for a section that is gone.
    let named: Vec<&str> = readme
        .split("<!-- keys: ")
        .skip(1)
        .map(|rest| rest.split(' ').next().unwrap_or_default())
        .collect();
    for n in &named {
        assert!(
            tables.iter().any(|(name, _)| name == n),
            "README.md has a key table for `{n}`, which the key table does not have"
        );
    }
    if updating() {
        std::fs::write(&path, &readme).unwrap();
        return;
    }
    assert!(
        stale.is_empty(),
        "the README's key tables of {stale:?} differ from src/topology/load/keys/: {REGENERATE}"
    );
}

#[test]
fn examples_inventories_and_accepted_edges_validate() {
    let v = validator();
    let files: Vec<_> = ["examples", "inventories", "tests/hostile/accepted"]
        .iter()
        .flat_map(|dir| yaml_files(dir))
        .collect();
    assert!(files.len() >= 8, "{files:?}");
    for f in &files {
        let doc = as_json(f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let errors = complaints(&v, &doc);
        assert!(
            errors.is_empty(),
            "{} does not validate against {SCHEMA_FILE}:\n{}",
            f.display(),
            errors.join("\n")
        );
    }
}

#[test]
fn invalid_examples_fail_the_schema_unless_their_problem_is_semantic() {
    let v = validator();
    let files = yaml_files("examples/invalid");
    for (name, _) in SEMANTIC.iter().chain(NOT_YAML) {
        assert!(
            files.iter().any(|f| stem(f) == *name),
            "examples/invalid/{name}.yaml is listed here but gone"
        );
    }
    for f in &files {
        let name = stem(f);
        let shown = format!("examples/invalid/{name}.yaml");
        // Each one is a problem for `validate`.
        assert!(!load(&shown).problems.is_empty(), "{shown}");
        if let Some((_, why)) = NOT_YAML.iter().find(|(n, _)| *n == name) {
            assert!(as_json(f).is_err(), "{shown} ({why}) reads as YAML");
            continue;
        }
        let doc = as_json(f).unwrap_or_else(|e| panic!("{shown}: {e}"));
        let errors = complaints(&v, &doc);
        match SEMANTIC.iter().find(|(n, _)| *n == name) {
            Some((_, why)) => assert!(
                errors.is_empty(),
                "{shown} ({why}) is semantic, so the schema should take it:\n{}",
                errors.join("\n")
            ),
            None => assert!(
                !errors.is_empty(),
                "{shown} fails `validate` for a reason JSON Schema can say, yet the schema takes \
                 it (or, if its problem is semantic, list it in SEMANTIC)"
            ),
        }
    }
}

/// `# yaml-language-server: $schema=PATH` on the first line, PATH relative to the file.
#[test]
fn examples_and_inventories_name_the_schema() {
    let schema = root().join(SCHEMA_FILE).canonicalize().unwrap();
    let files: Vec<_> = ["examples", "inventories"]
        .iter()
        .flat_map(|dir| yaml_files(dir))
        .collect();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        let first = text.lines().next().unwrap_or_default();
        let named = first
            .strip_prefix("# yaml-language-server: $schema=")
            .unwrap_or_else(|| {
                panic!(
                    "{} does not start with `# yaml-language-server: $schema=...`",
                    f.display()
                )
            });
        let target = f.parent().unwrap().join(named);
        assert!(
            target.canonicalize().is_ok_and(|t| t == schema),
            "{}: `{named}` is not {SCHEMA_FILE} relative to the file",
            f.display()
        );
    }
}
