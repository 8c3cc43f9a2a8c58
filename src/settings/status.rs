//! `env status` and `env check`: what is set, what is valid, what each step
//! lacks. Only booleans, sources and expectations: never a value.

use serde::Serialize;

use super::registry::{Kind, Production, Step, Var};
use super::{Settings, Source};

/// The status of one variable, safe to print anywhere.
#[derive(Clone, Debug, Serialize)]
pub struct VarStatus {
    /// Variable name.
    pub name: &'static str,
    /// Its kind (`redis-url`).
    pub kind: &'static str,
    /// Registry group.
    pub group: &'static str,
    /// Whether it is a secret.
    pub secret: bool,
    /// Set to a non-blank value explicitly (environment or `.env`).
    pub set: bool,
    /// The value in effect (set or default) passes its format check.
    /// `null` when there is no value at all.
    pub valid: Option<bool>,
    /// `environment`, `env_file`, `default`, `dev_default` or `unset`.
    pub source: &'static str,
    /// The `.env` file, when the source is one.
    pub file: Option<String>,
    /// Line in that file.
    pub line: Option<usize>,
    /// The `.env` value held `${…}` that python-dotenv expands, and the
    /// expanded value is the one checked.
    pub expanded: bool,
    /// Steps that cannot run without it.
    pub required_for: Vec<&'static str>,
    /// Steps that use it when set.
    pub optional_for: Vec<&'static str>,
    /// Whether production requires it.
    pub required_in_production: bool,
    /// What is wrong with it, if anything (never the value).
    pub problem: Option<String>,
    /// For a readable PyPI token: its index, scope and expiry in words
    /// (never the token).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// Worth fixing, not stopping anything (an account-wide token).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// A missing or invalid variable for the steps checked.
#[derive(Clone, Debug, Serialize)]
pub struct Problem {
    /// The variable.
    pub name: &'static str,
    /// What is wrong, never the value.
    pub message: String,
    /// How to obtain a valid value.
    pub fix: &'static str,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}\n    fix: {}", self.name, self.message, self.fix)
    }
}

/// The result of checking settings for a set of steps.
#[derive(Clone, Debug, Default, Serialize)]
pub struct CheckReport {
    /// Steps checked.
    pub steps: Vec<&'static str>,
    /// Whether production rules applied.
    pub production: bool,
    /// Problems that stop the steps.
    pub errors: Vec<Problem>,
    /// Problems worth fixing that do not stop anything.
    pub warnings: Vec<Problem>,
}

impl CheckReport {
    /// True when nothing stops the steps.
    pub fn is_ok(&self) -> bool {
        self.errors.is_empty()
    }
}

impl Settings {
    /// The status of every registry variable, and of the token variables
    /// the project's packages name.
    pub fn status(&self) -> Vec<VarStatus> {
        self.registry()
            .vars()
            .iter()
            .map(|v| self.var_status(v))
            .collect()
    }

    fn var_status(&self, var: &Var) -> VarStatus {
        let entry = self.get(var.name);
        let set = entry.is_some_and(|e| e.is_set() && e.source.is_explicit());
        let (source, file, line) = match entry.map(|e| &e.source) {
            Some(Source::EnvFile { path, line }) if set => {
                ("env_file", Some(path.display().to_string()), Some(*line))
            }
            Some(Source::Environment) if set => ("environment", None, None),
            Some(Source::Default) => ("default", None, None),
            Some(Source::DevDefault) => ("dev_default", None, None),
            _ => ("unset", None, None),
        };
        let problem = self.format_problem(var, false);
        let token = self.token_view(var).and_then(|j| j.words);
        let mut warnings: Vec<String> = self.empty_warning(var).into_iter().collect();
        warnings.extend(self.value_warnings(var));
        let has_value = entry.is_some_and(|e| e.is_set());
        VarStatus {
            name: var.name,
            kind: var.kind.name(),
            group: var.group,
            secret: var.secret,
            set,
            valid: has_value.then_some(problem.is_none()),
            source,
            file,
            line,
            expanded: set && self.expanded(var.name),
            required_for: var.required_for.iter().map(|s| s.name()).collect(),
            optional_for: var.optional_for.iter().map(|s| s.name()).collect(),
            required_in_production: var.production == Production::Required,
            problem,
            token,
            warnings,
        }
    }

