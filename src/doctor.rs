//! `cargo xtask doctor`: the `.env` file's hygiene and the tools the steps use.

use std::path::{Path, PathBuf};

use serde::Serialize;

pub use crate::tools::ToolReport;
use xshell::cmd;

use crate::platform::Os;
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
    #[cfg(not(unix))]
    {
        let (level, message) = acl_finding(
            &std::path::absolute(path).unwrap_or_else(|_| path.to_owned()),
            std::env::var_os("USERPROFILE")
                .map(PathBuf::from)
                .as_deref(),
        );
        push(level, message);
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

/// Windows has no file modes: who may read `.env` is its ACL, which a new
/// file inherits from its folder. Without reading ACLs (that needs the
/// Win32 security API), doctor judges by place: under the user's profile
/// (`%USERPROFILE%`) the inherited ACL admits the user, SYSTEM and the
/// Administrators only; elsewhere (`C:\src\app`) folders commonly grant
/// every local user read access, so it warns and gives the `icacls` line
/// that leaves the user alone on the file.
#[cfg(any(not(unix), test))]
fn acl_finding(path: &Path, profile: Option<&Path>) -> (Level, String) {
    let text = |p: &Path| Os::Windows.slash_path(&p.to_string_lossy()).to_lowercase();
    let under = profile.is_some_and(|home| {
        let (p, home) = (text(path), text(home));
        let home = home.trim_end_matches('/');
        p.strip_prefix(home)
            .is_some_and(|rest| rest.starts_with('/'))
    });
    if under {
        (
            Level::Ok,
            format!(
                "{} is in your user profile: Windows lets only you, SYSTEM and Administrators \
                 read it there (file modes do not exist on Windows; see `icacls {}`)",
                path.display(),
                path.display()
            ),
        )
    } else {
        (
            Level::Warning,
            format!(
                "{} is outside your user profile, where Windows folders often let every local \
                 user read files (doctor cannot read ACLs); check with `icacls {}`, and keep it \
                 to yourself with: icacls {} /inheritance:r /grant:r \"%USERNAME%:F\"",
                path.display(),
                path.display(),
                path.display()
            ),
        )
    }
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

/// A base tool: the names it goes by (best first), the
/// steps that use it and how to install it.
struct BaseTool {
    names: &'static [&'static str],
    used_by: &'static str,
    install: &'static str,
}

/// The base tools on `os`, with that platform's names and install advice.
fn base_tool_specs(os: Os) -> [BaseTool; 5] {
    let windows = os == Os::Windows;
    let pick = |unix, win| if windows { win } else { unix };
    [
        BaseTool {
            names: os.python_names(),
            used_by: "build, publish, setup",
            install: pick(
                "install Python 3.9+ (apt-get install python3 python3-venv)",
                "install Python 3.9+ from python.org or `winget install Python.Python.3.12`, \
                 with \"Add python.exe to PATH\" (the Microsoft Store alias does not run)",
            ),
        },
        BaseTool {
            names: &["node"],
            used_by: "vsce-*",
            install: pick(
                "install Node.js 20 (https://nodejs.org or your package manager)",
                "install Node.js 20 (https://nodejs.org or `winget install OpenJS.NodeJS.LTS`)",
            ),
        },
        BaseTool {
            names: &["npm"],
            used_by: "setup (vsce)",
            install: "comes with Node.js",
        },
        BaseTool {
            names: &["npx"],
            used_by: "vsce-*",
            install: "comes with Node.js",
        },
        BaseTool {
            names: &["git"],
            used_by: "doctor, release",
            install: pick("apt-get install git", "winget install Git.Git"),
        },
    ]
}

/// The base tools every machine needs, looked up on PATH (on Windows
/// `npm`/`npx` are `.cmd` shims, found through PATHEXT: [`Os::npm_shim`]).
pub fn base_tools() -> Vec<ToolReport> {
    base_tool_specs(Os::HOST)
        .iter()
        .map(|t| {
            let found = t.names.iter().find(|n| find_on_path(n).is_some());
            probe(
                found.unwrap_or(&t.names[0]),
                &["--version"],
                t.used_by,
                t.install,
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_tools_have_each_platforms_names_and_advice() {
        let unix = base_tool_specs(Os::Unix);
        let windows = base_tool_specs(Os::Windows);
        assert_eq!(unix[0].names, ["python3", "python"]);
        assert_eq!(windows[0].names, ["python", "python3"]);
        assert!(unix.iter().any(|t| t.install.contains("apt-get")));
        assert!(windows.iter().all(|t| !t.install.contains("apt-get")));
        assert!(windows[4].install.contains("winget"));
        // On this machine the report names the interpreter found.
        let python = &base_tools()[0];
        assert!(Os::HOST.python_names().contains(&python.name.as_str()));
    }

    #[test]
    fn windows_env_is_judged_by_its_folder() {
        let profile = Path::new(r"C:\Users\ana");
        let (level, msg) = acl_finding(Path::new(r"C:\Users\Ana\proj\.env"), Some(profile));
        assert_eq!(level, Level::Ok, "{msg}");
        assert!(msg.contains("icacls"), "{msg}");
        for outside in [r"C:\src\proj\.env", r"C:\Users\anabel\.env"] {
            let (level, msg) = acl_finding(Path::new(outside), Some(profile));
            assert_eq!(level, Level::Warning, "{outside}: {msg}");
            assert!(msg.contains("/inheritance:r /grant:r"), "{msg}");
        }
        let (level, _) = acl_finding(Path::new(r"C:\Users\ana\.env"), None);
        assert_eq!(level, Level::Warning, "no profile known");
    }

    #[cfg(unix)]
    #[test]
    fn world_readable_env_warns() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join(".env");
        std::fs::write(&p, "A=1\n").unwrap();
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
