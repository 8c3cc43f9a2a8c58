//! `cargo xtask doctor`: the `.env` file's hygiene and the tools the steps use.

use std::path::{Path, PathBuf};

use serde::Serialize;

pub use crate::tools::ToolReport;
use xshell::cmd;

use crate::tools::{captured, find_on_path, probe, shell};

/// How a finding weighs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// All good.
    Ok,
    /// Worth fixing.
    Warning,
    /// Must be fixed.
    Error,
}

/// One line of the report.
#[derive(Clone, Debug, Serialize)]
pub struct Finding {
    /// How it weighs.
    pub level: Level,
    /// What was found (never a value).
    pub message: String,
}

/// The whole report.
#[derive(Clone, Debug, Serialize)]
pub struct DoctorReport {
    /// The `.env` file found.
    pub env_file: Option<PathBuf>,
    /// Findings about `.env`.
    pub env_findings: Vec<Finding>,
    /// Tools.
    pub tools: Vec<ToolReport>,
}

impl DoctorReport {
    /// True when some finding is an error.
    pub fn has_errors(&self) -> bool {
        self.env_findings.iter().any(|f| f.level == Level::Error)
    }
}

/// Checks a `.env` file: permissions, git-ignored, not tracked.
pub fn check_env_file(path: &Path) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut push = |level, message: String| out.push(Finding { level, message });
    #[cfg(unix)]
    match std::fs::metadata(path) {
        Ok(meta) => {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                push(
                    Level::Warning,
                    format!(
                        "{} is readable by other users (mode {mode:o}); run: chmod 600 {}",
                        path.display(),
                        path.display()
                    ),
                );
            } else {
                push(Level::Ok, format!("{} has mode {mode:o}", path.display()));
            }
        }
        Err(e) => push(
            Level::Error,
            format!("{}: cannot be read ({})", path.display(), e.kind()),
        ),
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    match git_status(dir, &name) {
        GitState::NotARepo => push(
            Level::Ok,
            format!("{} is not inside a git repository", dir.display()),
        ),
        GitState::NoGit => push(
            Level::Warning,
            "git was not found, so .env's git status is unknown".into(),
        ),
        GitState::Checked { ignored, tracked } => {
            if tracked {
                push(
                    Level::Error,
                    format!(
                        "{} is tracked by git: its secrets are in the history. Run `git rm --cached {name}` \
                         and commit, then rotate every secret it held (`cargo xtask env rotate VAR`)",
                        path.display()
                    ),
                );
            }
            if ignored {
                push(Level::Ok, format!("{name} is ignored by git"));
            } else {
                push(
                    Level::Warning,
                    format!("{name} is not ignored by git; add `.env` and `.env.*` to .gitignore"),
                );
            }
        }
    }
    out
}

enum GitState {
    NoGit,
    NotARepo,
    Checked { ignored: bool, tracked: bool },
}

fn git_status(dir: &Path, name: &str) -> GitState {
    if find_on_path("git").is_none() {
        return GitState::NoGit;
    }
    let Some(sh) = shell() else {
        return GitState::NoGit;
    };
    sh.change_dir(dir);
    let inside = captured(cmd!(sh, "git rev-parse --is-inside-work-tree"))
        .ignore_stderr()
        .read();
    if inside.map(|s| s.trim() != "true").unwrap_or(true) {
        return GitState::NotARepo;
    }
    let succeeds =
        |cmd: xshell::Cmd<'_>| captured(cmd).ignore_stdout().ignore_stderr().run().is_ok();
    let ignored = succeeds(cmd!(sh, "git check-ignore -q --no-index {name}"));
    let tracked = succeeds(cmd!(sh, "git ls-files --error-unmatch {name}"));
    GitState::Checked { ignored, tracked }
}

/// Whether git ignores `path` (`None` when not in a repository or no git).
pub fn is_git_ignored(path: &Path) -> Option<bool> {
    let dir = path.parent()?;
    let name = path.file_name()?.to_string_lossy().into_owned();
    match git_status(dir, &name) {
        GitState::Checked { ignored, .. } => Some(ignored),
        _ => None,
    }
}

/// The base tools every machine needs.
pub fn base_tools() -> Vec<ToolReport> {
    vec![
        probe(
            "python3",
            &["--version"],
            "build, publish, setup",
            "install Python 3.9+ (apt-get install python3 python3-venv)",
        ),
        probe(
            "node",
            &["--version"],
            "vsce-*",
            "install Node.js 20 (https://nodejs.org or your package manager)",
        ),
        probe("npm", &["--version"], "setup (vsce)", "comes with Node.js"),
        probe("npx", &["--version"], "vsce-*", "comes with Node.js"),
        probe(
            "git",
            &["--version"],
            "doctor, release",
            "apt-get install git",
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn world_readable_env_warns() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join(".env");
        std::fs::write(&p, "A=1\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        }
        let f = check_env_file(&p);
        assert!(
            f.iter()
                .any(|f| f.level == Level::Warning && f.message.contains("chmod 600")),
            "{f:?}"
        );
    }

    #[test]
    fn tracked_env_is_an_error() {
        if find_on_path("git").is_none() {
            return;
        }
        let tmp = tempfile::tempdir().unwrap();
        let sh = xshell::Shell::new().unwrap();
        sh.change_dir(tmp.path());
        xshell::cmd!(sh, "git init -q").quiet().run().unwrap();
        std::fs::write(tmp.path().join(".env"), "A=1\n").unwrap();
        xshell::cmd!(sh, "git add .env").quiet().run().unwrap();
        let f = check_env_file(&tmp.path().join(".env"));
        assert!(
            f.iter()
                .any(|f| f.level == Level::Error && f.message.contains("git rm --cached")),
            "{f:?}"
        );
        assert!(
            f.iter()
                .any(|f| f.level == Level::Warning && f.message.contains("not ignored"))
        );
        std::fs::write(tmp.path().join(".gitignore"), ".env\n").unwrap();
        xshell::cmd!(sh, "git rm -q --cached .env")
            .quiet()
            .run()
            .unwrap();
        let f = check_env_file(&tmp.path().join(".env"));
        assert!(f.iter().all(|f| f.level != Level::Error), "{f:?}");
        assert_eq!(is_git_ignored(&tmp.path().join(".env")), Some(true));
    }
}
