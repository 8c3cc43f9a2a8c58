//! `cargo xtask build`: sdist and wheel by `python -m build`, checked by
//! `twine check --strict`, into `dist/` with stale versions cleaned out.
//!
//! The build goes to a fresh folder first and reaches `dist/` only after
//! twine passed it, so a failed build never leaves half a release behind.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::backend::Backend;
use super::dist::{describe_file, package_files};
use super::token::normalize;
use super::venv::Tools;
use crate::config::{BackendChoice, Project};
use crate::error::{IoContext as _, IoError, cannot};
use crate::preflight::{Preflight, Problem};
use crate::secret::Redactor;
use crate::tools::{ChildError, Echo, tail};
use crate::version::{self, VersionAt};

/// A Python package of the project: its name and version from
/// `pyproject.toml`, its folder and the tool that builds it.
#[derive(Clone, Debug)]
pub struct Package {
    /// `[project] name`.
    pub name: String,
    /// `[project] version`, with where it was read.
    pub version: VersionAt,
    /// The folder holding `pyproject.toml`.
    pub dir: PathBuf,
    /// What builds it.
    pub backend: Backend,
}

/// Why a build, or reading `dist/`, failed.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// A file or folder could not be read or written.
    #[error(transparent)]
    Io(#[from] IoError),
    /// A file of `dist/` whose name is not a distribution's.
    #[error("{0} is not a distribution file name")]
    NotADistribution(String),
    /// A tool could not be started.
    #[error(transparent)]
    Child(#[from] ChildError),
    /// `python -m build` failed.
    #[error(
        "`{command}` failed (exit {code}):\n{output}\nfix the package so that `python -m build` succeeds in {}",
        dir.display()
    )]
    Backend {
        /// The command line, redacted.
        command: String,
        /// Its exit code (-1: killed).
        code: i32,
        /// Its last lines, redacted.
        output: String,
        /// The package folder.
        dir: PathBuf,
    },
    /// The build produced no file named after the package.
    #[error(
        "python -m build produced no file named after {package} in {}; does [project] name match?",
        dir.display()
    )]
    NoFiles {
        /// The package name.
        package: String,
        /// Where the build wrote.
        dir: PathBuf,
    },
    /// `twine check --strict` refused the files.
    #[error(
        "twine check --strict refused the build:\n{output}\nfix the metadata in {} (README format, license, classifiers)",
        file.display()
    )]
    TwineCheck {
        /// twine's last lines, redacted.
        output: String,
        /// pyproject.toml.
        file: PathBuf,
    },
}

/// The first Python package of the project (`[python] path`).
pub fn package(project: &Project) -> Result<Package, Problem> {
    package_at(&project.python_dir(), project.config.python.backend)
}

/// Every Python package of the project, the first first; each one that
/// cannot be read is a problem in `pre`.
pub fn packages(project: &Project, pre: &mut Preflight) -> Vec<Package> {
    project
        .python_packages()
        .into_iter()
        .filter_map(|(dir, backend)| pre.check(package_at(&dir, backend)))
        .collect()
}

/// The packages `--package NAME` asks for (all when `None`), compared as
/// normalized names (`Mult_Agentes` is `mult-agentes`).
pub fn select(packages: Vec<Package>, name: Option<&str>) -> Result<Vec<Package>, Problem> {
    let Some(name) = name else {
        return Ok(packages);
    };
    let wanted = normalize(name);
    let known: Vec<String> = packages.iter().map(|p| p.name.clone()).collect();
    let chosen: Vec<Package> = packages
        .into_iter()
        .filter(|p| normalize(&p.name) == wanted)
        .collect();
    if chosen.is_empty() {
        return Err(Problem::new(format!(
            "--package {name}: no such Python package in release-kit.toml; the configured ones are {}",
            if known.is_empty() {
                "none".to_owned()
            } else {
                known.join(", ")
            }
        )));
    }
    Ok(chosen)
}

