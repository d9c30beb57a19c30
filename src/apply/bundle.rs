//! Tar streams sent on a remote script's stdin: staged files, and application releases.

use crate::desired::{File, HostState};
use crate::remote::layout::{NGINX_CHECK, STAGED};
use std::path::Path;

fn entry(b: &mut tar::Builder<Vec<u8>>, path: &str, data: &[u8], mode: u32) -> std::io::Result<()> {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Regular);
    h.set_size(data.len() as u64);
    // Written private; the remote script sets the real owner and mode before any swap.
    h.set_mode(mode & 0o600);
    h.set_mtime(0);
    h.set_uid(0);
    h.set_gid(0);
    b.append_data(&mut h, path, data)
}

/// The staged copies (`PATH.foobar-new`) of `files`, plus the Nginx check configuration.
pub fn files(files: &[&File], nginx_check: Option<&str>) -> Result<Vec<u8>, String> {
    let mut b = tar::Builder::new(Vec::new());
    let err = |e: std::io::Error| format!("cannot pack files: {e}");
    for f in files {
        let rel = format!("{}{STAGED}", f.path.trim_start_matches('/'));
        entry(&mut b, &rel, f.content.as_bytes(), f.mode).map_err(err)?;
    }
    if let Some(text) = nginx_check {
        entry(
            &mut b,
            NGINX_CHECK.trim_start_matches('/'),
            text.as_bytes(),
            0o600,
        )
        .map_err(err)?;
    }
    b.into_inner().map_err(err)
}

/// nginx.conf as it will be, with the staged Nginx files included in place of the live ones.
pub fn nginx_check_config(h: &HostState, changed: &[&File]) -> String {
    h.nginx_main_relocated(|path| {
        changed
            .iter()
            .any(|f| f.path == path)
            .then(|| format!("{path}{STAGED}"))
    })
}

/// The application files as a release tar (every file readable by all, executables kept
/// executable), refusing if they no longer hash to `expected` (changed since the plan).
pub fn release(root: &Path, expected: &str) -> Result<Vec<u8>, String> {
    let manifest =
        crate::release::scan(root).map_err(|e| format!("cannot read {}: {e}", root.display()))?;
    if manifest.sha256 != expected {
        return Err(format!(
            "the application files in {} changed while planning; run again",
            root.display()
        ));
    }
    let mut b = tar::Builder::new(Vec::new());
    let err = |e: std::io::Error| format!("cannot pack the release: {e}");
    for e in &manifest.entries {
        let data = std::fs::read(&e.path).map_err(err)?;
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Regular);
        h.set_size(data.len() as u64);
        h.set_mode(if e.executable { 0o755 } else { 0o644 });
        h.set_mtime(0);
        b.append_data(&mut h, &e.rel, data.as_slice())
            .map_err(err)?;
    }
    b.into_inner().map_err(err)
}
