//! `man [--out DIR]`: the man page (roff, clap_mangen) generated from the command-line
//! definitions: the main page on stdout, or a page per command written into a folder.

use crate::cli::{Cli, ManArgs};
use crate::{Error, ExitStatus, ui};
use clap::CommandFactory;

pub fn run(args: &ManArgs) -> Result<ExitStatus, Error> {
    let pages = pages()?;
    let Some(out) = &args.out else {
        // The main page comes first.
        return match pages.first() {
            Some((_, roff)) => super::print_bytes(roff).map(|()| ExitStatus::Success),
            None => Err(Error::Usage("no man page was generated".into())),
        };
    };
    std::fs::create_dir_all(out).map_err(|source| Error::Write {
        path: out.clone(),
        source,
    })?;
    for (file, roff) in &pages {
        let path = out.join(file);
        std::fs::write(&path, roff).map_err(|source| Error::Write { path, source })?;
    }
    ui::info(format_args!(
        "Wrote {} man pages into {}: foobar-infra.1 and one per command.",
        pages.len(),
        out.display()
    ));
    Ok(ExitStatus::Success)
}

/// Every page: `foobar-infra.1` first, then one per command and subcommand
/// (`foobar-infra-lab-up.1`), as their file names and roff text.
fn pages() -> Result<Vec<(String, Vec<u8>)>, Error> {
    let mut command = Cli::command().disable_help_subcommand(true);
    // Builds the subcommands' display names (`foobar-infra-lab-up`) that name their pages.
    command.build();
    let mut pages = Vec::new();
    add_pages(command, &mut pages)?;
    Ok(pages)
}

fn add_pages(command: clap::Command, pages: &mut Vec<(String, Vec<u8>)>) -> Result<(), Error> {
    let man = clap_mangen::Man::new(command.clone());
    let mut roff = Vec::new();
    man.render(&mut roff)
        .map_err(|e| Error::Usage(format!("cannot render the man page: {e}")))?;
    pages.push((man.get_filename(), roff));
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        add_pages(sub.clone(), pages)?;
    }
    Ok(())
}
