//! `release-kit.toml`: where the project's parts live and how they ship.
//!
//! The file sits at the project root; every path in it is relative to that
//! root. A missing file or section means the defaults below, which point at
//! the example project in `examples/mult-agentes/`.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::preflight::Problem;

/// The configuration file's name.
pub const FILE_NAME: &str = "release-kit.toml";

/// The whole configuration.
#[derive(Clone, Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    /// The Python package.
    #[serde(default)]
    pub python: PythonConfig,
    /// The VS Code extension.
    #[serde(default)]
    pub vscode: VscodeConfig,
    /// Hugging Face models to pre-fetch.
    #[serde(default)]
    pub hf: HfConfig,
    /// The release pipeline.
    #[serde(default)]
    pub release: ReleaseConfig,
}

/// `[python]`: the first (often only) Python package, and settings shared
/// by every package of the project.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PythonConfig {
    /// Folder holding `pyproject.toml`.
    #[serde(default = "default_python_path")]
    pub path: PathBuf,
    /// How the first package is built; by default its
    /// `[build-system] build-backend` decides.
    #[serde(default)]
    pub backend: Option<BackendChoice>,
    /// More packages released in the same version lockstep
    /// (`[[python.packages]]`), each with its own `path` (and `backend`).
    #[serde(default)]
    pub packages: Vec<PackageConfig>,
    /// Where built files go.
    #[serde(default = "default_dist")]
    pub dist: PathBuf,
    /// Prefer `build`/`twine` found on PATH over the managed venv.
    #[serde(default)]
    pub use_path_tools: bool,
    /// Python the rehearsal runs after installing the first package (a
    /// call into it), beside the import.
    #[serde(default)]
    pub rehearse_check: Option<String>,
    /// The simple-API root listing what a `--repository-url` index holds,
    /// for an index whose listing is not found by its layout.
    #[serde(default)]
    pub check_url: Option<String>,
}

impl Default for PythonConfig {
    fn default() -> Self {
        PythonConfig {
            path: default_python_path(),
            backend: None,
            packages: Vec::new(),
            dist: default_dist(),
            use_path_tools: false,
            rehearse_check: None,
            check_url: None,
        }
    }
}

/// One `[[python.packages]]` entry: a further Python package.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PackageConfig {
    /// Folder holding its `pyproject.toml`.
    pub path: PathBuf,
    /// How it is built; by default its `[build-system] build-backend` decides.
    #[serde(default)]
    pub backend: Option<BackendChoice>,
    /// Python the rehearsal runs after installing it (a call into it).
    #[serde(default)]
    pub rehearse_check: Option<String>,
}

/// `backend = "…"`: the tool that builds a package's wheels.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum BackendChoice {
    /// `python -m build` (any PEP 517 backend; pure-Python wheels).
    Build,
    /// `maturin build` (PyO3 / cffi / uniffi extensions).
    Maturin,
    /// `cibuildwheel` (setuptools or scikit-build-core C extensions).
    Cibuildwheel,
}

/// `[vscode]`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct VscodeConfig {
    /// Folder holding the extension's `package.json`; `enabled = false` to skip.
    #[serde(default = "default_vscode_path")]
    pub path: PathBuf,
    /// Whether the project ships an extension.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// The extension's version must equal the Python package's.
    #[serde(default = "yes")]
    pub lockstep: bool,
    /// Publish with Microsoft Entra ID (`vsce publish --azure-credential`)
    /// instead of VSCE_PAT.
    #[serde(default)]
    pub azure_credential: bool,
    /// Open VSX registry URL (used when OVSX_PAT is set).
    #[serde(default)]
    pub ovsx_registry_url: Option<String>,
    /// Run `vsce`/`ovsx` found on PATH instead of the pinned copies that
    /// release-kit installs into its per-user cache.
    #[serde(default)]
    pub use_path_tools: bool,
}

impl Default for VscodeConfig {
    fn default() -> Self {
        VscodeConfig {
            path: default_vscode_path(),
            enabled: true,
            lockstep: true,
            azure_credential: false,
            ovsx_registry_url: None,
            use_path_tools: false,
        }
    }
}

/// `[hf]`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct HfConfig {
    /// Models to pre-fetch.
    #[serde(default = "default_models")]
    pub models: Vec<ModelConfig>,
}

impl Default for HfConfig {
    fn default() -> Self {
        HfConfig {
            models: default_models(),
        }
    }
}

/// One `[[hf.models]]` entry.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ModelConfig {
    /// `org/name`.
    pub repo: String,
    /// Branch, tag or commit; default `main`.
    #[serde(default)]
    pub revision: Option<String>,
    /// Keep only files matching one of these (fnmatch, `*` crosses `/`).
    #[serde(default)]
    pub include: Vec<String>,
    /// Drop files matching one of these.
    #[serde(default)]
    pub exclude: Vec<String>,
}

/// `[release]`
#[derive(Clone, Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ReleaseConfig {
    /// Pre-fetch models as part of `cargo xtask release`.
    #[serde(default)]
    pub prefetch_models: bool,
    /// The changelog, relative to the root.
    #[serde(default)]
    pub changelog: Option<PathBuf>,
}

fn default_python_path() -> PathBuf {
    "examples/mult-agentes".into()
}
fn default_vscode_path() -> PathBuf {
    "examples/mult-agentes/vscode-extension".into()
}
fn default_dist() -> PathBuf {
    "dist".into()
}
fn yes() -> bool {
    true
}
fn default_models() -> Vec<ModelConfig> {
    vec![ModelConfig {
        repo: "sentence-transformers/all-MiniLM-L6-v2".into(),
        revision: None,
        include: Vec::new(),
        exclude: Vec::new(),
    }]
}

