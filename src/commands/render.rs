//! `render`: every file for every host under `--out DIR/<host>/<path>`, plus `manifest.json`.
//! Secrets are redacted: the files are for reading, not for deploying. Each file gets the mode
//! the host would give it, so a sensitive file is no more readable here than there.

use crate::cli::RenderArgs;
use crate::render::{self, Secrets};
use crate::ui::report::Format;
use crate::{Error, ExitStatus, commands};
use std::path::{Path, PathBuf};

pub fn run(args: &RenderArgs) -> Result<ExitStatus, Error> {
    let (source, t) = commands::require_valid(commands::load(&args.topology)?)?;
    let tera = render::templates::load(args.topology.templates.as_deref())
        .map_err(render::RenderError::from)?;
    let desired = render::render(&t, &source, &tera, &Secrets::Redacted)?;
    let out = &args.out;
    let mut written = 0usize;
    for h in &desired.hosts {
        for f in &h.files {
            write(
                &out.join(&h.name).join(f.path.trim_start_matches('/')),
                &f.content,
                f.mode,
            )?;
            written += 1;
        }
        if h.database.is_some()
            && let Some(sql) = render::bootstrap_sql(&t, &tera, &Secrets::Redacted)?
        {
            // It creates users with passwords (redacted here): private, like a secret would be.
            write(&out.join(&h.name).join("bootstrap.sql"), &sql, 0o600)?;
            written += 1;
        }
    }
    if let Some((name, text)) = render::zone_file(&t, &tera)? {
        write(&out.join("_dns").join(name), &text, 0o644)?;
        written += 1;
    }
    let manifest = serde_json::to_string_pretty(&desired).unwrap_or_default();
    write(&out.join("manifest.json"), &(manifest + "\n"), 0o644)?;
    match args.format {
        Format::Json => println!(
            "{}",
            serde_json::json!({ "out": out.display().to_string(), "hosts": desired.hosts.len(), "files": written, "manifest": out.join("manifest.json").display().to_string() })
        ),
        _ => println!(
            "Rendered {} for {} into {} (manifest: {}).",
            plural(written, "file"),
            plural(desired.hosts.len(), "host"),
            out.display(),
            out.join("manifest.json").display()
        ),
    }
    Ok(ExitStatus::Success)
}

fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

/// Writes `text` with unix permissions `mode`, also when the file is already there from an
/// earlier render: the mode is set before the new content goes in.
fn write(path: &Path, text: &str, mode: u32) -> Result<(), Error> {
    use std::io::Write;
    let err = |source| Error::Write {
        path: PathBuf::from(path),
        source,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(err)?;
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(mode);
    }
    let mut file = opts.open(path).map_err(err)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(mode))
            .map_err(err)?;
    }
    #[cfg(not(unix))]
    let _ = mode;
    file.write_all(text.as_bytes()).map_err(err)
}
