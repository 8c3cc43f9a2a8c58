//! The build requirements (`[build-system] requires`) kept as wheels in
//! the per-user cache ([`crate::cache_dir`]), so that `python -m build` needs no network after the first
//! build: its isolated environment installs from this folder
//! (`PIP_NO_INDEX=1`, `PIP_FIND_LINKS`). Faster, and it is what lets a
//! rehearsal run offline.

use std::path::{Path, PathBuf};

use sha2::Digest as _;

use super::venv::Tools;
use crate::config::Project;
use crate::digest::hex;
use crate::secret::Redactor;
use crate::tools::{Child, Echo};

/// The folder for a set of requirements (one per distinct set).
pub fn dir_for(project: &Project, requires: &[String]) -> PathBuf {
    let digest = sha2::Sha256::digest(requires.join("\n").as_bytes());
    let _ = project;
    crate::cache_dir::root()
        .join("wheelhouse")
        .join(&hex(&digest)[..16])
}

/// A complete wheelhouse for `requires`, downloading it when missing.
/// `None` when it cannot be had (no network on first use): the build then
/// uses the index as usual.
pub fn ensure(
    project: &Project,
    tools: &Tools,
    requires: &[String],
    redactor: &Redactor,
    echo: Echo,
) -> Option<PathBuf> {
    let dir = dir_for(project, requires);
    let stamp = dir.join(".complete");
    if stamp.is_file() {
        return Some(dir);
    }
    std::fs::create_dir_all(&dir).ok()?;
    let lock = std::fs::File::create(dir.with_extension("lock")).ok()?;
    lock.lock().ok()?;
    if stamp.is_file() {
        return Some(dir);
    }
    let out = Child::new(&tools.python)
        .args([
            "-m",
            "pip",
            "download",
            "--quiet",
            "--disable-pip-version-check",
            "--only-binary=:all:",
            "--dest",
        ])
        .arg(&dir)
        .args(requires)
        .env("PIP_NO_INPUT", "1")
        .echo(echo)
        .run(redactor)
        .ok()?;
    if !out.status.success() {
        return None;
    }
    std::fs::write(&stamp, requires.join("\n")).ok()?;
    Some(dir)
}

/// Makes a build command install its requirements from `dir` only.
pub fn apply(child: Child, dir: &Path) -> Child {
    child
        .env("PIP_NO_INDEX", "1")
        .env("PIP_FIND_LINKS", dir.as_os_str())
        // The same for `uv build`.
        .env("UV_NO_INDEX", "1")
        .env("UV_FIND_LINKS", dir.as_os_str())
}
