//! Reading a file we do not control (a cache another process shaped, a
//! project's own files): only a regular file, only up to a bound, so that
//! a FIFO never blocks, a device never ends and a huge file is refused.

use std::path::Path;

/// Reads `path` when it is a regular file of at most `max` bytes; `None`
/// when it does not exist. A FIFO, device or folder, or a larger file, is
/// an error (never read: a FIFO would block, a device never end).
pub fn read_regular(path: &Path, max: u64) -> std::io::Result<Option<Vec<u8>>> {
    use std::io::Read as _;
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    if !meta.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "not a regular file",
        ));
    }
    if meta.len() > max {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("larger than {max} bytes"),
        ));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(max + 1)
        .read_to_end(&mut bytes)?;
    Ok(Some(bytes))
}
