//! Settings: the variable registry, `.env` discovery and loading, status and
//! checks.
//!
//! ```no_run
//! use release_kit::settings::{EnvFileChoice, LoadOptions, Settings, Step};
//! let settings = Settings::load(&LoadOptions::discover(".")).unwrap();
//! let report = settings.check(&[Step::PUBLISH], false);
//! assert!(report.errors.is_empty());
//! ```

pub mod dotenv;
pub mod envfile;
pub mod format;
mod package_tokens;
pub mod registry;
pub mod status;
pub mod userfile;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

pub use dotenv::EnvFileError;
pub use format::Format;
pub use registry::{Kind, Place, Production, Registry, Step, Var};
pub use status::{CheckReport, Problem, VarStatus};

use crate::secret::{Redactor, Secret};

/// Which `.env` file to read.
#[derive(Clone, Debug)]
pub enum EnvFileChoice {
    /// Walk up from the start folder to the filesystem root.
    Discover,
    /// This file (`--env-file`); it must exist.
    Path(PathBuf),
    /// None (`--no-env-file`).
    None,
}

/// How to load settings. Its Debug names the environment's variables, never
/// their values.
#[derive(Clone)]
pub struct LoadOptions {
    /// Where the walk-up starts (usually the working directory).
    pub start_dir: PathBuf,
    /// Which `.env` to read.
    pub env_file: EnvFileChoice,
    /// The process environment; `None` reads the real one.
    pub environment: Option<Vec<(String, String)>>,
}

impl std::fmt::Debug for LoadOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadOptions")
            .field("start_dir", &self.start_dir)
            .field("env_file", &self.env_file)
            .field(
                "environment",
                &self
                    .environment
                    .as_ref()
                    .map(|e| e.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>()),
            )
            .finish()
    }
}

impl LoadOptions {
    /// Discover `.env` upwards from `start_dir`, with the real environment.
    pub fn discover(start_dir: impl Into<PathBuf>) -> LoadOptions {
        LoadOptions {
            start_dir: start_dir.into(),
            env_file: EnvFileChoice::Discover,
            environment: None,
        }
    }
}

/// Where a value came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// The process environment.
    Environment,
    /// A `.env` file, at this line.
    EnvFile {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
    },
    /// The registry's default.
    Default,
    /// The development-only default (refused in production).
    DevDefault,
}

impl Source {
    /// Short name for JSON: `environment`, `env_file`, `default`, `dev_default`.
    pub fn kind(&self) -> &'static str {
        match self {
            Source::Environment => "environment",
            Source::EnvFile { .. } => "env_file",
            Source::Default => "default",
            Source::DevDefault => "dev_default",
        }
    }

    /// True for values a person or CI set (not defaults).
    pub fn is_explicit(&self) -> bool {
        matches!(self, Source::Environment | Source::EnvFile { .. })
    }
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Environment => f.write_str("environment"),
            Source::EnvFile { path, line } => write!(f, "{}:{line}", path.display()),
            Source::Default => f.write_str("default"),
            Source::DevDefault => f.write_str("development default"),
        }
    }
}

/// One value and where it came from. The value is always held as a
/// [`Secret`]; non-secret variables may be exposed freely.
#[derive(Clone, Debug)]
pub struct Entry {
    /// The value.
    pub value: Secret,
    /// Its source.
    pub source: Source,
}

impl Entry {
    fn from_environment(value: &str) -> Entry {
        Entry {
            value: Secret::new(value),
            source: Source::Environment,
        }
    }

    /// True when the value is non-blank.
    pub fn is_set(&self) -> bool {
        !self.value.is_blank()
    }
}

/// Everything loaded: registry variables, other `.env` keys, their sources.
#[derive(Clone, Debug)]
pub struct Settings {
    values: BTreeMap<String, Entry>,
    env_file: Option<PathBuf>,
    warnings: Vec<String>,
    /// `.env` names whose value changed through `${…}` expansion.
    expanded: BTreeSet<String>,
    redactor: Redactor,
    /// The Python projects being published, for token scope checks.
    projects: Vec<String>,
    /// Which variable holds each project's token.
    tokens: package_tokens::PackageTokens,
    /// Registry variables set explicitly to an empty value, and where: the
    /// app reads `""` there, not the default in effect here.
    empty: BTreeMap<String, Source>,
    /// The project's variables.
    registry: Registry,
}

