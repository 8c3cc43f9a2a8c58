//! The step contract: what every step of a release (build, publish,
//! vsce-package, vsce-publish, hf-prefetch, and the rehearsal's own steps)
//! offers, so that the standalone commands and `release` drive them the
//! same way and cannot drift (ARCHITECTURE.md, "The step contract").
//!
//! A step runs in two phases, and the types keep them in order:
//!
//! 1. [`Step::check`] records every problem it would meet into a shared
//!    [`Preflight`], with no side effect (no file written, no tool
//!    installed, no request with an effect), and returns the step's
//!    [`Plan`]: everything it read and decided. A command checks all its
//!    steps before the first one runs: [`check`] does that for one step;
//!    `release` calls [`check_shared`] for each of its steps into one
//!    `Preflight`, then finishes it. Either way every problem comes at
//!    once, and only a passing check hands back plans.
//! 2. [`Plan::describe`] says in one line what the plan will do (printed
//!    by `release` and `--dry-run`), and [`Plan::run`] consumes it and does
//!    it, returning an [`Outcome`] for the summary and the step's typed
//!    report for the command that prints it. There is no run without a
//!    plan, and a plan runs once.
//!
//! [`execute`] runs one plan the way every standalone command does: its
//! `$GITHUB_STEP_SUMMARY` entry ([`Plan::summary`]) on success, an
//! `::error` annotation on failure; [`run`] is [`check`] then [`execute`].
//! `release` holds steps of different plan types as [`AnyStep`]s (every
//! `Step` is one), whose plans are [`AnyPlan`]s.
//!
//! A command ends in a [`CommandError`] (usage, preflight, a failed step,
//! findings): its [`ExitClass`] is the exit code, which the CLI maps in one
//! place.

use std::error::Error as StdError;
use std::path::PathBuf;

use serde::Serialize;

use crate::ci::{self, Actions};
use crate::config::Project;
use crate::error::ExitClass;
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

impl StepError {
    /// Preflight (exit 3) or failed (exit 1).
    pub fn class(&self) -> ExitClass {
        match self {
            StepError::Preflight(_) => ExitClass::Preflight,
            StepError::Failed(_) => ExitClass::Failed,
        }
    }
}

/// Why a command stopped: the one error every command ends with, whose
/// [`CommandError::class`] is its exit code (mapped by the CLI in one
/// place).
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// What the command line asks cannot be done (exit 2): one line per
    /// mistake, each saying what to give instead.
    #[error("{}", .0.join("\n"))]
    Usage(Vec<String>),
    /// Found before anything was changed (exit 3).
    #[error(transparent)]
    Preflight(#[from] PreflightError),
    /// A standalone step failed while running (exit 1); [`execute`] has
    /// annotated it.
    #[error(transparent)]
    Step(Box<dyn StdError + Send + Sync>),
    /// Anything else failed (exit 1).
    #[error(transparent)]
    Failed(Box<dyn StdError + Send + Sync>),
    /// The command's report, already shown, says why (findings, live
    /// checks that failed, a stopped release's table); `message`, when
    /// set, is said after it.
    #[error("{}", message.as_deref().unwrap_or("see the report above"))]
    Reported {
        /// The exit class.
        class: ExitClass,
        /// A last word after the report.
        message: Option<String>,
    },
}

impl CommandError {
    /// A usage error of one line.
    pub fn usage(line: impl Into<String>) -> CommandError {
        CommandError::Usage(vec![line.into()])
    }

    /// The report already said it; exit with `class`.
    pub fn reported(class: ExitClass) -> CommandError {
        CommandError::Reported {
            class,
            message: None,
        }
    }

    /// The exit class, i.e. the exit code.
    pub fn class(&self) -> ExitClass {
        match self {
            CommandError::Usage(_) => ExitClass::Usage,
            CommandError::Preflight(_) => ExitClass::Preflight,
            CommandError::Step(_) | CommandError::Failed(_) => ExitClass::Failed,
            CommandError::Reported { class, .. } => *class,
        }
    }
}

impl From<StepError> for CommandError {
    fn from(e: StepError) -> CommandError {
        match e {
            StepError::Preflight(p) => CommandError::Preflight(p),
            StepError::Failed(cause) => CommandError::Step(cause),
        }
    }
}

/// One step of shipping the project: its arguments. See the module
/// documentation.
pub trait Step {
    /// What the check hands to the run: everything it read and decided.
    type Plan: Plan;

