//! Building a project's registry: the publishing credentials what it ships
//! implies, then what release-kit.toml's `[[variables]]` declares.

use super::kinds::Kind;
use super::{Production, Registry, Step, Var, intern};
use crate::settings::format::Mismatch;

/// What the project ships, which implies its publishing credentials.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Ships {
    /// Python packages: TWINE_USERNAME, TWINE_PASSWORD, TWINE_PASSWORD_TEST.
    pub python: bool,
    /// A VS Code extension: VSCE_PAT, and OVSX_PAT (publishing to Open
    /// VSX when set).
    pub vscode: bool,
    /// Hugging Face models: HF_TOKEN.
    pub models: bool,
}

impl Ships {
    /// A project that ships everything (every publishing credential).
    pub fn everything() -> Ships {
        Ships {
            python: true,
            vscode: true,
            models: true,
        }
    }

    /// The credentials implied, in the order they are listed.
    fn implied(self) -> Vec<(&'static str, Kind)> {
        let mut out = Vec::new();
        if self.python {
            out.push(("TWINE_USERNAME", Kind::PypiUsername));
            out.push(("TWINE_PASSWORD", Kind::PypiToken));
            out.push(("TWINE_PASSWORD_TEST", Kind::TestpypiToken));
        }
        if self.vscode {
            out.push(("VSCE_PAT", Kind::VscePat));
            out.push(("OVSX_PAT", Kind::OvsxPat));
        }
        if self.models {
            out.push(("HF_TOKEN", Kind::HfToken));
        }
        out
    }
}

/// One `[[variables]]` entry of release-kit.toml.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Declared {
    /// The environment variable's name (`REDIS_URL`).
    pub name: String,
    /// Its kind (`redis-url`): format, secret or not, runbook.
    pub kind: Kind,
    /// The group it is listed in (default: its kind's).
    #[serde(default)]
    pub group: Option<String>,
    /// What it is for, one line (default: its kind's).
    #[serde(default)]
    pub description: Option<String>,
    /// Parts of the project that cannot run without it (`env check --for`).
    #[serde(default)]
    pub needed_by: Option<Vec<String>>,
    /// Parts that use it when it is set.
    #[serde(default)]
    pub optional_for: Option<Vec<String>>,
    /// The value the app uses when it is unset.
    #[serde(default)]
    pub default: Option<String>,
    /// A default for development only, refused in production.
    #[serde(default)]
    pub dev_default: Option<String>,
    /// `required` or `recommended` in production.
    #[serde(default)]
    pub production: Option<Production>,
    /// How to obtain or generate a value (default: its kind's).
    #[serde(default)]
    pub how: Option<String>,
    /// How to revoke an old value (default: its kind's).
    #[serde(default)]
    pub revoke: Option<String>,
    /// Why rotating it needs `--force` (lasting effects of a new value).
    #[serde(default)]
    pub rotate_warning: Option<String>,
    /// A generated key's size in random bytes (hex kinds; default 32).
    #[serde(default)]
    pub bytes: Option<usize>,
}

/// A declaration that cannot be used: which entry (0-based, in file
/// order) and what to change. Never holds a value of `.env`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("[[variables]] {name}: {mistake}")]
pub struct DeclareError {
    /// The entry's index among `[[variables]]`.
    pub index: usize,
    /// The variable's name as written.
    pub name: String,
    /// What is wrong, with the fix.
    pub mistake: Mistake,
}

/// What is wrong with one declaration, and the fix.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Mistake {
    /// Not an environment variable name.
    #[error(
        "a variable name is upper-case letters, digits and `_`, not starting with a digit (e.g. REDIS_URL)"
    )]
    Name,
    /// An implied credential declared with another kind.
    #[error(
        "is implied by what the project ships, as kind `{0}`; write `kind = \"{0}\"` or remove the entry"
    )]
    ImpliedKind(&'static str),
    /// The same name twice.
    #[error("is declared twice; keep one entry per variable")]
    Twice,
    /// `bytes` on a kind that is not a generated key.
    #[error(
        "`bytes` is for generated keys (kinds hex-key, hmac-key, api-key), not `{0}`; remove it"
    )]
    BytesNotKey(&'static str),
    /// `bytes` out of range.
    #[error("`bytes` must be between 1 and 1024")]
    BytesRange,
    /// A default the kind refuses.
    #[error("its `default` is not a valid {kind}: expected {expected}")]
    Default {
        /// The kind.
        kind: &'static str,
        /// What a valid value looks like.
        expected: Mismatch,
    },
    /// A default for a secret, in a committed file.
    #[error(
        "a `{0}` is a secret, which has no default in release-kit.toml (a committed file); use \
         `dev-default` for a development-only value, or remove it"
    )]
    SecretDefault(&'static str),
    /// A step name that is not a command-line word.
    #[error("step `{0}`: a step is lower-case letters, digits and `-` (e.g. app, dashboard)")]
    Step(String),
}

