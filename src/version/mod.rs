//! Reading the version of each part, with the file and line it is on, so a
//! mismatch can point at the place to fix. A Python package's version is
//! read where its build backend reads it: `[project] version`, or for a
//! dynamic version Cargo.toml (maturin), the module's `__version__`
//! (flit, hatchling's `path`), or the git tag (setuptools-scm, hatch-vcs).

mod dynamic;
mod vcs;

use std::path::{Component, Path, PathBuf};

use crate::preflight::Problem;

/// Where a version is written, which decides how to change it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Source {
    /// A `version` field: `[project] version`, package.json's.
    #[default]
    Static,
    /// `[package] version` of a Cargo.toml (maturin's dynamic version).
    Cargo,
    /// A literal `__version__ = "…"` in a module (flit, hatchling `path`).
    Module,
    /// The git tag, as setuptools-scm / hatch-vcs compute it.
    GitTag,
    /// `SETUPTOOLS_SCM_PRETEND_VERSION` (or its `_FOR_<NAME>` form).
    Environment,
}

/// A version and where it was read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VersionAt {
    /// The version text (a dynamic one in its PEP 440 normal form).
    pub version: String,
    /// The file.
    pub file: PathBuf,
    /// 1-based line.
    pub line: usize,
    /// What kind of place it is.
    pub source: Source,
}

impl VersionAt {
    /// A version written in a `version` field of `file`, at `line`.
    pub fn new(version: impl Into<String>, file: impl Into<PathBuf>, line: usize) -> VersionAt {
        VersionAt {
            version: version.into(),
            file: file.into(),
            line,
            source: Source::Static,
        }
    }

    /// `file:line`.
    pub fn place(&self) -> String {
        format!("{}:{}", self.file.display(), self.line)
    }

    /// How to make the version `want`, in words for a message.
    pub fn how_to_set(&self, want: &str) -> String {
        let place = self.place();
        match self.source {
            Source::Static => format!("set the version to {want} in {place}"),
            Source::Cargo => {
                format!("set `version = \"{want}\"` in {place} (maturin reads it there)")
            }
            Source::Module => format!("set `__version__ = \"{want}\"` in {place}"),
            Source::GitTag => format!(
                "tag the commit `v{want}` (the version comes from the git tag, configured at {place})"
            ),
            Source::Environment => format!("set {} to {want}", self.file.display()),
        }
    }
}

impl std::fmt::Display for VersionAt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.source {
            Source::Environment => write!(f, "{} ({})", self.version, self.file.display()),
            Source::GitTag => write!(f, "{} (git tag, {})", self.version, self.place()),
            _ => write!(f, "{} ({})", self.version, self.place()),
        }
    }
}

/// The version of the Python package in `dir`, where its build backend
/// reads it. A file that cannot be read, or a version that cannot be
/// known before the build, is a [`Problem`].
pub fn pyproject(dir: &Path) -> Result<VersionAt, Problem> {
    let (file, text, doc) = read_pyproject(dir)?;
    from_pyproject(&file, &text, &doc)
}

/// `path` without its `.` components (`root/./pyproject.toml` is
/// `root/pyproject.toml` in messages).
pub fn tidy(path: &Path) -> PathBuf {
    path.components()
        .filter(|c| *c != Component::CurDir)
        .collect()
}

/// `dir/pyproject.toml`: its path, its text and its table. A file that
/// cannot be read or parsed is a [`Problem`].
pub fn read_pyproject(dir: &Path) -> Result<(PathBuf, String, toml::Table), Problem> {
    let file = tidy(&dir.join("pyproject.toml"));
    let text = std::fs::read_to_string(&file).map_err(|e| {
        Problem::new(format!(
            "cannot read {}; is [python] path in release-kit.toml right?: {e}",
            file.display()
        ))
    })?;
    let doc: toml::Table = toml::from_str(&text)
        .map_err(|e| Problem::new(format!("{}: {}", file.display(), e.to_string().trim())))?;
    Ok((file, text, doc))
}

