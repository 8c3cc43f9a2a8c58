//! The git pre-commit guard: a hook that runs `scan --staged` (which also
//! refuses staged `.env` files). Installing is idempotent; a hook already
//! there is kept, renamed beside ours, and run first; uninstalling puts it
//! back.

use std::path::{Path, PathBuf};

use crate::error::{IoContext as _, IoError};
use crate::settings::userfile::WriteError;

/// Why the guard was not installed or removed. Names paths only.
#[derive(Debug, thiserror::Error)]
pub enum HookError {
    /// No shell to run git in.
    #[error(transparent)]
    Shell(#[from] xshell::Error),
    /// `dir` is not inside a git repository.
    #[error(
        "{} is not in a git repository; run this inside the repository (or `git init` first)",
        .dir.display()
    )]
    NotARepository {
        /// Where git was asked.
        dir: PathBuf,
        /// What running git said.
        #[source]
        source: xshell::Error,
    },
    /// The hooks folder is a link: not written through.
    #[error(
        "{}: is a symbolic link to {}; the hook is not written through it. Point \
         core.hooksPath at the folder itself, or replace the link by a folder",
        .folder.display(),
        .target.display()
    )]
    LinkedFolder {
        /// The hooks folder.
        folder: PathBuf,
        /// Where it leads.
        target: PathBuf,
    },
    /// A foreign hook and a saved one both exist.
    #[error(
        "{} is not ours, and {} (the hook ours chained to) exists too; \
         merge them by hand, then run `cargo xtask hooks install` again",
        .hook.display(),
        .saved.display()
    )]
    SavedExists {
        /// The hook.
        hook: PathBuf,
        /// The saved hook.
        saved: PathBuf,
    },
    /// The hook there is not ours: left alone.
    #[error(
        "{} is not the release-kit guard; it was left as it is (remove it by hand if you mean to)",
        .0.display()
    )]
    NotOurs(PathBuf),
    /// A file operation failed.
    #[error(transparent)]
    Io(#[from] IoError),
    /// The hook was not written.
    #[error(transparent)]
    Write(#[from] WriteError),
}

/// The line that marks a hook as ours.
pub const MARKER: &str = "# release-kit pre-commit guard";

/// Where a hook we replaced is kept, beside the hook.
const SAVED_SUFFIX: &str = ".release-kit-saved";

/// The hook file of `repo` and where a replaced hook is kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HookPaths {
    /// `.git/hooks/pre-commit` (or under `core.hooksPath`).
    pub hook: PathBuf,
    /// `pre-commit.release-kit-saved`: the hook that was there before.
    pub saved: PathBuf,
}

/// What `install` did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Installed {
    /// No hook was there; ours is.
    Fresh,
    /// Ours was there already; it was rewritten.
    Refreshed,
    /// Another hook was there: kept at this path and run before ours.
    Chained(PathBuf),
}

/// What `uninstall` did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Uninstalled {
    /// Ours was removed; nothing else was there before.
    Removed,
    /// Ours was removed and the hook it chained to put back.
    Restored(PathBuf),
    /// No hook of ours was installed.
    NotInstalled,
}

/// The pre-commit hook paths of the repository holding `dir` (honours
/// `core.hooksPath` and linked worktrees, as git does).
pub fn paths(dir: &Path) -> Result<HookPaths, HookError> {
    let sh = xshell::Shell::new()?;
    sh.change_dir(dir);
    let hook = crate::tools::captured(xshell::cmd!(
        sh,
        "git rev-parse --git-path hooks/pre-commit"
    ))
    .ignore_stderr()
    .read()
    .map_err(|source| HookError::NotARepository {
        dir: dir.to_owned(),
        source,
    })?;
    // Not `--path-format=absolute`: git resolves links in it, and a link
    // at the hook's place is what `install` must see.
    let hook = lexical_join(dir, Path::new(hook.trim()));
    let mut saved = hook.clone().into_os_string();
    saved.push(SAVED_SUFFIX);
    Ok(HookPaths {
        hook,
        saved: saved.into(),
    })
}

