//! The release pipeline: plan the steps from the configuration, check
//! everything every step needs before the first side effect (DESIGN rule
//! 2), run the steps in order, and summarise. A failed release says what
//! was done and what was not; running it again is safe, because each step
//! skips what is already there (DESIGN rule 3).
//!
//! `--rehearse` runs the whole pipeline against a local pypiserver with a
//! throwaway password, installs the package from it into a fresh virtual
//! environment, and packages the extension: no credentials, no internet.

pub mod cleanup;
pub mod rehearse;
pub mod summary;
pub mod versions;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::ci::{self, Actions};
use crate::config::Project;
use crate::preflight::{Preflight, PreflightError};
use crate::pypi::publish::{self as pypi_publish, PublishOptions, Reporter};
use crate::pypi::{Target, build, venv};
use crate::secret::Secret;
use crate::settings::Settings;
use crate::tools::{Echo, time_in_tools};
use crate::vscode;
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
}

/// A step of the pipeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepKind {
    /// sdist + wheel, twine check.
    Build,
    /// The `.vsix`.
    VscePackage,
    /// Rehearsal: start the local index.
    LocalIndex,
    /// Upload to the index.
    Publish,
    /// Rehearsal: install from the local index and import.
    InstallCheck,
    /// The extension to the Marketplace (and Open VSX).
    VscePublish,
    /// Models into the Hugging Face cache (`[release] prefetch-models`).
    HfPrefetch,
}

impl StepKind {
    /// Its name in tables and JSON.
    pub fn name(self) -> &'static str {
        match self {
            StepKind::Build => "build",
            StepKind::VscePackage => "vsce-package",
            StepKind::LocalIndex => "local-index",
            StepKind::Publish => "publish",
            StepKind::InstallCheck => "install-check",
            StepKind::VscePublish => "vsce-publish",
            StepKind::HfPrefetch => "hf-prefetch",
        }
    }
}