    /// What is wrong with the value in effect, or `None`.
    fn format_problem(&self, var: &Var, production: bool) -> Option<String> {
        let entry = self.get(var.name).filter(|e| e.is_set())?;
        let value = entry.value.expose();
        if var.dev_default == Some(value) {
            return production
                .then(|| "holds the development default, which production refuses".to_string());
        }
        if matches!(var.format, super::Format::PypiToken { .. }) {
            let user = self
                .value("TWINE_USERNAME")
                .map(|s| s.expose())
                .unwrap_or("__token__");
            if user != "__token__" {
                return None;
            }
        }
        if let Err(expected) = var.format.check(value) {
            let after = if self.expanded(var.name) {
                " after expanding `${…}`"
            } else {
                ""
            };
            return Some(format!("is not valid{after}: expected {expected}"));
        }
        let errors = self
            .token_view(var)
            .map(|j| j.messages(crate::decode::pypi_token::Severity::Error))
            .unwrap_or_default();
        (!errors.is_empty()).then(|| errors.join("; "))
    }

    /// A PyPI token variable judged offline ([`crate::decode::pypi_token::judge`],
    /// as the publish preflight judges it): the token in words and what it
    /// means for an upload to its index of the projects whose token it holds.
    fn token_view(&self, var: &Var) -> Option<crate::decode::pypi_token::Judgement> {
        let super::Format::PypiToken { index } = var.format else {
            return None;
        };
        let user = self.value("TWINE_USERNAME").map(|s| s.expose());
        if user.is_some_and(|u| u != "__token__") {
            return None;
        }
        let value = self.get(var.name).filter(|e| e.is_set())?.value.expose();
        Some(crate::decode::pypi_token::judge(
            value,
            Some(index),
            &self.token_projects(var.name),
            crate::decode::pypi_token::unix_now(),
        ))
    }

    /// The one rule for an empty value, for every variable: python-dotenv
    /// sets it, so the app reads `""` (not its default); release-kit says so
    /// instead of quietly using the default.
    fn empty_warning(&self, var: &Var) -> Option<String> {
        let at = match self.set_empty(var.name)? {
            Source::EnvFile { path, line } => format!(" ({}:{line})", path.display()),
            _ => " (in the environment)".to_owned(),
        };
        let default = var
            .default
            .map(|d| format!(", not the default `{d}`"))
            .unwrap_or_default();
        Some(format!(
            "is set but empty{at}: the app will read an empty string{default}; delete the line or \
             comment it out (`# {}=`) to leave it unset, or give it a value",
            var.name
        ))
    }

    /// Warnings about a variable's value that stop nothing.
    fn value_warnings(&self, var: &Var) -> Vec<String> {
        self.token_view(var)
            .map(|j| j.messages(crate::decode::pypi_token::Severity::Warning))
            .unwrap_or_default()
    }

    /// What `check` finds about one variable the steps use: errors (the
    /// first that applies) and warnings.
    fn var_problems(
        &self,
        var: &Var,
        steps: &[Step],
        production: bool,
        required: bool,
    ) -> (Vec<Problem>, Vec<Problem>) {
        let problem = |message: String| Problem {
            name: var.name,
            message,
            fix: var.generate,
        };
        let explicit = self.explicit(var.name).is_some();
        if production && var.production == Production::Required && !explicit {
            let message = if var.dev_default.is_some() {
                "is required in production and not set (the development default is refused there)"
            } else {
                "is required in production and not set"
            };
            return (vec![problem(message.into())], Vec::new());
        }
        if required && self.value(var.name).is_none() {
            let needed_by: Vec<_> = var
                .required_for
                .iter()
                .filter(|s| steps.contains(s))
                .map(|s| s.name())
                .collect();
            let what = self
                .empty_warning(var)
                .unwrap_or_else(|| "is not set".to_owned());
            let message = format!("{what}; needed by {}", needed_by.join(", "));
            return (vec![problem(message)], Vec::new());
        }
        if let Some(message) = self.format_problem(var, production) {
            return (vec![problem(message)], Vec::new());
        }
        let mut warnings: Vec<Problem> = self
            .empty_warning(var)
            .into_iter()
            .chain(self.value_warnings(var))
            .map(problem)
            .collect();
        if production && var.production == Production::Recommended && !explicit {
            warnings.push(problem("is recommended in production and not set".into()));
        }
        (Vec::new(), warnings)
    }