/// Reads `[project] name` and `version` of the package in `dir`, and which
/// tool builds it.
pub fn package_at(dir: &Path, backend: Option<BackendChoice>) -> Result<Package, Problem> {
    let version = version::pyproject(dir)?;
    let text = std::fs::read_to_string(&version.file)
        .map_err(|e| Problem::new(format!("cannot read {}: {e}", version.file.display())))?;
    let doc: toml::Table = toml::from_str(&text).map_err(|e| {
        Problem::new(format!(
            "{}: {}",
            version.file.display(),
            e.to_string().trim()
        ))
    })?;
    let Some(name) = doc
        .get("project")
        .and_then(|p| p.get("name"))
        .and_then(|n| n.as_str())
    else {
        return Err(Problem::new(format!(
            "{}: [project] has no `name`; add `name = \"your-package\"`",
            version.file.display()
        )));
    };
    Ok(Package {
        name: name.to_owned(),
        version,
        dir: dir.to_owned(),
        backend: super::backend::detect(dir, backend)?,
    })
}

/// sdist or wheel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// `.tar.gz`
    Sdist,
    /// `.whl`
    Wheel,
}

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

/// The tag check for a tagged CI run: `v1.2.3` or `1.2.3` for version 1.2.3.
pub fn check_tag(tag: &str, version: &VersionAt) -> Result<(), Problem> {
    let bare = tag.strip_prefix('v').unwrap_or(tag);
    if bare == version.version {
        Ok(())
    } else {
        Err(Problem::new(format!(
            "the tag {tag} does not match the package version {version}; \
             set version = \"{bare}\" there, or tag v{} instead",
            version.version
        )))
    }
}

/// What a build produced.
#[derive(Clone, Debug, Serialize)]
pub struct BuildReport {
    /// The package name.
    pub package: String,
    /// Its version.
    pub version: String,
    /// The built files, in `dist/`.
    pub files: Vec<DistFile>,
    /// Files of other versions removed from `dist/`.
    pub removed: Vec<String>,
}

/// Everything `build` needs, checked without side effects; problems go to
/// `pre`. `tag` is the git tag being built (CI), if any.
pub fn preflight(project: &Project, tag: Option<&str>, pre: &mut Preflight) -> Option<Package> {
    let pkg = pre.check(package(project));
    if let (Some(tag), Some(pkg)) = (tag, &pkg) {
        pre.check(check_tag(tag, &pkg.version));
    }
    for e in super::venv::check(project) {
        pre.problem(e.to_string());
    }
    let dist = project.dist_dir();
    if dist.exists() && !dist.is_dir() {
        pre.problem(format!(
            "{}: exists and is not a folder; remove it or set [python] dist",
            dist.display()
        ));
    }
    pkg
}

/// `SOURCE_DATE_EPOCH` for a reproducible build: the one already set, else
/// the time of the last commit touching the package. A rebuild after a
/// half-finished release then has the same bytes (and sha256) as the files
/// already uploaded, so the re-run skips them instead of failing.
fn source_date_epoch(python_dir: &Path) -> Option<String> {
    if let Ok(v) = std::env::var("SOURCE_DATE_EPOCH") {
        return Some(v);
    }
    let sh = crate::tools::shell()?;
    sh.change_dir(python_dir);
    let out = crate::tools::captured(xshell::cmd!(sh, "git log -1 --format=%ct -- ."))
        .ignore_stderr()
        .read()
        .ok()?;
    let t = out.trim();
    (!t.is_empty() && t.bytes().all(|b| b.is_ascii_digit())).then(|| t.to_owned())
}

