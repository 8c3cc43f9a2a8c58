//! `release-kit.toml`: where the project's parts live and how they ship.
//!
//! The file sits at the project root; every path in it is relative to that
//! root, and finding it is how a command finds the project (`cargo xtask
//! init` writes it). A missing section means the defaults below: a Python
//! package at the root, an extension when the root has a `package.json`,
//! `CHANGELOG.md`, no models.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::preflight::Problem;
use crate::settings::registry::{Declared, Registry, Ships};

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
    /// The project's own variables (`[[variables]]`); the publishing
    /// credentials follow from what it ships ([`Project::registry`]).
    #[serde(default)]
    pub variables: Vec<toml::Spanned<Declared>>,
}

/// `[python]`: the first (often only) Python package, and settings shared
/// by every package of the project.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PythonConfig {
    /// Whether the project ships Python packages (`false`: an
    /// extension-only project; build and publish skip Python).
    #[serde(default = "yes")]
    pub enabled: bool,
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
    /// call into it), instead of importing its top-level modules.
    #[serde(default)]
    pub rehearse_check: Option<String>,
    /// The simple-API root listing what a `--repository-url` index holds,
    /// for an index whose listing is not found by its layout.
    #[serde(default)]
    pub check_url: Option<String>,
    /// The variable holding the first package's PyPI token (and the
    /// `--repository-url` password); `TWINE_PASSWORD` when unset.
    #[serde(default)]
    pub token: Option<String>,
    /// The variable holding the first package's TestPyPI token;
    /// `TWINE_PASSWORD_TEST` when unset.
    #[serde(default)]
    pub testpypi_token: Option<String>,
}

impl Default for PythonConfig {
    fn default() -> Self {
        PythonConfig {
            enabled: true,
            path: default_python_path(),
            backend: None,
            packages: Vec::new(),
            dist: default_dist(),
            use_path_tools: false,
            rehearse_check: None,
            check_url: None,
            token: None,
            testpypi_token: None,
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
    /// Python the rehearsal runs after installing it (a call into it),
    /// instead of importing its top-level modules.
    #[serde(default)]
    pub rehearse_check: Option<String>,
    /// The variable holding its PyPI token (and the `--repository-url`
    /// password): PyPI scopes a token to one project. `TWINE_PASSWORD`
    /// when unset.
    #[serde(default)]
    pub token: Option<String>,
    /// The variable holding its TestPyPI token; `TWINE_PASSWORD_TEST`
    /// when unset.
    #[serde(default)]
    pub testpypi_token: Option<String>,
}

/// Which index a package's token is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenIndex {
    /// PyPI, and any index given by `--repository-url`.
    Pypi,
    /// TestPyPI.
    TestPypi,
}

impl TokenIndex {
    /// The variable used when the package names none.
    pub fn default_var(self) -> &'static str {
        match self {
            TokenIndex::Pypi => "TWINE_PASSWORD",
            TokenIndex::TestPypi => "TWINE_PASSWORD_TEST",
        }
    }

    /// The release-kit.toml key naming the variable.
    pub fn key(self) -> &'static str {
        match self {
            TokenIndex::Pypi => "token",
            TokenIndex::TestPypi => "testpypi-token",
        }
    }
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
    /// Whether the project ships an extension; when release-kit.toml does
    /// not say, whether `path` holds a `package.json` ([`Project::load`]).
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
#[derive(Clone, Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct HfConfig {
    /// Models to pre-fetch.
    #[serde(default)]
    pub models: Vec<ModelConfig>,
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
    /// The changelog, relative to the root (default `CHANGELOG.md`), or
    /// `false` for a project without one.
    #[serde(default)]
    pub changelog: Option<ChangelogSetting>,
}

/// `changelog = "path"` or `changelog = false`.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum ChangelogSetting {
    /// `false`: no changelog is read or required; `true`: the default file.
    Enabled(bool),
    /// The file, relative to the root.
    Path(PathBuf),
}