/// One planned step.
#[derive(Clone, Debug, Serialize)]
pub struct PlannedStep {
    /// Which.
    pub step: StepKind,
    /// What it will do.
    pub what: String,
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

/// The plan for `project`.
pub fn plan(
    project: &Project,
    opts: &ReleaseOptions,
    name: &str,
    version: &str,
) -> Vec<PlannedStep> {
    let mut steps = vec![PlannedStep {
        step: StepKind::Build,
        what: format!(
            "sdist and wheel of {name} {version} into {} (python -m build), twine check --strict",
            project.dist_dir().display()
        ),
    }];
    let ext = project.config.vscode.enabled;
    if ext {
        steps.push(PlannedStep {
            step: StepKind::VscePackage,
            what: format!(
                "{} -> {}/<name>-{version}.vsix (vsce package)",
                project.vscode_dir().display(),
                project.dist_dir().display()
            ),
        });
    }
    if opts.mode == Mode::Rehearse {
        steps.push(PlannedStep {
            step: StepKind::LocalIndex,
            what: "start pypiserver on 127.0.0.1 with a throwaway password".into(),
        });
        steps.push(PlannedStep {
            step: StepKind::Publish,
            what: "upload to the local index with twine, skipping files already there".into(),
        });
        steps.push(PlannedStep {
            step: StepKind::InstallCheck,
            what: format!("pip install {name}=={version} from the local index into a fresh venv, then import it"),
        });
    } else {
        steps.push(PlannedStep {
            step: StepKind::Publish,
            what: format!(
                "upload to {} with twine, skipping files already there",
                opts.target.label()
            ),
        });
        if ext {
            steps.push(PlannedStep {
                step: StepKind::VscePublish,
                what: "publish the .vsix to the Marketplace (and Open VSX when OVSX_PAT is set), skipping a published version".into(),
            });
        }
        if project.config.release.prefetch_models {
            let repos: Vec<_> = project
                .config
                .hf
                .models
                .iter()
                .map(|m| m.repo.as_str())
                .collect();
            steps.push(PlannedStep {
                step: StepKind::HfPrefetch,
                what: format!("pre-fetch {} into the Hugging Face cache", repos.join(", ")),
            });
        }
    }
    steps
}

/// Checks everything every step needs. Version problems are also emitted
/// as `::error file=…,line=…::` annotations in GitHub Actions.
pub fn preflight(
    project: &Project,
    settings: &Settings,
    opts: &ReleaseOptions,
    env: &dyn Fn(&str) -> Option<String>,
    reporter: &dyn Reporter,
) -> Result<(build::Package, String), PreflightError> {
    let actions = Actions::from_env(env);
    let tag = actions.as_ref().and_then(|a| a.tag()).map(str::to_owned);
    let mut problems: Vec<String> = Vec::new();
    let version = match versions::check(project, tag.as_deref()) {
        Ok(v) => Some(v),
        Err(found) => {
            for p in &found {
                if actions.is_some() {
                    reporter.workflow_command(&ci::error(
                        p.file.as_deref(),
                        p.line,
                        "Release version",
                        &settings.redactor().redact(&p.message),
                    ));
                }
                problems.push(p.to_string());
            }
            None
        }
    };
    // The tag was checked above; build's own check would repeat it.
    let (pre, package) = build::preflight(project, None);
    problems.extend(pre.finish().err().map(|e| e.problems).unwrap_or_default());
    let mut publish_opts = PublishOptions::new(opts.target.clone());
    publish_opts.dist_pending = true;
    publish_opts.oidc_url = opts.oidc_url.clone();
    if let Err(e) = pypi_publish::prepare(project, settings, &publish_opts, env) {
        problems.extend(e.problems);
    }
    if opts.mode == Mode::Rehearse
        && venv::prefer_path(project)
        && crate::tools::find_on_path("pypi-server").is_none()
    {
        problems.push(
            "pypi-server: not found on PATH (use-path-tools is on); install pypiserver and passlib, or turn use-path-tools off so `cargo xtask setup` provisions them".into(),
        );
    }
    if project.config.vscode.enabled {
        let mut pre = Preflight::new();
        vscode::package::check_manifest(project, false, &mut pre);
        let ovsx = opts.mode != Mode::Rehearse && settings.explicit("OVSX_PAT").is_some();
        vscode::npm::check(project, ovsx, &mut pre);
        if opts.mode != Mode::Rehearse {
            vscode::auth(project, settings, &mut pre);
        }
        problems.extend(pre.finish().err().map(|e| e.problems).unwrap_or_default());
    }
    if project.config.release.prefetch_models && opts.mode != Mode::Rehearse {
        for p in settings
            .check(&[crate::settings::Step::HfPrefetch], false)
            .errors
        {
            problems.push(p.to_string());
        }
        if let Err(found) = crate::hf::select_models(project, &[], &[], &[]) {
            problems.extend(found);
        }
        if let Err(found) = crate::hf::HfEnvironment::from_lookup(hf_lookup(settings, env)) {
            problems.extend(found);
        }
    }
    let dist = project.dist_dir();
    if dist.exists() && !dist.is_dir() {
        problems.push(format!(
            "{}: exists and is not a folder; remove it or set [python] dist",
            dist.display()
        ));
    }
    let mut seen = std::collections::HashSet::new();
    problems.retain(|p| seen.insert(p.clone()));
    if !problems.is_empty() {
        return Err(PreflightError { problems });
    }
    let package = package.expect("no problem means the package was read");
    Ok((package, version.expect("no problem means one version")))
}

/// Hugging Face settings: `.env` and environment values, then the process
/// environment for what settings do not track (HOME, XDG_CACHE_HOME).
fn hf_lookup<'a>(
    settings: &'a Settings,
    env: &'a dyn Fn(&str) -> Option<String>,
) -> impl Fn(&str) -> Option<String> + 'a {
    move |k: &str| {
        settings
            .explicit(k)
            .map(|v| v.expose().to_owned())
            .or_else(|| env(k))
    }
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
    let actions = Actions::from_env(env);
    let mut settings = settings.clone();
    let mut opts = opts.clone();
    let mut rehearsal_port = None;
    if opts.mode == Mode::Rehearse {
        let password = Secret::new(format!(
            "rehearsal-{}",
            crate::settings::envfile::gen_key(24).unwrap_or_default()
        ));
        settings.set_runtime("TWINE_PASSWORD", password, true);
        settings.set_runtime("TWINE_USERNAME", Secret::new(rehearse::USER), false);
        let port = rehearse::free_port().map_err(|e| PreflightError {
            problems: vec![format!("{e:#}")],
        })?;
        rehearsal_port = Some(port);
        opts.target = Target::Custom {
            url: format!("http://127.0.0.1:{port}/"),
        };
    }
    if let Some(a) = &actions {
        for line in a.mask_lines(settings.redactor()) {
            reporter.workflow_command(&line);
        }
    }
    let (package, version) = preflight(project, &settings, &opts, env, reporter)?;
    let planned = plan(project, &opts, &package.name, &version);
    reporter.info(&format!(
        "release {} {}{}: {} step{}",
        package.name,
        version,
        match opts.mode {
            Mode::Release => String::new(),
            Mode::DryRun => " (dry run)".into(),
            Mode::Rehearse => " (rehearsal)".into(),
        },
        planned.len(),
        if planned.len() == 1 { "" } else { "s" }
    ));
    for (i, p) in planned.iter().enumerate() {
        reporter.info(&format!("  {}. {:13} {}", i + 1, p.step.name(), p.what));
    }
    let mut report = ReleaseReport {
        version: version.clone(),
        mode: opts.mode,
        target: opts.target.label(),
        steps: Vec::new(),
        artifacts: Vec::new(),
        seconds: 0.0,
        tool_seconds: 0.0,
        ok: true,
    };
    if opts.mode == Mode::DryRun {
        for p in &planned {
            report.steps.push(StepReport::new(
                p.step.name(),
                Status::Planned,
                p.what.clone(),
                Duration::ZERO,
                Duration::ZERO,
            ));
        }
        reporter.info("dry run: everything checked, nothing built or uploaded");
        finish(&mut report, started, tools_before, actions.as_ref());
        return Ok(report);
    }

    let mut runner = Runner {
        project,
        settings: &settings,
        opts: &opts,
        env,
        reporter,
        package: &package,
        version: &version,
        port: rehearsal_port,
        index: None,
        python_tools: None,
    };
    let mut failure = None;
    for p in &planned {
        if failure.is_some() {
            report.steps.push(StepReport::new(
                p.step.name(),
                Status::NotRun,
                "",
                Duration::ZERO,
                Duration::ZERO,
            ));
            continue;
        }
        if actions.is_some() {
            reporter.workflow_command(&ci::group(&format!("{}: {}", p.step.name(), p.what)));
        } else {
            reporter.info(&format!("==> {}", p.step.name()));
        }
        let t0 = Instant::now();
        let tools0 = time_in_tools();
        let result = runner.step(p.step, &mut report.artifacts);
        let (took, in_tools) = (t0.elapsed(), time_in_tools().saturating_sub(tools0));
        if actions.is_some() {
            reporter.workflow_command(ci::endgroup());
        }
        match result {
            Ok((status, detail)) => {
                reporter.info(&format!("    {}: {detail}", status.word()));
                report.steps.push(StepReport::new(
                    p.step.name(),
                    status,
                    detail,
                    took,
                    in_tools,
                ));
            }
            Err(e) => {
                let msg = settings.redactor().redact(&format!("{e:#}"));
                report.steps.push(StepReport::new(
                    p.step.name(),
                    Status::Failed,
                    first_line(&msg),
                    took,
                    in_tools,
                ));
                failure = Some((p.step, msg));
            }
        }
    }
    drop(runner);
    finish(&mut report, started, tools_before, actions.as_ref());
    if let Some((step, msg)) = failure {
        report.ok = false;
        let done: Vec<_> = report
            .steps
            .iter()
            .filter(|s| matches!(s.status, Status::Done | Status::Skipped))
            .map(|s| s.step.as_str())
            .collect();
        let not_done: Vec<_> = report
            .steps
            .iter()
            .filter(|s| matches!(s.status, Status::Failed | Status::NotRun))
            .map(|s| s.step.as_str())
            .collect();
        let message = format!(
            "the release stopped at {}: {msg}\n\
             done: {}\n\
             not done: {}\n\
             Running the same command again is safe: files already on the index with the same sha256 are skipped, \
             and an extension version already published is skipped.",
            step.name(),
            if done.is_empty() {
                "nothing".to_string()
            } else {
                done.join(", ")
            },
            not_done.join(", "),
        );
        return Err(ReleaseError::Failed {
            report: Box::new(report),
            message,
        });
    }
    Ok(report)
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

