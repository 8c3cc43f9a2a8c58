//! `env status` and `env check`: what is set, what is valid, what each step
//! lacks. Only booleans, sources and expectations: never a value.

use serde::Serialize;

use super::registry::{Production, Step, VARS, Var};
use super::{Settings, Source};

/// The status of one variable, safe to print anywhere.
#[derive(Clone, Debug, Serialize)]
pub struct VarStatus {
    /// Variable name.
    pub name: &'static str,
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
    /// The status of every registry variable.
    pub fn status(&self) -> Vec<VarStatus> {
        VARS.iter().map(|v| self.var_status(v)).collect()
    }

    fn var_status(&self, var: &'static Var) -> VarStatus {
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
        let token = self.token_view(var).map(|(words, _)| words);
        let warnings = self.value_warnings(var);
        let has_value = entry.is_some_and(|e| e.is_set());
        VarStatus {
            name: var.name,
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
        let errors: Vec<String> = self
            .token_view(var)
            .map(|(_, findings)| findings)
            .unwrap_or_default()
            .into_iter()
            .filter(|f| f.severity == crate::decode::pypi_token::Severity::Error)
            .map(|f| f.message)
            .collect();
        (!errors.is_empty()).then(|| errors.join("; "))
    }

    /// A PyPI token variable read offline: the token in words and what it
    /// means for an upload of the configured project to its index.
    fn token_view(&self, var: &Var) -> Option<(String, Vec<crate::decode::pypi_token::Finding>)> {
        let super::Format::PypiToken { index } = var.format else {
            return None;
        };
        let user = self.value("TWINE_USERNAME").map(|s| s.expose());
        if user.is_some_and(|u| u != "__token__") {
            return None;
        }
        let value = self.get(var.name).filter(|e| e.is_set())?.value.expose();
        crate::decode::pypi_token::projects_view(value, index, self.projects())
    }

    /// Warnings about a variable's value that stop nothing.
    fn value_warnings(&self, var: &Var) -> Vec<String> {
        self.token_view(var)
            .map(|(_, findings)| findings)
            .unwrap_or_default()
            .into_iter()
            .filter(|f| f.severity == crate::decode::pypi_token::Severity::Warning)
            .map(|f| f.message)
            .collect()
    }

    /// The steps whose variables are partly set explicitly (`env check`
    /// without `--for`).
    pub fn configured_steps(&self) -> Vec<Step> {
        Step::ALL
            .iter()
            .copied()
            .filter(|step| {
                VARS.iter()
                    .filter(|v| v.concerns(*step) && v.default.is_none())
                    .any(|v| self.explicit(v.name).is_some())
            })
            .collect()
    }

    /// Checks every variable `steps` need (and, with `production`, every
    /// variable production requires). Reports all problems, not the first.
    pub fn check(&self, steps: &[Step], production: bool) -> CheckReport {
        let mut report = CheckReport {
            steps: steps.iter().map(|s| s.name()).collect(),
            production,
            ..CheckReport::default()
        };
        for var in VARS {
            let required = var.required_for.iter().any(|s| steps.contains(s))
                || (production && var.production == Production::Required);
            let used = required || var.optional_for.iter().any(|s| steps.contains(s));
            if !used {
                continue;
            }
            let explicit = self.explicit(var.name).is_some();
            let in_effect = self.value(var.name).is_some();
            if production && var.production == Production::Required && !explicit {
                report.errors.push(Problem {
                    name: var.name,
                    message: if var.dev_default.is_some() {
                        "is required in production and not set (the development default is refused there)".into()
                    } else {
                        "is required in production and not set".into()
                    },
                    fix: var.generate,
                });
                continue;
            }
            if required && !in_effect {
                let needed_by: Vec<_> = var
                    .required_for
                    .iter()
                    .filter(|s| steps.contains(s))
                    .map(|s| s.name())
                    .collect();
                report.errors.push(Problem {
                    name: var.name,
                    message: format!("is not set; needed by {}", needed_by.join(", ")),
                    fix: var.generate,
                });
                continue;
            }
            if let Some(problem) = self.format_problem(var, production) {
                report.errors.push(Problem {
                    name: var.name,
                    message: problem,
                    fix: var.generate,
                });
                continue;
            }
            for message in self.value_warnings(var) {
                report.warnings.push(Problem {
                    name: var.name,
                    message,
                    fix: var.generate,
                });
            }
            if production && var.production == Production::Recommended && !explicit {
                report.warnings.push(Problem {
                    name: var.name,
                    message: "is recommended in production and not set".into(),
                    fix: var.generate,
                });
            }
        }
        if production
            && steps.contains(&Step::Deploy)
            && self
                .value("ORG_DOMAIN")
                .is_some_and(|d| d.expose() == "localhost")
        {
            report.warnings.push(Problem {
                name: "ORG_DOMAIN",
                message: "is `localhost` in production".into(),
                fix: super::registry::var("ORG_DOMAIN")
                    .map(|v| v.generate)
                    .unwrap_or(""),
            });
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
        Settings::load(&LoadOptions {
            start_dir: "/".into(),
            env_file: EnvFileChoice::None,
            environment: Some(
                env.iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            ),
        })
        .unwrap()
    }

    #[test]
    fn missing_and_invalid_reported_together() {
        let s = with(&[
            ("AWS_ACCESS_KEY_ID", "AKIA-CANARY-NOPE"),
            ("S3_AUDIT_BUCKET", "bucket-x"),
        ]);
        let r = s.check(&[Step::S3Audit], false);
        let names: Vec<_> = r.errors.iter().map(|p| p.name).collect();
        assert_eq!(names, ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]);
        assert!(!format!("{:?}", r).contains("CANARY"));
    }

    #[test]
    fn production_refuses_dev_audit_key() {
        let s = with(&[]);
        assert!(s.check(&[Step::Audit], false).is_ok());
        let r = s.check(&[Step::Audit], true);
        assert_eq!(r.errors.len(), 1);
        assert!(r.errors[0].message.contains("development default"));
        let s = with(&[("AUDIT_HMAC_KEY", "dev_only_audit_key_DO_NOT_USE_IN_PROD")]);
        assert!(s.check(&[Step::Audit], false).is_ok());
        assert!(!s.check(&[Step::Audit], true).is_ok());
        let key = "ab".repeat(32);
        let s = with(&[("AUDIT_HMAC_KEY", &key)]);
        assert!(s.check(&[Step::Audit], true).is_ok());
    }

    #[test]
    fn dashboard_key_is_a_production_warning() {
        let r = with(&[]).check(&[Step::Dashboard], true);
        assert!(r.warnings.iter().any(|w| w.name == "DASHBOARD_API_KEY"));
    }

    #[test]
    fn s3_bucket_pulls_in_aws() {
        let s = with(&[("S3_AUDIT_BUCKET", "audit-bucket")]);
        assert_eq!(s.configured_steps(), [Step::S3Audit]);
    }

    #[test]
    fn pypi_format_only_for_token_user() {
        let s = with(&[("TWINE_PASSWORD", "plainpassword")]);
        assert!(!s.check(&[Step::Publish], false).is_ok());
        let s = with(&[
            ("TWINE_PASSWORD", "plainpassword"),
            ("TWINE_USERNAME", "alice"),
        ]);
        assert!(s.check(&[Step::Publish], false).is_ok());
    }

    #[test]
    fn a_token_scoped_to_one_package_is_reported_for_the_other() {
        let token = crate::decode::pypi_token::build_test_token(
            "pypi.org",
            "id",
            &[r#"{"version": 1, "permissions": {"projects": ["mult-agentes"]}}"#],
        );
        let mut s = with(&[("TWINE_PASSWORD", &token)]);
        s.set_project("mult-agentes");
        assert!(s.check(&[Step::Publish], false).is_ok());
        // The other package: a warning naming it (publishing that one
        // refuses the token; publishing mult-agentes alone does not).
        s.set_project("mult-agentes-native");
        let r = s.check(&[Step::Publish], false);
        assert!(r.errors.is_empty(), "{r:?}");
        assert!(
            r.warnings.iter().any(|w| w
                .message
                .contains("scoped to mult-agentes and cannot upload mult-agentes-native")),
            "{r:?}"
        );
        // A token for none of them is an error for each.
        let mut s = with(&[("TWINE_PASSWORD", &token)]);
        s.set_project("other-a");
        s.set_project("other-b");
        let r = s.check(&[Step::Publish], false);
        assert_eq!(r.errors.len(), 1, "{r:?}");
        assert!(
            r.errors[0].message.contains("cannot upload other-a")
                && r.errors[0].message.contains("cannot upload other-b"),
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