fn default_python_path() -> PathBuf {
    ".".into()
}
fn default_vscode_path() -> PathBuf {
    ".".into()
}
fn default_dist() -> PathBuf {
    "dist".into()
}
fn yes() -> bool {
    true
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
    /// Loads the project rooted at `root` (without a `release-kit.toml`
    /// there, the defaults: the CLI finds the root by the file, see
    /// [`find_root`]). A file that cannot be read or parsed is a preflight
    /// [`Problem`].
    pub fn load(root: &Path) -> Result<Project, Problem> {
        let root = std::path::absolute(root).unwrap_or_else(|_| root.to_owned());
        let file = root.join(FILE_NAME);
        let text = match std::fs::read_to_string(&file) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => {
                return Err(Problem::new(format!("cannot read {}: {e}", file.display())));
            }
        };
        let invalid = |e: toml::de::Error| {
            Problem::new(format!(
                "fix the configuration file (see README, \"Configuration\"; [[variables]]: \
                 docs/configuration.md): {}: {}",
                file.display(),
                e.to_string().trim()
            ))
        };
        let config: Config = toml::from_str(&text).map_err(invalid)?;
        token_names_problem(&config.python, &file)?;
        let mut project = Project { root, config };
        // An extension is shipped where there is one, unless told.
        let table: toml::Table = toml::from_str(&text).map_err(invalid)?;
        let said = table.get("vscode").and_then(|v| v.get("enabled")).is_some();
        if !said {
            project.config.vscode.enabled = project.vscode_dir().join("package.json").is_file();
        }
        project.registry_at(&file, &text)?;
        Ok(project)
    }

    /// The project's variables: the publishing credentials of what it
    /// ships, then its `[[variables]]`. A declaration that cannot be used
    /// is a [`Problem`] naming release-kit.toml and the entry's line.
    pub fn registry(&self) -> Result<Registry, Problem> {
        let file = self.root.join(FILE_NAME);
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        self.registry_at(&file, &text)
    }

    fn registry_at(&self, file: &Path, text: &str) -> Result<Registry, Problem> {
        let c = &self.config;
        let ships = Ships {
            python: c.python.enabled,
            vscode: c.vscode.enabled,
            models: !c.hf.models.is_empty(),
        };
        let declared: Vec<Declared> = c.variables.iter().map(|v| v.get_ref().clone()).collect();
        Registry::build(&ships, &declared).map_err(|e| {
            let line = c.variables.get(e.index).map(|v| {
                let start = v.span().start.min(text.len());
                text.as_bytes()[..start]
                    .iter()
                    .filter(|b| **b == b'\n')
                    .count()
                    + 1
            });
            Problem::at(
                format!("{e}; see docs/configuration.md"),
                file.to_owned(),
                line,
            )
        })
    }

    /// The folder of the first Python package (`[python] path`), whose
    /// version the others follow.
    pub fn python_dir(&self) -> PathBuf {
        self.root.join(&self.config.python.path)
    }

    /// Every Python package's folder and configured backend, the first
    /// package first; none with `[python] enabled = false`.
    pub fn python_packages(&self) -> Vec<(PathBuf, Option<BackendChoice>)> {
        let py = &self.config.python;
        if !py.enabled {
            return Vec::new();
        }
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

    /// The variable holding the token of the package in `dir` for `index`
    /// (`token` / `testpypi-token` of its entry, else the default).
    pub fn token_var(&self, dir: &Path, index: TokenIndex) -> &str {
        let py = &self.config.python;
        let (token, test) = if dir == self.python_dir() {
            (&py.token, &py.testpypi_token)
        } else {
            match py.packages.iter().find(|p| self.root.join(&p.path) == dir) {
                Some(p) => (&p.token, &p.testpypi_token),
                None => (&None, &None),
            }
        };
        let named = match index {
            TokenIndex::Pypi => token,
            TokenIndex::TestPypi => test,
        };
        named.as_deref().unwrap_or(index.default_var())
    }

    /// Every token variable a package names in release-kit.toml (not the
    /// defaults), each once.
    pub fn named_token_vars(&self) -> Vec<&str> {
        let py = &self.config.python;
        let mut out: Vec<&str> = Vec::new();
        let named = [&py.token, &py.testpypi_token].into_iter().chain(
            py.packages
                .iter()
                .flat_map(|p| [&p.token, &p.testpypi_token]),
        );
        for v in named.flatten() {
            if !out.contains(&v.as_str()) {
                out.push(v);
            }
        }
        out
    }

    /// The folder of the VS Code extension.
    pub fn vscode_dir(&self) -> PathBuf {
        self.root.join(&self.config.vscode.path)
    }

    /// Where built artifacts go.
    pub fn dist_dir(&self) -> PathBuf {
        self.root.join(&self.config.python.dist)
    }

    /// The changelog file (`CHANGELOG.md` unless configured).
    pub fn changelog(&self) -> PathBuf {
        match &self.config.release.changelog {
            Some(ChangelogSetting::Path(p)) => self.root.join(p),
            _ => self.root.join("CHANGELOG.md"),
        }
    }

    /// Whether the project keeps a changelog the release checks
    /// (`[release] changelog = false` says it does not).
    pub fn has_changelog(&self) -> bool {
        self.config.release.changelog != Some(ChangelogSetting::Enabled(false))
    }
}