/// `base` joined with `rel` (kept when absolute), `.` and `..` folded
/// without following links.
fn lexical_join(base: &Path, rel: &Path) -> PathBuf {
    use std::path::Component;
    let base = std::path::absolute(base).unwrap_or_else(|_| base.to_owned());
    let mut out = PathBuf::new();
    for c in base.join(rel).components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir
                if matches!(out.components().next_back(), Some(Component::Normal(_))) =>
            {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// The hook script: runs the hook it replaced (if any), then the scan.
/// `command` is shell text (already quoted): `cargo xtask` for this
/// repository, whose hook runs the built binary (`target/debug/xtask` or
/// `target/release/xtask`, so that no commit compiles anything) and, when
/// there is none, says how to build it; else the binary's path, with
/// `xtask` on PATH as the fallback when it moved, and the fix when neither
/// is there.
pub fn script(command: &str) -> String {
    let run = if command == "cargo xtask" {
        r#"top="$(git rev-parse --show-toplevel)"
for bin in "$top/target/debug/xtask" "$top/target/release/xtask"; do
  if [ -x "$bin" ]; then
    exec "$bin" scan --staged
  fi
done
echo "pre-commit: the secret scan needs the xtask binary, which is not built: run \`cargo build -p xtask\` once, then commit again" >&2
exit 1
"#
        .to_owned()
    } else {
        format!(
            r#"bin={command}
if [ ! -x "$bin" ]; then
  bin="$(command -v xtask || true)"
fi
if [ -z "$bin" ]; then
  echo "pre-commit: release-kit's xtask is no longer at "{command}" and not on PATH: put it on PATH, or run \`xtask hooks install\` again from where it is now" >&2
  exit 1
fi
exec "$bin" scan --staged
"#
        )
    };
    format!(
        r#"#!/bin/sh
{MARKER}: installed by `cargo xtask hooks install`;
# `cargo xtask hooks uninstall` removes it and puts back the hook it chained to.
# It refuses a commit that stages a secret or a .env file. A finding that is
# fine can be allowed with an inline `xtask:allow` comment, or its
# fingerprint in .xtask-scan-ignore (`cargo xtask scan --staged --add-to-ignore FINGERPRINT`).
saved="$(dirname "$0")/pre-commit{SAVED_SUFFIX}"
if [ -x "$saved" ]; then
  "$saved" "$@" || exit $?
fi
{run}"#
    )
}

fn is_ours(path: &Path) -> bool {
    std::fs::read_to_string(path).is_ok_and(|t| t.contains(MARKER))
}

/// Installs the hook running `command` (e.g. `cargo xtask`).
pub fn install(paths: &HookPaths, command: &str) -> Result<Installed, HookError> {
    let HookPaths { hook, saved } = paths;
    if let Some(folder) = hook.parent()
        && let Ok(target) = std::fs::read_link(folder)
    {
        return Err(HookError::LinkedFolder {
            folder: folder.to_owned(),
            target,
        });
    }
    let outcome = if !hook.exists() {
        Installed::Fresh
    } else if is_ours(hook) {
        Installed::Refreshed
    } else {
        if saved.exists() {
            return Err(HookError::SavedExists {
                hook: hook.clone(),
                saved: saved.clone(),
            });
        }
        // Kept under the saved name first; the user's hook is replaced only
        // by the atomic write below, so a failed write leaves it in place.
        // A link's target is what gets replaced: keep a copy of its text.
        let link = std::fs::symlink_metadata(hook).is_ok_and(|m| m.file_type().is_symlink());
        let kept = if link {
            Err(std::io::ErrorKind::Unsupported.into())
        } else {
            std::fs::hard_link(hook, saved)
        };
        kept.or_else(|_| std::fs::copy(hook, saved).map(|_| ()))
            .io_context(|| format!("cannot copy {} to {}", hook.display(), saved.display()))?;
        Installed::Chained(saved.clone())
    };
    if let Some(dir) = hook.parent() {
        std::fs::create_dir_all(dir).io_context(|| format!("cannot create {}", dir.display()))?;
    }
    // Through a link, only a target inside the hooks folder is written.
    let folder = hook.parent().unwrap_or(Path::new("."));
    let mode = crate::settings::userfile::Mode::Set(0o755);
    if let Err(e) = crate::settings::userfile::write(hook, &script(command), mode, Some(folder)) {
        if matches!(outcome, Installed::Chained(_)) {
            let _ = std::fs::remove_file(saved);
        }
        return Err(e.into());
    }
    Ok(outcome)
}

/// Removes our hook and puts back the one it chained to.
pub fn uninstall(paths: &HookPaths) -> Result<Uninstalled, HookError> {
    let HookPaths { hook, saved } = paths;
    if !hook.exists() {
        return Ok(Uninstalled::NotInstalled);
    }
    if !is_ours(hook) {
        return Err(HookError::NotOurs(hook.clone()));
    }
    if saved.exists() {
        std::fs::rename(saved, hook)
            .io_context(|| format!("cannot move {} back to {}", saved.display(), hook.display()))?;
        Ok(Uninstalled::Restored(hook.clone()))
    } else {
        std::fs::remove_file(hook).io_context(|| format!("cannot remove {}", hook.display()))?;
        Ok(Uninstalled::Removed)
    }
}

/// Quotes `s` for a POSIX shell.
pub fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-+:=@".contains(&b))
    {
        return s.to_owned();
    }
    format!("'{}'", s.replace('\'', r#"'\''"#))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `script(command)` with `sh` in `dir` (a git repository) with
    /// this PATH: (exit code, stdout, stderr).
    // The hook is a POSIX shell script: these run it with `sh`.
    #[cfg(unix)]
    fn run_script(command: &str, dir: &Path, path: &str) -> (Option<i32>, String, String) {
        let hook = dir.join("hook.sh");
        std::fs::write(&hook, script(command)).unwrap();
        let out = std::process::Command::new("sh")
            .arg(&hook)
            .current_dir(dir)
            .env("PATH", path)
            .output()
            .unwrap();
        let s = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        (out.status.code(), s(&out.stdout), s(&out.stderr))
    }

    #[cfg(unix)]
    fn fake_xtask(path: &Path) {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, "#!/bin/sh\necho \"ran $*\"\n").unwrap();
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    #[test]
    #[cfg(unix)]
    fn the_repository_hook_runs_the_built_binary_or_says_how_to_build_it() {
        let (tmp, _) = repo();
        let path = std::env::var("PATH").unwrap();
        let (code, _, err) = run_script("cargo xtask", tmp.path(), &path);
        assert_eq!(code, Some(1), "{err}");
        assert!(err.contains("cargo build -p xtask"), "{err}");
        fake_xtask(&tmp.path().join("target/debug/xtask"));
        let (code, out, err) = run_script("cargo xtask", tmp.path(), &path);
        assert_eq!(code, Some(0), "{err}");
        assert_eq!(out, "ran scan --staged\n");
    }

    #[test]
    #[cfg(unix)]
    fn another_repositorys_hook_finds_a_moved_binary_on_path_or_says_the_fix() {
        let (tmp, _) = repo();
        let system = std::env::var("PATH").unwrap();
        let gone = shell_quote(&tmp.path().join("moved/xtask").to_string_lossy());
        let (code, _, err) = run_script(&gone, tmp.path(), &system);
        assert_eq!(code, Some(1), "{err}");
        assert!(
            err.contains("not on PATH") && err.contains("hooks install"),
            "{err}"
        );
        let bin = tmp.path().join("bin");
        fake_xtask(&bin.join("xtask"));
        let with = format!("{}:{system}", bin.display());
        let (code, out, err) = run_script(&gone, tmp.path(), &with);
        assert_eq!(code, Some(0), "{err}");
        assert_eq!(out, "ran scan --staged\n");
        // Where it was installed from, it runs that binary.
        fake_xtask(&tmp.path().join("moved/xtask"));
        let (code, out, _) = run_script(&gone, tmp.path(), &system);
        assert_eq!((code, out.as_str()), (Some(0), "ran scan --staged\n"));
    }

    fn repo() -> (tempfile::TempDir, HookPaths) {
        let tmp = tempfile::tempdir().unwrap();
        let sh = xshell::Shell::new().unwrap();
        sh.change_dir(tmp.path());
        xshell::cmd!(sh, "git init -q").quiet().run().unwrap();
        let p = paths(tmp.path()).unwrap();
        (tmp, p)
    }

    #[test]
    fn install_is_idempotent_and_uninstall_removes() {
        let (_tmp, p) = repo();
        assert_eq!(install(&p, "cargo xtask").unwrap(), Installed::Fresh);
        assert_eq!(install(&p, "cargo xtask").unwrap(), Installed::Refreshed);
        assert!(!p.saved.exists());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&p.hook).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o755);
        }
        assert_eq!(uninstall(&p).unwrap(), Uninstalled::Removed);
        assert!(!p.hook.exists());
        assert_eq!(uninstall(&p).unwrap(), Uninstalled::NotInstalled);
    }

    #[test]
    fn an_existing_hook_is_chained_and_restored() {
        let (_tmp, p) = repo();
        std::fs::create_dir_all(p.hook.parent().unwrap()).unwrap();
        std::fs::write(&p.hook, "#!/bin/sh\necho theirs\n").unwrap();
        assert_eq!(
            install(&p, "x").unwrap(),
            Installed::Chained(p.saved.clone())
        );
        assert_eq!(install(&p, "x").unwrap(), Installed::Refreshed);
        assert_eq!(
            std::fs::read_to_string(&p.saved).unwrap(),
            "#!/bin/sh\necho theirs\n"
        );
        assert_eq!(
            uninstall(&p).unwrap(),
            Uninstalled::Restored(p.hook.clone())
        );
        assert_eq!(
            std::fs::read_to_string(&p.hook).unwrap(),
            "#!/bin/sh\necho theirs\n"
        );
        assert!(!p.saved.exists());
    }

    #[test]
    fn quoting() {
        assert_eq!(shell_quote("/usr/bin/xtask"), "/usr/bin/xtask");
        assert_eq!(shell_quote("/a b/it's"), r#"'/a b/it'\''s'"#);
    }
}