impl Registry {
    /// The registry of a project that ships `ships` and declares
    /// `declared`: the implied credentials first, unless a declaration
    /// lists one (of the same kind) to place it, then the declarations in
    /// file order.
    pub fn build(ships: &Ships, declared: &[Declared]) -> Result<Registry, DeclareError> {
        let implied = ships.implied();
        let mut vars: Vec<Var> = implied
            .iter()
            .filter(|(name, _)| !declared.iter().any(|d| d.name == *name))
            .map(|(name, kind)| Var::of_kind(name, *kind))
            .collect();
        for (index, d) in declared.iter().enumerate() {
            let error = |mistake: Mistake| DeclareError {
                index,
                name: d.name.clone(),
                mistake,
            };
            if let Some((_, kind)) = implied.iter().find(|(n, _)| *n == d.name)
                && *kind != d.kind
            {
                return Err(error(Mistake::ImpliedKind(kind.name())));
            }
            if vars.iter().any(|v| v.name == d.name) {
                return Err(error(Mistake::Twice));
            }
            vars.push(declared_var(d).map_err(error)?);
        }
        Ok(Registry { vars })
    }
}

/// One declaration as a variable: its kind's, overridden by what it says.
fn declared_var(d: &Declared) -> Result<Var, Mistake> {
    check_name(&d.name)?;
    let mut var = Var::of_kind(&d.name, d.kind);
    if let Some(bytes) = d.bytes {
        if !d.kind.is_generated() {
            return Err(Mistake::BytesNotKey(d.kind.name()));
        }
        if !(1..=1024).contains(&bytes) {
            return Err(Mistake::BytesRange);
        }
        var.set_key_bytes(bytes);
    }
    let text = |t: &Option<String>| t.as_deref().map(intern);
    var.group = text(&d.group).unwrap_or(var.group);
    var.about = text(&d.description).unwrap_or(var.about);
    var.generate = text(&d.how).unwrap_or(var.generate);
    var.revoke = text(&d.revoke).unwrap_or(var.revoke);
    var.rotate_guard = text(&d.rotate_warning);
    var.production = d.production.unwrap_or(Production::Normal);
    if let Some(steps) = &d.needed_by {
        var.required_for = steps_of(steps)?;
    }
    if let Some(steps) = &d.optional_for {
        var.optional_for = steps_of(steps)?;
    }
    // A development default need not pass (it is a placeholder production
    // refuses); a default must.
    if let Some(v) = &d.default
        && let Err(expected) = var.format.check(v)
    {
        return Err(Mistake::Default {
            kind: d.kind.name(),
            expected,
        });
    }
    if var.secret && d.default.is_some() {
        return Err(Mistake::SecretDefault(d.kind.name()));
    }
    var.default = text(&d.default).or(var.default);
    var.dev_default = text(&d.dev_default);
    Ok(var)
}

/// An environment variable name: upper-case letters, digits and `_`, not
/// starting with a digit.
fn check_name(name: &str) -> Result<(), Mistake> {
    let ok = name
        .bytes()
        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
        && name.bytes().next().is_some_and(|b| !b.is_ascii_digit());
    if ok { Ok(()) } else { Err(Mistake::Name) }
}

