//! `build` and `publish` as [`Step`]s: the standalone commands and the
//! release drive these same values.

use std::path::PathBuf;

use super::Target;
use super::build::{self, BuildReport, Package};
use super::publish::{self, Action, Prepared, PublishOptions, PublishReport};
use super::venv;
use crate::preflight::Preflight;
use crate::step::{Context, Outcome, Status, Step, StepError};

/// `cargo xtask build`: sdist and wheel into `dist/`, `twine check --strict`.
#[derive(Debug, Default)]
pub struct Build {
    tag: Option<String>,
    package: Option<Package>,
    dist: PathBuf,
    report: Option<BuildReport>,
}

impl Build {
    /// A build; `tag`, when given, must name the package's version (a
    /// tagged CI run).
    pub fn new(tag: Option<String>) -> Build {
        Build {
            tag,
            ..Build::default()
        }
    }

    /// The package, once checked.
    pub fn package(&self) -> Option<&Package> {
        self.package.as_ref()
    }

    /// What the build produced, once run.
    pub fn report(&self) -> Option<&BuildReport> {
        self.report.as_ref()
    }
}

impl Step for Build {
    fn name(&self) -> &'static str {
        "build"
    }

    fn check(&mut self, cx: &Context<'_>, pre: &mut Preflight) {
        self.package = build::preflight(cx.project, self.tag.as_deref(), pre);
        self.dist = cx.project.dist_dir();
    }

    fn plan(&self) -> String {
        let (name, version) = self.package.as_ref().map_or(("?", "?"), |p| {
            (p.name.as_str(), p.version.version.as_str())
        });
        format!(
            "sdist and wheel of {name} {version} into {} (python -m build), twine check --strict",
            self.dist.display()
        )
    }

    fn run(&mut self, cx: &Context<'_>) -> Result<Outcome, StepError> {
        let package = self
            .package
            .as_ref()
            .expect("Build::run after a passing check");
        let project = cx.project;
        if !venv::prefer_path(project) && !venv::is_provisioned(&venv::venv_dir(project)) {
            cx.reporter
                .info("provisioning the pinned Python tools (first use)…");
        }
        // Provisioning may already have changed target/: a failure is a
        // failed step (exit 1), not a preflight problem.
        let tools = venv::ensure(project, cx.echo).map_err(StepError::cause)?;
        cx.reporter.info(&format!(
            "building {} {} from {}",
            package.name,
            package.version.version,
            project.python_dir().display()
        ));
        let report = build::build(project, package, &tools, cx.redactor(), cx.echo)
            .map_err(StepError::cause)?;
        let outcome = Outcome {
            status: Status::Done,
            detail: report
                .files
                .iter()
                .map(|f| f.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            artifacts: report.files.iter().map(|f| f.path.clone()).collect(),
        };
        self.report = Some(report);
        Ok(outcome)
    }
}

/// `cargo xtask publish`: every selected package's files (of `dist/`, or
/// of downloaded artifacts) to an index, skipping what it already has.
#[derive(Debug)]
pub struct Publish {
    opts: PublishOptions,
    prepared: Option<Prepared>,
    report: Option<PublishReport>,
}

impl Publish {
    /// A publish with these options. With `opts.dist_pending` (the release
    /// builds first) the check skips `dist/`, and the run checks it again.
    pub fn new(opts: PublishOptions) -> Publish {
        Publish {
            opts,
            prepared: None,
            report: None,
        }
    }

    /// Where to.
    pub fn target(&self) -> &Target {
        &self.opts.target
    }

    /// What happened, once run.
    pub fn report(&self) -> Option<&PublishReport> {
        self.report.as_ref()
    }
}

impl Step for Publish {
    fn name(&self) -> &'static str {
        "publish"
    }

    fn check(&mut self, cx: &Context<'_>, pre: &mut Preflight) {
        self.prepared = pre.absorb(publish::prepare(
            cx.project,
            cx.settings,
            &self.opts,
            cx.env,
        ));
    }

    fn plan(&self) -> String {
        let what = match self.prepared.as_ref().map(|p| &p.releases) {
            Some(rs) if !rs.is_empty() && !self.opts.dist_pending => rs
                .iter()
                .map(|r| {
                    let wheels = r.files.len().saturating_sub(1);
                    format!(
                        "{} {} (sdist + {wheels} wheel{})",
                        r.package.name,
                        r.package.version.version,
                        if wheels == 1 { "" } else { "s" }
                    )
                })
                .collect::<Vec<_>>()
                .join(", "),
            Some(rs) if !rs.is_empty() => rs
                .iter()
                .map(|r| r.package.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            _ => "the packages".to_owned(),
        };
        format!(
            "upload {what} to {} with twine (checked by twine check --strict), skipping files already there",
            self.opts.target.label()
        )
    }

    fn run(&mut self, cx: &Context<'_>) -> Result<Outcome, StepError> {
        if self.opts.dist_pending || self.opts.index_pending {
            // dist/ was built, or the index started, after the check:
            // check them now.
            self.opts.dist_pending = false;
            self.opts.index_pending = false;
            self.prepared = Some(publish::prepare(
                cx.project,
                cx.settings,
                &self.opts,
                cx.env,
            )?);
        }
        let prepared = self
            .prepared
            .as_ref()
            .expect("Publish::run after a passing check");
        let report = publish::run(
            cx.project,
            cx.settings,
            prepared,
            &self.opts,
            cx.env,
            cx.reporter,
        )
        .map_err(StepError::cause)?;
        let uploaded = report
            .files()
            .filter(|f| f.action == Action::Uploaded)
            .count();
        let skipped = report.files().count() - uploaded;
        let status = if uploaded == 0 {
            Status::Skipped
        } else {
            Status::Done
        };
        let outcome = Outcome::new(
            status,
            format!(
                "{uploaded} uploaded, {skipped} already there, to {}",
                report.target
            ),
        );
        self.report = Some(report);
        Ok(outcome)
    }

    fn summary(&self) -> Option<String> {
        self.report.as_ref().map(publish::summary_markdown)
    }
}
