//! `completions SHELL`: the shell's completion script on stdout, generated from the command-line
//! definitions (clap_complete), so it knows every command and option of this version.

use crate::cli::{Cli, CompletionsArgs};
use crate::{Error, ExitStatus};
use clap::CommandFactory;

pub fn run(args: &CompletionsArgs) -> Result<ExitStatus, Error> {
    let mut command = Cli::command();
    let name = command.get_name().to_string();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, name, &mut script);
    super::print_bytes(&script)?;
    Ok(ExitStatus::Success)
}
