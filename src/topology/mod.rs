//! The topology file: YAML text -> span-carrying tree -> typed model -> semantic checks.

pub mod check;
pub mod decode;
mod failover;
pub mod load;
pub mod model;
pub mod node;
mod replication;
pub mod schema;
mod source;
pub mod starter;
mod tsig;

pub use crate::diagnostic::Span;
pub use decode::Sp;
pub use model::*;
pub use source::{MAX_TOPOLOGY_BYTES, Source, read};

use crate::diagnostic::Problem;
use std::path::{Path, PathBuf};

/// The result of reading a topology: the model if it could be built, and every problem found.
pub struct Loaded {
    pub source: Source,
    pub topology: Option<Topology>,
    pub problems: Vec<Problem>,
}

impl Loaded {
    pub fn has_errors(&self) -> bool {
        self.problems.iter().any(Problem::is_error)
    }
}

/// Parses, decodes and checks a topology; `env` looks up environment variables.
pub fn load(source: Source, env: &dyn Fn(&str) -> Option<String>) -> Loaded {
    let text = source.text.clone();
    let root = match node::parse(&text) {
        Ok(root) => root,
        Err(e) => {
            let problem = if let Some(key) = e.message.strip_prefix("duplicate mapping key: ") {
                let key = key.split(',').next().unwrap_or(key);
                Problem::error(
                    "topology::duplicate-key",
                    e.span,
                    format!("`{key}` is defined twice in the same mapping"),
                )
                .label("defined again here")
                .help(
                    "each host name and each key may appear once; rename or merge the two entries",
                )
            } else {
                Problem::error(
                    "topology::yaml-syntax",
                    e.span,
                    format!("YAML syntax error: {}", e.message),
                )
                .label(e.message.clone())
                .help("fix the YAML syntax here; the topology is checked once it parses")
            };
            return Loaded {
                source,
                topology: None,
                problems: vec![problem],
            };
        }
    };
    let mut d = decode::Decoder::new(&text);
    let topology = load::decode(&root, &mut d);
    let mut problems = d.problems;
    if let Some(t) = &topology {
        let ctx = check::Context {
            base_dir: &source.base_dir,
            env,
            now: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64),
        };
        problems.extend(check::check(t, &ctx));
    }
    // Advice on a topology's posture waits until it is valid: errors come first.
    if problems.iter().any(|p| p.is_error()) {
        problems.retain(|p| p.code != check::SSH_FROM_EVERYWHERE);
    }
    problems.sort_by_key(|p| p.span.map(|s| s.offset));
    Loaded {
        source,
        topology,
        problems,
    }
}

/// Loads a topology from text, as `test.yaml` in the current folder with no environment: for
/// tests.
#[cfg(test)]
pub fn load_text(text: &str) -> Loaded {
    let source = Source {
        name: "test.yaml".into(),
        text: std::sync::Arc::new(text.to_string()),
        base_dir: ".".into(),
    };
    load(source, &|_| None)
}

/// A local path the topology names: relative to its folder, `~/` the home folder.
pub fn local_path(base_dir: &Path, path: &str) -> PathBuf {
    base_dir.join(expand_home(path))
}

/// Expands a leading `~/` to the home folder, as ssh does for its own paths.
pub fn expand_home(path: &str) -> PathBuf {
    match (path.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => PathBuf::from(path),
    }
}
