//! The release pipeline: compose the steps from the configuration, check
//! everything every step needs before the first side effect, run the steps
//! in order, and summarise. A failed release says what was done and what
//! was not; running it again is safe, because each step skips what is
//! already there (ARCHITECTURE.md).
//!
//! The pipeline knows the steps only through [`Step`]: it checks them all
//! into one [`Preflight`], prints their plans, runs them, and tabulates
//! their outcomes. The one check of its own is that every place names the
//! same version ([`versions`]).
//!
//! `--from-artifacts DIR` is the fan-in of a CI build matrix: instead of
//! building, the release publishes the files the platform jobs uploaded,
//! once they are checked complete for the plan ([`matrix`], [`artifacts`]).
//!
//! `--rehearse` runs the whole pipeline against a local pypiserver with a
//! throwaway password, installs the package from it into a fresh virtual
//! environment, and packages the extension: no credentials, no internet.

pub mod artifacts;
pub mod cleanup;
pub mod matrix;
pub mod rehearse;
pub mod rehearse_install;
pub mod select;
pub mod summary;
pub mod versions;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::ci::{self, Actions};
use crate::config::Project;
use crate::preflight::{Preflight, PreflightError};
use crate::pypi::publish::{ListedFiles, PublishOptions};
use crate::pypi::{Target, package};
use crate::secret::Secret;
use crate::settings::Settings;
use crate::step::{AnyStep, Context, Reporter};
use crate::tools::{Echo, time_in_tools};
use crate::{hf, pypi, vscode};
pub use select::{Checked, CheckedStep, Part, Planned};
pub use summary::{Status, StepReport};

/// How the release runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// For real.
    Release,
    /// Check everything and print the plan; change nothing.
    DryRun,
    /// Everything against a local index, with throwaway credentials.
    Rehearse,
}

/// What the user asked for.
#[derive(Clone, Debug)]
pub struct ReleaseOptions {
    /// Where the Python package goes (ignored by a rehearsal).
    pub target: Target,
    /// How to run.
    pub mode: Mode,
    /// Child output as it comes.
    pub echo: Echo,
    /// Trusted publishing base URL override.
    pub oidc_url: Option<String>,
    /// The listing to check for files already there (`--check-url`).
    pub check_url: Option<String>,
    /// `--package NAME`: release only this Python package (all when `None`).
    pub package: Option<String>,
    /// `--from-artifacts DIR`: publish a build matrix's artifacts instead
    /// of building.
    pub from_artifacts: Option<FromArtifacts>,
    /// `--only python|vscode`: the other part's steps are skipped.
    pub only: Option<Part>,
    /// `--skip STEP`: these steps are skipped.
    pub skip: Vec<String>,
}

/// Where a build matrix's artifacts are, and the plan they were built from.
#[derive(Clone, Debug)]
pub struct FromArtifacts {
    /// `DIR/<artifact>/<files>`, as actions/download-artifact lays them out.
    pub dir: PathBuf,
    /// The plan JSON (`--plan FILE`); recomputed from release-kit.toml
    /// when `None`.
    pub plan: Option<PathBuf>,
}

/// The build matrix the selected packages need (`--plan-matrix`).
pub fn plan_matrix(
    project: &Project,
    package: Option<&str>,
) -> Result<matrix::Matrix, PreflightError> {
    let mut pre = Preflight::new();
    let packages = package::selected(project, package, &mut pre);
    pre.finish()?;
    Ok(matrix::plan(&packages))
}

/// The artifacts' files for the publish step, checked complete against
/// the plan into `pre`; what was left out is reported as info.
pub fn collect_artifacts(
    project: &Project,
    from: &FromArtifacts,
    package: Option<&str>,
    reporter: &dyn Reporter,
    pre: &mut Preflight,
) -> ListedFiles {
    let packages = package::selected(project, package, pre);
    let plan = match &from.plan {
        Some(file) => pre.check(artifacts::read_plan(file)).unwrap_or_default(),
        None => matrix::plan(&packages),
    };
    let collected = artifacts::collect(&from.dir, &plan, &packages, pre);
    for i in &collected.ignored {
        reporter.info(&format!("not published: {i}"));
    }
    ListedFiles {
        from: from.dir.clone(),
        paths: collected.files,
    }
}

