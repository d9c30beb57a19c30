//! Reading a file named by untrusted input (the topology, the schema it points at): regular files
//! only, and never more than a cap. A FIFO, a device or a folder is refused before it is opened,
//! so `-i /dev/zero` does not eat memory and a FIFO does not block; a file that grows while it is
//! read is cut off at the cap plus one byte and refused.

use std::fs::{File, Metadata};
use std::io::Read;
use std::path::Path;

/// Why a file was not read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("it is {what}, not a regular file")]
    NotRegular { what: &'static str },
    /// `size` is `None` when the file grew past the cap while it was read.
    #[error("{}", too_large(*.size, *.limit))]
    TooLarge { size: Option<u64>, limit: u64 },
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

fn too_large(size: Option<u64>, limit: u64) -> String {
    let limit = human_size(limit);
    match size {
        Some(size) => format!("it is {}, over the limit of {limit}", human_size(size)),
        None => format!("it grew past the limit of {limit} while it was read"),
    }
}

/// `4194304 bytes (4.0 MiB)`: exact, and readable.
pub fn human_size(bytes: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    if bytes >= MIB {
        format!("{bytes} bytes ({:.1} MiB)", bytes as f64 / MIB as f64)
    } else {
        format!("{bytes} bytes")
    }
}

/// Reads a UTF-8 text file of at most `limit` bytes. Symbolic links are followed: a link to a
/// regular file is fine.
pub fn read_text(path: &Path, limit: u64) -> Result<String, ReadError> {
    // Look before opening: opening a FIFO waits for a writer, reading a device never ends.
    check(&std::fs::metadata(path)?, limit)?;
    let file = open_nonblocking(path)?;
    // The path may have been swapped since; what counts is what was opened.
    let meta = file.metadata()?;
    check(&meta, limit)?;
    let bytes = read_at_most(file, limit, meta.len())?;
    String::from_utf8(bytes).map_err(|_| {
        ReadError::Io(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "stream did not contain valid UTF-8",
        ))
    })
}

fn check(meta: &Metadata, limit: u64) -> Result<(), ReadError> {
    if !meta.is_file() {
        return Err(ReadError::NotRegular { what: kind(meta) });
    }
    if meta.len() > limit {
        return Err(ReadError::TooLarge {
            size: Some(meta.len()),
            limit,
        });
    }
    Ok(())
}

/// What a file that is not a regular file is, in words.
fn kind(meta: &Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO (named pipe)"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "a special file"
    }
}

/// Opens for reading without waiting: should the path have become a FIFO since it was looked at,
/// `open` returns at once (and the check on the open file refuses it).
fn open_nonblocking(path: &Path) -> std::io::Result<File> {
    use rustix::fs::{Mode, OFlags};
    let fd = rustix::fs::open(
        path,
        OFlags::RDONLY | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    Ok(File::from(fd))
}

/// Reads at most `limit + 1` bytes, so that a file growing past the cap is noticed without
/// reading it all. `expected` sizes the buffer (never above the cap).
fn read_at_most(file: impl Read, limit: u64, expected: u64) -> Result<Vec<u8>, ReadError> {
    let mut bytes = Vec::with_capacity(usize::try_from(expected.min(limit)).unwrap_or(0) + 1);
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge { size: None, limit });
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(path: &Path, limit: u64) -> String {
        read_text(path, limit).unwrap_err().to_string()
    }

    #[test]
    fn reads_a_regular_file_and_a_link_to_one() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("t.yaml");
        std::fs::write(&file, "domain: x\n").unwrap();
        assert_eq!(read_text(&file, 100).unwrap(), "domain: x\n");
        let link = dir.path().join("link.yaml");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        assert_eq!(read_text(&link, 100).unwrap(), "domain: x\n");
    }

    #[test]
    fn refuses_what_is_not_a_regular_file() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            err(dir.path(), 100),
            "it is a directory, not a regular file"
        );
        assert_eq!(
            err(Path::new("/dev/zero"), 100),
            "it is a character device, not a regular file"
        );
        let fifo = dir.path().join("fifo");
        rustix::fs::mkfifoat(
            rustix::fs::CWD,
            &fifo,
            rustix::fs::Mode::from_raw_mode(0o600),
        )
        .unwrap();
        // Refused without opening it: this would block otherwise.
        assert_eq!(
            err(&fifo, 100),
            "it is a FIFO (named pipe), not a regular file"
        );
        // A link to a FIFO is what it points at.
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&fifo, &link).unwrap();
        assert_eq!(
            err(&link, 100),
            "it is a FIFO (named pipe), not a regular file"
        );
    }

    #[test]
    fn the_cap_is_inclusive_and_named_with_the_size() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("t.yaml");
        std::fs::write(&file, "x".repeat(16)).unwrap();
        assert_eq!(read_text(&file, 16).unwrap().len(), 16);
        assert_eq!(err(&file, 15), "it is 16 bytes, over the limit of 15 bytes");
        // Sparse: 4 MiB + 1 without writing them.
        std::fs::File::create(&file)
            .unwrap()
            .set_len(4 * 1024 * 1024 + 1)
            .unwrap();
        assert_eq!(
            err(&file, 4 * 1024 * 1024),
            "it is 4194305 bytes (4.0 MiB), over the limit of 4194304 bytes (4.0 MiB)"
        );
    }

    /// A file that says it is small but keeps growing is read up to the cap plus one byte.
    #[test]
    fn a_growing_file_is_cut_off_after_the_cap() {
        let endless = std::io::repeat(b'a');
        match read_at_most(endless, 1024, 10) {
            Err(ReadError::TooLarge { size: None, limit }) => assert_eq!(limit, 1024),
            other => panic!("{other:?}"),
        }
        assert_eq!(read_at_most(&b"abc"[..], 3, 3).unwrap(), b"abc");
    }

    #[test]
    fn invalid_utf8_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("t.yaml");
        std::fs::write(&file, b"\xff\xfe").unwrap();
        assert!(err(&file, 100).contains("valid UTF-8"));
    }
}
