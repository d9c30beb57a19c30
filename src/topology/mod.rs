//! The topology file: YAML text -> span-carrying tree -> typed model -> semantic checks.

pub mod check;
pub mod decode;
pub mod load;
pub mod model;
pub mod node;

pub use crate::diagnostic::Span;
pub use decode::Sp;
pub use model::*;

use crate::diagnostic::Problem;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The topology's text, kept so diagnostics can quote it.
#[derive(Clone, Debug)]
pub struct Source {
    /// The file name as the user gave it.
    pub name: String,
    pub text: Arc<String>,
    /// Folder that relative paths in the topology are resolved against.
    pub base_dir: PathBuf,
}

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

/// Reads a topology file, or fails with an I/O error naming it.
pub fn read(path: &Path) -> Result<Source, crate::Error> {
    let text = std::fs::read_to_string(path).map_err(|e| crate::Error::Read {
        path: path.to_path_buf(),
        source: e,
    })?;
    let base_dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    Ok(Source {
        name: path.display().to_string(),
        text: Arc::new(text),
        base_dir,
    })
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
        };
        problems.extend(check::check(t, &ctx));
    }
    problems.sort_by_key(|p| p.span.map(|s| s.offset));
    Loaded {
        source,
        topology,
        problems,
    }
}

/// Expands a leading `~/` to the home folder, as ssh does for its own paths.
pub fn expand_home(path: &str) -> PathBuf {
    match (path.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => PathBuf::from(path),
    }
}
