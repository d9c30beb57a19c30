//! `render`: every file for every host under `--out DIR/<host>/<path>`, plus `manifest.json`.
//! Secrets are redacted: the files are for reading, not for deploying.

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
            )?;
            written += 1;
        }
        if h.database.is_some()
            && let Some(sql) = render::bootstrap_sql(&t, &tera, &Secrets::Redacted)?
        {
            write(&out.join(&h.name).join("bootstrap.sql"), &sql)?;
            written += 1;
        }
    }
    if let Some((name, text)) = render::zone_file(&t, &tera)? {
        write(&out.join("_dns").join(name), &text)?;
        written += 1;
    }
    let manifest = serde_json::to_string_pretty(&desired).unwrap_or_default();
    write(&out.join("manifest.json"), &(manifest + "\n"))?;
    match args.format {
        Format::Json => println!(
            "{}",
            serde_json::json!({ "out": out.display().to_string(), "hosts": desired.hosts.len(), "files": written, "manifest": out.join("manifest.json").display().to_string() })
        ),
        _ => println!(
            "Rendered {written} files for {} hosts into {} (manifest: {}).",
            desired.hosts.len(),
            out.display(),
            out.join("manifest.json").display()
        ),
    }
    Ok(ExitStatus::Success)
}

fn write(path: &Path, text: &str) -> Result<(), Error> {
    let err = |source| Error::Write {
        path: PathBuf::from(path),
        source,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(err)?;
    }
    std::fs::write(path, text).map_err(err)
}
