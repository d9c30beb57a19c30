//! Writing files below one folder, never through a symbolic link and never outside the folder.
//!
//! `render --out` and `validate --check-configs` write files whose paths come from the topology
//! (untrusted input) into a folder that may already hold files: an earlier render, or whatever a
//! pull request checked in, symbolic links included. So:
//!
//! - every path is relative to the folder, and a `..` or `.` component is refused;
//! - folders are created and entered one level at a time from the open handle of their parent,
//!   with `O_NOFOLLOW`: a symbolic link on the way is an error naming it, never followed;
//! - a file is written to a new temporary file beside it (`O_EXCL`, `O_NOFOLLOW`), gets its mode
//!   on that handle (no `chmod` by path), and is renamed over the target (a rename replaces a
//!   name, it never writes through it). A symbolic link or a folder at the target is an error;
//!   links are reported, not removed: whoever planted one should see it.

use crate::Error;
use rustix::fs::{AtFlags, FileType, Mode, OFlags};
use rustix::io::Errno;
use std::io::Write;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

/// An open folder that files are written under.
#[derive(Debug)]
pub struct Tree {
    dir: OwnedFd,
    path: PathBuf,
}

impl Tree {
    /// Opens `path`, an existing folder, as the root. The path itself must not be a symbolic
    /// link (the folders leading to it are the caller's choice).
    pub fn open(path: &Path) -> Result<Tree, Error> {
        // Without a trailing `/`, which would make the kernel follow a link named by the path.
        let path: PathBuf = path.components().collect();
        let dir = rustix::fs::open(&path, dir_flags(), Mode::empty()).map_err(|e| {
            match std::fs::symlink_metadata(&path) {
                Ok(m) if m.file_type().is_symlink() => Error::OutputLink { path: path.clone() },
                _ => write_error(&path, e),
            }
        })?;
        Ok(Tree { dir, path })
    }

    /// The path `parts` name under the root, checked: each part is a `/`-separated relative or
    /// absolute path (`web-01`, `/etc/nginx/nginx.conf`), joined in order.
    pub fn join(&self, parts: &[&str]) -> Result<PathBuf, Error> {
        Ok(components(parts)?
            .iter()
            .fold(self.path.clone(), |p, c| p.join(c)))
    }

    /// Writes `content` at the path `parts` name under the root, with unix permissions `mode`
    /// (exactly, whatever the umask), creating the folders on the way. Returns the path written.
    pub fn write(&self, parts: &[&str], content: &[u8], mode: u32) -> Result<PathBuf, Error> {
        let names = components(parts)?;
        let Some((file, folders)) = names.split_last() else {
            return Err(Error::OutputEscape {
                path: String::new(),
            });
        };
        let mut shown = self.path.clone();
        let mut opened: Option<OwnedFd> = None;
        for name in folders {
            shown.push(name);
            let parent = opened.as_ref().map_or(self.dir.as_fd(), AsFd::as_fd);
            opened = Some(enter(parent, name, &shown)?);
        }
        shown.push(file);
        let dir = opened.as_ref().map_or(self.dir.as_fd(), AsFd::as_fd);
        replace(dir, file, content, mode, &shown)?;
        Ok(shown)
    }
}

fn dir_flags() -> OFlags {
    OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC
}

fn write_error(path: &Path, e: impl Into<std::io::Error>) -> Error {
    Error::Write {
        path: path.to_path_buf(),
        source: e.into(),
    }
}

/// The names of a path below the root. Refuses `..` and `.`, and a part that names nothing (a
/// rendered path never is one of those: the topology's paths are checked when it is loaded;
/// this is the last line of defence).
fn components<'a>(parts: &[&'a str]) -> Result<Vec<&'a str>, Error> {
    let mut names = Vec::new();
    let escape = || Error::OutputEscape {
        path: parts.join("/"),
    };
    for part in parts {
        let before = names.len();
        for name in part.split('/').filter(|n| !n.is_empty()) {
            if name == "." || name == ".." || name.contains('\0') {
                return Err(escape());
            }
            names.push(name);
        }
        // Each part names something: a host path of `/` is not a file.
        if names.len() == before {
            return Err(escape());
        }
    }
    Ok(names)
}