/// A `token` / `testpypi-token` must name a variable whose name says it
/// holds a secret (TOKEN, PASSWORD, …): only such a name is loaded from
/// the environment, masked and searched for as a secret.
fn token_names_problem(py: &PythonConfig, file: &Path) -> Result<(), Problem> {
    let named = [(&py.token, "token"), (&py.testpypi_token, "testpypi-token")]
        .into_iter()
        .chain(
            py.packages
                .iter()
                .flat_map(|p| [(&p.token, "token"), (&p.testpypi_token, "testpypi-token")]),
        );
    for (name, key) in named {
        let Some(name) = name else { continue };
        let shaped = !name.is_empty()
            && !name.starts_with(|c: char| c.is_ascii_digit())
            && name
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
        // Never quoted unless it is a name: a token pasted here by
        // mistake must not be printed.
        let problem = if !shaped {
            format!(
                "`{key}` is not an environment variable's name (capitals, digits and `_`); it \
                 names the variable that holds the token, never the token itself"
            )
        } else if !crate::settings::looks_secret(name) {
            format!(
                "`{key} = \"{name}\"`: the name must say it holds a secret (TOKEN or PASSWORD \
                 in it, e.g. PYPI_TOKEN_MYPKG), so that its value is masked everywhere"
            )
        } else {
            continue;
        };
        return Err(Problem::new(format!(
            "{}: {problem}; fix release-kit.toml",
            file.display()
        )));
    }
    Ok(())
}

/// The project root: the nearest folder at or above `start` holding
/// `release-kit.toml`; `None` when there is none (never release-kit's own
/// tree: [`not_found`] says to run `init`).
pub fn find_root(start: &Path) -> Option<PathBuf> {
    let start = std::path::absolute(start).unwrap_or_else(|_| start.to_owned());
    start
        .ancestors()
        .find(|d| d.join(FILE_NAME).is_file())
        .map(Path::to_owned)
}

