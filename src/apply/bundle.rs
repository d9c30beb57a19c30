//! Tar streams sent on a remote script's stdin: staged files, and application releases.

use crate::desired::{File, HostState};
use crate::remote::layout::{NGINX_CHECK, STAGED};
use std::path::Path;

/// A regular file with its final owner, group and mode: tar (as root) creates it with them,
/// so the host never changes a staged file by path.
fn entry(
    b: &mut tar::Builder<Vec<u8>>,
    path: &str,
    data: &[u8],
    mode: u32,
    owner: &str,
    group: &str,
) -> std::io::Result<()> {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Regular);
    h.set_size(data.len() as u64);
    h.set_mode(mode & 0o7777);
    h.set_mtime(0);
    h.set_uid(0);
    h.set_gid(0);
    h.set_username(owner)?;
    h.set_groupname(group)?;
    b.append_data(&mut h, path, data)
}

/// The staged copies (`PATH.foobar-new`) of `files`, plus the Nginx check configuration.
pub fn files(files: &[&File], nginx_check: Option<&str>) -> Result<Vec<u8>, String> {
    let mut b = tar::Builder::new(Vec::new());
    let err = |e: std::io::Error| format!("cannot pack files: {e}");
    for f in files {
        let rel = format!("{}{STAGED}", f.path.trim_start_matches('/'));
        entry(
            &mut b,
            &rel,
            f.content.as_bytes(),
            f.mode,
            &f.owner,
            &f.group,
        )
        .map_err(err)?;
    }
    if let Some(text) = nginx_check {
        entry(
            &mut b,
            NGINX_CHECK.trim_start_matches('/'),
            text.as_bytes(),
            0o600,
            "root",
            "root",
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

/// The application files as a release tar, owned by root and the app's group: executables kept
/// executable, and a file others may not read here (0600, say) not readable by others on the
/// host either (0640: the app reads it through its group). Refuses if the files no longer hash
/// to `expected` (changed since the plan).
pub fn release(root: &Path, expected: &str, group: &str) -> Result<Vec<u8>, String> {
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
        h.set_mode(match (e.executable, e.private) {
            (true, false) => 0o755,
            (false, false) => 0o644,
            (true, true) => 0o750,
            (false, true) => 0o640,
        });
        h.set_mtime(0);
        h.set_uid(0);
        h.set_gid(0);
        h.set_username("root").map_err(err)?;
        h.set_groupname(group).map_err(err)?;
        b.append_data(&mut h, &e.rel, data.as_slice())
            .map_err(err)?;
    }
    b.into_inner().map_err(err)
}
