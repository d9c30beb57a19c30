//! One file per subcommand, each with `run(args) -> Result<ExitStatus>`.

pub mod lab;
pub mod render;
pub mod validate;

use crate::topology::{self, Loaded, Topology};
use crate::ui::report;

/// Reads and checks the topology named by `args`.
pub(crate) fn load(args: &crate::cli::TopologyArgs) -> Result<Loaded, crate::Error> {
    let source = topology::read(&args.inventory)?;
    Ok(topology::load(source, &|k| std::env::var(k).ok()))
}

/// For commands other than `validate`: the topology if it has no errors. Its problems (warnings
/// included) are logged on stderr; errors end the command.
pub(crate) fn require_valid(loaded: Loaded) -> Result<(topology::Source, Topology), crate::Error> {
    if !loaded.problems.is_empty() {
        eprint!(
            "{}",
            report::human(
                &loaded.source,
                &loaded.problems,
                report::fancy(&std::io::stderr())
            )
        );
    }
    let errors = loaded.problems.iter().filter(|p| p.is_error()).count();
    match loaded.topology {
        Some(t) if errors == 0 => Ok((loaded.source, t)),
        _ => Err(crate::Error::Invalid {
            file: loaded.source.name.clone(),
            errors: errors.max(1),
        }),
    }
}