/// The version of a `pyproject.toml` read already (`file`, its `text` for
/// the line, its table `doc`): `[project] version`, else the dynamic
/// version where its backend reads it.
pub fn from_pyproject(file: &Path, text: &str, doc: &toml::Table) -> Result<VersionAt, Problem> {
    let Some(project) = doc.get("project").and_then(|p| p.as_table()) else {
        return Err(Problem::new(format!(
            "{}: no [project] table (PEP 621 metadata is required)",
            file.display()
        )));
    };
    let dynamic = project
        .get("dynamic")
        .and_then(|d| d.as_array())
        .is_some_and(|d| d.iter().any(|v| v.as_str() == Some("version")));
    match project.get("version") {
        Some(v) => {
            let line = line_in_table(text, "project", "version");
            let Some(version) = v.as_str() else {
                return Err(Problem::at(
                    "[project] version must be a string",
                    file,
                    Some(line),
                ));
            };
            if dynamic {
                return Err(Problem::at(
                    "[project] has a static `version` and lists \"version\" in `dynamic` (PEP 621 allows one): \
                     remove one of them",
                    file,
                    Some(line),
                ));
            }
            Ok(VersionAt::new(version, file, line))
        }
        None => dynamic::version(file, text, doc, dynamic),
    }
}

/// The first line matching `pred`, 1-based (1 when none does).
pub fn line_of(text: &str, pred: impl Fn(&str) -> bool) -> usize {
    text.lines().position(pred).map(|i| i + 1).unwrap_or(1)
}

/// The line of `key = …` inside the TOML table `[table]` (also a dotted
/// `key.sub = …`), else of the table's header, else 1.
pub fn line_in_table(text: &str, table: &str, key: &str) -> usize {
    let header = format!("[{table}]");
    let mut inside = false;
    let mut header_line = None;
    for (i, line) in text.lines().enumerate() {
        let l = line.trim();
        if l.starts_with('[') {
            inside = l.split('#').next().unwrap_or("").trim() == header;
            if inside {
                header_line = Some(i + 1);
            }
            continue;
        }
        if inside
            && let Some(rest) = l.strip_prefix(key)
            && (rest.trim_start().starts_with('=') || rest.starts_with('.'))
        {
            return i + 1;
        }
    }
    header_line.unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_versions_with_lines() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(
            tmp.path().join("pyproject.toml"),
            "[tool.other]\nversion = \"9\"\n[build-system]\nrequires = []\n\n[project]\nname = \"x\"\nversion = \"1.2.3\"\n",
        )
        .unwrap();
        let py = pyproject(tmp.path()).unwrap();
        assert_eq!((py.version.as_str(), py.line), ("1.2.3", 8));
        assert_eq!(py.source, Source::Static);
    }

    #[test]
    fn the_path_has_no_dot_component() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(
            tmp.path().join("pyproject.toml"),
            "[project]\nname = \"x\"\nversion = \"1.0\"\n",
        )
        .unwrap();
        let py = pyproject(&tmp.path().join(".")).unwrap();
        assert_eq!(py.file, tmp.path().join("pyproject.toml"));
        assert!(!py.to_string().contains("/./"), "{py}");
    }

    #[test]
    fn an_unreadable_dynamic_version_is_explained() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(
            tmp.path().join("pyproject.toml"),
            "[project]\nname = \"x\"\ndynamic = [\"version\"]\n",
        )
        .unwrap();
        let err = pyproject(tmp.path()).unwrap_err();
        assert!(
            err.message.contains("dynamic") && err.message.contains("Cargo.toml (maturin)"),
            "{err}"
        );
        assert_eq!(err.line, Some(3));
        std::fs::write(
            tmp.path().join("pyproject.toml"),
            "[project]\nname = \"x\"\nversion = \"1.0\"\ndynamic = [\"version\"]\n",
        )
        .unwrap();
        let err = pyproject(tmp.path()).unwrap_err();
        assert!(err.message.contains("remove one of them"), "{err}");
    }

    #[test]
    fn line_in_a_table() {
        let text = "[package]\nname = \"a\"\n\n[workspace.package]\nversion = \"1\"\n[package.metadata]\nversion = 2\n";
        assert_eq!(line_in_table(text, "workspace.package", "version"), 5);
        assert_eq!(line_in_table(text, "package", "version"), 1);
        assert_eq!(
            line_in_table(
                "[package]\nversion.workspace = true\n",
                "package",
                "version"
            ),
            2
        );
    }
}
