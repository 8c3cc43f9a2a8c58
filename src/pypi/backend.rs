//! Which tool builds a package: chosen from the package itself.
//!
//! `[build-system] build-backend = "maturin"` means maturin; a configured
//! `backend = "cibuildwheel"` (setuptools or scikit-build-core C extensions,
//! whose backend alone does not say the wheels are native) means
//! cibuildwheel; anything else is built by `python -m build`.

use std::path::Path;

use serde::Serialize;

use crate::config::BackendChoice;
use crate::preflight::Problem;

/// The tool that builds a package's sdist and wheels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Backend {
    /// `python -m build`: one sdist and one wheel, for any platform when the
    /// package is pure Python.
    Build,
    /// `maturin build --release` and `maturin sdist`: one wheel per platform.
    Maturin,
    /// `cibuildwheel`: one wheel per platform (and `python -m build --sdist`).
    Cibuildwheel,
}

impl Backend {
    /// Whether the wheels are platform-specific (one build per platform).
    pub fn is_native(self) -> bool {
        !matches!(self, Backend::Build)
    }

    /// The native tool it runs, installed on demand; `None` for `build`.
    pub fn tool(self) -> Option<NativeTool> {
        match self {
            Backend::Build => None,
            Backend::Maturin => Some(NativeTool::Maturin),
            Backend::Cibuildwheel => Some(NativeTool::Cibuildwheel),
        }
    }

    /// The name used in `release-kit.toml` and printed to users.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Build => "build",
            Backend::Maturin => "maturin",
            Backend::Cibuildwheel => "cibuildwheel",
        }
    }
}

/// The native build tools, installed into the managed environment the
/// first time a package's backend needs one.
pub const NATIVE_PINS: &[&str] = &["maturin==1.16.0", "cibuildwheel==4.3.5"];

/// A build tool installed on demand (see [`NATIVE_PINS`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NativeTool {
    /// `maturin` (PyO3 / cffi / uniffi extensions).
    Maturin,
    /// `cibuildwheel` (C extensions, in manylinux containers on Linux).
    Cibuildwheel,
}

impl NativeTool {
    /// The command's name.
    pub fn name(self) -> &'static str {
        match self {
            NativeTool::Maturin => "maturin",
            NativeTool::Cibuildwheel => "cibuildwheel",
        }
    }

    /// Its pin, from [`NATIVE_PINS`].
    pub fn pin(self) -> &'static str {
        let prefix = format!("{}==", self.name());
        NATIVE_PINS
            .iter()
            .find(|p| p.starts_with(&prefix))
            .copied()
            .expect("every native tool is pinned")
    }
}

impl From<BackendChoice> for Backend {
    fn from(c: BackendChoice) -> Self {
        match c {
            BackendChoice::Build => Backend::Build,
            BackendChoice::Maturin => Backend::Maturin,
            BackendChoice::Cibuildwheel => Backend::Cibuildwheel,
        }
    }
}

/// The backend of the package in `dir`: the configured one, else the one
/// its `pyproject.toml` names.
pub fn detect(dir: &Path, configured: Option<BackendChoice>) -> Result<Backend, Problem> {
    if let Some(c) = configured {
        return Ok(c.into());
    }
    let file = dir.join("pyproject.toml");
    let text = std::fs::read_to_string(&file).map_err(|e| {
        Problem::new(format!(
            "cannot read {}; is the package's `path` in release-kit.toml right?: {e}",
            file.display()
        ))
    })?;
    let doc: toml::Table = toml::from_str(&text)
        .map_err(|e| Problem::new(format!("{}: {}", file.display(), e.to_string().trim())))?;
    let named = doc
        .get("build-system")
        .and_then(|b| b.get("build-backend"))
        .and_then(|b| b.as_str())
        .unwrap_or("");
    Ok(from_build_backend(named))
}

/// `[build-system] build-backend` → the tool that drives it.
fn from_build_backend(named: &str) -> Backend {
    // `maturin` is the backend's module; PEP 517 allows `module:object`.
    match named.split(':').next().unwrap_or("").trim() {
        "maturin" => Backend::Maturin,
        _ => Backend::Build,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_from_pyproject_or_config() {
        let tmp = tempfile::tempdir().unwrap();
        let write = |backend: &str| {
            std::fs::write(
                tmp.path().join("pyproject.toml"),
                format!("[build-system]\nrequires = []\nbuild-backend = \"{backend}\"\n[project]\nname = \"x\"\n"),
            )
            .unwrap()
        };
        write("maturin");
        assert_eq!(detect(tmp.path(), None).unwrap(), Backend::Maturin);
        write("setuptools.build_meta");
        assert_eq!(detect(tmp.path(), None).unwrap(), Backend::Build);
        assert_eq!(
            detect(tmp.path(), Some(BackendChoice::Cibuildwheel)).unwrap(),
            Backend::Cibuildwheel
        );
        std::fs::write(
            tmp.path().join("pyproject.toml"),
            "[project]\nname = \"x\"\n",
        )
        .unwrap();
        assert_eq!(detect(tmp.path(), None).unwrap(), Backend::Build);
        let missing = detect(&tmp.path().join("nope"), None).unwrap_err();
        assert!(missing.to_string().contains("path"), "{missing}");
    }
}