impl Settings {
    /// Loads settings outside any project: the publishing credentials
    /// release-kit knows ([`Registry::publishing`]).
    pub fn load(opts: &LoadOptions) -> Result<Settings, EnvFileError> {
        Settings::load_for(opts, Registry::publishing())
    }

    /// Loads the settings of a project whose variables are `registry`: the
    /// process environment first, then `.env` for what the environment
    /// does not set (read as python-dotenv's `load_dotenv()` reads it, see
    /// [`dotenv`]), then registry defaults.
    pub fn load_for(opts: &LoadOptions, registry: Registry) -> Result<Settings, EnvFileError> {
        registry::register_secret_names(&registry);
        let environment: HashMap<String, String> = match &opts.environment {
            Some(env) => env.iter().cloned().collect(),
            None => std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
                .collect(),
        };
        let env_file = choose_env_file(opts)?;
        let interesting =
            |k: &str| registry.var(k).is_some() || looks_secret(k) || k.starts_with("HF_");
        let mut values: BTreeMap<String, Entry> = environment
            .iter()
            .filter(|(k, _)| interesting(k))
            .map(|(k, v)| (k.clone(), Entry::from_environment(v)))
            .collect();
        let mut warnings = Vec::new();
        let mut expanded = BTreeSet::new();
        if let Some(path) = &env_file {
            let parsed = dotenv::parse_file(path, &environment)?;
            warnings.extend(parsed.warnings);
            for e in parsed.entries {
                // As `load_dotenv()` without override: the environment wins,
                // and a name without a value sets nothing.
                let entry = match (environment.get(&e.key), e.value) {
                    (Some(v), _) => Entry::from_environment(v),
                    (None, Some(v)) => {
                        if e.expanded {
                            expanded.insert(e.key.clone());
                        }
                        let (path, line) = (path.clone(), e.line);
                        Entry {
                            value: Secret::new(v),
                            source: Source::EnvFile { path, line },
                        }
                    }
                    (None, None) => continue,
                };
                values.insert(e.key, entry);
            }
        }
        let empty = explicit_empties(&registry, &values);
        add_defaults(&registry, &mut values);
        let mut settings = Settings {
            values,
            env_file,
            warnings,
            expanded,
            redactor: Redactor::new(),
            projects: Vec::new(),
            tokens: Default::default(),
            empty,
            registry,
        };
        let mut redactor = Redactor::new();
        redactor.add_all(settings.secrets().map(|(_, e)| &e.value));
        settings.redactor = redactor;
        Ok(settings)
    }

    /// Settings with nothing loaded (no environment, no file).
    pub fn empty() -> Settings {
        Settings::load(&LoadOptions {
            start_dir: PathBuf::from("/"),
            env_file: EnvFileChoice::None,
            environment: Some(Vec::new()),
        })
        .expect("no file is read")
    }

    /// The project's variables.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The `.env` file that was read, if any.
    pub fn env_file(&self) -> Option<&Path> {
        self.env_file.as_deref()
    }

    /// Warnings met while loading (duplicates, padded values, readings
    /// docker compose does not share).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// True when the value of `name` comes from `.env` and `${…}` expansion
    /// changed it (the value checked is the expanded one).
    pub fn expanded(&self, name: &str) -> bool {
        self.expanded.contains(name)
    }

    /// Where `name` was set explicitly to an empty (blank) value, if it was.
    pub fn set_empty(&self, name: &str) -> Option<&Source> {
        self.empty.get(name)
    }

    /// The entry of `name`, set or defaulted.
    pub fn get(&self, name: &str) -> Option<&Entry> {
        self.values.get(name)
    }

    /// The value of `name` when non-blank (defaults included).
    pub fn value(&self, name: &str) -> Option<&Secret> {
        self.values
            .get(name)
            .filter(|e| e.is_set())
            .map(|e| &e.value)
    }