/// The project: its root folder and configuration.
#[derive(Clone, Debug)]
pub struct Project {
    /// The root (where `release-kit.toml` is).
    pub root: PathBuf,
    /// The configuration.
    pub config: Config,
}

impl Project {
    /// Loads the project rooted at `root` (its `release-kit.toml` is optional).
    /// A file that cannot be read or parsed is a preflight [`Problem`].
    pub fn load(root: &Path) -> Result<Project, Problem> {
        let root = std::path::absolute(root).unwrap_or_else(|_| root.to_owned());
        let file = root.join(FILE_NAME);
        let config = match std::fs::read_to_string(&file) {
            Ok(text) => toml::from_str(&text).map_err(|e| {
                Problem::new(format!(
                    "fix the configuration file (see README, \"Configuration\"): {}: {}",
                    file.display(),
                    e.to_string().trim()
                ))
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Config::default(),
            Err(e) => {
                return Err(Problem::new(format!("cannot read {}: {e}", file.display())));
            }
        };
        Ok(Project { root, config })
    }

    /// The folder of the first Python package (`[python] path`), whose
    /// version the others follow.
    pub fn python_dir(&self) -> PathBuf {
        self.root.join(&self.config.python.path)
    }

    /// Every Python package's folder and configured backend, the first
    /// package first.
    pub fn python_packages(&self) -> Vec<(PathBuf, Option<BackendChoice>)> {
        let py = &self.config.python;
        std::iter::once((self.python_dir(), py.backend))
            .chain(
                py.packages
                    .iter()
                    .map(|p| (self.root.join(&p.path), p.backend)),
            )
            .collect()
    }

    /// The `rehearse-check` configured for the package in `dir`.
    pub fn rehearse_check(&self, dir: &Path) -> Option<&str> {
        let py = &self.config.python;
        if dir == self.python_dir() {
            return py.rehearse_check.as_deref();
        }
        py.packages
            .iter()
            .find(|p| self.root.join(&p.path) == dir)
            .and_then(|p| p.rehearse_check.as_deref())
    }

    /// The folder of the VS Code extension.
    pub fn vscode_dir(&self) -> PathBuf {
        self.root.join(&self.config.vscode.path)
    }

    /// Where built artifacts go.
    pub fn dist_dir(&self) -> PathBuf {
        self.root.join(&self.config.python.dist)
    }

    /// The changelog file.
    pub fn changelog(&self) -> PathBuf {
        self.root.join(
            self.config
                .release
                .changelog
                .as_deref()
                .unwrap_or(Path::new("CHANGELOG.md")),
        )
    }
}

/// The project root: the nearest folder at or above `start` holding
/// `release-kit.toml`, else `fallback` (the repository release-kit was
/// built from).
pub fn find_root(start: &Path, fallback: &Path) -> PathBuf {
    let start = std::path::absolute(start).unwrap_or_else(|_| start.to_owned());
    start
        .ancestors()
        .find(|d| d.join(FILE_NAME).is_file())
        .map(Path::to_owned)
        .unwrap_or_else(|| fallback.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_without_file() {
        let tmp = tempfile::tempdir().unwrap();
        let p = Project::load(tmp.path()).unwrap();
        assert_eq!(p.python_dir(), tmp.path().join("examples/mult-agentes"));
        assert!(p.config.vscode.lockstep);
        assert_eq!(
            p.config.hf.models[0].repo,
            "sentence-transformers/all-MiniLM-L6-v2"
        );
    }

    #[test]
    fn parses_and_rejects_unknown_keys() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(
            tmp.path().join(FILE_NAME),
            "[python]\npath = \"py\"\n[vscode]\nlockstep = false\n[[hf.models]]\nrepo = \"a/b\"\nrevision = \"v1\"\ninclude = [\"*.json\"]\n",
        )
        .unwrap();
        let p = Project::load(tmp.path()).unwrap();
        assert_eq!(p.python_dir(), tmp.path().join("py"));
        assert!(!p.config.vscode.lockstep);
        assert_eq!(p.config.hf.models[0].revision.as_deref(), Some("v1"));
        std::fs::write(tmp.path().join(FILE_NAME), "[python]\npth = \"py\"\n").unwrap();
        let err = format!("{:#}", Project::load(tmp.path()).unwrap_err());
        assert!(
            err.contains("release-kit.toml") && err.contains("pth"),
            "{err}"
        );
    }

    #[test]
    fn several_packages() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(
            tmp.path().join(FILE_NAME),
            "[python]\npath = \"a\"\n[[python.packages]]\npath = \"b\"\nbackend = \"maturin\"\n",
        )
        .unwrap();
        let p = Project::load(tmp.path()).unwrap();
        assert_eq!(
            p.python_packages(),
            vec![
                (tmp.path().join("a"), None),
                (tmp.path().join("b"), Some(BackendChoice::Maturin))
            ]
        );
        std::fs::write(
            tmp.path().join(FILE_NAME),
            "[python]\nbackend = \"setup.py\"\n",
        )
        .unwrap();
        let err = format!("{:#}", Project::load(tmp.path()).unwrap_err());
        assert!(err.contains("cibuildwheel"), "{err}");
    }

    #[test]
    fn root_walks_up() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join(FILE_NAME), "").unwrap();
        let nested = tmp.path().join("x/y");
        std::fs::create_dir_all(&nested).unwrap();
        assert_eq!(find_root(&nested, Path::new("/fallback")), tmp.path());
        let other = tempfile::tempdir().unwrap();
        assert_eq!(
            find_root(other.path(), Path::new("/fallback")),
            Path::new("/fallback")
        );
    }
}
