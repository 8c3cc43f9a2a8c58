//! Which variable holds each Python package's upload token. PyPI scopes a
//! token to one project, so a release of several packages names a variable
//! per package in release-kit.toml (`token`, `testpypi-token`;
//! `TWINE_PASSWORD` / `TWINE_PASSWORD_TEST` by default). A variable so
//! named that the registry does not hold is checked as the default one
//! is: the same format, the same token judge, required by the same step.

use super::Settings;
use super::registry::{self, Var};

/// The token variables of the packages named by [`Settings::set_package`].
#[derive(Clone, Debug, Default)]
pub(super) struct PackageTokens {
    /// Per project: the variables of its PyPI and TestPyPI tokens.
    by_project: Vec<(String, [String; 2])>,
    /// Named variables the registry did not hold, added to it as entries
    /// modelled on `TWINE_PASSWORD` / `TWINE_PASSWORD_TEST`.
    extra: Vec<&'static str>,
}

/// The registry's token variables, for PyPI and TestPyPI.
const DEFAULTS: [&str; 2] = ["TWINE_PASSWORD", "TWINE_PASSWORD_TEST"];

impl Settings {
    /// Names a Python project this repository publishes (as
    /// [`Settings::set_project`]) with the variables holding its PyPI and
    /// TestPyPI tokens: each token is judged for the projects it uploads.
    pub fn set_package(&mut self, name: impl Into<String>, pypi: &str, testpypi: &str) {
        let name = name.into();
        self.set_project(name.clone());
        for (var, template) in [pypi, testpypi].into_iter().zip(DEFAULTS) {
            if self.registry.add_like(var, template) {
                self.tokens.extra.push(registry::intern(var));
            }
        }
        self.tokens
            .by_project
            .push((name, [pypi.to_owned(), testpypi.to_owned()]));
    }

    /// The projects whose token is read from `var` (a project named by
    /// [`Settings::set_project`] alone uses the defaults).
    pub fn token_projects(&self, var: &str) -> Vec<String> {
        self.projects()
            .iter()
            .filter(
                |p| match self.tokens.by_project.iter().find(|(n, _)| n == *p) {
                    Some((_, vars)) => vars.iter().any(|v| v == var),
                    None => DEFAULTS.contains(&var),
                },
            )
            .cloned()
            .collect()
    }

    /// False for a default token variable no package reads (each names its
    /// own): it is then neither required nor judged.
    pub(super) fn token_var_used(&self, var: &str) -> bool {
        !DEFAULTS.contains(&var)
            || self.projects().is_empty()
            || !self.token_projects(var).is_empty()
    }

    /// The token variables packages name that the registry did not hold
    /// before (now registry entries like `TWINE_PASSWORD`'s).
    pub fn package_token_vars(&self) -> Vec<&Var> {
        self.tokens
            .extra
            .iter()
            .filter_map(|n| self.registry.var(n))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::super::status::tests::with;
    use crate::decode::pypi_token::build_test_token;
    use crate::settings::Step;

    fn scoped(project: &str) -> String {
        build_test_token(
            "pypi.org",
            "id",
            &[&format!(
                r#"{{"version": 1, "permissions": {{"projects": ["{project}"]}}}}"#
            )],
        )
    }

    #[test]
    fn each_package_token_is_judged_for_its_package_only() {
        let (a, b) = (scoped("pkg-a"), scoped("pkg-b"));
        let mut s = with(&[("TWINE_PASSWORD", &a), ("PYPI_TOKEN_B", &b)]);
        s.set_package("pkg-a", "TWINE_PASSWORD", "TWINE_PASSWORD_TEST");
        s.set_package("pkg-b", "PYPI_TOKEN_B", "TWINE_PASSWORD_TEST");
        assert_eq!(s.token_projects("TWINE_PASSWORD"), ["pkg-a"]);
        assert_eq!(s.token_projects("PYPI_TOKEN_B"), ["pkg-b"]);
        let r = s.check(&[Step::PUBLISH], false);
        assert!(r.is_ok(), "{r:?}");
        // The named variable is listed by status, judged, never shown.
        let status = s.status();
        let named = status.iter().find(|v| v.name == "PYPI_TOKEN_B").unwrap();
        assert!(
            named.set && named.secret && named.valid == Some(true),
            "{named:?}"
        );
        assert!(named.required_for.contains(&"publish"), "{named:?}");
        assert!(named.token.as_deref().unwrap().contains("scoped to pkg-b"));
        let json = serde_json::to_string(&status).unwrap();
        assert!(!json.contains(&b) && !json.contains(&a));
        // Swapped: each is refused for the package it cannot upload,
        // naming the variable.
        let mut s = with(&[("TWINE_PASSWORD", &b), ("PYPI_TOKEN_B", &a)]);
        s.set_package("pkg-a", "TWINE_PASSWORD", "TWINE_PASSWORD_TEST");
        s.set_package("pkg-b", "PYPI_TOKEN_B", "TWINE_PASSWORD_TEST");
        let r = s.check(&[Step::PUBLISH], false);
        let names: Vec<_> = r.errors.iter().map(|p| p.name).collect();
        assert_eq!(names, ["TWINE_PASSWORD", "PYPI_TOKEN_B"], "{r:?}");
        assert!(r.errors[1].message.contains("cannot upload pkg-b"), "{r:?}");
        assert!(r.errors[1].message.contains("first upload"), "{r:?}");
    }

    #[test]
    fn a_named_variable_is_required_and_an_unread_default_is_not() {
        let mut s = with(&[]);
        s.set_package("pkg-a", "PYPI_TOKEN_A", "TESTPYPI_TOKEN_A");
        s.set_package("pkg-b", "PYPI_TOKEN_B", "TWINE_PASSWORD_TEST");
        let r = s.check(&[Step::PUBLISH], false);
        let names: Vec<_> = r.errors.iter().map(|p| p.name).collect();
        assert_eq!(names, ["PYPI_TOKEN_A", "PYPI_TOKEN_B"], "{r:?}");
        assert!(r.errors[0].message.contains("needed by publish"), "{r:?}");
        let r = s.check(&[Step::PUBLISH_TESTPYPI], false);
        let names: Vec<_> = r.errors.iter().map(|p| p.name).collect();
        assert_eq!(names, ["TWINE_PASSWORD_TEST", "TESTPYPI_TOKEN_A"], "{r:?}");
        // Without packages (no project), today's rule: TWINE_PASSWORD.
        let r = with(&[]).check(&[Step::PUBLISH], false);
        let names: Vec<_> = r.errors.iter().map(|p| p.name).collect();
        assert_eq!(names, ["TWINE_PASSWORD"], "{r:?}");
    }
}