    /// Its name in tables, JSON and annotations (`build`, `publish`...).
    fn name(&self) -> &'static str;

    /// Records every problem the step would meet into `pre`, without side
    /// effects, and returns the plan to run. `None` only with a problem
    /// recorded: a step cannot run without the plan its check made.
    fn check(&self, cx: &Context<'_>, pre: &mut Preflight) -> Option<Self::Plan>;
}

/// What a passing check decided; running consumes it, so a plan runs once.
pub trait Plan {
    /// The full, typed result a standalone command prints.
    type Report;

    /// What [`Plan::run`] will do, in one line (printed by `release` and
    /// `--dry-run` before anything runs).
    fn describe(&self) -> String;

    /// Does it: an [`Outcome`] for the summary, and the report.
    fn run(self, cx: &Context<'_>) -> Result<(Outcome, Self::Report), StepError>;

    /// Markdown for `$GITHUB_STEP_SUMMARY` after a standalone run, if the
    /// step writes one.
    fn summary(_report: &Self::Report) -> Option<String> {
        None
    }
}

/// A [`Step`] of any plan type, so that `release` can hold different
/// steps in one list; every `Step` is one.
pub trait AnyStep {
    /// [`Step::name`].
    fn step_name(&self) -> &'static str;

    /// [`Step::check`], the plan boxed.
    fn check_any(&self, cx: &Context<'_>, pre: &mut Preflight) -> Option<Box<dyn AnyPlan>>;
}

/// A [`Plan`] whose report is dropped: `release` tabulates outcomes.
pub trait AnyPlan {
    /// [`Plan::describe`].
    fn describe_any(&self) -> String;

    /// [`Plan::run`], the outcome only.
    fn run_any(self: Box<Self>, cx: &Context<'_>) -> Result<Outcome, StepError>;
}

impl<S: Step> AnyStep for S
where
    S::Plan: 'static,
{
    fn step_name(&self) -> &'static str {
        self.name()
    }

    fn check_any(&self, cx: &Context<'_>, pre: &mut Preflight) -> Option<Box<dyn AnyPlan>> {
        self.check(cx, pre)
            .map(|plan| Box::new(plan) as Box<dyn AnyPlan>)
    }
}

impl<P: Plan> AnyPlan for P {
    fn describe_any(&self) -> String {
        self.describe()
    }