    /// A domain still `localhost` where production is checked.
    fn localhost_in_production(&self, var: &Var, production: bool) -> Option<Problem> {
        let localhost = self
            .value(var.name)
            .is_some_and(|d| d.expose() == "localhost");
        (production && var.kind == Kind::Domain && localhost).then(|| Problem {
            name: var.name,
            message: "is `localhost` in production".into(),
            fix: var.generate,
        })
    }

    /// The steps whose variables are partly set explicitly (`env check`
    /// without `--for`).
    pub fn configured_steps(&self) -> Vec<Step> {
        let vars = self.registry().vars();
        self.registry()
            .steps()
            .into_iter()
            .filter(|step| {
                vars.iter()
                    .filter(|v| v.concerns(*step) && v.default.is_none())
                    .any(|v| self.explicit(v.name).is_some())
            })
            .collect()
    }

    /// Checks every variable `steps` need (and, with `production`, every
    /// variable production requires). Reports all problems, not the first.
    pub fn check(&self, steps: &[Step], production: bool) -> CheckReport {
        let vars = self.registry().vars().iter();
        self.check_vars(
            vars.filter(|v| self.token_var_used(v.name)),
            steps,
            production,
        )
    }

    /// [`Settings::check`] of `var`, which the project's registry may not
    /// hold: `hf-prefetch --model` judges HF_TOKEN in a project that
    /// configures no model, as one that does.
    pub fn check_also(&self, var: &Var, steps: &[Step]) -> CheckReport {
        self.check_vars(std::iter::once(var), steps, false)
    }

