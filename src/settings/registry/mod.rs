//! The registry: the variables one project knows.
//!
//! Built at load time ([`Registry::build`]) from built-in [`Kind`]s: the
//! publishing credentials follow from what the project ships
//! ([`Ships`]), everything else the project declares in release-kit.toml
//! (`[[variables]]`, [`Declared`]). `.env.example`, `env status`,
//! `env check`, the README table and every step's preflight are derived
//! from it.

mod declare;
pub mod kinds;

use std::collections::BTreeSet;
use std::fmt;
use std::sync::{Mutex, PoisonError};

use super::format::Format;
pub use declare::{DeclareError, Declared, Mistake, Ships};
pub use kinds::Kind;

/// A step of the project that needs variables (`env check --for STEP`):
/// release-kit's own shipping steps, or a part of the project named by a
/// variable's `needed-by` / `optional-for` (`dashboard`, `app`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Step(&'static str);

impl Step {
    /// Upload to PyPI.
    pub const PUBLISH: Step = Step("publish");
    /// Upload to TestPyPI.
    pub const PUBLISH_TESTPYPI: Step = Step("publish-testpypi");
    /// Verify, package and publish the VS Code extension.
    pub const VSCE: Step = Step("vsce");
    /// Pre-fetch Hugging Face models.
    pub const HF_PREFETCH: Step = Step("hf-prefetch");

    /// release-kit's own steps, in the order they are listed.
    pub const SHIPPING: &'static [Step] = &[
        Step::PUBLISH,
        Step::PUBLISH_TESTPYPI,
        Step::VSCE,
        Step::HF_PREFETCH,
    ];

    /// The step called `name` (a declaration's word; checked by
    /// [`Registry::build`]).
    pub fn named(name: &str) -> Step {
        Step(intern(name))
    }

    /// The name used on the command line and in JSON.
    pub fn name(self) -> &'static str {
        self.0
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How much production cares about a variable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Production {
    /// Production does not treat it specially.
    Normal,
    /// Must be set (explicitly, not by default) in production.
    Required,
    /// A warning in production when unset.
    Recommended,
}

/// Where a variable's value lives besides the local `.env` (the rotation
/// runbook lists each).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    /// A GitHub Actions secret that a workflow reads (release.yml: VSCE_PAT,
    /// OVSX_PAT); PyPI publishes by trusted publishing, so no token is
    /// stored (docs/github.md).
    GithubActions,
    /// The production deployment: a systemd EnvironmentFile, a docker
    /// env-file, a Kubernetes secret.
    Production,
}

/// One variable of the registry: a name, its kind, and the words the
/// kind or the declaration gives it.
#[derive(Clone, Debug)]
pub struct Var {
    /// The environment variable's name.
    pub name: &'static str,
    /// Its kind.
    pub kind: Kind,
    /// Its group, as in the secrets how-to.
    pub group: &'static str,
    /// What it is for, one line.
    pub about: &'static str,
    /// Steps that cannot run without it.
    pub required_for: Vec<Step>,
    /// Steps that use it when set (and check its format then).
    pub optional_for: Vec<Step>,
    /// Production requirement.
    pub production: Production,
    /// The value used when unset.
    pub default: Option<&'static str>,
    /// A default that works in development and is refused in production.
    pub dev_default: Option<&'static str>,
    /// Whether the value is a secret (masked everywhere).
    pub secret: bool,
    /// The format check.
    pub format: Format,
    /// How to obtain or generate a value.
    pub generate: &'static str,
    /// How to test a value (`env verify`).
    pub test: &'static str,
    /// How to revoke a value (the last step of a rotation).
    pub revoke: &'static str,
    /// For keys we generate ourselves: their size in random bytes
    /// (`env init` fills them, `env rotate` replaces them).
    pub keygen_bytes: Option<usize>,
    /// Where the value lives besides `.env`.
    pub places: &'static [Place],
    /// Why rotating it needs `--force`, when it does.
    pub rotate_guard: Option<&'static str>,
}

impl Var {
    /// A variable of `kind` with everything the kind says.
    pub fn of_kind(name: &str, kind: Kind) -> Var {
        let k = kind.spec();
        let mut var = Var {
            name: intern(name),
            kind,
            group: k.group,
            about: k.about,
            required_for: k.required_for.to_vec(),
            optional_for: k.optional_for.to_vec(),
            production: Production::Normal,
            default: k.default,
            dev_default: None,
            secret: k.secret,
            format: k.format,
            generate: k.how,
            test: k.test,
            revoke: k.revoke,
            keygen_bytes: None,
            places: k.places,
            rotate_guard: None,
        };
        if let Some(bytes) = k.keygen_bytes {
            var.set_key_bytes(bytes);
        }
        var
    }