/// What is at `name` in `dir`, without following a link; `None` if nothing.
fn kind_at(dir: BorrowedFd, name: &str) -> Result<Option<FileType>, Errno> {
    match rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW) {
        Ok(st) => Ok(Some(FileType::from_raw_mode(st.st_mode))),
        Err(Errno::NOENT) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Creates folder `name` in `dir` if it is missing and opens it; a link there is an error.
fn enter(dir: BorrowedFd, name: &str, shown: &Path) -> Result<OwnedFd, Error> {
    match rustix::fs::mkdirat(dir, name, Mode::from_raw_mode(0o777)) {
        Ok(()) | Err(Errno::EXIST) => {}
        Err(e) => return Err(write_error(shown, e)),
    }
    rustix::fs::openat(dir, name, dir_flags(), Mode::empty()).map_err(|e| {
        match kind_at(dir, name) {
            Ok(Some(FileType::Symlink)) => Error::OutputLink {
                path: shown.to_path_buf(),
            },
            _ => write_error(shown, e),
        }
    })
}

/// Writes a new file beside `name` and renames it over `name`.
fn replace(
    dir: BorrowedFd,
    name: &str,
    content: &[u8],
    mode: u32,
    shown: &Path,
) -> Result<(), Error> {
    match kind_at(dir, name).map_err(|e| write_error(shown, e))? {
        Some(FileType::Symlink) => {
            return Err(Error::OutputLink {
                path: shown.to_path_buf(),
            });
        }
        Some(FileType::Directory) => {
            return Err(write_error(
                shown,
                std::io::Error::new(std::io::ErrorKind::IsADirectory, "a folder is in the way"),
            ));
        }
        _ => {}
    }
    let (temp, fd) = create_temp(dir, name, mode).map_err(|e| write_error(shown, e))?;
    let written = (|| {
        // The mode on the handle: exact whatever the umask, and on this very file.
        rustix::fs::fchmod(&fd, Mode::from_raw_mode(mode))?;
        let mut file = std::fs::File::from(fd);
        file.write_all(content)?;
        file.flush()?;
        drop(file);
        rustix::fs::renameat(dir, &temp, dir, name)?;
        Ok::<(), std::io::Error>(())
    })();
    if let Err(e) = written {
        let _ = rustix::fs::unlinkat(dir, &temp, AtFlags::empty());
        return Err(write_error(shown, e));
    }
    Ok(())
}

/// A new, empty file in `dir` named after `name`, created exclusively (never an existing file,
/// never through a link).
fn create_temp(dir: BorrowedFd, name: &str, mode: u32) -> Result<(String, OwnedFd), Errno> {
    let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let mut attempt = 0u32;
    loop {
        let temp = format!(".{name}.{}-{attempt}.tmp", std::process::id());
        match rustix::fs::openat(dir, &temp, flags, Mode::from_raw_mode(mode & 0o700)) {
            Ok(fd) => return Ok((temp, fd)),
            Err(Errno::EXIST) if attempt < 100 => attempt += 1,
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{PermissionsExt, symlink};

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn writes_files_and_folders_with_exact_modes() {
        let dir = tempfile::tempdir().unwrap();
        let tree = Tree::open(dir.path()).unwrap();
        let p = tree
            .write(&["web-01", "/etc/foobar/app.env"], b"A=1\n", 0o640)
            .unwrap();
        assert_eq!(p, dir.path().join("web-01/etc/foobar/app.env"));
        assert_eq!(std::fs::read(&p).unwrap(), b"A=1\n");
        assert_eq!(mode(&p), 0o640);
        // Over an earlier, wider file: new content, the new mode, no temporary file left.
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o666)).unwrap();
        tree.write(&["web-01", "/etc/foobar/app.env"], b"A=2\n", 0o600)
            .unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"A=2\n");
        assert_eq!(mode(&p), 0o600);
        let names: Vec<_> = std::fs::read_dir(p.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["app.env"]);
    }

    #[test]
    fn dot_dot_and_dot_are_refused_before_anything_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("out");
        std::fs::create_dir(&root).unwrap();
        let tree = Tree::open(&root).unwrap();
        for parts in [
            &["web-01", "/etc/../../escaped"][..],
            &["..", "escaped"],
            &["web-01", "/etc/./x"],
            &["web-01", "/"],
        ] {
            let e = tree.write(parts, b"x", 0o644).unwrap_err();
            assert!(matches!(e, Error::OutputEscape { .. }), "{parts:?}: {e:?}");
            assert!(tree.join(parts).is_err(), "{parts:?}");
        }
        assert!(!dir.path().join("escaped").exists());
        assert_eq!(std::fs::read_dir(&root).unwrap().count(), 0);
    }

    /// A link where a folder goes is reported and left alone; nothing lands where it points.
    #[test]
    fn a_linked_folder_is_never_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let root = dir.path().join("out");
        std::fs::create_dir_all(root.join("web-01/etc")).unwrap();
        symlink(outside.path(), root.join("web-01/etc/nginx")).unwrap();
        let tree = Tree::open(&root).unwrap();
        let e = tree
            .write(&["web-01", "/etc/nginx/nginx.conf"], b"x", 0o644)
            .unwrap_err();
        match e {
            Error::OutputLink { path } => assert_eq!(path, root.join("web-01/etc/nginx")),
            other => panic!("{other:?}"),
        }
        assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 0);
        assert!(
            std::fs::symlink_metadata(root.join("web-01/etc/nginx"))
                .unwrap()
                .file_type()
                .is_symlink()
        );
    }

    /// A link at the file itself (even a dangling one) is neither followed nor replaced, and
    /// its target keeps its content and mode.
    #[test]
    fn a_linked_file_is_never_written_or_chmodded() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let target = outside.path().join("victim");
        std::fs::write(&target, "mine\n").unwrap();
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o600)).unwrap();
        std::fs::create_dir_all(dir.path().join("web-01/etc")).unwrap();
        symlink(&target, dir.path().join("web-01/etc/app.env")).unwrap();
        symlink(
            outside.path().join("new"),
            dir.path().join("web-01/etc/dangling"),
        )
        .unwrap();
        let tree = Tree::open(dir.path()).unwrap();
        for name in ["/etc/app.env", "/etc/dangling"] {
            let e = tree.write(&["web-01", name], b"x", 0o666).unwrap_err();
            assert!(matches!(e, Error::OutputLink { .. }), "{name}: {e:?}");
        }
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "mine\n");
        assert_eq!(mode(&target), 0o600);
        assert!(!outside.path().join("new").exists());
    }

    #[test]
    fn the_root_must_be_a_folder_not_a_link() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("out");
        symlink(dir.path(), &link).unwrap();
        for path in [link.clone(), dir.path().join("out/")] {
            let e = Tree::open(&path).unwrap_err();
            assert!(matches!(e, Error::OutputLink { .. }), "{path:?}: {e:?}");
        }
        let file = dir.path().join("file");
        std::fs::write(&file, "").unwrap();
        assert!(matches!(
            Tree::open(&file).unwrap_err(),
            Error::Write { .. }
        ));
    }

    #[test]
    fn a_folder_in_place_of_a_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("a/b")).unwrap();
        let tree = Tree::open(dir.path()).unwrap();
        assert!(matches!(
            tree.write(&["a", "b"], b"x", 0o644).unwrap_err(),
            Error::Write { .. }
        ));
        std::fs::write(dir.path().join("f"), "").unwrap();
        assert!(matches!(
            tree.write(&["f", "x"], b"x", 0o644).unwrap_err(),
            Error::Write { .. }
        ));
    }
}