/// The outcome of a release (also of a failed one).
#[derive(Clone, Debug, Serialize)]
pub struct ReleaseReport {
    /// The version released.
    pub version: String,
    /// How it ran.
    pub mode: Mode,
    /// Where the Python package went.
    pub target: String,
    /// Each step.
    pub steps: Vec<StepReport>,
    /// Files shipped (dist files and the vsix).
    pub artifacts: Vec<PathBuf>,
    /// Total wall time, seconds.
    pub seconds: f64,
    /// Of which in external tools (python, twine, pip, pypiserver start, vsce).
    pub tool_seconds: f64,
    /// Whether every step succeeded.
    pub ok: bool,
}

/// Why a release stopped.
#[derive(Debug, thiserror::Error)]
pub enum ReleaseError {
    /// Found up front; nothing was changed.
    #[error(transparent)]
    Preflight(#[from] PreflightError),
    /// A step failed; `report` says what was done.
    #[error("{message}")]
    Failed {
        /// The summary so far.
        report: Box<ReleaseReport>,
        /// What went wrong, what was done, what to do.
        message: String,
    },
}

/// The steps of a release of `project`, in order. A rehearsal's steps
/// share the local index, started on `rehearsal_port` (the port of
/// `opts.target`). With `listed` (the artifacts of a build matrix) nothing
/// is built: those files are published.
pub fn compose(
    project: &Project,
    opts: &ReleaseOptions,
    rehearsal_port: u16,
    listed: Option<ListedFiles>,
) -> Vec<Planned> {
    let ext = project.config.vscode.enabled;
    let mut steps: Vec<Box<dyn AnyStep>> = Vec::new();
    if !project.config.python.enabled {
        return extension_only(project, opts, ext)
            .into_iter()
            .map(Planned::run)
            .collect();
    }
    if listed.is_none() {
        // The release checks the tag itself (`versions`), for every part.
        steps.push(Box::new(
            pypi::step::Build::new(None).select(opts.package.clone(), Default::default()),
        ));
        if opts.mode == Mode::Rehearse {
            steps.push(Box::new(rehearse::FanIn::new(opts.package.clone())));
        }
    }
    if ext {
        steps.push(Box::new(vscode::step::Package::new(false)));
    }
    let mut publish = PublishOptions::new(opts.target.clone());
    publish.echo = opts.echo;
    publish.oidc_url = opts.oidc_url.clone();
    publish.dist_pending = listed.is_none();
    publish.check_url = opts.check_url.clone();
    publish.package = opts.package.clone();
    publish.files = listed;
    if opts.mode == Mode::Rehearse {
        let index = rehearse::SharedIndex::default();
        steps.push(Box::new(rehearse::StartIndex::new(
            rehearsal_port,
            index.clone(),
        )));
        // The local index (a pypiserver) starts after the check, and its
        // listing is known: a configured check-url is the real index's.
        publish.index_pending = true;
        publish.check_url = Some(format!("http://127.0.0.1:{rehearsal_port}/simple/"));
        steps.push(Box::new(pypi::step::Publish::new(publish)));
        steps.push(Box::new(
            rehearse::InstallCheck::new(index).select(opts.package.clone()),
        ));
    } else {
        steps.push(Box::new(pypi::step::Publish::new(publish)));
        if ext {
            steps.push(Box::new(vscode::step::Publish::new(false, true)));
        }
        if project.config.release.prefetch_models {
            steps.push(Box::new(hf::step::Prefetch::default()));
        }
    }
    steps.into_iter().map(Planned::run).collect()
}

/// The steps of a project without Python packages: the extension's (and
/// the models', in a real release).
fn extension_only(project: &Project, opts: &ReleaseOptions, ext: bool) -> Vec<Box<dyn AnyStep>> {
    let mut steps: Vec<Box<dyn AnyStep>> = Vec::new();
    if ext {
        steps.push(Box::new(vscode::step::Package::new(false)));
        if opts.mode != Mode::Rehearse {
            steps.push(Box::new(vscode::step::Publish::new(false, true)));
        }
    }
    if opts.mode != Mode::Rehearse && project.config.release.prefetch_models {
        steps.push(Box::new(hf::step::Prefetch::default()));
    }
    steps
}

/// Checks everything every step that runs needs, and that every place
/// names one version; returns the released Python packages' names (those
/// `opts.package` selects, joined), the version, and each step's plan.
/// Steps `--only`, `--skip` or a rehearsal target leave out are marked
/// skipped first and not checked. Version problems are also emitted as
/// `::error file=…,line=…::` annotations in GitHub Actions. `pre` holds
/// what was found before (the artifacts' completeness).
pub fn preflight(
    cx: &Context<'_>,
    steps: &mut [Planned],
    opts: &ReleaseOptions,
    mut pre: Preflight,
) -> Result<(String, String, Vec<CheckedStep>), PreflightError> {
    select::apply(steps, opts.only, &opts.skip, &opts.target, &mut pre);
    let tag = cx
        .actions()
        .as_ref()
        .and_then(|a| a.tag())
        .map(str::to_owned);
    let version = versions::check_into(cx.project, tag.as_deref(), &mut pre);
    let names: Vec<String> = package::selected(cx.project, opts.package.as_deref(), &mut pre)
        .into_iter()
        .map(|p| p.name)
        .collect();
    // Every step is checked (no short cut), then all problems come at once.
    let checked: Vec<Option<CheckedStep>> = steps
        .iter()
        .map(|p| {
            let work = match &p.skip {
                Some(why) => Some(Checked::Skip(why.clone())),
                None => crate::step::check_shared(&*p.step, cx, &mut pre).map(Checked::Run),
            };
            work.map(|work| CheckedStep {
                name: p.name(),
                work,
            })
        })
        .collect();
    let checked: Option<Vec<CheckedStep>> = checked.into_iter().collect();
    let (checked, version) = pre.finish_with(checked.zip(version))?;
    Ok((names.join(", "), version, checked))
}

/// Runs the release. `settings` is the loaded settings; a rehearsal
/// replaces the upload credentials with throwaway ones.
pub fn run(
    project: &Project,
    settings: &Settings,
    opts: &ReleaseOptions,
    env: &dyn Fn(&str) -> Option<String>,
    reporter: &dyn Reporter,
) -> Result<ReleaseReport, ReleaseError> {
    let started = Instant::now();
    let tools_before = time_in_tools();
    let mut settings = settings.clone();
    let mut opts = opts.clone();
    let mut rehearsal_port = 0;
    if opts.mode == Mode::Rehearse {
        let password = Secret::new(format!(
            "rehearsal-{}",
            crate::settings::envfile::gen_key(24).unwrap_or_default()
        ));
        // Every package's token variable holds it: the local index has one login.
        for var in project.named_token_vars() {
            settings.set_runtime(var, password.clone(), true);
        }
        settings.set_runtime("TWINE_PASSWORD", password, true);
        settings.set_runtime("TWINE_USERNAME", Secret::new(rehearse::USER), false);
        let port =
            rehearse::free_port().map_err(|e| PreflightError::one(crate::error::describe(&e)))?;
        opts.target = Target::Custom {
            url: format!("http://127.0.0.1:{port}/"),
        };
        rehearsal_port = port;
    }
    let cx = Context {
        project,
        settings: &settings,
        env,
        reporter,
        echo: opts.echo,
    };
    // The rehearsal's throwaway password is new to the runner.
    crate::step::register_masks(reporter, cx.actions().as_ref(), settings.redactor());
    let mut early = Preflight::new();
    let listed = opts.from_artifacts.as_ref().map(|from| {
        collect_artifacts(project, from, opts.package.as_deref(), reporter, &mut early)
    });
    let steps = compose(project, &opts, rehearsal_port, listed);
    pipeline(&cx, &opts, steps, early, started, tools_before)
}

/// Checks, prints the plan, runs the steps in order and summarises.
fn pipeline(
    cx: &Context<'_>,
    opts: &ReleaseOptions,
    mut steps: Vec<Planned>,
    early: Preflight,
    started: Instant,
    tools_before: Duration,
) -> Result<ReleaseReport, ReleaseError> {
    let (name, version, checked) = preflight(cx, &mut steps, opts, early)?;
    let planned = print_plan(cx.reporter, opts.mode, &name, &version, &checked);
    let mut report = ReleaseReport {
        version,
        mode: opts.mode,
        target: opts.target.label(),
        steps: Vec::new(),
        artifacts: Vec::new(),
        seconds: 0.0,
        tool_seconds: 0.0,
        ok: true,
    };
    let actions = cx.actions();
    if opts.mode == Mode::DryRun {
        for (p, what) in checked.iter().zip(planned) {
            let status = match p.work {
                Checked::Skip(_) => Status::Skipped,
                Checked::Run(_) => Status::Planned,
            };
            report.steps.push(StepReport::new(
                p.name,
                status,
                what,
                Duration::ZERO,
                Duration::ZERO,
            ));
        }
        cx.reporter
            .info("dry run: everything checked, nothing built or uploaded");
        finish(&mut report, started, tools_before, actions.as_ref());
        return Ok(report);
    }
    let failure = run_steps(cx, checked, &planned, &mut report);
    // The steps hold what must be cleaned up (the rehearsal's index).
    drop(steps);
    finish(&mut report, started, tools_before, actions.as_ref());
    match failure {
        Some((step, msg)) => {
            report.ok = false;
            let message = stopped_message(&report, step, &msg);
            Err(ReleaseError::Failed {
                report: Box::new(report),
                message,
            })
        }
        None => Ok(report),
    }
}

/// Prints every step of the release, the skipped ones with their reason,
/// before the first runs; returns the plan lines.
fn print_plan(
    reporter: &dyn Reporter,
    mode: Mode,
    name: &str,
    version: &str,
    steps: &[CheckedStep],
) -> Vec<String> {
    let planned: Vec<String> = steps.iter().map(CheckedStep::plan).collect();
    reporter.info(&format!(
        "release {name} {version}{}: {} step{}",
        match mode {
            Mode::Release => "",
            Mode::DryRun => " (dry run)",
            Mode::Rehearse => " (rehearsal)",
        },
        steps.len(),
        if steps.len() == 1 { "" } else { "s" }
    ));
    for (i, (s, what)) in steps.iter().zip(&planned).enumerate() {
        reporter.info(&format!("  {}. {:13} {what}", i + 1, s.name));
    }
    planned
}

/// Runs the steps in order into `report`; after a failure the rest are
/// "not run". Returns the failed step and its message.
fn run_steps(
    cx: &Context<'_>,
    steps: Vec<CheckedStep>,
    planned: &[String],
    report: &mut ReleaseReport,
) -> Option<(&'static str, String)> {
    let (reporter, actions) = (cx.reporter, cx.actions());
    let mut failure = None;
    for (p, what) in steps.into_iter().zip(planned) {
        let name = p.name;
        let row = |status, detail: String| {
            StepReport::new(name, status, detail, Duration::ZERO, Duration::ZERO)
        };
        if failure.is_some() {
            report.steps.push(row(Status::NotRun, String::new()));
            continue;
        }
        let plan = match p.work {
            Checked::Skip(why) => {
                reporter.info(&format!("==> {name}: skipped: {why}"));
                report.steps.push(row(Status::Skipped, why));
                continue;
            }
            Checked::Run(plan) => plan,
        };
        if actions.is_some() {
            reporter.workflow_command(&ci::group(&format!("{name}: {what}")));
        } else {
            reporter.info(&format!("==> {name}"));
        }
        let (t0, tools0) = (Instant::now(), time_in_tools());
        let result = plan.run_any(cx);
        let (took, in_tools) = (t0.elapsed(), time_in_tools().saturating_sub(tools0));
        if actions.is_some() {
            reporter.workflow_command(ci::endgroup());
        }
        let (status, detail) = match result {
            Ok(outcome) => {
                reporter.info(&format!(
                    "    {}: {}",
                    outcome.status.word(),
                    outcome.detail
                ));
                report.artifacts.extend(outcome.artifacts);
                (outcome.status, outcome.detail)
            }
            Err(e) => {
                let msg = cx.redactor().redact(&e.describe());
                let first = first_line(&msg);
                failure = Some((name, msg));
                (Status::Failed, first)
            }
        };
        report
            .steps
            .push(StepReport::new(name, status, detail, took, in_tools));
    }
    failure
}

/// What a stopped release did and did not do, and that re-running is safe.
fn stopped_message(report: &ReleaseReport, step: &str, msg: &str) -> String {
    let names = |keep: fn(Status) -> bool| -> Vec<&str> {
        report
            .steps
            .iter()
            .filter(|s| keep(s.status))
            .map(|s| s.step.as_str())
            .collect()
    };
    let done = names(|s| matches!(s, Status::Done | Status::Skipped));
    let not_done = names(|s| matches!(s, Status::Failed | Status::NotRun));
    format!(
        "the release stopped at {step}: {msg}\n\
         done: {}\n\
         not done: {}\n\
         Running the same command again is safe: files already on the index with the same sha256 are skipped, \
         and an extension version already published is skipped.",
        if done.is_empty() {
            "nothing".to_string()
        } else {
            done.join(", ")
        },
        not_done.join(", "),
    )
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or("").chars().take(160).collect()
}

fn finish(
    report: &mut ReleaseReport,
    started: Instant,
    tools_before: Duration,
    actions: Option<&Actions>,
) {
    report.seconds = started.elapsed().as_secs_f64();
    report.tool_seconds = time_in_tools().saturating_sub(tools_before).as_secs_f64();
    let Some(a) = actions else { return };
    if let Some(path) = &a.step_summary {
        let title = format!(
            "Release {} ({})",
            report.version,
            match report.mode {
                Mode::Release => "release",
                Mode::DryRun => "dry run",
                Mode::Rehearse => "rehearsal",
            }
        );
        let _ = ci::append_summary(path, &summary::markdown(&title, &report.steps));
    }
    if let Some(path) = &a.output {
        let _ = ci::set_output(path, "version", &report.version);
        let paths: Vec<String> = report
            .artifacts
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        let _ = ci::set_output(path, "artifacts", &paths.join("\n"));
        for p in &report.artifacts {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let key = if name.ends_with(".whl") {
                "wheel"
            } else if name.ends_with(".tar.gz") {
                "sdist"
            } else if name.ends_with(".vsix") {
                "vsix"
            } else {
                continue;
            };
            let _ = ci::set_output(path, key, &p.display().to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::rc::Rc;

    use super::*;
    use crate::step::{Outcome, Plan, Step, StepError};

    fn project(toml: &str) -> (tempfile::TempDir, Project) {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("release-kit.toml"), toml).unwrap();
        let p = Project::load(tmp.path()).unwrap();
        (tmp, p)
    }

    fn options(mode: Mode) -> ReleaseOptions {
        ReleaseOptions {
            target: Target::TestPypi,
            mode,
            echo: Echo::Quiet,
            oidc_url: None,
            check_url: None,
            package: None,
            from_artifacts: None,
            only: None,
            skip: Vec::new(),
        }
    }

    fn steps(p: &Project, mode: Mode) -> Vec<&'static str> {
        compose(p, &options(mode), 0, None)
            .iter()
            .map(|s| s.name())
            .collect()
    }

    /// Records what the pipeline shows.
    #[derive(Default)]
    struct Log(RefCell<Vec<String>>);

    impl Reporter for Log {
        fn info(&self, m: &str) {
            self.0.borrow_mut().push(m.to_owned());
        }
        fn warn(&self, m: &str) {
            self.0.borrow_mut().push(format!("warning: {m}"));
        }
        fn workflow_command(&self, l: &str) {
            self.0.borrow_mut().push(l.to_owned());
        }
    }

    type Journal = Rc<RefCell<Vec<String>>>;

    /// A step that records every call into a shared journal: its checks
    /// find `problems`, its run fails when `fails`.
    struct Fake {
        name: &'static str,
        problems: Vec<&'static str>,
        fails: bool,
        journal: Journal,
    }

    /// A fake's plan: it runs as the fake says.
    struct FakePlan {
        name: &'static str,
        fails: bool,
        journal: Journal,
    }

    impl Step for Fake {
        type Plan = FakePlan;
        fn name(&self) -> &'static str {
            self.name
        }
        fn check(&self, _: &Context<'_>, pre: &mut Preflight) -> Option<FakePlan> {
            self.journal
                .borrow_mut()
                .push(format!("check {}", self.name));
            for p in &self.problems {
                pre.problem(*p);
            }
            // A broken check: no plan, and no problem said.
            if self.name == "planless" {
                return None;
            }
            Some(FakePlan {
                name: self.name,
                fails: self.fails,
                journal: self.journal.clone(),
            })
        }
    }

    impl Plan for FakePlan {
        type Report = ();
        fn describe(&self) -> String {
            format!("do {}", self.name)
        }
        fn run(self, _: &Context<'_>) -> Result<(Outcome, ()), StepError> {
            self.journal.borrow_mut().push(format!("run {}", self.name));
            if self.fails {
                return Err(StepError::failed(format!("{} broke", self.name)));
            }
            let outcome = Outcome {
                status: Status::Done,
                detail: format!("{} done", self.name),
                artifacts: vec![PathBuf::from(format!("dist/{}", self.name))],
            };
            Ok((outcome, ()))
        }
    }

    /// A project whose versions agree, so only the fakes can fail.
    fn consistent_project() -> (tempfile::TempDir, Project) {
        let (t, p) = project("[vscode]\nenabled = false\n");
        let py = p.python_dir();
        std::fs::create_dir_all(&py).unwrap();
        std::fs::write(
            py.join("pyproject.toml"),
            "[project]\nname = \"pkg\"\nversion = \"1.0.0\"\n",
        )
        .unwrap();
        std::fs::write(
            p.changelog(),
            "# Changelog\n\n## [Unreleased]\n\n## [1.0.0] - 2026-01-01\n\n- x\n",
        )
        .unwrap();
        (t, p)
    }

    fn fakes(spec: &[(&'static str, &[&'static str], bool)]) -> (Vec<Planned>, Journal) {
        let journal = Rc::new(RefCell::new(Vec::new()));
        let steps = spec
            .iter()
            .map(|(name, problems, fails)| {
                Planned::run(Box::new(Fake {
                    name,
                    problems: problems.to_vec(),
                    fails: *fails,
                    journal: journal.clone(),
                }))
            })
            .collect();
        (steps, journal)
    }

