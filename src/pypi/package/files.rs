//! The distribution files of a package on disk: found by name, described
//! by size and sha256.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::filename::{Kind, claims, parse_filename};
use crate::error::{IoContext as _, IoError, cannot};

/// A built file.
/// A built file.
#[derive(Clone, Debug, Serialize)]
pub struct DistFile {
    /// Full path.
    pub path: PathBuf,
    /// File name.
    pub name: String,
    /// sdist or wheel.
    pub kind: Kind,
    /// The version in the file name.
    pub version: String,
    /// Size in bytes.
    pub size: u64,
    /// sha256, lower-case hex.
    pub sha256: String,
}

/// Why a distribution file could not be described.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// The file could not be read.
    #[error(transparent)]
    Io(#[from] IoError),
    /// A file whose name is not a distribution's.
    #[error(
        "{0} is not a distribution file name: an sdist is NAME-VERSION.tar.gz with `_` for `-` in NAME (PEP 625), \
         a wheel NAME-VERSION(-BUILD)-PYTHON-ABI-PLATFORM.whl; rebuild it with current build tools"
    )]
    NotADistribution(String),
}

/// Reads a file's size and sha256.
pub fn describe_file(path: &Path) -> Result<DistFile, FileError> {
    let name = file_name(path);
    let (_, version, kind) =
        parse_filename(&name).ok_or_else(|| FileError::NotADistribution(name.clone()))?;
    let (size, sha256) = crate::digest::file_sha256(path)?;
    Ok(DistFile {
        path: path.to_owned(),
        name,
        kind,
        version,
        size,
        sha256,
    })
}

/// The file name of `path`, lossily.
pub fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Whether `path` is a file of `package` (any version), by its name; a
/// malformed name that claims the package counts, so that describing it
/// says what is wrong instead of passing over it.
pub fn is_package_file(path: &Path, package: &str) -> bool {
    claims(&file_name(path), package)
}

/// The files of `package` in `dir` (any version), sorted by name.
pub fn package_files(dir: &Path, package: &str) -> Result<Vec<PathBuf>, IoError> {
    let mut out = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(e).io_context(cannot("read", dir)),
    };
    for entry in entries {
        let entry = entry.io_context(cannot("read", dir))?;
        if is_package_file(&entry.path(), package) {
            out.push(entry.path());
        }
    }
    out.sort();
    Ok(out)
}
