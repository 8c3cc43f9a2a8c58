//! One version everywhere: the `pyproject.toml` of every Python package
//! (or where a dynamic version is read), `package.json` (in lockstep: the
//! same `X.Y.Z` for a final release, the Marketplace form of a
//! pre-release), the newest released entry of the changelog, and the git
//! tag in CI; compared as PEP 440 versions (`26.4` is `26.4.0`).

use crate::config::Project;
use crate::pep440::{self, same};
use crate::preflight::{Preflight, PreflightError, Problem};
use crate::version::{self, VersionAt};
use crate::vscode::manifest::Manifest;

/// Checks that every place agrees on the version; returns it, or every
/// disagreement at once. `tag` is the git tag being released (CI), if any.
pub fn check(project: &Project, tag: Option<&str>) -> Result<String, PreflightError> {
    let mut problems = Vec::new();
    // The first Python package names the version; an extension-only
    // project's package.json does.
    let python = match reference(project) {
        Ok(v) => v,
        Err(e) => {
            return Err(PreflightError::one(Problem {
                message: format!("{e:#}"),
                file: None,
                line: None,
            }));
        }
    };
    let want = python.version.clone();
    let mismatch = |what: &str, at: &VersionAt, hint: &str| Problem {
        message: format!(
            "{what} says {} but {} says {want}; {hint}",
            at.version,
            python.file.display()
        ),
        file: Some(at.file.clone()),
        line: Some(at.line),
    };
    // Every further Python package ships in the same version.
    for (dir, _) in project.python_packages().into_iter().skip(1) {
        match version::pyproject(&dir) {
            Ok(other) if !same(&other.version, &want) => problems.push(mismatch(
                &other.file.display().to_string(),
                &other,
                &format!(
                    "every Python package of release-kit.toml ships in one version: {}",
                    other.how_to_set(&want)
                ),
            )),
            Ok(_) => {}
            Err(e) => problems.push(Problem {
                message: format!("{e:#}"),
                file: None,
                line: None,
            }),
        }
    }
    let py = project.config.python.enabled;
    if py && project.config.vscode.enabled && project.config.vscode.lockstep {
        match Manifest::read(&project.vscode_dir()).and_then(|m| m.version_at()) {
            Ok(js) => problems.extend(lockstep(&js, &python)),
            Err(e) => problems.push(Problem {
                message: format!("{e:#}"),
                file: None,
                line: None,
            }),
        }
    }
    problems.extend(changelog_and_tag(project, &python, tag));
    if problems.is_empty() {
        Ok(want)
    } else {
        Err(PreflightError { problems })
    }
}

/// [`check`] for a command's preflight: its problems (with file and
/// line, which the CLI annotates in GitHub Actions) go into `pre`.
pub fn check_into(project: &Project, tag: Option<&str>, pre: &mut Preflight) -> Option<String> {
    pre.absorb(check(project, tag))
}

/// The changelog's newest released entry and the git tag against the
/// version of the first Python package.
fn changelog_and_tag(project: &Project, python: &VersionAt, tag: Option<&str>) -> Vec<Problem> {
    let want = &python.version;
    let mut problems = Vec::new();
    // None without a changelog (`[release] changelog = false`).
    let newest = project
        .has_changelog()
        .then(|| crate::changelog::newest(&project.changelog()));
    match newest {
        None => {}
        Some(Ok(rel)) if !same(&rel.version, want) => problems.push(Problem {
            message: format!(
                "the newest released entry is {} but {} says {want}; add `## [{want}] - YYYY-MM-DD` with the release notes",
                rel.version,
                python.file.display()
            ),
            file: Some(rel.file),
            line: Some(rel.line),
        }),
        Some(Ok(_)) => {}
        // The file is the problem's: named once.
        Some(Err(e)) => problems.push(Problem {
            message: e.reason(),
            file: Some(e.file().to_owned()),
            line: None,
        }),
    }
    if let Some(tag) = tag {
        let tagged = tag.strip_prefix('v').unwrap_or(tag);
        if !same(tagged, want) {
            problems.push(Problem {
                message: format!(
                    "the git tag {tag} does not match version {want}; tag v{want} instead, or {}",
                    python.how_to_set(tagged)
                ),
                file: Some(python.file.clone()),
                line: Some(python.line),
            });
        }
    }
    problems
}

