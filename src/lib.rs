//! foobar-infra: one YAML topology of a web stack (HAProxy -> Nginx + app servers -> MariaDB/MySQL,
//! DNS) rendered into configs and checked by the real parsers.

pub mod apply;
pub mod certificate;
pub mod check_configs;
pub mod cli;
pub mod commands;
pub mod desired;
pub mod diagnostic;
pub mod dns;
mod error;
pub mod firewall;
pub mod fleet;
pub mod graph;
pub mod input_file;
pub mod lab;
pub mod line_index;
pub mod net;
pub mod observe;
pub mod plan;
pub mod release;
pub mod remote;
pub mod render;
pub mod replication;
pub mod safe_write;
pub mod secret;
pub mod sql;
pub mod topology;
pub mod transport;
pub mod ui;
pub mod verify;

pub use error::Error;

/// How a command ended; the process exit code follows from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// 0: success, or no changes.
    Success,
    /// 1: an error, or an invalid topology.
    Error,
    /// 2: changes are present (`plan --detailed-exitcode`).
    Changes,
    /// 130: interrupted.
    Interrupted,
}

impl From<ExitStatus> for std::process::ExitCode {
    fn from(s: ExitStatus) -> Self {
        std::process::ExitCode::from(match s {
            ExitStatus::Success => 0,
            ExitStatus::Error => 1,
            ExitStatus::Changes => 2,
            ExitStatus::Interrupted => 130,
        })
    }
}

/// Runs one command, with the output settings (`--color`, `--quiet`, `NO_COLOR`) resolved first.
pub fn run(cli: cli::Cli) -> Result<ExitStatus, Error> {
    ui::output::init(ui::output::Output::resolve(
        cli.global.color,
        cli.global.quiet,
        std::env::var_os("NO_COLOR").as_deref(),
    ));
    match cli.command {
        cli::Command::Init(args) => commands::init::run(&args),
        cli::Command::Validate(args) => commands::validate::run(&args),
        cli::Command::Render(args) => commands::render::run(&args),
        cli::Command::Lab(args) => commands::lab::run(&args),
        cli::Command::Plan(args) => commands::plan::run(&args),
        cli::Command::Apply(args) => commands::apply::run(&args),
        cli::Command::Promote(args) => commands::promote::run(&args),
        cli::Command::ForceUnlock(args) => commands::force_unlock::run(&args),
        cli::Command::Verify(args) => commands::verify::run(&args),
        cli::Command::Completions(args) => commands::completions::run(&args),
        cli::Command::Man(args) => commands::man::run(&args),
        cli::Command::Graph(args) => commands::graph::run(&args),
        cli::Command::Schema => commands::schema::run(),
    }
}
