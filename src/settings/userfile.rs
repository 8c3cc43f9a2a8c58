//! One rule for writing a file the user owns (`.env`, `.env.example`, an
//! export, a git hook): written beside and renamed into place (a reader
//! sees the old file or the new one, a failure leaves the old one), and
//! through a symbolic link the link's target is written, the link kept and
//! the target's mode kept, or the write is refused with the reason.

use std::io::Write as _;
use std::path::{Path, PathBuf};

/// The mode the written file gets (Unix).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// An existing file keeps its mode; a new one gets this.
    Keep(u32),
    /// Always this (a file that must be private, or executable).
    Set(u32),
}

/// Why a file was not written. Names paths, never the text.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// A link leading out of the folder the file must stay in.
    #[error(
        "{link}: is a symbolic link to {target}, outside {folder}; nothing was written there. \
         Remove the link (or make it point inside {folder}) and run the command again",
        link = .link.display(), target = .target.display(), folder = .folder.display()
    )]
    OutsideFolder {
        /// The link.
        link: PathBuf,
        /// Where it leads.
        target: PathBuf,
        /// Where the file must stay.
        folder: PathBuf,
    },
    /// The path (or the link's target) cannot take the file.
    #[error("{path}: {reason}; nothing was written", path = .path.display())]
    Refused {
        /// The path or the link's target.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The file system failed.
    #[error("cannot write {path}: {source}", path = .path.display())]
    Io {
        /// The file being written.
        path: PathBuf,
        /// The reason.
        #[source]
        source: std::io::Error,
    },
}

/// Most links followed to the file (as Linux's ELOOP).
const MAX_LINKS: usize = 40;

/// Writes `text` to `path` (through links, to their final target) with
/// `mode`, atomically. With `folder`, a link whose target lies outside it
/// is refused. Returns the file written.
pub fn write(
    path: &Path,
    text: &str,
    mode: Mode,
    folder: Option<&Path>,
) -> Result<PathBuf, WriteError> {
    let target = resolve(path)?;
    if let Some(folder) = folder
        && target != path
        && !inside(&target, folder)
    {
        return Err(WriteError::OutsideFolder {
            link: path.to_owned(),
            target,
            folder: folder.to_owned(),
        });
    }
    let mode = match mode {
        Mode::Set(m) => m,
        Mode::Keep(new) => existing_mode(&target).unwrap_or(new),
    };
    replace(&target, text, mode)?;
    Ok(target)
}

/// The file `path` leads to: itself, or the final target of its links. A
/// folder, device or pipe, a loop of links, or a target whose folder does
/// not exist is refused.
fn resolve(path: &Path) -> Result<PathBuf, WriteError> {
    let refused = |p: &Path, reason: String| WriteError::Refused {
        path: p.to_owned(),
        reason,
    };
    let mut current = path.to_owned();
    for _ in 0..MAX_LINKS {
        let meta = match std::fs::symlink_metadata(&current) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let dir = parent(&current);
                if !dir.is_dir() {
                    let why = format!("its folder {} does not exist", dir.display());
                    return Err(refused(&current, why));
                }
                return Ok(current);
            }
            Err(source) => {
                return Err(WriteError::Io {
                    path: current,
                    source,
                });
            }
        };
        let ft = meta.file_type();
        if ft.is_symlink() {
            let to = std::fs::read_link(&current).map_err(|source| WriteError::Io {
                path: current.clone(),
                source,
            })?;
            current = parent(&current).join(to);
        } else if ft.is_file() {
            return Ok(current);
        } else {
            let what = if ft.is_dir() {
                "a folder"
            } else {
                "not a regular file"
            };
            return Err(refused(&current, format!("is {what}")));
        }
    }
    Err(refused(path, "a loop of symbolic links".into()))
}

fn parent(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// True when `file` lies in `folder` or below (both resolved).
fn inside(file: &Path, folder: &Path) -> bool {
    let (Ok(dir), Ok(folder)) = (parent(file).canonicalize(), folder.canonicalize()) else {
        return false;
    };
    dir.starts_with(folder)
}

fn existing_mode(path: &Path) -> Option<u32> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::metadata(path)
            .ok()
            .map(|m| m.permissions().mode() & 0o7777)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

/// Writes beside `path`, syncs, and renames over it.
fn replace(path: &Path, text: &str, mode: u32) -> Result<(), WriteError> {
    let io = |source| WriteError::Io {
        path: path.to_owned(),
        source,
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".release-kit.tmp")
        .tempfile_in(parent(path))
        .map_err(io)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(mode))
            .map_err(io)?;
    }
    #[cfg(not(unix))]
    let _ = mode;
    tmp.write_all(text.as_bytes()).map_err(io)?;
    tmp.as_file().sync_all().map_err(io)?;
    tmp.persist(path).map_err(|e| io(e.error))?;
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::{PermissionsExt as _, symlink};

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn a_link_keeps_pointing_at_its_target_which_is_written_keeping_its_mode() {
        let tmp = tempfile::tempdir().unwrap();
        let real = tmp.path().join("real.env");
        std::fs::write(&real, "old\n").unwrap();
        std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o640)).unwrap();
        let link = tmp.path().join(".env");
        symlink("real.env", &link).unwrap();
        let written = write(&link, "new\n", Mode::Keep(0o600), None).unwrap();
        assert_eq!(written, tmp.path().join("real.env"));
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(std::fs::read_to_string(&real).unwrap(), "new\n");
        assert_eq!(mode(&real), 0o640);
        write(&link, "private\n", Mode::Set(0o600), None).unwrap();
        assert_eq!(mode(&real), 0o600);
        // A new file gets the mode asked for.
        let fresh = tmp.path().join("fresh");
        write(&fresh, "x", Mode::Keep(0o644), None).unwrap();
        assert_eq!(mode(&fresh), 0o644);
    }

    #[test]
    fn refusals_name_the_reason() {
        let tmp = tempfile::tempdir().unwrap();
        let hooks = tmp.path().join("hooks");
        std::fs::create_dir(&hooks).unwrap();
        let outside = tmp.path().join("victim");
        std::fs::write(&outside, "keep").unwrap();
        let link = hooks.join("pre-commit");
        symlink(&outside, &link).unwrap();
        let err = write(&link, "x", Mode::Set(0o755), Some(&hooks)).unwrap_err();
        assert!(matches!(err, WriteError::OutsideFolder { .. }), "{err}");
        assert!(err.to_string().contains("victim"), "{err}");
        assert_eq!(std::fs::read_to_string(&outside).unwrap(), "keep");
        // Inside the folder, the target is written.
        std::fs::write(hooks.join("mine"), "old").unwrap();
        let inner = hooks.join("inner");
        symlink("mine", &inner).unwrap();
        write(&inner, "new", Mode::Set(0o755), Some(&hooks)).unwrap();
        assert_eq!(std::fs::read_to_string(hooks.join("mine")).unwrap(), "new");
        // Loops, folders, devices, a missing folder.
        symlink("loop", tmp.path().join("loop")).unwrap();
        let dev = tmp.path().join("dev");
        symlink("/dev/null", &dev).unwrap();
        let gone = tmp.path().join("gone");
        symlink("no/such/dir/f", &gone).unwrap();
        for (p, what) in [
            (tmp.path().join("loop"), "loop of symbolic links"),
            (hooks.clone(), "is a folder"),
            (dev, "is not a regular file"),
            (gone, "does not exist"),
        ] {
            let err = write(&p, "x", Mode::Set(0o600), None)
                .unwrap_err()
                .to_string();
            assert!(
                err.contains(what) && err.contains("nothing was written"),
                "{err}"
            );
        }
    }
}