    fn drive(
        p: &Project,
        mode: Mode,
        steps: Vec<Planned>,
        log: &Log,
    ) -> Result<ReleaseReport, ReleaseError> {
        let settings = Settings::empty();
        let cx = Context {
            project: p,
            settings: &settings,
            env: &|_| None,
            reporter: log,
            echo: Echo::Quiet,
        };
        pipeline(
            &cx,
            &options(mode),
            steps,
            Preflight::new(),
            Instant::now(),
            Duration::ZERO,
        )
    }

    #[test]
    fn plan_follows_configuration() {
        let (_t, p) = project("[vscode]\nenabled = true\n");
        assert_eq!(
            steps(&p, Mode::Release),
            ["build", "vsce-package", "publish", "vsce-publish"]
        );
        assert_eq!(
            steps(&p, Mode::Rehearse),
            [
                "build",
                "fan-in",
                "vsce-package",
                "local-index",
                "publish",
                "install-check"
            ]
        );
        // The fan-in of a build matrix builds nothing.
        let listed = ListedFiles {
            from: "artifacts".into(),
            paths: Vec::new(),
        };
        let names: Vec<_> = compose(&p, &options(Mode::Release), 0, Some(listed))
            .iter()
            .map(|s| s.name())
            .collect();
        assert_eq!(names, ["vsce-package", "publish", "vsce-publish"]);
        let (_t, p) = project("[vscode]\nenabled = false\n[release]\nprefetch-models = true\n");
        assert_eq!(
            steps(&p, Mode::Release),
            ["build", "publish", "hf-prefetch"]
        );
        assert_eq!(
            steps(&p, Mode::Rehearse),
            ["build", "fan-in", "local-index", "publish", "install-check"]
        );
        // An extension-only project: no Python step at all.
        let (_t, p) = project("[python]\nenabled = false\n[vscode]\nenabled = true\n");
        assert_eq!(steps(&p, Mode::Release), ["vsce-package", "vsce-publish"]);
        assert_eq!(steps(&p, Mode::Rehearse), ["vsce-package"]);
    }

