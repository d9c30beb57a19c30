//! One file per subcommand, each with `run(args) -> Result<ExitStatus>`.

pub mod apply;
pub mod completions;
pub mod force_unlock;
pub mod graph;
pub mod init;
pub mod lab;
mod locks;
pub mod man;
pub mod plan;
pub mod promote;
pub mod render;
pub mod schema;
pub mod validate;
pub mod verify;

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
    let errors = loaded.problems.iter().filter(|p| p.is_error()).count();
    if errors > 0 {
        eprint!(
            "{}",
            report::human(
                &loaded.source,
                &loaded.problems,
                report::fancy(&std::io::stderr())
            )
        );
    } else {
        // Warnings do not stop these commands: one line each.
        let text = &loaded.source.text;
        let lines = crate::diagnostic::LineIndex::new(text);
        for w in &loaded.problems {
            let at = w.span.map_or(String::new(), |s| {
                let (l, c) = lines.line_col(text, s.offset);
                format!(" ({}:{l}:{c})", loaded.source.name)
            });
            crate::ui::warn(format_args!("{}{at}", w.message));
        }
    }
    match loaded.topology {
        Some(t) if errors == 0 => Ok((loaded.source, t)),
        _ => Err(crate::Error::Invalid {
            file: loaded.source.name.clone(),
            errors: errors.max(1),
        }),
    }
}

/// Loads and checks the topology, then resolves its secrets and renders it (plan, apply).
pub(crate) fn prepare(
    inventory: &std::path::Path,
    templates: Option<&std::path::Path>,
) -> Result<crate::fleet::Prepared, crate::Error> {
    let (source, topology) = require_valid(topology::load(topology::read(inventory)?, &|k| {
        std::env::var(k).ok()
    }))?;
    crate::fleet::prepare(source, topology, templates)
}

/// The async runtime for commands that talk to hosts.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, crate::Error> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| crate::Error::Usage(format!("cannot start the async runtime: {e}")))
}

/// Writes a file only its owner can read (plans hold host details).
pub(crate) fn write_private(path: &std::path::Path, text: &str) -> Result<(), crate::Error> {
    use std::io::Write;
    let err = |source| crate::Error::Write {
        path: path.to_path_buf(),
        source,
    };
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).map_err(err)?;
    // An existing file keeps its mode when opened: make it private too.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        f.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(err)?;
    }
    f.write_all(text.as_bytes()).map_err(err)?;
    f.write_all(b"\n").map_err(err)
}

/// Writes data to stdout as it is; a reader that closed the pipe early (`| head`) ends the output
/// without an error.
pub(crate) fn print_bytes(bytes: &[u8]) -> Result<(), crate::Error> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        result => result.map_err(|e| crate::Error::Usage(format!("cannot write to stdout: {e}"))),
    }
}
