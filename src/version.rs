//! Reading the version of each part, with the file and line it is on, so a
//! mismatch can point at the place to fix.

use std::path::{Path, PathBuf};

use crate::preflight::Problem;

/// A version and where it was read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VersionAt {
    /// The version text.
    pub version: String,
    /// The file.
    pub file: PathBuf,
    /// 1-based line.
    pub line: usize,
}

impl std::fmt::Display for VersionAt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({}:{})",
            self.version,
            self.file.display(),
            self.line
        )
    }
}

/// `[project] version` of `dir/pyproject.toml` (PEP 621, static). A file
/// that cannot be read, or holds no static version, is a [`Problem`].
pub fn pyproject(dir: &Path) -> Result<VersionAt, Problem> {
    let (file, text, doc) = read_pyproject(dir)?;
    from_pyproject(&file, &text, &doc)
}

/// `dir/pyproject.toml`: its path, its text and its table. A file that
/// cannot be read or parsed is a [`Problem`].
pub fn read_pyproject(dir: &Path) -> Result<(PathBuf, String, toml::Table), Problem> {
    let file = dir.join("pyproject.toml");
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

/// `[project] version` of a `pyproject.toml` read already (`file`, its
/// `text` for the line, its table `doc`).
pub fn from_pyproject(file: &Path, text: &str, doc: &toml::Table) -> Result<VersionAt, Problem> {
    let Some(project) = doc.get("project").and_then(|p| p.as_table()) else {
        return Err(Problem::new(format!(
            "{}: no [project] table (PEP 621 metadata is required)",
            file.display()
        )));
    };
    let Some(version) = project.get("version").and_then(|v| v.as_str()) else {
        return Err(Problem::new(format!(
            "{}: [project] has no static `version`; set `version = \"X.Y.Z\"` (dynamic versions are not supported)",
            file.display()
        )));
    };
    let line = line_of(text, |l| {
        let l = l.trim_start();
        l.starts_with("version") && l["version".len()..].trim_start().starts_with('=')
    });
    Ok(VersionAt {
        version: version.to_owned(),
        file: file.to_owned(),
        line,
    })
}

/// The first line matching `pred`, 1-based (1 when none does).
pub fn line_of(text: &str, pred: impl Fn(&str) -> bool) -> usize {
    text.lines().position(pred).map(|i| i + 1).unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_versions_with_lines() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(
            tmp.path().join("pyproject.toml"),
            "[build-system]\nrequires = []\n\n[project]\nname = \"x\"\nversion = \"1.2.3\"\n",
        )
        .unwrap();
        let py = pyproject(tmp.path()).unwrap();
        assert_eq!((py.version.as_str(), py.line), ("1.2.3", 6));
    }

    #[test]
    fn dynamic_version_is_explained() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(
            tmp.path().join("pyproject.toml"),
            "[project]\nname = \"x\"\ndynamic = [\"version\"]\n",
        )
        .unwrap();
        let err = pyproject(tmp.path()).unwrap_err().to_string();
        assert!(err.contains("no static `version`"), "{err}");
    }
}