/// Builds, checks, and moves the files into `dist/`.
pub fn build(
    project: &Project,
    package: &Package,
    tools: &Tools,
    redactor: &Redactor,
    echo: Echo,
) -> Result<BuildReport, BuildError> {
    let dist = project.dist_dir();
    std::fs::create_dir_all(&dist).io_context(cannot("create", &dist))?;
    // Next to dist/ so the final rename stays on one filesystem.
    let staging = tempfile::Builder::new()
        .prefix(".build-")
        .tempdir_in(&dist)
        .io_context(cannot("create a staging folder in", &dist))?;
    let requires = super::wheelhouse::build_requires(&project.python_dir());
    let wheelhouse = super::wheelhouse::ensure(project, tools, &requires, redactor, echo);
    let epoch = source_date_epoch(&project.python_dir());
    let command = || {
        let child = tools
            .build()
            .args(["--sdist", "--wheel", "--outdir"])
            .arg(staging.path())
            .arg(project.python_dir())
            .echo(echo);
        match &epoch {
            Some(e) => child.env("SOURCE_DATE_EPOCH", e),
            None => child,
        }
    };
    let child = match &wheelhouse {
        Some(dir) => super::wheelhouse::apply(command(), dir),
        None => command(),
    };
    let mut out = child.run(redactor)?;
    if !out.status.success()
        && wheelhouse.is_some()
        && out.combined().contains("No matching distribution")
    {
        // The backend asked for more than [build-system] requires: let
        // pip reach the index for it.
        out = command().run(redactor)?;
    }
    if !out.status.success() {
        return Err(BuildError::Backend {
            command: child.display(redactor),
            code: out.status.code().unwrap_or(-1),
            output: tail(&out.combined(), 20),
            dir: project.python_dir(),
        });
    }
    let built = package_files(staging.path(), &package.name)?;
    if built.is_empty() {
        return Err(BuildError::NoFiles {
            package: package.name.clone(),
            dir: staging.path().to_owned(),
        });
    }
    let check = tools
        .twine()
        .args(["check", "--strict"])
        .args(built.iter())
        .echo(echo);
    let out = check.run(redactor)?;
    if !out.status.success() {
        return Err(BuildError::TwineCheck {
            output: tail(&out.combined(), 20),
            file: package.version.file.clone(),
        });
    }
    let mut removed = Vec::new();
    let built_names: Vec<_> = built.iter().filter_map(|p| p.file_name()).collect();
    for old in package_files(&dist, &package.name)? {
        if !built_names.contains(&old.file_name().unwrap_or_default()) {
            std::fs::remove_file(&old).io_context(cannot("remove the stale", &old))?;
            removed.push(
                old.file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned(),
            );
        }
    }
    let mut files = Vec::new();
    for src in built {
        let dst = dist.join(src.file_name().unwrap_or_default());
        std::fs::rename(&src, &dst)
            .io_context(|| format!("cannot move {} to {}", src.display(), dst.display()))?;
        files.push(describe_file(&dst)?);
    }
    files.sort_by_key(|f| (f.kind == Kind::Wheel, f.name.clone()));
    Ok(BuildReport {
        package: package.name.clone(),
        version: package.version.version.clone(),
        files,
        removed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_must_match() {
        let v = VersionAt {
            version: "0.1.0".into(),
            file: "pyproject.toml".into(),
            line: 7,
        };
        assert!(check_tag("v0.1.0", &v).is_ok());
        assert!(check_tag("0.1.0", &v).is_ok());
        let e = check_tag("v0.2.0", &v).unwrap_err().message;
        assert!(
            e.contains("pyproject.toml:7") && e.contains("tag v0.1.0"),
            "{e}"
        );
    }

    #[test]
    fn packages_and_select() {
        let tmp = tempfile::tempdir().unwrap();
        for (dir, name, backend) in [
            ("a", "Mult_Agentes", "setuptools.build_meta"),
            ("b", "native", "maturin"),
        ] {
            std::fs::create_dir(tmp.path().join(dir)).unwrap();
            std::fs::write(
                tmp.path().join(dir).join("pyproject.toml"),
                format!("[build-system]\nbuild-backend = \"{backend}\"\n[project]\nname = \"{name}\"\nversion = \"1.0\"\n"),
            )
            .unwrap();
        }
        std::fs::write(
            tmp.path().join(crate::config::FILE_NAME),
            "[python]\npath = \"a\"\n[[python.packages]]\npath = \"b\"\n[[python.packages]]\npath = \"missing\"\n",
        )
        .unwrap();
        let project = Project::load(tmp.path()).unwrap();
        let mut pre = Preflight::new();
        let all = packages(&project, &mut pre);
        assert_eq!(all.len(), 2);
        assert_eq!(all[1].backend, Backend::Maturin);
        assert!(pre.finish().unwrap_err().to_string().contains("missing"));
        let one = select(all.clone(), Some("mult-agentes")).unwrap();
        assert_eq!(one[0].dir, tmp.path().join("a"));
        assert_eq!(select(all.clone(), None).unwrap().len(), 2);
        let e = select(all, Some("nope")).unwrap_err().message;
        assert!(e.contains("Mult_Agentes, native"), "{e}");
    }
}
