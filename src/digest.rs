//! SHA-256 as the project writes it: lower-case hex, and a file's size and
//! hash read in one streaming pass (a wheel or a `.vsix` is never held in
//! memory whole to be hashed).

use std::io::Read as _;
use std::path::Path;

use sha2::Digest as _;

use crate::error::{IoContext as _, IoError, cannot};

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// SHA-256 of `bytes`, hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&sha2::Sha256::digest(bytes))
}

/// A file's size and SHA-256 (hex).
pub fn file_sha256(path: &Path) -> Result<(u64, String), IoError> {
    let mut f = std::fs::File::open(path).io_context(cannot("read", path))?;
    let mut hasher = sha2::Sha256::new();
    let mut buf = vec![0; 64 * 1024];
    let mut size = 0u64;
    loop {
        let n = f.read(&mut buf).io_context(cannot("read", path))?;
        if n == 0 {
            break;
        }
        size += n as u64;
        hasher.update(&buf[..n]);
    }
    Ok((size, hex(&hasher.finalize())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_and_bytes_agree() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("f");
        let bytes = vec![7u8; 200_000];
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(file_sha256(&path).unwrap(), (200_000, sha256_hex(&bytes)));
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
