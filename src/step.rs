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
//! (see the release module).

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

/// Registers an `::add-mask::` for every form of every secret `redactor`
/// knows, when running in GitHub Actions, before anything could print
/// one: the one way masks are registered (the loaded settings at start-up,
/// a rehearsal's throwaway password, a token read from a file).
pub fn register_masks(reporter: &dyn Reporter, actions: Option<&Actions>, redactor: &Redactor) {
    for line in actions.map(|a| a.mask_lines(redactor)).unwrap_or_default() {
        reporter.workflow_command(&line);
    }
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

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use super::*;

    #[derive(Default)]
    struct Lines(RefCell<Vec<String>>);

    impl Reporter for Lines {
        fn info(&self, m: &str) {
            self.0.borrow_mut().push(m.to_owned());
        }
        fn warn(&self, m: &str) {
            self.0.borrow_mut().push(m.to_owned());
        }
        fn workflow_command(&self, l: &str) {
            self.0.borrow_mut().push(l.to_owned());
        }
    }

    struct One {
        problem: Option<&'static str>,
        fails: bool,
        ran: bool,
    }

    impl Step for One {
        fn name(&self) -> &'static str {
            "one"
        }
        fn check(&mut self, _: &Context<'_>, pre: &mut Preflight) {
            if let Some(p) = self.problem {
                pre.problem(p);
            }
        }
        fn plan(&self) -> String {
            "do one".into()
        }
        fn run(&mut self, _: &Context<'_>) -> Result<Outcome, StepError> {
            self.ran = true;
            if self.fails {
                Err(StepError::failed("one broke\nfix: x"))
            } else {
                Ok(Outcome::new(Status::Done, "done one"))
            }
        }
        fn summary(&self) -> Option<String> {
            Some("### one\n".into())
        }
    }

    fn with_actions(
        problem: Option<&'static str>,
        fails: bool,
    ) -> (One, Result<Outcome, StepError>, String, Vec<String>) {
        let tmp = tempfile::tempdir().unwrap();
        let project = Project::load(tmp.path()).unwrap();
        let summary = tmp.path().join("summary.md");
        let summary_s = summary.display().to_string();
        let env = move |k: &str| match k {
            "GITHUB_ACTIONS" => Some("true".to_owned()),
            "GITHUB_STEP_SUMMARY" => Some(summary_s.clone()),
            _ => None,
        };
        let settings = Settings::empty();
        let lines = Lines::default();
        let cx = Context {
            project: &project,
            settings: &settings,
            env: &env,
            reporter: &lines,
            echo: Echo::Quiet,
        };
        let mut step = One {
            problem,
            fails,
            ran: false,
        };
        let result = run(&mut step, &cx);
        let md = std::fs::read_to_string(&summary).unwrap_or_default();
        (step, result, md, lines.0.into_inner())
    }

    #[test]
    fn a_standalone_step_writes_its_summary() {
        let (step, result, md, lines) = with_actions(None, false);
        assert!(step.ran);
        assert_eq!(result.unwrap().detail, "done one");
        assert_eq!(md, "### one\n");
        assert!(lines.is_empty(), "{lines:?}");
    }

    #[test]
    fn a_failing_step_is_annotated_and_writes_no_summary() {
        let (_, result, md, lines) = with_actions(None, true);
        assert!(matches!(result, Err(StepError::Failed(_))));
        assert_eq!(md, "");
        assert_eq!(lines, ["::error title=one failed::one broke%0Afix: x"]);
    }

    #[test]
    fn a_failing_check_runs_nothing() {
        let (step, result, md, _) = with_actions(Some("A is missing"), false);
        assert!(!step.ran);
        let Err(StepError::Preflight(e)) = result else {
            panic!("expected a preflight error");
        };
        assert_eq!(e.problems[0].message, "A is missing");
        assert_eq!(md, "");
    }
}