    /// The value of `name` only when set explicitly (environment or `.env`).
    pub fn explicit(&self, name: &str) -> Option<&Secret> {
        self.values
            .get(name)
            .filter(|e| e.is_set() && e.source.is_explicit())
            .map(|e| &e.value)
    }

    /// Every secret set explicitly (environment or `.env`), by name: what
    /// the redactor masks and the scanner searches for.
    pub fn secrets(&self) -> impl Iterator<Item = (&str, &Entry)> {
        self.values.iter().filter_map(|(k, e)| {
            let secret = self.registry.var(k).map_or_else(
                || looks_secret(k) || registry::is_known_secret(k),
                |v| v.secret,
            );
            (secret && e.source.is_explicit() && e.is_set()).then_some((k.as_str(), e))
        })
    }

    /// Names a Python project this repository publishes (once per
    /// package): a PyPI token scoped to other projects is then refused by
    /// `status` and `check`, for each project it cannot upload.
    pub fn set_project(&mut self, name: impl Into<String>) {
        self.projects.push(name.into());
    }

    /// The projects named by [`Settings::set_project`].
    pub fn projects(&self) -> &[String] {
        &self.projects
    }

    /// Sets a value at run time (a minted token); a secret is added to the
    /// redactor before anything can print it.
    pub fn set_runtime(&mut self, name: &str, value: Secret, secret: bool) {
        if secret {
            self.redactor.add(&value);
        }
        self.expanded.remove(name);
        self.values.insert(
            name.into(),
            Entry {
                value,
                source: Source::Environment,
            },
        );
    }

    /// The redactor masking every loaded secret.
    pub fn redactor(&self) -> &Redactor {
        &self.redactor
    }
}

/// The `.env` file `opts` asks for; an explicit one must exist.
fn choose_env_file(opts: &LoadOptions) -> Result<Option<PathBuf>, EnvFileError> {
    Ok(match &opts.env_file {
        EnvFileChoice::Discover => find_env_file(&opts.start_dir),
        EnvFileChoice::Path(p) => {
            let p = if p.is_absolute() {
                p.clone()
            } else {
                opts.start_dir.join(p)
            };
            if !p.exists() {
                return Err(EnvFileError::Unreadable {
                    path: p,
                    reason:
                        "no such file; create it with `cargo xtask env init` or drop --env-file"
                            .into(),
                });
            }
            Some(p)
        }
        EnvFileChoice::None => None,
    })
}

/// The registry's defaults for what nothing set: the default for a blank
/// or missing value, the development default only for a missing one.
/// Registry variables set explicitly (not by a default) to an empty
/// value, and where: the app reads `""` there, not the default.
fn explicit_empties(
    registry: &Registry,
    values: &BTreeMap<String, Entry>,
) -> BTreeMap<String, Source> {
    registry
        .vars()
        .iter()
        .filter_map(|var| {
            let e = values.get(var.name)?;
            (!e.is_set() && e.source.is_explicit()).then(|| (var.name.to_owned(), e.source.clone()))
        })
        .collect()
}

fn add_defaults(registry: &Registry, values: &mut BTreeMap<String, Entry>) {
    for var in registry.vars() {
        let unset = values.get(var.name).is_none_or(|e| !e.is_set());
        if !unset {
            continue;
        }
        let entry = if let Some(d) = var.default {
            Entry {
                value: Secret::new(d),
                source: Source::Default,
            }
        } else if let Some(d) = var.dev_default
            && !values.contains_key(var.name)
        {
            Entry {
                value: Secret::new(d),
                source: Source::DevDefault,
            }
        } else {
            continue;
        };
        values.insert(var.name.into(), entry);
    }
}