    /// A generated key's size: its format and how to generate one follow.
    fn set_key_bytes(&mut self, bytes: usize) {
        self.keygen_bytes = Some(bytes);
        self.format = Format::Hex {
            min_chars: 2 * bytes,
        };
        self.generate = intern(&format!(
            "cargo xtask env gen-key --bytes {bytes}   (or: openssl rand -hex {bytes})"
        ));
    }

    /// Whether `step` needs or uses this variable.
    pub fn concerns(&self, step: Step) -> bool {
        self.required_for.contains(&step) || self.optional_for.contains(&step)
    }
}

/// The variables of one project, in the order they are listed.
#[derive(Clone, Debug, Default)]
pub struct Registry {
    vars: Vec<Var>,
}

impl Registry {
    /// Every publishing credential release-kit knows, for `.env` commands
    /// run outside any project.
    pub fn publishing() -> Registry {
        Registry::build(&Ships::everything(), &[]).expect("the implied variables are valid")
    }

    /// Every variable, in order.
    pub fn vars(&self) -> &[Var] {
        &self.vars
    }

    /// Looks a variable up by name.
    pub fn var(&self, name: &str) -> Option<&Var> {
        self.vars.iter().find(|v| v.name == name)
    }

    /// Adds `name` as a variable like `template` (a package's own token
    /// variable, modelled on `TWINE_PASSWORD`), unless it is already
    /// there or `template` is not; true when added.
    pub(crate) fn add_like(&mut self, name: &str, template: &str) -> bool {
        if self.var(name).is_some() {
            return false;
        }
        let Some(t) = self.var(template) else {
            return false;
        };
        let short = t.about.split(" (").next().unwrap_or(t.about);
        let var = Var {
            name: intern(name),
            about: intern(&format!(
                "{short} of the package naming {name} in release-kit.toml"
            )),
            default: None,
            dev_default: None,
            secret: true,
            keygen_bytes: None,
            ..t.clone()
        };
        register_secret_name(var.name);
        self.vars.push(var);
        true
    }

    /// The first variable of `kind`, if any.
    pub fn of_kind(&self, kind: Kind) -> Option<&Var> {
        self.vars.iter().find(|v| v.kind == kind)
    }

    /// The names of the groups, in registry order.
    pub fn groups(&self) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = Vec::new();
        for v in &self.vars {
            if !out.contains(&v.group) {
                out.push(v.group);
            }
        }
        out
    }

    /// Every step some variable concerns: release-kit's own first, then the
    /// project's in the order its variables name them.
    pub fn steps(&self) -> Vec<Step> {
        let mut out: Vec<Step> = Step::SHIPPING
            .iter()
            .copied()
            .filter(|s| self.vars.iter().any(|v| v.concerns(*s)))
            .collect();
        for v in &self.vars {
            for s in v.required_for.iter().chain(&v.optional_for) {
                if !out.contains(s) {
                    out.push(*s);
                }
            }
        }
        out
    }

    /// The step called `name`, when a variable names it.
    pub fn step(&self, name: &str) -> Option<Step> {
        self.steps().into_iter().find(|s| s.name() == name)
    }

    /// The group `name` designates, as every command takes it: its name in
    /// any case (`"Hugging Face"`), written as one word (`hugging-face`),
    /// its short name (`hf`) or another accepted word (`redis` for
    /// Federation).
    pub fn group_by_name(&self, name: &str) -> Option<&'static str> {
        let want = slug(name);
        self.groups().into_iter().find(|g| {
            slug(g) == want || group_short_name(g) == want || aliases(g).contains(&want.as_str())
        })
    }

    /// The groups' short names, joined, for "expected one of" messages.
    pub fn group_choices(&self) -> String {
        let names: Vec<String> = self.groups().iter().map(|g| group_short_name(g)).collect();
        names.join(", ")
    }
}

/// The short names and other accepted words of the groups the built-in
/// kinds and the example use; any other group's short name is its
/// [`slug`].
const GROUP_NAMES: &[(&str, &str, &[&str])] = &[
    ("PyPI publishing", "pypi", &["twine"]),
    ("Anthropic API", "anthropic", &[]),
    ("Audit chain", "audit", &[]),
    ("Dashboard", "dashboard", &[]),
    ("Federation", "federation", &["redis"]),
    ("OpenTelemetry", "otel", &["opentelemetry", "otlp"]),
    ("AWS S3 Object Lock", "s3", &["aws"]),
    ("VS Code Marketplace", "vscode", &["vsce", "marketplace"]),
    ("Hugging Face", "hf", &["huggingface"]),
    ("Production deploy", "deploy", &["production"]),
];

/// A group's short name (`hf` for "Hugging Face", `storage` for
/// "Storage").
pub fn group_short_name(group: &str) -> String {
    GROUP_NAMES
        .iter()
        .find(|(g, _, _)| *g == group)
        .map_or_else(|| slug(group), |(_, short, _)| (*short).to_owned())
}

