//! What the semantic checks may see outside the topology file.

use std::path::Path;

/// What the checks may look at outside the file: its folder and the environment.
pub struct Context<'a> {
    /// The folder relative paths in the topology are resolved against.
    pub base_dir: &'a Path,
    pub env: &'a dyn Fn(&str) -> Option<String>,
    /// The time certificates are checked at, in seconds since the Unix epoch.
    pub now: i64,
}
