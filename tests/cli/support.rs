//! Shared helpers: the binary with a clean environment, example paths, in-process loading.

use assert_cmd::Command;
use foobar_infra::topology::{self, Loaded};
use std::path::{Path, PathBuf};

pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The TSIG secret the tests give the examples (base64 of 32 bytes, as tsig-keygen prints).
pub const TSIG_SECRET: &str = "dGVzdC1vbmx5LXRzaWctc2VjcmV0LW9mLTMyLWJ5dGVz";

/// The CLI, run from the repository root with a predictable environment.
pub fn cli() -> Command {
    let mut cmd = Command::cargo_bin("foobar-infra").expect("binary built");
    cmd.current_dir(root())
        .env_remove("FOOBAR_INFRA_INVENTORY")
        .env_remove("FOOBAR_INFRA_EXAMPLE_UNSET_PASSWORD")
        .env("FOOBAR_DB_PASSWORD", "test-only-password")
        .env("FOOBAR_TSIG_SECRET", TSIG_SECRET)
        .env("NO_COLOR", "1");
    cmd
}

/// Every `*.yaml` in a folder of the repository, sorted.
pub fn yaml_files(dir: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join(dir))
        .expect("folder exists")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

/// Loads a topology in-process, with the test password set.
pub fn load(rel: &str) -> Loaded {
    let source = topology::read(&root().join(rel)).expect("readable");
    topology::load(source, &|k| match k {
        "FOOBAR_DB_PASSWORD" => Some("test-only-password".to_string()),
        "FOOBAR_TSIG_SECRET" => Some(TSIG_SECRET.to_string()),
        _ => None,
    })
}

pub fn stem(p: &Path) -> String {
    p.file_stem().unwrap().to_string_lossy().into_owned()
}

/// A home folder as `lab up` leaves it on a machine that never ran the lab before: the lab's
/// state folder with its CA and a site certificate for inventories/lab.yaml's names, made by
/// the lab's own code. inventories/lab.yaml names them as `~/.local/state/foobar-infra/lab/tls/...`.
pub fn lab_home() -> tempfile::TempDir {
    use foobar_infra::lab::{self, ca};
    let home = tempfile::tempdir().unwrap();
    let loaded = load("inventories/lab.yaml");
    let names = lab::site_names(loaded.topology.as_ref().expect("lab.yaml parses"));
    let files = ca::LabTls::in_dir(&home.path().join(".local/state/foobar-infra/lab"));
    assert_eq!(ca::ensure(&files, &names).unwrap(), ca::Issued::New);
    home
}

/// Loads a topology in-process as with `HOME=home`: its `~/` paths are the ones under `home`
/// (what `~/` expansion gives with that home folder; this process's own stays as it is).
pub fn load_at_home(rel: &str, home: &Path) -> Loaded {
    let mut source = topology::read(&root().join(rel)).expect("readable");
    let text = source
        .text
        .replace(": ~/", &format!(": {}/", home.display()));
    source.text = std::sync::Arc::new(text);
    topology::load(source, &|k| match k {
        "FOOBAR_DB_PASSWORD" => Some("test-only-password".to_string()),
        "FOOBAR_TSIG_SECRET" => Some(TSIG_SECRET.to_string()),
        _ => None,
    })
}
