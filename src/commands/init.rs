//! `init [DIR]`: a starter topology, its database password in `secrets/` and a `.gitignore` that
//! keeps the password out of git. Nothing that exists is overwritten: an existing topology stops
//! `init` before anything is written, an existing password file is kept, and an existing
//! `.gitignore` gets the line it lacks appended.

use crate::cli::{INIT_TOPOLOGY, InitArgs};
use crate::topology::load::grammar;
use crate::topology::starter::{self, Starter};
use crate::topology::{self, Source};
use crate::ui::{self, report};
use crate::{Error, ExitStatus};
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

/// The largest `.gitignore` read before appending to it.
const MAX_GITIGNORE_BYTES: u64 = 1024 * 1024;

pub fn run(args: &InitArgs) -> Result<ExitStatus, Error> {
    if let Err(why) = grammar::dns_name(&args.domain, false) {
        return Err(Error::Usage(format!(
            "--domain `{}` is not a DNS name ({why}): write it like example.com",
            grammar::shown(&args.domain)
        )));
    }
    let starter = Starter {
        domain: args.domain.clone(),
        web: args.web,
        engine: args.db,
        app: args.app,
    };
    let dir = &args.dir;
    let topology_path = dir.join(INIT_TOPOLOGY);
    let password_path = dir.join(starter::PASSWORD_FILE);
    let gitignore_path = dir.join(".gitignore");
    let text = starter::topology(&starter);
    // What init writes, validate accepts: the text goes through the loader first.
    let loaded = topology::load(
        Source {
            name: format!("{} (not written)", topology_path.display()),
            text: Arc::new(text.clone()),
            base_dir: dir.clone(),
        },
        &|_| None,
    );
    if loaded.has_errors() {
        // Only the errors: the password file is not written yet, which is no news.
        let errors: Vec<_> = loaded
            .problems
            .into_iter()
            .filter(|p| p.is_error())
            .collect();
        eprint!(
            "{}",
            report::human(&loaded.source, &errors, report::fancy(&std::io::stderr()))
        );
        return Err(Error::Usage(format!(
            "the starter topology for --domain {} does not validate (above): choose another domain",
            args.domain
        )));
    }

    // Everything is looked at before anything is written.
    if let Ok(m) = std::fs::metadata(dir)
        && !m.is_dir()
    {
        return Err(Error::Usage(format!(
            "{} is not a folder: give init a folder to write into",
            dir.display()
        )));
    }
    if std::fs::symlink_metadata(&topology_path).is_ok() {
        return Err(Error::Exists {
            path: topology_path,
        });
    }
    let gitignore = match crate::input_file::read_text(&gitignore_path, MAX_GITIGNORE_BYTES) {
        Ok(text) => Some(text),
        Err(crate::input_file::ReadError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => {
            None
        }
        Err(e) => {
            return Err(Error::Usage(format!(
                "cannot add to {}: {e}",
                gitignore_path.display()
            )));
        }
    };
    let keep_password = std::fs::symlink_metadata(&password_path).is_ok();

    std::fs::create_dir_all(dir).map_err(|source| Error::Write {
        path: dir.clone(),
        source,
    })?;
    // The ignore first: the password never sits in a folder git would take.
    let gitignore_note = match gitignore {
        None => {
            create_new(&gitignore_path, starter::gitignore().as_bytes(), 0o644)?;
            format!(
                "Wrote {}: git ignores {}.",
                gitignore_path.display(),
                starter::GITIGNORE_LINE
            )
        }
        Some(text) if starter::ignores_secrets(&text) => format!(
            "Kept {}: it ignores {} already.",
            gitignore_path.display(),
            starter::GITIGNORE_LINE
        ),
        Some(text) => {
            let separator = if text.is_empty() || text.ends_with('\n') {
                "\n"
            } else {
                "\n\n"
            };
            append(
                &gitignore_path,
                &format!("{separator}{}", starter::gitignore()),
            )?;
            format!(
                "Added {} to {}.",
                starter::GITIGNORE_LINE,
                gitignore_path.display()
            )
        }
    };
    let password_note = if keep_password {
        format!(
            "Kept {}: the database password there is used as it is.",
            password_path.display()
        )
    } else {
        write_password(&password_path)?;
        format!(
            "Wrote {}: a random database password (mode 0600).",
            password_path.display()
        )
    };
    create_new(&topology_path, text.as_bytes(), 0o644)?;
    ui::info(format_args!(
        "Wrote {}: {}.",
        topology_path.display(),
        starter::summary(&starter)
    ));
    ui::info(password_note);
    ui::info(gitignore_note);
    ui::info(format_args!(
        "Next: replace the values marked CHANGE, then run `foobar-infra validate -i {}`.",
        topology_path.display()
    ));
    Ok(ExitStatus::Success)
}

/// A random password of 32 hexadecimal digits (128 bits) in a new file only its owner reads,
/// in a folder only its owner enters.
fn write_password(path: &Path) -> Result<(), Error> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| {
        Error::Usage(format!(
            "cannot draw random bytes for the database password: {e}"
        ))
    })?;
    if let Some(folder) = path.parent() {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            builder.mode(0o700);
        }
        builder.create(folder).map_err(|source| Error::Write {
            path: folder.to_path_buf(),
            source,
        })?;
    }
    create_new(path, format!("{}\n", hex::encode(bytes)).as_bytes(), 0o600)
}

/// Writes a file that must not exist yet: if one appeared since it was looked for, it is left
/// alone and init stops.
fn create_new(path: &Path, bytes: &[u8], mode: u32) -> Result<(), Error> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut file = options.open(path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::AlreadyExists {
            Error::Exists {
                path: path.to_path_buf(),
            }
        } else {
            Error::Write {
                path: path.to_path_buf(),
                source,
            }
        }
    })?;
    file.write_all(bytes).map_err(|source| Error::Write {
        path: path.to_path_buf(),
        source,
    })
}

fn append(path: &Path, text: &str) -> Result<(), Error> {
    let err = |source| Error::Write {
        path: path.to_path_buf(),
        source,
    };
    std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .map_err(err)?
        .write_all(text.as_bytes())
        .map_err(err)
}
