//! Which tool builds a package: chosen from the package itself.
//!
//! `[build-system] build-backend = "maturin"` means maturin; a configured
//! `backend = "cibuildwheel"` (setuptools or scikit-build-core C extensions,
//! whose backend alone does not say the wheels are native) means
//! cibuildwheel; anything else is built by `python -m build`.

use serde::Serialize;

use crate::config::BackendChoice;

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

/// The backend of a package: the configured one, else the one its
/// `pyproject.toml` (the table `doc`) names.
pub fn detect(doc: &toml::Table, configured: Option<BackendChoice>) -> Backend {
    if let Some(c) = configured {
        return c.into();
    }
    let named = doc
        .get("build-system")
        .and_then(|b| b.get("build-backend"))
        .and_then(|b| b.as_str())
        .unwrap_or("");
    from_build_backend(named)
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
        let doc = |backend: &str| -> toml::Table {
            toml::from_str(&format!(
                "[build-system]\nrequires = []\nbuild-backend = \"{backend}\"\n[project]\nname = \"x\"\n"
            ))
            .unwrap()
        };
        assert_eq!(detect(&doc("maturin"), None), Backend::Maturin);
        assert_eq!(detect(&doc("maturin:x"), None), Backend::Maturin);
        assert_eq!(detect(&doc("setuptools.build_meta"), None), Backend::Build);
        assert_eq!(
            detect(&doc("maturin"), Some(BackendChoice::Cibuildwheel)),
            Backend::Cibuildwheel
        );
        let none: toml::Table = toml::from_str("[project]\nname = \"x\"\n").unwrap();
        assert_eq!(detect(&none, None), Backend::Build);
    }
}