    #[test]
    fn bad_model_is_a_preflight_problem() {
        let (_t, p) = project(
            "[vscode]\nenabled = false\n[release]\nprefetch-models = true\n[[hf.models]]\nrepo = \"not a repo\"\n",
        );
        let log = Log::default();
        let settings = Settings::empty();
        let cx = Context {
            project: &p,
            settings: &settings,
            env: &|_| None,
            reporter: &log,
            echo: Echo::Quiet,
        };
        let mut steps = compose(&p, &options(Mode::DryRun), 0, None);
        let err = preflight(&cx, &mut steps, &options(Mode::DryRun), Preflight::new()).unwrap_err();
        assert!(
            err.problems
                .iter()
                .any(|m| m.message.contains("not a repo")),
            "{:?}",
            err.problems
        );
    }

    #[test]
    fn a_failing_check_stops_every_step_before_any_runs_with_all_problems() {
        let (_t, p) = consistent_project();
        let (steps, journal) = fakes(&[
            ("one", &[], false),
            ("two", &["two: A is missing"], false),
            ("three", &["three: B is bad", "three: C is bad"], false),
        ]);
        let log = Log::default();
        let Err(ReleaseError::Preflight(e)) = drive(&p, Mode::Release, steps, &log) else {
            panic!("expected a preflight failure");
        };
        let found: Vec<_> = e.problems.iter().map(|p| p.message.as_str()).collect();
        assert_eq!(
            found,
            ["two: A is missing", "three: B is bad", "three: C is bad"]
        );
        // Every step was checked, none ran.
        assert_eq!(*journal.borrow(), ["check one", "check two", "check three"]);
    }