/// The extension's version `js` in lockstep with the Python package's
/// `python`: a final release the same `X.Y.Z`, a pre-release the
/// Marketplace version [`pep440::marketplace_version`] maps it to.
fn lockstep(js: &VersionAt, python: &VersionAt) -> Option<Problem> {
    let at = |message: String| Problem {
        message,
        file: Some(js.file.clone()),
        line: Some(js.line),
    };
    let mapped = pep440::Version::parse(&python.version)
        .map_err(|e| e.to_string())
        .and_then(|v| pep440::marketplace_version(&v).map_err(|e| e.to_string()));
    match mapped {
        Ok(m) if m.version == js.version => None,
        Ok(m) if m.pre_release => Some(at(format!(
            "package.json says {} but {} says {}, a pre-release: the extension ships as {} with --pre-release \
             ({}); set \"version\": \"{}\" in package.json (or `lockstep = false` under [vscode] in release-kit.toml)",
            js.version,
            python.file.display(),
            python.version,
            m.version,
            pep440::PRE_RELEASE_MAPPING,
            m.version
        ))),
        Ok(m) => Some(at(format!(
            "package.json says {} but {} says {}; set \"version\": \"{}\" in package.json \
             (or `lockstep = false` under [vscode] in release-kit.toml)",
            js.version,
            python.file.display(),
            python.version,
            m.version
        ))),
        Err(e) => Some(at(format!("lockstep with {}: {e}", python.file.display()))),
    }
}

/// The version every other place must name: the first Python package's,
/// or without Python the extension's.
fn reference(project: &Project) -> Result<VersionAt, Problem> {
    if project.config.python.enabled {
        version::pyproject(&project.python_dir())
    } else {
        Manifest::read(&project.vscode_dir()).and_then(|m| m.version_at())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(py: &str, js: &str, changelog: &str) -> (tempfile::TempDir, Project) {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        std::fs::create_dir_all(root.join("py")).unwrap();
        std::fs::create_dir_all(root.join("ext")).unwrap();
        std::fs::write(
            root.join("py/pyproject.toml"),
            format!("[project]\nname = \"x\"\nversion = \"{py}\"\n"),
        )
        .unwrap();
        std::fs::write(
            root.join("ext/package.json"),
            format!("{{\n  \"version\": \"{js}\"\n}}\n"),
        )
        .unwrap();
        std::fs::write(
            root.join("CHANGELOG.md"),
            format!("# Changelog\n\n## [Unreleased]\n\n## [{changelog}] - 2026-01-01\n\n- x\n"),
        )
        .unwrap();
        std::fs::write(
            root.join("release-kit.toml"),
            "[python]\npath = \"py\"\n[vscode]\npath = \"ext\"\n",
        )
        .unwrap();
        let p = Project::load(root).unwrap();
        (tmp, p)
    }

    #[test]
    fn without_python_or_changelog() {
        let (t, _) = project("1.2.3", "2.0.0", "0.1.0");
        let root = t.path();
        // An extension-only project: package.json names the version, and
        // no changelog is asked for.
        std::fs::write(
            root.join("release-kit.toml"),
            "[python]\nenabled = false\n[vscode]\npath = \"ext\"\n[release]\nchangelog = false\n",
        )
        .unwrap();
        let p = Project::load(root).unwrap();
        assert_eq!(check(&p, Some("v2.0.0")).unwrap(), "2.0.0");
        let err = check(&p, Some("v1.2.3")).unwrap_err();
        assert!(err.problems[0].message.contains("v1.2.3"), "{err:?}");
    }

    #[test]
    fn all_agree() {
        let (_t, p) = project("1.2.3", "1.2.3", "1.2.3");
        assert_eq!(check(&p, Some("v1.2.3")).unwrap(), "1.2.3");
    }

    #[test]
    fn every_python_package_in_lockstep() {
        let (t, p) = project("1.2.3", "1.2.3", "1.2.3");
        let root = t.path();
        for (dir, v) in [("native", "1.2.4"), ("third", "1.2.3")] {
            std::fs::create_dir_all(root.join(dir)).unwrap();
            std::fs::write(
                root.join(dir).join("pyproject.toml"),
                format!("[project]\nname = \"{dir}\"\nversion = \"{v}\"\n"),
            )
            .unwrap();
        }
        let toml = std::fs::read_to_string(root.join("release-kit.toml")).unwrap();
        std::fs::write(
            root.join("release-kit.toml"),
            toml.replace(
                "[vscode]",
                "[[python.packages]]\npath = \"native\"\n[[python.packages]]\npath = \"third\"\n[vscode]",
            ),
        )
        .unwrap();
        let p2 = Project::load(root).unwrap();
        let problems = check(&p2, None).unwrap_err().problems;
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].message.contains("says 1.2.4")
                && problems[0].message.contains("one version"),
            "{}",
            problems[0].message
        );
        assert!(
            problems[0]
                .file
                .as_ref()
                .unwrap()
                .ends_with("native/pyproject.toml")
        );
        assert_eq!(problems[0].line, Some(3));
        drop(p);
    }

    #[test]
    fn every_mismatch_with_file_and_line() {
        let (_t, p) = project("1.2.3", "1.2.4", "1.2.2");
        let problems = check(&p, Some("v1.3.0")).unwrap_err().problems;
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(
            problems[0]
                .file
                .as_ref()
                .unwrap()
                .ends_with("ext/package.json")
        );
        assert_eq!(problems[0].line, Some(2));
        assert!(problems[1].file.as_ref().unwrap().ends_with("CHANGELOG.md"));
        assert_eq!(problems[1].line, Some(5));
        assert!(problems[2].message.contains("tag v1.3.0"));
        assert_eq!(problems[2].line, Some(3));
    }
}
