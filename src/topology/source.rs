//! The topology file's text. The file is untrusted input (it comes with pull requests and is
//! checked on CI machines): only a regular file is read, and at most `MAX_TOPOLOGY_BYTES` of it.

use crate::input_file::{self, ReadError};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The largest topology read: a thousand times the reference design, far below what the YAML
/// parser's budget allows.
pub const MAX_TOPOLOGY_BYTES: u64 = 4 * 1024 * 1024;

/// The topology's text, kept so diagnostics can quote it.
#[derive(Clone, Debug)]
pub struct Source {
    /// The file name as the user gave it.
    pub name: String,
    pub text: Arc<String>,
    /// Folder that relative paths in the topology are resolved against.
    pub base_dir: PathBuf,
}

/// Reads a topology file, or fails with an error naming it: not there or unreadable, not a
/// regular file (a FIFO, a device, a folder: refused before it is opened), or over the cap.
/// A symbolic link to a regular file is read like the file.
pub fn read(path: &Path) -> Result<Source, crate::Error> {
    let text = input_file::read_text(path, MAX_TOPOLOGY_BYTES).map_err(|e| {
        let path = path.to_path_buf();
        match e {
            ReadError::Io(source) => crate::Error::Read { path, source },
            ReadError::NotRegular { what } => crate::Error::NotAFile { path, what },
            ReadError::TooLarge { .. } => crate::Error::TooLarge {
                path,
                reason: e.to_string(),
            },
        }
    })?;
    let base_dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    Ok(Source {
        name: path.display().to_string(),
        text: Arc::new(text),
        base_dir,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_file_and_what_it_is() {
        let e = read(Path::new("/dev/zero")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "cannot read /dev/zero: it is a character device, not a regular file"
        );
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big.yaml");
        std::fs::File::create(&big)
            .unwrap()
            .set_len(MAX_TOPOLOGY_BYTES + 1)
            .unwrap();
        let e = read(&big).unwrap_err().to_string();
        assert!(
            e.starts_with(&format!("cannot read {}: ", big.display())),
            "{e}"
        );
        assert!(e.contains("4194305 bytes"), "{e}");
        assert!(e.contains("limit of 4194304 bytes (4.0 MiB)"), "{e}");
        let missing = read(&dir.path().join("nope.yaml")).unwrap_err();
        assert!(matches!(missing, crate::Error::Read { .. }), "{missing:?}");
    }

    #[test]
    fn a_link_to_a_topology_reads_the_topology() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("site.yaml");
        std::fs::write(&file, "domain: example.org\n").unwrap();
        let link = dir.path().join("current.yaml");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        let source = read(&link).unwrap();
        assert_eq!(source.text.as_str(), "domain: example.org\n");
        assert_eq!(source.name, link.display().to_string());
    }
}