    #[test]
    fn a_step_whose_check_makes_no_plan_stops_the_release_before_anything_runs() {
        let (_t, p) = consistent_project();
        let (steps, journal) = fakes(&[
            ("one", &[], false),
            ("planless", &[], false),
            ("three", &[], false),
        ]);
        let Err(ReleaseError::Preflight(e)) = drive(&p, Mode::Release, steps, &Log::default())
        else {
            panic!("expected a preflight failure");
        };
        assert_eq!(e.problems.len(), 1, "{e}");
        assert!(
            e.problems[0]
                .message
                .starts_with("planless: its check made no plan"),
            "{e}"
        );
        assert_eq!(
            *journal.borrow(),
            ["check one", "check planless", "check three"]
        );
    }

    #[test]
    fn the_release_checks_versions_with_the_steps() {
        let (_t, p) = consistent_project();
        std::fs::write(
            p.changelog(),
            "# Changelog\n\n## [Unreleased]\n\n## [0.9.0] - 2026-01-01\n\n- x\n",
        )
        .unwrap();
        let (steps, journal) = fakes(&[("one", &["one: A is missing"], false)]);
        let Err(ReleaseError::Preflight(e)) = drive(&p, Mode::Release, steps, &Log::default())
        else {
            panic!("expected a preflight failure");
        };
        assert_eq!(e.problems.len(), 2, "{e}");
        assert!(e.problems[0].message.contains("0.9.0"), "{e}");
        assert_eq!(e.problems[1].message, "one: A is missing");
        assert!(journal.borrow().iter().all(|j| j.starts_with("check")));
    }

