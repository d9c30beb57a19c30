//! `render`: every file for every host under `--out DIR/<host>/<path>`, plus `manifest.json`.
//! Secrets are redacted: the files are for reading, not for deploying. Each file gets the mode
//! the host would give it, so a sensitive file is no more readable here than there.
//!
//! The rendered paths come from the topology (untrusted input) and `--out` may hold anything
//! already: `--out` is checked first (`check_out`), and every file is written by
//! `safe_write::Tree`, which never follows a symbolic link or leaves the folder.

use crate::cli::RenderArgs;
use crate::render::{self, Secrets};
use crate::safe_write::Tree;
use crate::ui::report::Format;
use crate::{Error, ExitStatus, commands};
use std::path::{Path, PathBuf};

pub fn run(args: &RenderArgs) -> Result<ExitStatus, Error> {
    let (source, t) = commands::require_valid(commands::load(&args.topology)?)?;
    let tera = render::templates::load(args.topology.templates.as_deref())
        .map_err(render::RenderError::from)?;
    let desired = render::render(&t, &source, &tera, &Secrets::redacted())?;
    // Everything is rendered before anything is written: a template error leaves --out as it was.
    let mut extra: Vec<([String; 2], String, u32)> = Vec::new();
    for h in &desired.hosts {
        if let Some(db) = &h.database {
            // It creates users with passwords (redacted here): private, like a secret would be.
            let sql = db.bootstrap.expose().to_string();
            extra.push(([h.name.clone(), "bootstrap.sql".into()], sql, 0o600));
        }
    }
    if let Some((name, text)) = render::zone_file(&t, &tera)? {
        extra.push((["_dns".into(), name], text, 0o644));
    }
    let manifest = serde_json::to_string_pretty(&desired).unwrap_or_default() + "\n";
    let out = &args.out;
    let tree = check_out(out)?;
    let mut written = 0usize;
    for h in &desired.hosts {
        for f in &h.files {
            tree.write(&[&h.name, &f.path], f.content.as_bytes(), f.mode)?;
            written += 1;
        }
    }
    for ([dir, name], text, mode) in &extra {
        tree.write(&[dir, name], text.as_bytes(), *mode)?;
        written += 1;
    }
    // Last: a folder with a manifest is a finished render (see `check_out`).
    tree.write(&["manifest.json"], manifest.as_bytes(), 0o644)?;
    match args.format {
        Format::Json => println!(
            "{}",
            serde_json::json!({ "out": out.display().to_string(), "hosts": desired.hosts.len(), "files": written, "manifest": out.join("manifest.json").display().to_string() })
        ),
        _ => crate::ui::info(format_args!(
            "Rendered {} for {} into {} (manifest: {}).",
            plural(written, "file"),
            plural(desired.hosts.len(), "host"),
            out.display(),
            out.join("manifest.json").display()
        )),
    }
    Ok(ExitStatus::Success)
}

fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

/// Checks `--out` and opens it, creating it (and its parents) when missing. Refused: a root
/// (`/`), a top-level folder (`/etc`, `/tmp`, `/home`...), the home folder or a folder under
/// `/etc`, `/boot`, `/dev`, `/proc` or `/sys`, wherever the path leads; a symbolic link; something
/// that is not a folder; a folder that holds files but no `manifest.json` of an earlier render.
fn check_out(out: &Path) -> Result<Tree, Error> {
    let refuse = |reason: String, help: &str| Error::UnsafeOut {
        path: out.to_path_buf(),
        reason,
        help: help.to_string(),
    };
    let write_err = |source| Error::Write {
        path: out.to_path_buf(),
        source,
    };
    let new_folder =
        "give a new or empty folder, or one an earlier render wrote (it has manifest.json)";
    let real = resolve(out).map_err(write_err)?;
    if is_system_folder(&real) {
        return Err(refuse(
            format!("it is {}, a system folder", real.display()),
            "render writes a folder per host and manifest.json: give it a folder of its own, e.g. --out rendered/",
        ));
    }
    // A trailing `/` would make the metadata that of a link's target.
    let plain: PathBuf = out.components().collect();
    match std::fs::symlink_metadata(&plain) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(&plain).map_err(write_err)?;
        }
        Err(e) => return Err(write_err(e)),
        Ok(m) if m.file_type().is_symlink() => {
            return Err(refuse(
                "it is a symbolic link".into(),
                "give the folder it points to, e.g. --out \"$(realpath OUT)\"",
            ));
        }
        Ok(m) if !m.is_dir() => return Err(refuse("it is not a folder".into(), new_folder)),
        Ok(_) => {
            let empty = std::fs::read_dir(&plain)
                .map_err(write_err)?
                .next()
                .is_none();
            let rendered =
                std::fs::symlink_metadata(plain.join("manifest.json")).is_ok_and(|m| m.is_file());
            if !empty && !rendered {
                return Err(refuse(
                    "it holds files, and no manifest.json of an earlier render".into(),
                    new_folder,
                ));
            }
        }
    }
    Tree::open(&plain)
}

/// Where `path` leads: its real path, or for a path still to be made, the real path of its
/// deepest existing folder with the missing names after it.
fn resolve(path: &Path) -> std::io::Result<PathBuf> {
    let mut missing = Vec::new();
    let mut at = std::path::absolute(path)?;
    loop {
        match std::fs::canonicalize(&at) {
            Ok(real) => return Ok(missing.iter().rev().fold(real, |p, n| p.join(n))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let (Some(name), Some(parent)) = (at.file_name(), at.parent()) else {
                    return Err(std::io::Error::other(
                        "a `..` follows a folder that does not exist",
                    ));
                };
                missing.push(name.to_os_string());
                at = parent.to_path_buf();
            }
            Err(e) => return Err(e),
        }
    }
}

fn is_system_folder(real: &Path) -> bool {
    let home = std::env::var_os("HOME").and_then(|h| std::fs::canonicalize(h).ok());
    real.parent().is_none_or(|p| p.parent().is_none())
        || home.as_deref() == Some(real)
        || ["/etc", "/boot", "/dev", "/proc", "/sys"]
            .iter()
            .any(|s| real.starts_with(s))
}
