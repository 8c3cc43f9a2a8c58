//! `env rotate VAR`: the rotation runbook of one variable, made concrete
//! from the registry (where to generate, where the value lives, how to
//! test, how to revoke), in the safe order: the new value first, the old
//! one revoked last. Keys we generate are written into `.env` here; before
//! the old value is forgotten, the repository, its history and the logs
//! given are searched for it.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::scan::{self, Finding, Report, Scanner, live};
use crate::secret::{Redactor, Secret};
use crate::settings::registry::{Place, Registry, Var};
use crate::settings::{Settings, Source, envfile};

/// Why a rotation does not start.
#[derive(Debug, thiserror::Error)]
pub enum RotateError {
    /// Not in the registry.
    #[error("{name} is not a variable of the registry; secrets that can be rotated: {known}")]
    Unknown {
        /// The name given.
        name: String,
        /// The secret variables.
        known: String,
    },
    /// Not a secret.
    #[error("{name} is not a secret: there is nothing to rotate (set it in .env as usual)")]
    NotSecret {
        /// The variable.
        name: String,
    },
    /// Needs `--force`, for the reason given.
    #[error(
        "rotating {name} is refused without --force: {why}. Nothing was changed; \
         run `cargo xtask env rotate {name} --force` once the old key is stored offline"
    )]
    NeedsForce {
        /// The variable.
        name: String,
        /// Why.
        why: &'static str,
    },
    /// A generated key needs a `.env` to go into.
    #[error(
        "no .env file to write the new {name} into; create one with `cargo xtask env init` \
         (or point --env-file at yours)"
    )]
    NoEnvFile {
        /// The variable.
        name: String,
    },
    /// Not a key we generate (no `keygen_bytes` in the registry).
    #[error("{name} is not a key we generate")]
    NotGenerated {
        /// The variable.
        name: String,
    },
    /// The old value's search could not be set up.
    #[error(transparent)]
    Scan(#[from] scan::ScanError),
    /// The new key was not generated or written.
    #[error(transparent)]
    Write(#[from] envfile::EnvWriteError),
    /// The HTTP client for the Actions logs could not be set up.
    #[error(transparent)]
    Net(crate::net::NetError),
}

/// The variable to rotate, checked: a known secret, and `--force` given
/// when its registry entry asks for it.
pub fn variable<'r>(
    registry: &'r Registry,
    name: &str,
    force: bool,
) -> Result<&'r Var, RotateError> {
    let Some(var) = registry.var(name) else {
        return Err(RotateError::Unknown {
            name: name.into(),
            known: registry
                .vars()
                .iter()
                .filter(|v| v.secret)
                .map(|v| v.name)
                .collect::<Vec<_>>()
                .join(", "),
        });
    };
    if !var.secret {
        return Err(RotateError::NotSecret { name: name.into() });
    }
    if let (Some(why), false) = (var.rotate_guard, force) {
        return Err(RotateError::NeedsForce {
            name: name.into(),
            why,
        });
    }
    Ok(var)
}

/// Where the old value was found, and how much was searched.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Search {
    /// Findings (no value: place, encoding, fingerprint).
    pub found: Vec<Finding>,
    /// What was searched, e.g. `working tree`, `history`, `logs`.
    pub searched: Vec<String>,
    /// Files and blobs read.
    pub files: u64,
    /// Problems met (unreadable files, no history), never a value.
    pub errors: Vec<String>,
    /// The repository whose Actions logs were searched (`--actions`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actions_repo: Option<String>,
    /// Its runs whose logs hold the old value.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub actions_runs: Vec<super::actions_logs::RunFound>,
    /// Those whose logs `--purge-logs` deleted.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub purged: Vec<u64>,
}

/// Where [`find_old`] searches besides the repository.
#[derive(Debug, Default)]
pub struct Elsewhere<'a> {
    /// Log files (`--logs`).
    pub logs: &'a [PathBuf],
    /// The Actions run logs of a GitHub repository (`--actions`).
    pub actions: Option<&'a super::actions_logs::Actions>,
}

