//! Command-line definitions. Doc comments here are the `--help` text.

use crate::ui::report::Format;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

const AFTER_HELP: &str = "\
Exit codes:
  0    success (valid topology, no changes)
  1    error (invalid topology, failed command)
  2    changes present (plan --detailed-exitcode)
  130  interrupted

Environment:
  FOOBAR_INFRA_INVENTORY  default for -i/--inventory
  NO_COLOR                plain, narrated output instead of graphics";

/// Render, check and deploy a HAProxy -> Nginx + app server -> MariaDB/MySQL web stack from one
/// YAML topology.
#[derive(Debug, Parser)]
#[command(name = "foobar-infra", version, after_help = AFTER_HELP)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check a topology: schema, references, addresses, ports, DNS, secrets. Reports every problem
    /// with file:line:column; `--check-configs` also runs haproxy, nginx and mariadbd on the
    /// rendered files.
    Validate(ValidateArgs),
    /// Write every file for every host to `--out DIR/<host>/<path>`, with a manifest.json of each
    /// host's packages, files, services and what reloads what.
    Render(RenderArgs),
}

#[derive(Debug, Args)]
pub struct TopologyArgs {
    /// The topology (inventory) file.
    #[arg(
        short = 'i',
        long = "inventory",
        env = "FOOBAR_INFRA_INVENTORY",
        value_name = "FILE"
    )]
    pub inventory: PathBuf,
    /// A folder of template overrides: a file there replaces the embedded template of the same
    /// relative name (e.g. nginx/site.conf.tera).
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub topology: TopologyArgs,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
    /// Also render the configs and check them with the real parsers where installed
    /// (haproxy -c, nginx -t, mariadbd --help --verbose).
    #[arg(long)]
    pub check_configs: bool,
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    #[command(flatten)]
    pub topology: TopologyArgs,
    /// Folder to write into (created if missing).
    #[arg(long, short = 'o', value_name = "DIR")]
    pub out: PathBuf,
    /// Output format of the summary on stdout.
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
}
