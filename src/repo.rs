//! The one rule for the repository root, used by `scan`, `hooks` and
//! `env rotate`: `--root` when given, else the top of the git work tree
//! holding the working directory, else the project root (the nearest
//! folder holding `release-kit.toml`), else the working directory.

use std::path::{Path, PathBuf};

/// The repository root for a command run in `cwd`, `explicit` being
/// `--root` (made absolute, not required to exist).
pub fn root(explicit: Option<&Path>, cwd: &Path) -> std::io::Result<PathBuf> {
    if let Some(r) = explicit {
        return std::path::absolute(r);
    }
    Ok(toplevel(cwd)
        .or_else(|| crate::config::find_root(cwd))
        .unwrap_or_else(|| cwd.to_owned()))
}

/// The top folder of the git work tree holding `dir`, if any.
pub fn toplevel(dir: &Path) -> Option<PathBuf> {
    let sh = xshell::Shell::new().ok()?;
    sh.change_dir(dir);
    let out = crate::tools::captured(xshell::cmd!(sh, "git rev-parse --show-toplevel"))
        .ignore_stderr()
        .read()
        .ok()?;
    Some(PathBuf::from(out.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn git(dir: &Path, args: &[&str]) {
        let ok = std::process::Command::new("git")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("git runs")
            .status
            .success();
        assert!(ok, "git {args:?}");
    }

    #[test]
    fn explicit_wins_then_git_then_project_then_cwd() {
        let tmp = tempfile::tempdir().unwrap();
        let base = tmp.path().canonicalize().unwrap();
        let plain = base.join("plain/deep");
        std::fs::create_dir_all(&plain).unwrap();
        // Outside git and any project: the working directory.
        if toplevel(&plain).is_none() {
            assert_eq!(root(None, &plain).unwrap(), plain);
        }
        let project = base.join("project");
        std::fs::create_dir_all(project.join("sub")).unwrap();
        std::fs::write(project.join(crate::config::FILE_NAME), "").unwrap();
        if toplevel(&project).is_none() {
            assert_eq!(root(None, &project.join("sub")).unwrap(), project);
        }
        let repo = base.join("repo");
        std::fs::create_dir_all(repo.join("pkg")).unwrap();
        git(&repo, &["init", "-q"]);
        std::fs::write(repo.join("pkg").join(crate::config::FILE_NAME), "").unwrap();
        assert_eq!(root(None, &repo.join("pkg")).unwrap(), repo);
        assert_eq!(
            root(Some(Path::new("rel")), &repo).unwrap(),
            std::env::current_dir().unwrap().join("rel")
        );
    }
}