/// Runs the steps, holding what one step hands the next.
struct Runner<'a> {
    project: &'a Project,
    settings: &'a Settings,
    opts: &'a ReleaseOptions,
    env: &'a dyn Fn(&str) -> Option<String>,
    reporter: &'a dyn Reporter,
    package: &'a build::Package,
    version: &'a str,
    port: Option<u16>,
    index: Option<rehearse::LocalIndex>,
    python_tools: Option<venv::Tools>,
}

impl Runner<'_> {
    fn python_tools(&mut self) -> anyhow::Result<venv::Tools> {
        if let Some(t) = &self.python_tools {
            return Ok(t.clone());
        }
        let t = venv::ensure(self.project, self.opts.echo).map_err(|e| anyhow::anyhow!("{e}"))?;
        self.python_tools = Some(t.clone());
        Ok(t)
    }

    fn step(
        &mut self,
        kind: StepKind,
        artifacts: &mut Vec<PathBuf>,
    ) -> anyhow::Result<(Status, String)> {
        let redactor = self.settings.redactor();
        match kind {
            StepKind::Build => {
                let tools = self.python_tools()?;
                let r = build::build(self.project, self.package, &tools, redactor, self.opts.echo)?;
                let names: Vec<_> = r.files.iter().map(|f| f.name.clone()).collect();
                artifacts.extend(r.files.iter().map(|f| f.path.clone()));
                Ok((Status::Done, names.join(", ")))
            }
            StepKind::VscePackage => {
                let mut pre = Preflight::new();
                let plan = vscode::package::plan(self.project, false, &mut pre);
                pre.finish()?;
                let plan = plan.expect("checked");
                let tools = vscode::npm::ensure(self.project, &|m| self.reporter.info(m))?;
                let p = vscode::package::run(&plan, &tools, self.settings, self.opts.echo)?;
                artifacts.push(p.path.clone());
                Ok((
                    Status::Done,
                    format!(
                        "{} ({} bytes)",
                        p.path.file_name().unwrap_or_default().to_string_lossy(),
                        p.size
                    ),
                ))
            }
            StepKind::LocalIndex => {
                let tools = self.python_tools()?;
                let password = self
                    .settings
                    .explicit("TWINE_PASSWORD")
                    .cloned()
                    .expect("set by the rehearsal");
                let port = self.port.expect("rehearsal port");
                let index = rehearse::LocalIndex::start(
                    &tools,
                    &self.project.target_dir().join("release-kit"),
                    port,
                    &password,
                    redactor,
                )?;
                let url = index.url.clone();
                self.index = Some(index);
                Ok((Status::Done, format!("pypiserver at {url}")))
            }
            StepKind::Publish => {
                let mut opts = PublishOptions::new(self.opts.target.clone());
                opts.echo = self.opts.echo;
                opts.oidc_url = self.opts.oidc_url.clone();
                let prepared = pypi_publish::prepare(self.project, self.settings, &opts, self.env)?;
                let r = pypi_publish::run(
                    self.project,
                    self.settings,
                    &prepared,
                    &opts,
                    self.env,
                    self.reporter,
                )?;
                let uploaded = r
                    .files
                    .iter()
                    .filter(|f| f.action == pypi_publish::Action::Uploaded)
                    .count();
                let skipped = r.files.len() - uploaded;
                let status = if uploaded == 0 {
                    Status::Skipped
                } else {
                    Status::Done
                };
                Ok((
                    status,
                    format!(
                        "{uploaded} uploaded, {skipped} already there, to {}",
                        r.target
                    ),
                ))
            }
            StepKind::InstallCheck => {
                let tools = self.python_tools()?;
                let index = self.index.as_ref().expect("local index started");
                let python = venv::base_python()
                    .ok_or_else(|| anyhow::anyhow!("python3 not found on PATH"))?;
                let reported = rehearse::install_check(
                    &python,
                    &tools.python,
                    index,
                    &self.package.name,
                    self.version,
                    redactor,
                    self.opts.echo,
                )?;
                Ok((
                    Status::Done,
                    format!(
                        "{}=={} installed from {} and imported{}",
                        self.package.name,
                        self.version,
                        index.simple_url(),
                        if reported.is_empty() {
                            String::new()
                        } else {
                            format!(" (__version__ {reported})")
                        }
                    ),
                ))
            }
            StepKind::HfPrefetch => {
                let models = crate::hf::select_models(self.project, &[], &[], &[])
                    .map_err(|p| anyhow::anyhow!(p.join("; ")))?;
                let hf_env =
                    crate::hf::HfEnvironment::from_lookup(hf_lookup(self.settings, self.env))
                        .map_err(|p| anyhow::anyhow!(p.join("; ")))?;
                let r = crate::hf::prefetch(&models, &crate::hf::Options::new(hf_env))?;
                let downloaded: usize = r.models.iter().map(|m| m.downloaded).sum();
                let files: usize = r.models.iter().map(|m| m.files).sum();
                let bytes: u64 = r.models.iter().map(|m| m.bytes_downloaded).sum();
                let status = if downloaded == 0 {
                    Status::Skipped
                } else {
                    Status::Done
                };
                Ok((
                    status,
                    format!(
                        "{downloaded} of {files} files downloaded ({:.1} MB) into {}",
                        bytes as f64 / 1e6,
                        r.cache.display()
                    ),
                ))
            }
            StepKind::VscePublish => {
                let mut pre = Preflight::new();
                let plan = vscode::publish::plan(self.project, self.settings, false, &mut pre);
                pre.finish()?;
                let plan = plan.expect("checked");
                let tools = vscode::npm::ensure(self.project, &|m| self.reporter.info(m))?;
                let r = vscode::publish::run(&plan, &tools, self.settings, self.opts.echo)?;
                let status = if r.marketplace == vscode::publish::Outcome::Skipped
                    && r.open_vsx
                        .is_none_or(|o| o == vscode::publish::Outcome::Skipped)
                {
                    Status::Skipped
                } else {
                    Status::Done
                };
                let mut detail = format!("Marketplace: {}", r.marketplace);
                if let Some(o) = r.open_vsx {
                    detail.push_str(&format!("; Open VSX: {o}"));
                }
                Ok((status, detail))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(toml: &str) -> (tempfile::TempDir, Project) {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("release-kit.toml"), toml).unwrap();
        let p = Project::load(tmp.path()).unwrap();
        (tmp, p)
    }

    fn steps(p: &Project, mode: Mode) -> Vec<&'static str> {
        let opts = ReleaseOptions {
            target: Target::TestPypi,
            mode,
            echo: Echo::Quiet,
            oidc_url: None,
        };
        plan(p, &opts, "pkg", "1.0.0")
            .iter()
            .map(|s| s.step.name())
            .collect()
    }

    #[test]
    fn plan_follows_configuration() {
        let (_t, p) = project("");
        assert_eq!(
            steps(&p, Mode::Release),
            ["build", "vsce-package", "publish", "vsce-publish"]
        );
        assert_eq!(
            steps(&p, Mode::Rehearse),
            [
                "build",
                "vsce-package",
                "local-index",
                "publish",
                "install-check"
            ]
        );
        let (_t, p) = project("[vscode]\nenabled = false\n[release]\nprefetch-models = true\n");
        assert_eq!(
            steps(&p, Mode::Release),
            ["build", "publish", "hf-prefetch"]
        );
        assert_eq!(
            steps(&p, Mode::Rehearse),
            ["build", "local-index", "publish", "install-check"]
        );
    }

    #[test]
    fn bad_model_is_a_preflight_problem() {
        let (_t, p) = project(
            "[vscode]\nenabled = false\n[release]\nprefetch-models = true\n[[hf.models]]\nrepo = \"not a repo\"\n",
        );
        struct Quiet;
        impl Reporter for Quiet {
            fn info(&self, _: &str) {}
            fn warn(&self, _: &str) {}
            fn workflow_command(&self, _: &str) {}
        }
        let opts = ReleaseOptions {
            target: Target::Pypi,
            mode: Mode::DryRun,
            echo: Echo::Quiet,
            oidc_url: None,
        };
        let err = preflight(&p, &Settings::empty(), &opts, &|_| None, &Quiet).unwrap_err();
        assert!(
            err.problems.iter().any(|m| m.contains("not a repo")),
            "{:?}",
            err.problems
        );
    }
}
