//! A Python package of the project: read once from its `pyproject.toml`,
//! and the distribution files it is built into.

pub mod filename;
mod files;
pub mod metadata;

use std::path::{Path, PathBuf};

pub use filename::{
    Kind, WheelName, normalize, normalize_version, parse_filename, platform_problem,
};
pub use files::{DistFile, FileError, describe_file, file_name, is_package_file, package_files};

use super::backend::Backend;
use crate::config::{BackendChoice, Project};
use crate::preflight::{Preflight, Problem};
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
    /// `[build-system] requires` (PEP 518's default when absent).
    pub build_requires: Vec<String>,
}

/// The first Python package of the project (`[python] path`).
pub fn package(project: &Project) -> Result<Package, Problem> {
    package_at(&project.python_dir(), project.config.python.backend)
}

/// Every Python package of the project, the first first; each one that
/// cannot be read, and a second one of the same (normalized) name, which
/// would be built and uploaded twice, is a problem in `pre`.
pub fn packages(project: &Project, pre: &mut Preflight) -> Vec<Package> {
    let mut out: Vec<Package> = Vec::new();
    for (dir, backend) in project.python_packages() {
        let Some(pkg) = pre.check(package_at(&dir, backend)) else {
            continue;
        };
        if let Some(first) = out
            .iter()
            .find(|p| normalize(&p.name) == normalize(&pkg.name))
        {
            pre.problem(Problem::at(
                format!(
                    "the Python package {} is configured twice, in {} and in {}; \
                     remove one of them from [python] / [[python.packages]]",
                    pkg.name,
                    first.dir.display(),
                    pkg.dir.display()
                ),
                project.root.join(crate::config::FILE_NAME),
                None,
            ));
            continue;
        }
        out.push(pkg);
    }
    out
}

/// The packages of the project `--package NAME` selects (all when `None`);
/// an unreadable package or an unknown name is a problem in `pre`.
pub fn selected(project: &Project, name: Option<&str>, pre: &mut Preflight) -> Vec<Package> {
    let all = packages(project, pre);
    if all.is_empty() {
        // Nothing could be read: that is the problem, not the name.
        return Vec::new();
    }
    pre.check(select(all, name)).unwrap_or_default()
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

/// Reads the package in `dir` from its `pyproject.toml`, once: `[project]
/// name` and `version`, which tool builds it, and its build requirements.
pub fn package_at(dir: &Path, backend: Option<BackendChoice>) -> Result<Package, Problem> {
    let (file, text, doc) = version::read_pyproject(dir)?;
    let version = version::from_pyproject(&file, &text, &doc)?;
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
        backend: super::backend::detect(&doc, backend),
        build_requires: build_requires(&file, &doc)?,
    })
}

/// Which tool builds the package in `dir`: the configured one, else the
/// one its `pyproject.toml` names (read only then).
pub fn backend_at(dir: &Path, configured: Option<BackendChoice>) -> Result<Backend, Problem> {
    if let Some(c) = configured {
        return Ok(c.into());
    }
    let (_, _, doc) = version::read_pyproject(dir)?;
    Ok(super::backend::detect(&doc, None))
}

/// `[build-system] requires` of `doc` (PEP 518's default when absent); a
/// value that is not a list of strings is a problem in `file`, not a
/// silent default.
fn build_requires(file: &Path, doc: &toml::Table) -> Result<Vec<String>, Problem> {
    let Some(requires) = doc.get("build-system").and_then(|b| b.get("requires")) else {
        return Ok(vec!["setuptools>=40.8.0".into()]);
    };
    requires
        .as_array()
        .and_then(|reqs| {
            reqs.iter()
                .map(|r| r.as_str().map(str::to_owned))
                .collect::<Option<Vec<String>>>()
        })
        .ok_or_else(|| {
            Problem::new(format!(
                "{}: [build-system] requires must be a list of requirement strings (PEP 518), \
                 like requires = [\"hatchling>=1.27\"]",
                file.display()
            ))
        })
}

/// A package of version 1.0 read from nowhere, for tests.
#[cfg(test)]
pub(crate) fn test_package(name: &str, backend: Backend) -> Package {
    Package {
        name: name.into(),
        version: VersionAt::new("1.0", "p", 1),
        dir: ".".into(),
        backend,
        build_requires: Vec::new(),
    }
}

/// The tag check for a tagged CI run: `v1.2.3` or `1.2.3` for version 1.2.3.
pub fn check_tag(tag: &str, version: &VersionAt) -> Result<(), Problem> {
    let bare = tag.strip_prefix('v').unwrap_or(tag);
    if crate::pep440::same(bare, &version.version) {
        Ok(())
    } else {
        Err(Problem::new(format!(
            "the tag {tag} does not match the package version {version}; \
             {}, or tag v{} instead",
            version.how_to_set(bare),
            version.version
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_must_match() {
        let v = VersionAt::new("0.1.0", "pyproject.toml", 7);
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
        // The same package twice (a name that normalizes alike, or one
        // folder named twice) would build and upload twice.
        std::fs::create_dir(tmp.path().join("c")).unwrap();
        std::fs::write(
            tmp.path().join("c/pyproject.toml"),
            "[project]\nname = \"mult-agentes\"\nversion = \"1.0\"\n",
        )
        .unwrap();
        std::fs::write(
            tmp.path().join(crate::config::FILE_NAME),
            "[python]\npath = \"a\"\n[[python.packages]]\npath = \"b\"\n\
             [[python.packages]]\npath = \"c\"\n[[python.packages]]\npath = \"b\"\n",
        )
        .unwrap();
        let project = Project::load(tmp.path()).unwrap();
        let mut pre = Preflight::new();
        let all = packages(&project, &mut pre);
        assert_eq!(all.len(), 2);
        let e = pre.finish().unwrap_err().to_string();
        assert!(
            e.contains("mult-agentes is configured twice")
                && e.contains("native is configured twice")
                && e.contains(crate::config::FILE_NAME),
            "{e}"
        );
    }

    #[test]
    fn build_requires_from_pyproject_or_default() {
        let tmp = tempfile::tempdir().unwrap();
        let write = |extra: &str| {
            std::fs::write(
                tmp.path().join("pyproject.toml"),
                format!("{extra}\n[project]\nname = \"x\"\nversion = \"1.0\"\n"),
            )
            .unwrap()
        };
        write("");
        let pkg = package_at(tmp.path(), None).unwrap();
        assert_eq!(pkg.build_requires, ["setuptools>=40.8.0"]);
        write(
            "[build-system]\nrequires = [\"hatchling>=1.27\", \"x\"]\nbuild-backend = \"maturin\"",
        );
        let pkg = package_at(tmp.path(), None).unwrap();
        assert_eq!(pkg.build_requires, ["hatchling>=1.27", "x"]);
        assert_eq!(pkg.backend, Backend::Maturin);
        assert_eq!(backend_at(tmp.path(), None).unwrap(), Backend::Maturin);
    }

    #[test]
    fn build_requires_that_are_no_list_of_strings_are_a_problem() {
        let tmp = tempfile::tempdir().unwrap();
        for bad in ["\"hatchling\"", "[\"hatchling\", 3]"] {
            std::fs::write(
                tmp.path().join("pyproject.toml"),
                format!(
                    "[build-system]\nrequires = {bad}\n[project]\nname = \"x\"\nversion = \"1.0\"\n"
                ),
            )
            .unwrap();
            let e = package_at(tmp.path(), None).unwrap_err().to_string();
            assert!(
                e.contains("pyproject.toml") && e.contains("requires must be a list"),
                "{bad}: {e}"
            );
        }
    }
}