/// The problem of a command that needs a project run where there is none.
pub fn not_found(start: &Path) -> Problem {
    Problem::new(format!(
        "no {FILE_NAME} in {} or any folder above it: run `cargo xtask init` at the project's \
         root to write one (it detects the Python packages, the extension and the changelog), \
         or pass --root DIR",
        start.display()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_name_nothing_of_the_example() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join(FILE_NAME), "").unwrap();
        let p = Project::load(tmp.path()).unwrap();
        assert_eq!(p.python_dir(), tmp.path().join("."));
        assert!(p.config.python.enabled);
        assert!(p.config.vscode.lockstep);
        assert!(!p.config.vscode.enabled, "no package.json at the root");
        assert!(p.config.hf.models.is_empty());
        assert_eq!(p.changelog(), tmp.path().join("CHANGELOG.md"));
        assert!(p.has_changelog());
        // An extension at the root is shipped unless told otherwise.
        std::fs::write(tmp.path().join("package.json"), "{}").unwrap();
        assert!(Project::load(tmp.path()).unwrap().config.vscode.enabled);
        std::fs::write(tmp.path().join(FILE_NAME), "[vscode]\nenabled = false\n").unwrap();
        assert!(!Project::load(tmp.path()).unwrap().config.vscode.enabled);
    }

    #[test]
    fn python_and_changelog_can_be_off() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(
            tmp.path().join(FILE_NAME),
            "[python]\nenabled = false\n[release]\nchangelog = false\n",
        )
        .unwrap();
        let p = Project::load(tmp.path()).unwrap();
        assert!(p.python_packages().is_empty());
        assert!(!p.has_changelog());
        std::fs::write(
            tmp.path().join(FILE_NAME),
            "[release]\nchangelog = \"CHANGES.rst\"\n",
        )
        .unwrap();
        let p = Project::load(tmp.path()).unwrap();
        assert!(p.has_changelog());
        assert_eq!(p.changelog(), tmp.path().join("CHANGES.rst"));
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
    fn variables_follow_what_ships_and_what_is_declared() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join(FILE_NAME);
        std::fs::write(
            &file,
            "[vscode]\nenabled = true\n\n[[variables]]\nname = \"PORT\"\nkind = \"integer\"\n\
             default = \"8080\"\n",
        )
        .unwrap();
        let reg = Project::load(tmp.path()).unwrap().registry().unwrap();
        let names: Vec<_> = reg.vars().iter().map(|v| v.name).collect();
        assert_eq!(
            names,
            [
                "TWINE_USERNAME",
                "TWINE_PASSWORD",
                "TWINE_PASSWORD_TEST",
                "VSCE_PAT",
                "OVSX_PAT",
                "PORT"
            ]
        );
        // A declaration it cannot use: the file, the entry's line, the fix.
        let text = "[python]\nenabled = false\n\n[[variables]]\nname = \"A\"\nkind = \"text\"\n\n\
                    [[variables]]\nname = \"PORT\"\nkind = \"integer\"\ndefault = \"http\"\n";
        std::fs::write(&file, text).unwrap();
        let p = Project::load(tmp.path()).unwrap_err();
        assert_eq!(
            (p.file.as_deref(), p.line),
            (Some(file.as_path()), Some(8)),
            "{p}"
        );
        assert!(
            p.message
                .contains("PORT: its `default` is not a valid integer"),
            "{p}"
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
    fn each_package_names_its_token_variables() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(
            tmp.path().join(FILE_NAME),
            "[python]\npath = \"a\"\n[[python.packages]]\npath = \"b\"\ntoken = \"PYPI_TOKEN_B\"\n\
             testpypi-token = \"TESTPYPI_TOKEN_B\"\n",
        )
        .unwrap();
        let p = Project::load(tmp.path()).unwrap();
        let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
        assert_eq!(p.token_var(&a, TokenIndex::Pypi), "TWINE_PASSWORD");
        assert_eq!(p.token_var(&a, TokenIndex::TestPypi), "TWINE_PASSWORD_TEST");
        assert_eq!(p.token_var(&b, TokenIndex::Pypi), "PYPI_TOKEN_B");
        assert_eq!(p.token_var(&b, TokenIndex::TestPypi), "TESTPYPI_TOKEN_B");
        assert_eq!(p.named_token_vars(), ["PYPI_TOKEN_B", "TESTPYPI_TOKEN_B"]);
        // A name that would not be masked is refused, named; a token pasted
        // in place of the name is refused and never quoted.
        for (value, shown) in [
            ("NATIVE_UPLOAD", true),
            ("pypi-AgEIcHlwaS5vcmcCANARY", false),
        ] {
            std::fs::write(
                tmp.path().join(FILE_NAME),
                format!("[[python.packages]]\npath = \"b\"\ntoken = \"{value}\"\n"),
            )
            .unwrap();
            let err = Project::load(tmp.path()).unwrap_err().to_string();
            assert!(err.contains("`token"), "{err}");
            assert_eq!(err.contains(value), shown, "{err}");
        }
    }

    #[test]
    fn root_walks_up() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join(FILE_NAME), "").unwrap();
        let nested = tmp.path().join("x/y");
        std::fs::create_dir_all(&nested).unwrap();
        assert_eq!(find_root(&nested).as_deref(), Some(tmp.path()));
        // No silent fallback: nothing found is None, and the problem says
        // what to run.
        let other = tempfile::tempdir().unwrap();
        let lone = other.path().join("a");
        std::fs::create_dir(&lone).unwrap();
        assert_eq!(find_root(&lone), None);
        let p = not_found(&lone);
        assert!(p.message.contains("cargo xtask init"), "{p}");
        assert!(p.message.contains(&lone.display().to_string()), "{p}");
    }
}