    fn check_vars<'v>(
        &self,
        vars: impl Iterator<Item = &'v Var>,
        steps: &[Step],
        production: bool,
    ) -> CheckReport {
        let mut report = CheckReport {
            steps: steps.iter().map(|s| s.name()).collect(),
            production,
            ..CheckReport::default()
        };
        for var in vars {
            let required = var.required_for.iter().any(|s| steps.contains(s))
                || (production && var.production == Production::Required);
            let used = required || var.optional_for.iter().any(|s| steps.contains(s));
            if !used {
                continue;
            }
            let (errors, warnings) = self.var_problems(var, steps, production, required);
            report.errors.extend(errors);
            report.warnings.extend(warnings);
            report
                .warnings
                .extend(self.localhost_in_production(var, production));
        }
        report
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::super::{EnvFileChoice, LoadOptions};
    use super::*;

    /// Settings from `env` alone (no `.env`), for tests.
    pub(crate) fn with(env: &[(&str, &str)]) -> Settings {
        let example = crate::settings::registry::tests::example();
        Settings::load_for(
            &LoadOptions {
                start_dir: "/".into(),
                env_file: EnvFileChoice::None,
                environment: Some(
                    env.iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect(),
                ),
            },
            example,
        )
        .unwrap()
    }

    #[test]
    fn missing_and_invalid_reported_together() {
        let s = with(&[
            ("AWS_ACCESS_KEY_ID", "AKIA-CANARY-NOPE"),
            ("S3_AUDIT_BUCKET", "bucket-x"),
        ]);
        let r = s.check(&[Step::named("s3-audit")], false);
        let names: Vec<_> = r.errors.iter().map(|p| p.name).collect();
        assert_eq!(names, ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]);
        assert!(!format!("{:?}", r).contains("CANARY"));
    }

    #[test]
    fn production_refuses_dev_audit_key() {
        let s = with(&[]);
        assert!(s.check(&[Step::named("audit")], false).is_ok());
        let r = s.check(&[Step::named("audit")], true);
        assert_eq!(r.errors.len(), 1);
        assert!(r.errors[0].message.contains("development default"));
        let s = with(&[("AUDIT_HMAC_KEY", "dev_only_audit_key_DO_NOT_USE_IN_PROD")]);
        assert!(s.check(&[Step::named("audit")], false).is_ok());
        assert!(!s.check(&[Step::named("audit")], true).is_ok());
        let key = "ab".repeat(32);
        let s = with(&[("AUDIT_HMAC_KEY", &key)]);
        assert!(s.check(&[Step::named("audit")], true).is_ok());
    }

    #[test]
    fn dashboard_key_is_a_production_warning() {
        let r = with(&[]).check(&[Step::named("dashboard")], true);
        assert!(r.warnings.iter().any(|w| w.name == "DASHBOARD_API_KEY"));
    }

    #[test]
    fn s3_bucket_pulls_in_aws() {
        let s = with(&[("S3_AUDIT_BUCKET", "audit-bucket")]);
        assert_eq!(s.configured_steps(), [Step::named("s3-audit")]);
    }

    #[test]
    fn pypi_format_only_for_token_user() {
        let s = with(&[("TWINE_PASSWORD", "plainpassword")]);
        assert!(!s.check(&[Step::PUBLISH], false).is_ok());
        let s = with(&[
            ("TWINE_PASSWORD", "plainpassword"),
            ("TWINE_USERNAME", "alice"),
        ]);
        assert!(s.check(&[Step::PUBLISH], false).is_ok());
    }

    #[test]
    fn a_token_scoped_to_one_package_is_an_error_for_the_other() {
        let token = crate::decode::pypi_token::build_test_token(
            "pypi.org",
            "id",
            &[r#"{"version": 1, "permissions": {"projects": ["mult-agentes"]}}"#],
        );
        let mut s = with(&[("TWINE_PASSWORD", &token)]);
        s.set_project("mult-agentes");
        assert!(s.check(&[Step::PUBLISH], false).is_ok());
        // The other package: an error naming it, as the publish preflight
        // refuses it (env check and publish judge with one function).
        s.set_project("mult-agentes-native");
        let r = s.check(&[Step::PUBLISH], false);
        assert_eq!(r.errors.len(), 1, "{r:?}");
        assert!(
            r.errors[0]
                .message
                .contains("scoped to mult-agentes and cannot upload mult-agentes-native"),
            "{r:?}"
        );
        assert!(r.errors[0].message.contains("trusted publishing"), "{r:?}");
        // A token for none of them is an error for each.
        let mut s = with(&[("TWINE_PASSWORD", &token)]);
        s.set_project("other-a");
        s.set_project("other-b");
        let r = s.check(&[Step::PUBLISH], false);
        assert_eq!(r.errors.len(), 1, "{r:?}");
        assert!(
            r.errors[0].message.contains("cannot upload other-a")
                && r.errors[0].message.contains("cannot upload other-b"),
            "{r:?}"
        );
    }

    #[test]
    fn an_empty_value_is_flagged_for_every_variable_the_same_way() {
        let s = with(&[("AWS_DEFAULT_REGION", ""), ("DASHBOARD_API_KEY", " ")]);
        let region = s
            .status()
            .into_iter()
            .find(|v| v.name == "AWS_DEFAULT_REGION")
            .unwrap();
        assert_eq!(region.warnings.len(), 1, "{region:?}");
        assert!(
            region.warnings[0]
                .contains("the app will read an empty string, not the default `us-east-1`"),
            "{region:?}"
        );
        let r = s.check(&[Step::named("s3-audit"), Step::named("dashboard")], false);
        let flagged: Vec<_> = r
            .warnings
            .iter()
            .chain(&r.errors)
            .filter(|p| {
                p.message.contains(
                    "is set but empty (in the environment): the app will read an empty string",
                )
            })
            .map(|p| p.name)
            .collect();
        assert!(flagged.contains(&"AWS_DEFAULT_REGION"), "{r:?}");
        assert!(flagged.contains(&"DASHBOARD_API_KEY"), "{r:?}");
        // Unset (not empty) is not flagged.
        let r = with(&[]).check(&[Step::named("s3-audit")], false);
        assert!(
            r.warnings.iter().all(|p| !p.message.contains("empty")),
            "{r:?}"
        );
    }

    #[test]
    fn status_never_holds_values() {
        let s = with(&[
            ("HF_TOKEN", "hf_CANARYCANARY"),
            ("ANTHROPIC_API_KEY", "CANARY-bad"),
        ]);
        let json = serde_json::to_string(&s.status()).unwrap();
        assert!(!json.contains("CANARY"), "{json}");
        let hf = s
            .status()
            .into_iter()
            .find(|v| v.name == "HF_TOKEN")
            .unwrap();
        assert!(hf.set && hf.valid == Some(true) && hf.source == "environment");
    }
}