    #[test]
    fn steps_run_in_order_and_a_failure_stops_the_rest() {
        let (_t, p) = consistent_project();
        let (steps, journal) = fakes(&[
            ("one", &[], false),
            ("two", &[], true),
            ("three", &[], false),
        ]);
        let log = Log::default();
        let Err(ReleaseError::Failed { report, message }) = drive(&p, Mode::Release, steps, &log)
        else {
            panic!("expected a failed step");
        };
        assert_eq!(
            *journal.borrow(),
            [
                "check one",
                "check two",
                "check three",
                "run one",
                "run two"
            ]
        );
        let rows: Vec<_> = report
            .steps
            .iter()
            .map(|s| (s.step.as_str(), s.status))
            .collect();
        assert_eq!(
            rows,
            [
                ("one", Status::Done),
                ("two", Status::Failed),
                ("three", Status::NotRun)
            ]
        );
        assert_eq!(report.artifacts, [PathBuf::from("dist/one")]);
        assert!(!report.ok);
        assert!(
            message.starts_with(
                "the release stopped at two: two broke\ndone: one\nnot done: two, three"
            ),
            "{message}"
        );
        // The plan was printed before anything ran.
        let lines = log.0.borrow();
        let planned = lines.iter().position(|l| l.contains("3. three")).unwrap();
        let ran = lines.iter().position(|l| l == "==> one").unwrap();
        assert!(planned < ran, "{lines:?}");
    }