/// A name that suggests a secret, for keys the registry does not know:
/// one of its `_`-separated words is TOKEN, SECRET, PASSWORD, KEY, PAT…,
/// unless it names where a secret lives rather than the secret
/// (`HF_TOKEN_PATH`, `ACTIONS_ID_TOKEN_REQUEST_URL`).
pub fn looks_secret(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    let words: Vec<&str> = upper.split('_').filter(|w| !w.is_empty()).collect();
    const SECRET: &[&str] = &[
        "TOKEN",
        "SECRET",
        "SECRETS",
        "PASSWORD",
        "PASSWD",
        "PASS",
        "KEY",
        "APIKEY",
        "PAT",
        "CREDENTIAL",
        "CREDENTIALS",
        "AUTH",
    ];
    const WHERE: &[&str] = &[
        "URL", "PATH", "FILE", "DIR", "HOST", "PORT", "ENDPOINT", "USER", "USERNAME", "ID", "NAME",
    ];
    words.iter().any(|w| SECRET.contains(w)) && !words.last().is_some_and(|w| WHERE.contains(w))
}

/// The nearest `.env` file at or above `start`.
pub fn find_env_file(start: &Path) -> Option<PathBuf> {
    let start = std::path::absolute(start).unwrap_or_else(|_| start.to_owned());
    start
        .ancestors()
        .map(|d| d.join(".env"))
        .find(|p| p.exists())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(dir: &Path, env: &[(&str, &str)]) -> Settings {
        let opts = LoadOptions {
            start_dir: dir.to_owned(),
            env_file: EnvFileChoice::Discover,
            environment: Some(
                env.iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            ),
        };
        Settings::load_for(&opts, registry::tests::example()).unwrap()
    }

    #[test]
    fn walk_up_environment_wins_sources() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(
            tmp.path().join(".env"),
            "HF_TOKEN=hf_fromfile123456\nVSCE_PAT=patfromfile\n",
        )
        .unwrap();
        let nested = tmp.path().join("a/b/c");
        std::fs::create_dir_all(&nested).unwrap();
        let s = load(&nested, &[("HF_TOKEN", "hf_fromenv1234567")]);
        assert_eq!(s.env_file(), Some(tmp.path().join(".env").as_path()));
        assert_eq!(s.get("HF_TOKEN").unwrap().source, Source::Environment);
        assert_eq!(s.value("HF_TOKEN").unwrap().expose(), "hf_fromenv1234567");
        assert_eq!(
            s.get("VSCE_PAT").unwrap().source,
            Source::EnvFile {
                path: tmp.path().join(".env"),
                line: 2
            }
        );
        assert_eq!(s.get("TWINE_USERNAME").unwrap().source, Source::Default);
        assert_eq!(s.get("AUDIT_HMAC_KEY").unwrap().source, Source::DevDefault);
        assert_eq!(s.redactor().redact("x patfromfile y"), "x ******** y");
    }

    #[test]
    fn secret_looking_names() {
        for yes in [
            "NPM_TOKEN",
            "GITHUB_TOKEN",
            "DB_PASSWORD",
            "STRIPE_SECRET_KEY",
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
            "OVSX_PAT",
        ] {
            assert!(looks_secret(yes), "{yes}");
        }
        for no in [
            "LD_LIBRARY_PATH",
            "PATH",
            "PWD",
            "OLDPWD",
            "HF_TOKEN_PATH",
            "ACTIONS_ID_TOKEN_REQUEST_URL",
            "KEYBOARD",
            "TOKENIZERS_PARALLELISM",
            "AWS_ACCESS_KEY_ID",
        ] {
            assert!(!looks_secret(no), "{no}");
        }
    }

    #[test]
    fn load_options_debug_hides_values() {
        let opts = LoadOptions {
            start_dir: "/".into(),
            env_file: EnvFileChoice::None,
            environment: Some(vec![("TWINE_PASSWORD".into(), "CANARY-debug-value".into())]),
        };
        let dbg = format!("{opts:?}");
        assert!(
            dbg.contains("TWINE_PASSWORD") && !dbg.contains("CANARY"),
            "{dbg}"
        );
    }

    #[test]
    fn explicit_path_must_exist() {
        let tmp = tempfile::tempdir().unwrap();
        let err = Settings::load(&LoadOptions {
            start_dir: tmp.path().into(),
            env_file: EnvFileChoice::Path("missing.env".into()),
            environment: Some(vec![]),
        })
        .unwrap_err();
        assert!(
            err.to_string().contains("missing.env: cannot be read"),
            "{err}"
        );
    }
}
