//! The step contract: what every step of a release (build, publish,
//! vsce-package, vsce-publish, hf-prefetch, and the rehearsal's own steps)
//! offers, so that the standalone commands and `release` drive them the
//! same way and cannot drift (ARCHITECTURE.md, "The step contract").
//!
//! A [`Step`] is driven in two phases:
//!
//! 1. [`Step::check`] records every problem it would meet into a shared
//!    [`Preflight`], with no side effect (no file written, no tool
//!    installed, no request with an effect). A command checks all its steps
//!    before the first one runs; [`check`] does that and fails with every
//!    problem at once.
//! 2. After a passing check, [`Step::plan`] says in one line what the step
//!    will do (printed by `release` and `--dry-run`), and [`Step::run`]
//!    does it, returning an [`Outcome`] for the summary. The step keeps its
//!    full, typed report for the command that wants to print it.
//!
//! [`execute`] runs one checked step the way every standalone command
//! does: its `$GITHUB_STEP_SUMMARY` entry on success, an `::error`
//! annotation on failure. `release` composes steps through the same trait
//! (`crate::release`).

use std::error::Error as StdError;
use std::path::PathBuf;

use serde::Serialize;

use crate::ci::{self, Actions};
use crate::config::Project;
use crate::preflight::{Preflight, PreflightError};
use crate::secret::Redactor;
use crate::settings::Settings;
use crate::tools::Echo;

/// Where a step reports progress. Messages are redacted by the receiver,
/// except [`Reporter::workflow_command`] lines, which must reach stdout
/// verbatim (an `::add-mask::` line masked by us would register the mask
/// itself).
pub trait Reporter {
    /// A progress line.
    fn info(&self, msg: &str);
    /// A warning.
    fn warn(&self, msg: &str);
    /// A GitHub Actions workflow command, printed verbatim on stdout.
    fn workflow_command(&self, line: &str);
}

/// What every step sees: the project, the settings, the process
/// environment, where to report, and how to show child output.
pub struct Context<'a> {
    /// The project and its configuration.
    pub project: &'a Project,
    /// The loaded settings (`.env` and environment).
    pub settings: &'a Settings,
    /// Reads the process environment (GitHub Actions variables, HOME...).
    pub env: &'a dyn Fn(&str) -> Option<String>,
    /// Progress and workflow commands.
    pub reporter: &'a dyn Reporter,
    /// Child output as it comes, or captured only.
    pub echo: Echo,
}

impl Context<'_> {
    /// The GitHub Actions context, when running in it.
    pub fn actions(&self) -> Option<Actions> {
        Actions::from_env(self.env)
    }

    /// A setting from `.env` or the environment (which wins), then the
    /// process environment for what settings do not track (HOME,
    /// XDG_CACHE_HOME...).
    pub fn lookup(&self, name: &str) -> Option<String> {
        lookup(self.settings, self.env, name)
    }

    /// The redactor of every loaded secret.
    pub fn redactor(&self) -> &Redactor {
        self.settings.redactor()
    }
}

/// A setting from `.env` or the environment (which wins), then `env` for
/// what settings do not track (HOME, XDG_CACHE_HOME...).
pub fn lookup(
    settings: &Settings,
    env: &dyn Fn(&str) -> Option<String>,
    name: &str,
) -> Option<String> {
    settings
        .explicit(name)
        .map(|v| v.expose().to_owned())
        .or_else(|| env(name))
}

/// How a step ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// It ran and changed something.
    Done,
    /// Nothing to do (already published, or not configured).
    Skipped,
    /// It failed.
    Failed,
    /// It did not run because an earlier step failed.
    NotRun,
    /// Dry run: what would happen.
    Planned,
}

impl Status {
    /// The word shown in tables.
    pub fn word(self) -> &'static str {
        match self {
            Status::Done => "done",
            Status::Skipped => "skipped",
            Status::Failed => "FAILED",
            Status::NotRun => "not run",
            Status::Planned => "planned",
        }
    }
}