/// Searches the repository at `repo` (working tree and, when it is a git
/// repository, every commit), the log files and the Actions run logs of
/// `elsewhere`, for `old` and its encoded forms. `env_file`, where the
/// value is supposed to live, is left out.
pub fn find_old(
    name: &str,
    old: &Secret,
    repo: &Path,
    env_file: Option<&Path>,
    elsewhere: &Elsewhere<'_>,
    redactor: &Redactor,
) -> Result<Search, RotateError> {
    let logs = elsewhere.logs;
    let mut search = Search::default();
    let Some(value) = live::live_value(name, old) else {
        search.errors.push(format!(
            "the old value of {name} is too short to be searched for"
        ));
        return Ok(search);
    };
    let scanner = Scanner::new(false, &[value])?;
    let skip = env_file.map(|p| scan::walk::display(repo, p));
    let mut report = Report::default();
    let tree = scan::walk::scan_paths(&scanner, repo, &[]);
    search
        .searched
        .push(format!("working tree of {}", repo.display()));
    report.merge(tree);
    report.findings.retain(|f| Some(&f.path) != skip.as_ref());
    if crate::repo::toplevel(repo).is_some() {
        match scan::git::scan_history(&scanner, repo, redactor) {
            Ok(h) => {
                search
                    .searched
                    .push("git history (every commit from HEAD)".into());
                report.merge(h);
            }
            Err(e) => search.errors.push(redactor.redact(&format!(
                "history not searched: {}",
                crate::error::describe(&e)
            ))),
        }
    }
    if !logs.is_empty() {
        search.searched.push(format!("{} log file(s)", logs.len()));
        report.merge(scan::walk::scan_files(&scanner, repo, logs));
    }
    if let Some(actions) = elsewhere.actions {
        let client = crate::net::Blocking::new().map_err(RotateError::Net)?;
        let found = super::actions_logs::search(&client, actions, &scanner, redactor);
        search.searched.push(format!(
            "the logs of {} recent GitHub Actions run(s) of {}",
            found.runs_read,
            actions.repo()
        ));
        report.merge(found.report);
        search.actions_repo = Some(actions.repo().to_owned());
        search.actions_runs = found.found;
    }
    report.finish(&Default::default());
    search.found = report.findings;
    search.files = report.files;
    search.errors.extend(report.errors);
    Ok(search)
}

/// Generates a new key for `var` and writes it into `env_file` in place of
/// the old line, keeping the file's mode. The key is never returned.
pub fn write_new_key(var: &Var, env_file: Option<&Path>) -> Result<usize, RotateError> {
    let bytes = var.keygen_bytes.ok_or_else(|| RotateError::NotGenerated {
        name: var.name.into(),
    })?;
    let Some(path) = env_file else {
        return Err(RotateError::NoEnvFile {
            name: var.name.into(),
        });
    };
    let key = Secret::new(envfile::gen_key(bytes)?);
    envfile::set_value(path, var.name, key.expose())?;
    Ok(bytes)
}

/// One step of the runbook.
#[derive(Clone, Debug, Serialize)]
pub struct RunbookStep {
    /// What to do.
    pub title: String,
    /// The details: places, commands.
    pub items: Vec<String>,
}

/// What the runbook is made from, besides the variable and the settings.
#[derive(Clone, Debug, Default)]
pub struct Rotation<'a> {
    /// The `.env` a generated key was written into, and its size in bytes.
    pub generated: Option<(&'a Path, usize)>,
    /// Where the old value was found.
    pub search: Search,
    /// `--leaked`: revoke first, then replace, then purge.
    pub leaked: bool,
    /// The live check of the new value (`cargo xtask env verify GROUP`).
    pub verify: String,
    /// The release workflow publishes by trusted publishing: no PyPI
    /// token secret belongs in GitHub.
    pub trusted_publishing: bool,
    /// The old value came from `--old-from` (not the current setting).
    pub old_given: bool,
}

/// The runbook of `var`. Scheduled: create, put everywhere, check it
/// works for real, remove the old value where it was found, revoke it
/// last. Leaked (`r.leaked`): revoke first (the leaked value must stop
/// working now), then create, put everywhere, check, and purge (CI logs,
/// history).
pub fn runbook(var: &Var, settings: &Settings, r: &Rotation<'_>) -> Vec<RunbookStep> {
    let step = |title: &str, items: Vec<String>| RunbookStep {
        title: title.into(),
        items,
    };
    let create = step(
        if r.leaked {
            "Create the new value"
        } else {
            "Create the new value (the old one keeps working meanwhile)"
        },
        vec![match r.generated {
            Some((path, bytes)) => format!(
                "done: a new key of {bytes} random bytes was written to {} (its mode kept)",
                path.display()
            ),
            None => var
                .generate
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" "),
        }],
    );
    let deploy = step(
        "Put the new value everywhere the old one lives",
        places(var, settings, r),
    );
    let check = step(
        "Check the new value works (a live check)",
        vec![r.verify.clone()],
    );
    let purge = step(
        "Remove the old value from where it was found",
        found_items(&r.search, r.old_given, r.leaked),
    );
    let revoke = vec![var.revoke.to_string()];
    if r.leaked {
        let first = step(
            "First, revoke the leaked value now: it stops working everywhere",
            revoke,
        );
        vec![first, create, deploy, check, purge]
    } else {
        vec![
            create,
            deploy,
            check,
            purge,
            step("Last, revoke the old value", revoke),
        ]
    }
}

