//! `build` and `publish` as [`Step`]s: the standalone commands and the
//! release drive these same values.

use std::path::PathBuf;

use super::backend::Backend;
use super::build::{self, BuildReport};
use super::native::Platform;
use super::package::Package;
use super::publish::{self, Action, Prepared, PublishOptions, PublishReport};
use super::venv;
use crate::preflight::Preflight;
use crate::step::{Context, Outcome, Status, Step, StepError};

/// `cargo xtask build`: each selected package's sdist and wheels into
/// `dist/` by its backend, `twine check --strict`.
#[derive(Debug, Default)]
pub struct Build {
    tag: Option<String>,
    only: Option<String>,
    platform: Platform,
    packages: Vec<Package>,
    dist: PathBuf,
    reports: Vec<BuildReport>,
}

impl Build {
    /// A build of every package; `tag`, when given, must name the
    /// packages' version (a tagged CI run).
    pub fn new(tag: Option<String>) -> Build {
        Build {
            tag,
            ..Build::default()
        }
    }

    /// Only the package named `only` (`--package`; all when `None`), for
    /// `platform` (`--target`, `--manylinux`, `--zig`).
    pub fn select(mut self, only: Option<String>, platform: Platform) -> Build {
        self.only = only;
        self.platform = platform;
        self
    }

    /// What the build produced, one report per package, once run.
    pub fn reports(&self) -> &[BuildReport] {
        &self.reports
    }
}

impl Step for Build {
    fn name(&self) -> &'static str {
        "build"
    }

    fn check(&mut self, cx: &Context<'_>, pre: &mut Preflight) {
        if !cx.project.config.python.enabled {
            return;
        }
        self.packages = build::preflight(
            cx.project,
            self.only.as_deref(),
            &self.platform,
            self.tag.as_deref(),
            pre,
        );
        self.dist = cx.project.dist_dir();
    }

    fn plan(&self) -> String {
        let each: Vec<String> = self
            .packages
            .iter()
            .map(|p| {
                format!(
                    "{} {} ({}{})",
                    p.name,
                    p.version.version,
                    match p.backend {
                        Backend::Build => "python -m build",
                        b => b.name(),
                    },
                    if p.backend.is_native() {
                        self.platform.label()
                    } else {
                        String::new()
                    }
                )
            })
            .collect();
        format!(
            "sdist and wheels of {} into {}, twine check --strict",
            if each.is_empty() {
                "?".to_owned()
            } else {
                each.join(", ")
            },
            self.dist.display()
        )
    }

    fn run(&mut self, cx: &Context<'_>) -> Result<Outcome, StepError> {
        let project = cx.project;
        if !project.config.python.enabled {
            return Ok(python_off());
        }
        if !venv::prefer_path(project) && !venv::is_provisioned(&venv::venv_dir(project)) {
            cx.reporter
                .info("provisioning the pinned Python tools (first use)…");
        }
        // Provisioning may already have changed the cache: a failure is a
        // failed step (exit 1), not a preflight problem.
        let tools = venv::ensure(project, cx.echo).map_err(StepError::cause)?;
        let mut outcome = Outcome::new(Status::Done, String::new());
        let mut names = Vec::new();
        for package in &self.packages {
            if let Some(tool) = package.backend.tool()
                && !venv::native_ready(project, tool)
            {
                cx.reporter
                    .info(&format!("installing {} (first use)…", tool.pin()));
                venv::ensure_native(project, &tools, tool, cx.echo).map_err(StepError::cause)?;
            }
            cx.reporter.info(&format!(
                "building {} {} from {} ({}{})",
                package.name,
                package.version.version,
                package.dir.display(),
                package.backend.name(),
                if package.backend.is_native() {
                    self.platform.label()
                } else {
                    String::new()
                }
            ));
            let report = build::build(
                project,
                package,
                &tools,
                &self.platform,
                cx.redactor(),
                cx.echo,
            )
            .map_err(StepError::cause)?;
            names.extend(report.files.iter().map(|f| f.name.clone()));
            outcome
                .artifacts
                .extend(report.files.iter().map(|f| f.path.clone()));
            self.reports.push(report);
        }
        // No secret, earlier dist/ or tool of ours may ship (exit 3).
        let mut pre = Preflight::new();
        crate::members::check(outcome.artifacts.iter().map(PathBuf::as_path), &mut pre);
        pre.finish()?;
        outcome.detail = names.join(", ");
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
        if !cx.project.config.python.enabled {
            return;
        }
        self.prepared = pre.absorb(publish::prepare(
            cx.project,
            cx.settings,
            &self.opts,
            cx.env,
        ));
        if let Some(p) = &self.prepared {
            check_members(p, pre);
        }
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
        if !cx.project.config.python.enabled {
            return Ok(python_off());
        }
        if self.opts.dist_pending || self.opts.index_pending {
            // dist/ was built, or the index started, after the check:
            // check them now.
            self.opts.dist_pending = false;
            self.opts.index_pending = false;
            let prepared = publish::prepare(cx.project, cx.settings, &self.opts, cx.env)?;
            let mut pre = Preflight::new();
            check_members(&prepared, &mut pre);
            pre.finish()?;
            self.prepared = Some(prepared);
        }
        let prepared = self
            .prepared
            .as_ref()
            .expect("Publish::run after a passing check");
        let report = super::uploader::run(
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

/// The members of every file about to be uploaded: nothing that must not
/// ship ([`crate::members`]).
fn check_members(prepared: &Prepared, pre: &mut Preflight) {
    let files = prepared.releases.iter().flat_map(|r| &r.files);
    crate::members::check(files.map(|f| f.path.as_path()), pre);
}

/// The outcome of a Python step in a project without Python packages.
fn python_off() -> Outcome {
    Outcome::new(
        Status::Skipped,
        "no Python package ([python] enabled = false in release-kit.toml)".to_owned(),
    )
}