/// What a step that ran hands to the summary.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// Done or skipped.
    pub status: Status,
    /// One line: files, counts, where.
    pub detail: String,
    /// Files it produced that are shipped (dist files, the `.vsix`).
    pub artifacts: Vec<PathBuf>,
}

impl Outcome {
    /// An outcome with no artifact.
    pub fn new(status: Status, detail: impl Into<String>) -> Outcome {
        Outcome {
            status,
            detail: detail.into(),
            artifacts: Vec::new(),
        }
    }
}

/// Why a step stopped.
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    /// Found before anything was changed (exit 3).
    #[error(transparent)]
    Preflight(#[from] PreflightError),
    /// The step failed while running (exit 1). The message says what
    /// happened and what to do, and is already redacted where the step
    /// knew more secrets than the settings (a minted or file token).
    #[error(transparent)]
    Failed(Box<dyn StdError + Send + Sync>),
}

impl StepError {
    /// A failure with this typed cause.
    pub fn cause(e: impl StdError + Send + Sync + 'static) -> StepError {
        StepError::Failed(Box::new(e))
    }

    /// A failure with this message.
    pub fn failed(message: impl Into<String>) -> StepError {
        StepError::Failed(message.into().into())
    }

    /// The message with its causes, `top: cause: cause`.
    pub fn describe(&self) -> String {
        crate::error::describe(self)
    }
}

impl From<crate::error::IoError> for StepError {
    fn from(e: crate::error::IoError) -> StepError {
        StepError::cause(e)
    }
}

/// One step of shipping the project. See the module documentation.
pub trait Step {
    /// Its name in tables, JSON and annotations (`build`, `publish`...).
    fn name(&self) -> &'static str;

    /// Records every problem the step would meet into `pre`, without side
    /// effects. Keeps what it read for [`Step::plan`] and [`Step::run`].
    fn check(&mut self, cx: &Context<'_>, pre: &mut Preflight);

    /// What [`Step::run`] will do, in one line (after a passing check).
    fn plan(&self) -> String;

    /// Does it. Call only after a passing [`Step::check`].
    fn run(&mut self, cx: &Context<'_>) -> Result<Outcome, StepError>;

    /// Markdown for `$GITHUB_STEP_SUMMARY` after a standalone run, if the
    /// step writes one.
    fn summary(&self) -> Option<String> {
        None
    }
}

/// Checks every step into `pre` (which may already hold problems, e.g. of
/// loading the settings) and fails with all problems at once.
pub fn check(
    steps: &mut [&mut dyn Step],
    cx: &Context<'_>,
    mut pre: Preflight,
) -> Result<(), PreflightError> {
    for step in steps.iter_mut() {
        step.check(cx, &mut pre);
    }
    pre.finish()
}

/// Runs one checked step as a standalone command: on success its step
/// summary is appended (GitHub Actions), on failure an `::error`
/// annotation is emitted. `release` writes its own summary of all steps.
pub fn execute(step: &mut dyn Step, cx: &Context<'_>) -> Result<Outcome, StepError> {
    let actions = cx.actions();
    let result = step.run(cx);
    match &result {
        Ok(_) => {
            if let (Some(path), Some(md)) = (
                actions.as_ref().and_then(|a| a.step_summary.as_deref()),
                step.summary(),
            ) && let Err(e) = ci::append_summary(path, &md)
            {
                cx.reporter
                    .warn(&format!("cannot write the step summary: {e}"));
            }
        }
        Err(e) => {
            if actions.is_some() {
                cx.reporter.workflow_command(&ci::error(
                    None,
                    None,
                    &format!("{} failed", step.name()),
                    &cx.redactor().redact(&e.describe()),
                ));
            }
        }
    }
    result
}

/// [`check`] then [`execute`]: a standalone command of one step.
pub fn run(step: &mut dyn Step, cx: &Context<'_>) -> Result<Outcome, StepError> {
    check(&mut [&mut *step], cx, Preflight::new())?;
    execute(step, cx)
}