/// Where the new value goes: `.env` (or the shell that exports it) and
/// the registry's places; no GitHub secret for a PyPI token where the
/// release workflow uses trusted publishing.
fn places(var: &Var, settings: &Settings, r: &Rotation<'_>) -> Vec<String> {
    let mut places = Vec::new();
    let source = settings.get(var.name).map(|e| &e.source);
    match (source, r.generated) {
        (_, Some(_)) => {}
        (Some(Source::EnvFile { path, line }), None) => places.push(format!(
            "{}:{line}: replace the value of {}",
            path.display(),
            var.name
        )),
        _ => places.push(format!(
            ".env ({}): set {}",
            settings.env_file().map_or(
                "none found; `cargo xtask env init` creates one".into(),
                |p| p.display().to_string()
            ),
            var.name
        )),
    }
    if matches!(source, Some(Source::Environment)) {
        places.push(format!(
            "the process environment: {} is exported in this shell (it wins over .env); \
             change it where it is set (shell profile, CI job)",
            var.name
        ));
    }
    let pypi_token = matches!(
        var.format,
        crate::settings::format::Format::PypiToken { .. }
    );
    for place in var.places {
        places.push(match place {
            Place::GithubActions if pypi_token && r.trusted_publishing => format!(
                "GitHub Actions: nothing to set: .github/workflows/release.yml publishes by trusted \
                 publishing (`id-token: write`), not with {0}; if an old {0} secret is left, \
                 delete it (`gh secret delete {0}`)",
                var.name
            ),
            Place::GithubActions => format!(
                "GitHub Actions: `gh secret set {}` (or Settings -> Secrets and variables -> Actions), \
                 for each environment that holds it (`--env NAME`)",
                var.name
            ),
            Place::Production => format!(
                "production: the systemd EnvironmentFile, the docker --env-file, or the Kubernetes \
                 secret (`kubectl create secret generic NAME --from-env-file=FILE --dry-run=client \
                 -o yaml | kubectl apply -f -`) that sets {}; then restart the service",
                var.name
            ),
        });
    }
    places
}

/// Where the old value was found (never the value), or what was searched;
/// with `leaked`, how to purge CI logs and history.
fn found_items(search: &Search, old_given: bool, leaked: bool) -> Vec<String> {
    let mut found: Vec<String> = search
        .found
        .iter()
        .map(|f| format!("{} ({})", f.location(), f.encoding.unwrap_or("plain")))
        .collect();
    if found.is_empty() {
        found.push(format!("not found in: {}", search.searched.join(", ")));
        if !old_given {
            found.push(
                "searched for the value set now: if .env already holds the new one, run again \
                 with the old value from a file or stdin (`--old-from FILE`, `--old-from -`)"
                    .into(),
            );
        }
    } else if search.found.iter().any(|f| f.commit.is_some()) {
        found.push(
            "in git history: rewrite it (`git filter-repo --replace-text FILE`, then force-push and \
             ask every clone to re-clone) or note in the incident that it stays there; rewriting \
             does not make it secret again, revoking it does"
                .into(),
        );
    }
    if let Some(repo) = &search.actions_repo {
        for run in &search.actions_runs {
            if search.purged.contains(&run.id) {
                found.push(format!(
                    "done: the logs of GitHub Actions run {} ({}) of {repo}, which printed it, \
                     were deleted (--purge-logs)",
                    run.id, run.label
                ));
                continue;
            }
            found.push(format!(
                "GitHub Actions run {id} ({label}) of {repo} printed it: delete the run \
                 (`gh run delete {id} --repo {repo}`) or only its logs \
                 (`gh api -X DELETE repos/{repo}/actions/runs/{id}/logs`)",
                id = run.id,
                label = run.label
            ));
        }
    }
    if leaked && search.actions_runs.is_empty() {
        found.push(
            "CI logs that printed it: delete them (`gh run delete RUN_ID`, or the run's \
             \"Delete all logs\" in the Actions UI); search a downloaded log first with \
             `--logs` (`gh run view RUN_ID --log > run.log`)"
                .into(),
        );
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::registry::tests::example;

    #[test]
    fn guards() {
        assert!(matches!(
            variable(&example(), "NOPE", false),
            Err(RotateError::Unknown { .. })
        ));
        assert!(matches!(
            variable(&example(), "ORG_DOMAIN", true),
            Err(RotateError::NotSecret { .. })
        ));
        let err = variable(&example(), "AUDIT_HMAC_KEY", false).unwrap_err();
        assert!(err.to_string().contains("unverifiable"), "{err}");
        assert!(err.to_string().contains("offline"), "{err}");
        assert!(variable(&example(), "AUDIT_HMAC_KEY", true).is_ok());
        assert!(variable(&example(), "HF_TOKEN", false).is_ok());
        // A package's own token variable is rotated as TWINE_PASSWORD is.
        let mut s = crate::settings::status::tests::with(&[]);
        assert!(variable(s.registry(), "PYPI_TOKEN_B", false).is_err());
        s.set_package("pkg-b", "PYPI_TOKEN_B", "TWINE_PASSWORD_TEST");
        let v = variable(s.registry(), "PYPI_TOKEN_B", false).unwrap();
        assert_eq!((v.name, v.group), ("PYPI_TOKEN_B", "PyPI publishing"));
    }

    #[test]
    fn every_secret_has_a_way_to_revoke() {
        for v in example().vars().iter().filter(|v| v.secret) {
            assert!(
                !v.revoke.starts_with("nothing to revoke: not"),
                "{}",
                v.name
            );
        }
    }
}