    #[test]
    fn a_rehearsal_target_never_checks_or_runs_the_extension_publish() {
        let (_t, p) = consistent_project();
        // options() targets TestPyPI: the extension's publish is left out,
        // so its check (VSCE_PAT) is not made and it does not run.
        let (steps, journal) = fakes(&[
            ("one", &[], false),
            ("vsce-publish", &["VSCE_PAT: is not set"], false),
        ]);
        let log = Log::default();
        let report = drive(&p, Mode::Release, steps, &log).unwrap();
        assert_eq!(*journal.borrow(), ["check one", "run one"]);
        let rows: Vec<_> = report
            .steps
            .iter()
            .map(|s| (s.step.as_str(), s.status))
            .collect();
        assert_eq!(
            rows,
            [("one", Status::Done), ("vsce-publish", Status::Skipped)]
        );
        assert!(report.steps[1].detail.contains("--testpypi is a rehearsal"));
        let lines = log.0.borrow();
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("  2. vsce-publish  skipped: --testpypi is a rehearsal")),
            "{lines:?}"
        );
        // A dry run shows it skipped too.
        let (steps, _) = fakes(&[("vsce-publish", &[], false)]);
        let report = drive(&p, Mode::DryRun, steps, &Log::default()).unwrap();
        assert_eq!(report.steps[0].status, Status::Skipped);
    }

    #[test]
    fn a_dry_run_checks_and_plans_but_runs_nothing() {
        let (_t, p) = consistent_project();
        let (steps, journal) = fakes(&[("one", &[], false), ("two", &[], false)]);
        let report = drive(&p, Mode::DryRun, steps, &Log::default()).unwrap();
        assert_eq!(*journal.borrow(), ["check one", "check two"]);
        assert!(report.steps.iter().all(|s| s.status == Status::Planned));
        assert_eq!(report.steps[1].detail, "do two");
    }
}
