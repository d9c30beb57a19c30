//! The application's files as one content-addressed release: a hash over every path, its
//! executable bit, whether others may read it, and its content, so the same files always make
//! the same release.

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// One file of a release, relative to its root.
#[derive(Clone, Debug)]
pub struct Entry {
    pub rel: String,
    pub path: PathBuf,
    pub executable: bool,
    /// Not readable by others here: not readable by others on the hosts either.
    pub private: bool,
    pub size: u64,
}

#[derive(Clone, Debug)]
pub struct Manifest {
    pub root: PathBuf,
    pub entries: Vec<Entry>,
    pub sha256: String,
    pub bytes: u64,
}

/// Walks `root` (symbolic links are refused: a release must be self-contained) and hashes it.
pub fn scan(root: &Path) -> std::io::Result<Manifest> {
    let mut entries = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir)? {
            let e = e?;
            let ty = e.file_type()?;
            let path = e.path();
            let rel = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .to_string_lossy()
                .replace('\\', "/");
            if ty.is_symlink() {
                return Err(std::io::Error::other(format!(
                    "{} is a symbolic link; application files must be plain files",
                    path.display()
                )));
            } else if ty.is_dir() {
                if rel == ".git" || rel.ends_with("/__pycache__") || rel == "__pycache__" {
                    continue;
                }
                stack.push(path);
            } else if ty.is_file() {
                let meta = e.metadata()?;
                entries.push(Entry {
                    rel,
                    path,
                    executable: is_executable(&meta),
                    private: is_private(&meta),
                    size: meta.len(),
                });
            }
        }
    }
    entries.sort_by(|a, b| a.rel.cmp(&b.rel));
    let mut hasher = Sha256::new();
    for e in &entries {
        hasher.update(e.rel.as_bytes());
        hasher.update([0, u8::from(e.executable) | (u8::from(e.private) << 1)]);
        hasher.update(e.size.to_le_bytes());
        hasher.update(std::fs::read(&e.path)?);
    }
    Ok(Manifest {
        root: root.to_path_buf(),
        bytes: entries.iter().map(|e| e.size).sum(),
        entries,
        sha256: hex::encode(hasher.finalize()),
    })
}

#[cfg(unix)]
fn is_executable(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn is_executable(_: &std::fs::Metadata) -> bool {
    false
}

#[cfg(unix)]
fn is_private(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o004 == 0
}

#[cfg(not(unix))]
fn is_private(_: &std::fs::Metadata) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_files_same_hash_and_content_changes_it() {
        let a = tempfile::tempdir().unwrap();
        std::fs::create_dir(a.path().join("static")).unwrap();
        std::fs::write(a.path().join("app.py"), "x = 1\n").unwrap();
        std::fs::write(a.path().join("static/s.css"), "body{}\n").unwrap();
        let first = scan(a.path()).unwrap();
        assert_eq!(first.entries.len(), 2);
        assert_eq!(scan(a.path()).unwrap().sha256, first.sha256);
        std::fs::write(a.path().join("app.py"), "x = 2\n").unwrap();
        let second = scan(a.path()).unwrap();
        assert_ne!(second.sha256, first.sha256);
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            a.path().join("app.py"),
            std::fs::Permissions::from_mode(0o600),
        )
        .unwrap();
        let private = scan(a.path()).unwrap();
        assert!(private.entries[0].private);
        assert_ne!(
            private.sha256, second.sha256,
            "who may read a file is part of a release"
        );
    }
}