/// Step names as written: lower-case words joined by `-`.
fn steps_of(names: &[String]) -> Result<Vec<Step>, Mistake> {
    names
        .iter()
        .map(|n| {
            let ok = !n.is_empty()
                && n.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !n.starts_with('-')
                && !n.ends_with('-');
            if ok {
                Ok(Step::named(n))
            } else {
                Err(Mistake::Step(n.clone()))
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn declared(text: &str) -> Vec<Declared> {
        #[derive(serde::Deserialize)]
        struct File {
            variables: Vec<Declared>,
        }
        toml::from_str::<File>(text).unwrap().variables
    }

    #[test]
    fn a_project_sees_its_credentials_and_its_own_variables() {
        let d = declared(
            "[[variables]]\nname = \"REDIS_URL\"\nkind = \"redis-url\"\ngroup = \"storage\"\n\
             needed-by = [\"app\"]\nproduction = \"required\"\n\
             [[variables]]\nname = \"WORKERS\"\nkind = \"integer\"\ndefault = \"4\"\n",
        );
        let ships = Ships {
            python: true,
            ..Ships::default()
        };
        let reg = Registry::build(&ships, &d).unwrap();
        let names: Vec<_> = reg.vars().iter().map(|v| v.name).collect();
        assert_eq!(
            names,
            [
                "TWINE_USERNAME",
                "TWINE_PASSWORD",
                "TWINE_PASSWORD_TEST",
                "REDIS_URL",
                "WORKERS"
            ]
        );
        let redis = reg.var("REDIS_URL").unwrap();
        assert!(redis.secret && redis.group == "storage");
        assert_eq!(redis.required_for, [Step::named("app")]);
        assert_eq!(redis.production, Production::Required);
        assert_eq!(reg.var("WORKERS").unwrap().default, Some("4"));
        let steps: Vec<_> = reg.steps().iter().map(|s| s.name()).collect();
        assert_eq!(steps, ["publish", "publish-testpypi", "app"]);
        // Nothing shipped, nothing declared: nothing at all.
        assert!(
            Registry::build(&Ships::default(), &[])
                .unwrap()
                .vars()
                .is_empty()
        );
    }

    #[test]
    fn a_declaration_places_an_implied_credential() {
        let d = declared(
            "[[variables]]\nname = \"X\"\nkind = \"text\"\n[[variables]]\nname = \"HF_TOKEN\"\nkind = \"hf-token\"\n",
        );
        let reg = Registry::build(&Ships::everything(), &d).unwrap();
        let names: Vec<_> = reg.vars().iter().map(|v| v.name).collect();
        assert_eq!(names[names.len() - 2..], ["X", "HF_TOKEN"]);
        let wrong = declared("[[variables]]\nname = \"HF_TOKEN\"\nkind = \"text\"\n");
        let err = Registry::build(&Ships::everything(), &wrong).unwrap_err();
        assert!(err.to_string().contains("kind = \"hf-token\""), "{err}");
    }

    #[test]
    fn bad_declarations_say_what_to_change() {
        for (text, want) in [
            ("name = \"lower\"\nkind = \"text\"", "upper-case letters"),
            (
                "name = \"N\"\nkind = \"integer\"\ndefault = \"many\"",
                "expected a positive whole number",
            ),
            (
                "name = \"N\"\nkind = \"text\"\nbytes = 8",
                "`bytes` is for generated keys",
            ),
            (
                "name = \"N\"\nkind = \"secret\"\ndefault = \"CANARY\"",
                "use `dev-default`",
            ),
            (
                "name = \"N\"\nkind = \"text\"\nneeded-by = [\"Web App\"]",
                "step `Web App`",
            ),
        ] {
            let d = declared(&format!("[[variables]]\n{text}\n"));
            let err = Registry::build(&Ships::default(), &d).unwrap_err();
            assert!(err.mistake.to_string().contains(want), "{text}: {err}");
            assert!(!err.to_string().contains("CANARY"), "{err}");
        }
        let twice = declared(
            "[[variables]]\nname = \"A\"\nkind = \"text\"\n[[variables]]\nname = \"A\"\nkind = \"url\"\n",
        );
        let err = Registry::build(&Ships::default(), &twice).unwrap_err();
        assert_eq!(err.index, 1);
        assert_eq!(err.mistake, Mistake::Twice);
    }

    #[test]
    fn generated_keys_take_their_size() {
        let d = declared("[[variables]]\nname = \"K\"\nkind = \"hex-key\"\nbytes = 24\n");
        let reg = Registry::build(&Ships::default(), &d).unwrap();
        let k = reg.var("K").unwrap();
        assert_eq!(k.keygen_bytes, Some(24));
        assert!(k.format.check(&"ab".repeat(24)).is_ok());
        assert!(k.format.check(&"ab".repeat(23)).is_err());
        assert!(k.generate.contains("--bytes 24"));
    }
}
