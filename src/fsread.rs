//! Reading a file we do not control (a cache another process shaped, a
//! project's own files, a `.env`): only a regular file, only up to a
//! bound, so that a FIFO never blocks, a device never ends and a huge file
//! is refused. The one reader of that rule: every such read goes here.

use std::path::Path;

/// Why [`read_bounded`] did not read a file. Names what the path is, never
/// anything of its content.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    /// A folder.
    #[error("is a folder, not a regular file")]
    Folder,
    /// A FIFO, device or socket (what it is, in words).
    #[error("is {0}, not a regular file")]
    NotRegular(&'static str),
    /// More bytes than the bound.
    #[error("larger than {0} bytes")]
    TooLarge(u64),
    /// The file system said no (permissions, I/O).
    #[error("cannot be read ({})", .0.kind())]
    Io(#[source] std::io::Error),
}

/// Reads `path` when it is a regular file of at most `max` bytes; `None`
/// when it does not exist. A FIFO, device or folder, or a larger file, is
/// refused: checked before opening (a FIFO is never opened), opened
/// without blocking, and checked again on the opened file (the path may
/// have changed in between), then read no further than `max + 1` bytes.
pub fn read_bounded(path: &Path, max: u64) -> Result<Option<Vec<u8>>, Refused> {
    use std::io::Read as _;
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Refused::Io(e)),
    };
    check(&meta, max)?;
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path).map_err(Refused::Io)?;
    check(&file.metadata().map_err(Refused::Io)?, max)?;
    let mut bytes = Vec::new();
    file.take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(Refused::Io)?;
    if bytes.len() as u64 > max {
        return Err(Refused::TooLarge(max));
    }
    Ok(Some(bytes))
}

/// [`read_bounded`] for callers that keep an I/O error: the refusal is its
/// message.
pub fn read_regular(path: &Path, max: u64) -> std::io::Result<Option<Vec<u8>>> {
    read_bounded(path, max).map_err(|e| match e {
        Refused::Io(e) => e,
        other => std::io::Error::new(std::io::ErrorKind::InvalidData, other.to_string()),
    })
}

/// A regular file of at most `max` bytes, or what it is instead.
fn check(meta: &std::fs::Metadata, max: u64) -> Result<(), Refused> {
    let ft = meta.file_type();
    if ft.is_dir() {
        return Err(Refused::Folder);
    }
    if !ft.is_file() {
        return Err(Refused::NotRegular(kind(&ft)));
    }
    if meta.len() > max {
        return Err(Refused::TooLarge(max));
    }
    Ok(())
}

/// What a file that is not a regular file is, in words.
fn kind(ft: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        if ft.is_fifo() {
            return "a named pipe (FIFO)";
        }
        if ft.is_char_device() || ft.is_block_device() {
            return "a device";
        }
        if ft.is_socket() {
            return "a socket";
        }
    }
    let _ = ft;
    "not a regular file"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_small_regular_file_and_refuses_the_rest() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("f");
        std::fs::write(&file, b"12345").unwrap();
        assert_eq!(read_bounded(&file, 5).unwrap().unwrap(), b"12345");
        assert!(matches!(read_bounded(&file, 4), Err(Refused::TooLarge(4))));
        assert!(read_bounded(&tmp.path().join("none"), 5).unwrap().is_none());
        assert!(matches!(read_bounded(tmp.path(), 5), Err(Refused::Folder)));
        let err = read_regular(&file, 4).unwrap_err();
        assert_eq!(err.to_string(), "larger than 4 bytes");
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_or_a_device_is_refused_without_blocking() {
        let tmp = tempfile::tempdir().unwrap();
        let fifo = tmp.path().join("fifo");
        let status = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(status.success());
        let link = tmp.path().join("zero");
        std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send((read_bounded(&fifo, 1 << 20), read_bounded(&link, 1 << 20)));
        });
        let (fifo, zero) = rx
            .recv_timeout(std::time::Duration::from_secs(10))
            .expect("returns");
        assert_eq!(
            fifo.unwrap_err().to_string(),
            "is a named pipe (FIFO), not a regular file"
        );
        assert_eq!(
            zero.unwrap_err().to_string(),
            "is a device, not a regular file"
        );
    }
}