/// The group of [`GROUP_NAMES`] that `name` designates (its name in any
/// case, as one word, its short name or another accepted word), for
/// callers that name groups without a registry (`env verify`'s checks).
pub fn known_group(name: &str) -> Option<(&'static str, &'static str)> {
    let want = slug(name);
    GROUP_NAMES
        .iter()
        .find(|(g, short, other)| {
            slug(g) == want || *short == want || other.contains(&want.as_str())
        })
        .map(|(g, short, _)| (*g, *short))
}

/// Other words accepted for a group.
fn aliases(group: &str) -> &'static [&'static str] {
    GROUP_NAMES
        .iter()
        .find(|(g, _, _)| *g == group)
        .map_or(&[], |(_, _, other)| *other)
}

/// A name as a command-line word: lower case, `-` between words.
pub fn slug(name: &str) -> String {
    name.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect::<Vec<_>>()
        .join("-")
}

/// The one copy of a text a project declares: registry entries are
/// `&'static` like the built-in ones, and loading the same project again
/// adds nothing (each distinct text is kept once per process).
pub(crate) fn intern(text: &str) -> &'static str {
    static POOL: Mutex<BTreeSet<&'static str>> = Mutex::new(BTreeSet::new());
    let mut pool = POOL.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(known) = pool.get(text) {
        return known;
    }
    let kept: &'static str = Box::leak(text.to_owned().into_boxed_str());
    pool.insert(kept);
    kept
}

/// The names of secret variables of every registry loaded in this process
/// (the built-in publishing credentials always): kept from child tools'
/// environments even when their name does not look secret (`REDIS_URL`).
pub fn is_known_secret(name: &str) -> bool {
    if Registry::publishing().var(name).is_some_and(|v| v.secret) {
        return true;
    }
    SECRET_NAMES
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .contains(name)
}

static SECRET_NAMES: Mutex<BTreeSet<&'static str>> = Mutex::new(BTreeSet::new());

fn register_secret_name(name: &'static str) {
    SECRET_NAMES
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(name);
}

/// Adds `registry`'s secrets to [`is_known_secret`]'s names (never
/// removes one: a name once secret stays kept from children).
pub fn register_secret_names(registry: &Registry) {
    let mut names = SECRET_NAMES.lock().unwrap_or_else(PoisonError::into_inner);
    names.extend(registry.vars().iter().filter(|v| v.secret).map(|v| v.name));
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The example's registry, as this repository's release-kit.toml
    /// declares it (python, an extension and models shipped).
    pub(crate) fn example() -> Registry {
        #[derive(serde::Deserialize)]
        struct File {
            #[serde(default)]
            variables: Vec<Declared>,
        }
        let text = include_str!("../../../release-kit.toml");
        let table: toml::Table = toml::from_str(text).unwrap();
        let vars = table.get("variables").cloned().unwrap();
        let file: File = toml::Table::from_iter([("variables".to_owned(), vars)])
            .try_into()
            .unwrap();
        Registry::build(&Ships::everything(), &file.variables).unwrap()
    }

    #[test]
    fn names_are_unique_and_uppercase() {
        let reg = example();
        let mut names: Vec<_> = reg.vars().iter().map(|v| v.name).collect();
        names.sort();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len());
    }

    #[test]
    fn every_step_has_a_variable() {
        let reg = example();
        let steps: Vec<_> = reg.steps().iter().map(|s| s.name()).collect();
        assert_eq!(
            steps,
            [
                "publish",
                "publish-testpypi",
                "vsce",
                "hf-prefetch",
                "headless",
                "audit",
                "dashboard",
                "federation",
                "otel",
                "s3-audit",
                "deploy"
            ]
        );
        for step in reg.steps() {
            assert_eq!(reg.step(step.name()), Some(step));
        }
    }

    #[test]
    fn defaults_pass_their_own_check() {
        for v in example().vars() {
            if let Some(d) = v.default {
                assert!(v.format.check(d).is_ok(), "{}", v.name);
            }
        }
    }

    #[test]
    fn every_group_has_one_short_name() {
        let reg = example();
        let named: Vec<&str> = GROUP_NAMES.iter().map(|(g, _, _)| *g).collect();
        assert_eq!(named, reg.groups());
        for g in reg.groups() {
            for word in [g.to_owned(), g.to_uppercase(), slug(g), group_short_name(g)] {
                assert_eq!(reg.group_by_name(&word), Some(g), "{word}");
            }
        }
        assert_eq!(reg.group_by_name("redis"), Some("Federation"));
        assert_eq!(
            reg.group_by_name("aws-s3-object-lock"),
            Some("AWS S3 Object Lock")
        );
        assert_eq!(reg.group_by_name("nope"), None);
    }

    #[test]
    fn interning_keeps_one_copy() {
        let a = intern(&String::from("A declared text"));
        let b = intern("A declared text");
        assert!(std::ptr::eq(a, b));
    }
}