    fn run_any(self: Box<Self>, cx: &Context<'_>) -> Result<Outcome, StepError> {
        (*self).run(cx).map(|(outcome, _)| outcome)
    }
}

/// Checks one step of a list into the shared `pre` (`release` checks all
/// its steps before the first runs): its plan, or `None` with a problem
/// recorded.
pub fn check_shared(
    step: &dyn AnyStep,
    cx: &Context<'_>,
    pre: &mut Preflight,
) -> Option<Box<dyn AnyPlan>> {
    checked(step.step_name(), pre, |pre| step.check_any(cx, pre))
}

/// Checks one step into `pre` and returns its plan, or fails with every
/// problem at once.
pub fn check<S: Step>(
    step: &S,
    cx: &Context<'_>,
    mut pre: Preflight,
) -> Result<S::Plan, PreflightError> {
    let plan = checked(step.name(), &mut pre, |pre| step.check(cx, pre));
    pre.finish_with(plan)
}

/// Runs a check; a check that made no plan and found no problem (a bug)
/// becomes a problem naming the step, so that nothing runs unplanned.
fn checked<T>(
    name: &str,
    pre: &mut Preflight,
    check: impl FnOnce(&mut Preflight) -> Option<T>,
) -> Option<T> {
    let before = pre.problems().len();
    let plan = check(pre);
    if plan.is_none() && pre.problems().len() == before {
        pre.problem(format!(
            "{name}: its check made no plan and found no problem; this is a bug in release-kit, \
             please report it"
        ));
    }
    plan
}

/// Runs the plan of `step` as a standalone command: on success its step
/// summary is appended (GitHub Actions), on failure an `::error`
/// annotation is emitted. `release` writes its own summary of all steps.
pub fn execute<S: Step>(
    step: &S,
    plan: S::Plan,
    cx: &Context<'_>,
) -> Result<(Outcome, <S::Plan as Plan>::Report), StepError> {
    let actions = cx.actions();
    let result = plan.run(cx);
    match &result {
        Ok((_, report)) => {
            if let (Some(path), Some(md)) = (
                actions.as_ref().and_then(|a| a.step_summary.as_deref()),
                S::Plan::summary(report),
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
pub fn run<S: Step>(
    step: &S,
    cx: &Context<'_>,
) -> Result<(Outcome, <S::Plan as Plan>::Report), StepError> {
    let plan = check(step, cx, Preflight::new())?;
    execute(step, plan, cx)
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
        /// The check makes no plan (and, unless `problem`, says nothing).
        no_plan: bool,
        fails: bool,
        ran: std::rc::Rc<std::cell::Cell<bool>>,
    }

    struct OnePlan {
        fails: bool,
        ran: std::rc::Rc<std::cell::Cell<bool>>,
    }

    impl Step for One {
        type Plan = OnePlan;
        fn name(&self) -> &'static str {
            "one"
        }
        fn check(&self, _: &Context<'_>, pre: &mut Preflight) -> Option<OnePlan> {
            if let Some(p) = self.problem {
                pre.problem(p);
            }
            (!self.no_plan).then(|| OnePlan {
                fails: self.fails,
                ran: self.ran.clone(),
            })
        }
    }

    impl Plan for OnePlan {
        type Report = &'static str;
        fn describe(&self) -> String {
            "do one".into()
        }
        fn run(self, _: &Context<'_>) -> Result<(Outcome, &'static str), StepError> {
            self.ran.set(true);
            if self.fails {
                Err(StepError::failed("one broke\nfix: x"))
            } else {
                Ok((Outcome::new(Status::Done, "done one"), "the report"))
            }
        }
        fn summary(report: &&'static str) -> Option<String> {
            Some(format!("### one: {report}\n"))
        }
    }

    struct Run {
        ran: bool,
        result: Result<(Outcome, &'static str), StepError>,
        summary: String,
        lines: Vec<String>,
    }

    fn with_actions(step: One) -> Run {
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
        let result = run(&step, &cx);
        Run {
            ran: step.ran.get(),
            result,
            summary: std::fs::read_to_string(&summary).unwrap_or_default(),
            lines: lines.0.into_inner(),
        }
    }

    fn one(problem: Option<&'static str>, fails: bool) -> One {
        One {
            problem,
            no_plan: false,
            fails,
            ran: Default::default(),
        }
    }

    #[test]
    fn a_standalone_step_writes_its_summary_from_its_report() {
        let r = with_actions(one(None, false));
        assert!(r.ran);
        let (outcome, report) = r.result.unwrap();
        assert_eq!(outcome.detail, "done one");
        assert_eq!(report, "the report");
        assert_eq!(r.summary, "### one: the report\n");
        assert!(r.lines.is_empty(), "{:?}", r.lines);
    }

    #[test]
    fn a_failing_step_is_annotated_and_writes_no_summary() {
        let r = with_actions(one(None, true));
        assert!(matches!(r.result, Err(StepError::Failed(_))));
        assert_eq!(r.summary, "");
        assert_eq!(r.lines, ["::error title=one failed::one broke%0Afix: x"]);
    }

    #[test]
    fn a_failing_check_runs_nothing() {
        let r = with_actions(one(Some("A is missing"), false));
        assert!(!r.ran);
        let Err(StepError::Preflight(e)) = r.result else {
            panic!("expected a preflight error");
        };
        assert_eq!(e.problems[0].message, "A is missing");
        assert_eq!(r.summary, "");
    }

    #[test]
    fn a_check_without_a_plan_or_a_problem_is_a_problem_not_a_panic() {
        let mut step = one(None, false);
        step.no_plan = true;
        let r = with_actions(step);
        assert!(!r.ran);
        let Err(StepError::Preflight(e)) = r.result else {
            panic!("expected a preflight error");
        };
        assert!(
            e.problems[0]
                .message
                .starts_with("one: its check made no plan"),
            "{e}"
        );
    }

    #[test]
    fn the_exit_class_of_every_error() {
        let classes = [
            CommandError::usage("--x: no").class(),
            CommandError::from(PreflightError::one("A")).class(),
            CommandError::from(StepError::failed("broke")).class(),
            CommandError::from(StepError::Preflight(PreflightError::one("A"))).class(),
            CommandError::reported(ExitClass::Findings).class(),
        ];
        let codes: Vec<u8> = classes.iter().map(|c| c.code()).collect();
        assert_eq!(codes, [2, 3, 1, 3, 1]);
    }
}
