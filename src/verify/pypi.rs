//! PyPI publishing: the tokens read offline (index, scope, expiry), as
//! `env status` reads them. No request: an upload is the only live test,
//! and `publish --dry-run` is where that belongs.

use super::{Inputs, Outcome};
use crate::decode::pypi_token::{self as token, Severity};

const TOKENS: &[(&str, &str)] = &[
    ("TWINE_PASSWORD", "pypi.org"),
    ("TWINE_PASSWORD_TEST", "test.pypi.org"),
];

pub(super) fn check(inputs: &Inputs) -> Outcome {
    // The registry's token variables and those the packages name.
    let named_vars = inputs.settings.package_token_vars();
    let named = named_vars.iter().filter_map(|v| match v.format {
        crate::settings::format::Format::PypiToken { index } => Some((v.name, index)),
        _ => None,
    });
    let set: Vec<_> = TOKENS
        .iter()
        .copied()
        .chain(named)
        .filter_map(|(name, index)| Some((name, index, inputs.explicit(name)?)))
        .collect();
    if set.is_empty() {
        return Outcome::skipped(
            "not configured: neither TWINE_PASSWORD nor TWINE_PASSWORD_TEST is set (CI publishes with trusted publishing)",
        );
    }
    let user = inputs.plain("TWINE_USERNAME");
    if user.as_deref().is_some_and(|u| u != "__token__") {
        return Outcome::pass(
            "TWINE_USERNAME is not `__token__`: a password, not a token, so nothing to read offline; `cargo xtask publish --dry-run` checks the rest",
        );
    }
    let mut parts = Vec::new();
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    for (name, index, value) in set {
        // Judged for the packages whose token it holds, as env check does.
        let projects = inputs.settings.token_projects(name);
        match token::projects_view(value.expose(), index, &projects) {
            None => errors.push(format!(
                "{name} cannot be read as a PyPI token: {}; make one at https://{index}/manage/account/token/",
                token::inspect(value.expose())
                    .err()
                    .map(|e| e.to_string())
                    .unwrap_or_else(|| "unreadable".into())
            )),
            Some((words, findings)) => {
                parts.push(format!("{name}: {words}"));
                for f in findings {
                    let line = format!("{name} {}", f.message);
                    match f.severity {
                        Severity::Error => errors.push(line),
                        Severity::Warning => warnings.push(line),
                        Severity::Note => {}
                    }
                }
            }
        }
    }
    let mut out = if errors.is_empty() {
        Outcome::pass(format!("{} (read offline; no upload)", parts.join("; ")))
    } else {
        Outcome::fail(errors.join("; "))
    };
    out.warnings = warnings;
    out
}
