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
use crate::step::{Context, Outcome, Plan, Status, Step, StepError};

/// `cargo xtask build`: each selected package's sdist and wheels into
/// `dist/` by its backend, `twine check --strict`.
#[derive(Debug, Default)]
pub struct Build {
    tag: Option<String>,
    only: Option<String>,
    platform: Platform,
}

/// A checked build: the packages, and where their files go.
#[derive(Debug)]
pub struct BuildPlan {
    platform: Platform,
    packages: Vec<Package>,
    dist: PathBuf,
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
}

impl Step for Build {
    type Plan = BuildPlan;

    fn name(&self) -> &'static str {
        "build"
    }

    fn check(&self, cx: &Context<'_>, pre: &mut Preflight) -> Option<BuildPlan> {
        if !python_enabled(cx, "build", pre) {
            return None;
        }
        let packages = build::preflight(
            cx.project,
            self.only.as_deref(),
            &self.platform,
            self.tag.as_deref(),
            pre,
        );
        Some(BuildPlan {
            platform: self.platform.clone(),
            packages,
            dist: cx.project.dist_dir(),
        })
    }
}

impl Plan for BuildPlan {
    /// One report per package.
    type Report = Vec<BuildReport>;

    fn describe(&self) -> String {
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

    fn run(self, cx: &Context<'_>) -> Result<(Outcome, Vec<BuildReport>), StepError> {
        let project = cx.project;
        if !venv::prefer_path(project) && !venv::is_provisioned(&venv::venv_dir(project)) {
            cx.reporter
                .info("provisioning the pinned Python tools (first use)…");
        }
        // Provisioning may already have changed the cache: a failure is a
        // failed step (exit 1), not a preflight problem.
        let tools = venv::ensure(project, cx.echo).map_err(StepError::cause)?;
        let mut outcome = Outcome::new(Status::Done, String::new());
        let mut names = Vec::new();
        let mut reports = Vec::new();
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
            reports.push(report);
        }
        // No secret, earlier dist/ or tool of ours may ship (exit 3).
        let mut pre = Preflight::new();
        crate::members::check(outcome.artifacts.iter().map(PathBuf::as_path), &mut pre);
        pre.finish()?;
        outcome.detail = names.join(", ");
        Ok((outcome, reports))
    }
}

/// `cargo xtask publish`: every selected package's files (of `dist/`, or
/// of downloaded artifacts) to an index, skipping what it already has.
#[derive(Debug)]
pub struct Publish {
    opts: PublishOptions,
}

/// A checked publish: what the check prepared (credential, packages,
/// listing). With `dist_pending` or `index_pending` the run prepares again
/// what did not exist at the check.
#[derive(Debug)]
pub struct PublishPlan {
    opts: PublishOptions,
    prepared: Prepared,
}

impl Publish {
    /// A publish with these options. With `opts.dist_pending` (the release
    /// builds first) the check skips `dist/`, and the run checks it again.
    pub fn new(opts: PublishOptions) -> Publish {
        Publish { opts }
    }
}

impl Step for Publish {
    type Plan = PublishPlan;

    fn name(&self) -> &'static str {
        "publish"
    }

    fn check(&self, cx: &Context<'_>, pre: &mut Preflight) -> Option<PublishPlan> {
        if !python_enabled(cx, "publish", pre) {
            return None;
        }
        let prepared = pre.absorb(publish::prepare(
            cx.project,
            cx.settings,
            &self.opts,
            cx.env,
        ))?;
        check_members(&prepared, pre);
        Some(PublishPlan {
            opts: self.opts.clone(),
            prepared,
        })
    }
}

impl Plan for PublishPlan {
    type Report = PublishReport;

    fn describe(&self) -> String {
        let rs = &self.prepared.releases;
        let what = if rs.is_empty() {
            "the packages".to_owned()
        } else if !self.opts.dist_pending {
            rs.iter()
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
                .join(", ")
        } else {
            rs.iter()
                .map(|r| r.package.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        format!(
            "upload {what} to {} with twine (checked by twine check --strict), skipping files already there",
            self.opts.target.label()
        )
    }

    fn run(self, cx: &Context<'_>) -> Result<(Outcome, PublishReport), StepError> {
        let PublishPlan {
            mut opts,
            mut prepared,
        } = self;
        if opts.dist_pending || opts.index_pending {
            // dist/ was built, or the index started, after the check:
            // check them now.
            opts.dist_pending = false;
            opts.index_pending = false;
            prepared = publish::prepare(cx.project, cx.settings, &opts, cx.env)?;
            let mut pre = Preflight::new();
            check_members(&prepared, &mut pre);
            pre.finish()?;
        }
        let report = super::uploader::run(
            cx.project,
            cx.settings,
            &prepared,
            &opts,
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
        Ok((outcome, report))
    }

    fn summary(report: &PublishReport) -> Option<String> {
        Some(publish::summary_markdown(report))
    }
}

/// The members of every file about to be uploaded: nothing that must not
/// ship ([`crate::members`]).
fn check_members(prepared: &Prepared, pre: &mut Preflight) {
    let files = prepared.releases.iter().flat_map(|r| &r.files);
    crate::members::check(files.map(|f| f.path.as_path()), pre);
}

/// Whether the project has Python packages; a Python step of a project
/// without them is a problem (the CLI says so before making the step, and
/// a release does not compose one).
fn python_enabled(cx: &Context<'_>, step: &str, pre: &mut Preflight) -> bool {
    let on = cx.project.config.python.enabled;
    if !on {
        pre.problem(format!(
            "{step}: this project has no Python package ([python] enabled = false in release-kit.toml)"
        ));
    }
    on
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Project;
    use crate::settings::Settings;
    use crate::step::Reporter;
    use crate::tools::Echo;

    struct Quiet;

    impl Reporter for Quiet {
        fn info(&self, _: &str) {}
        fn warn(&self, _: &str) {}
        fn workflow_command(&self, _: &str) {}
    }

    #[test]
    fn a_python_step_of_a_project_without_python_is_a_problem_and_no_plan() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(
            tmp.path().join("release-kit.toml"),
            "[python]\nenabled = false\n[vscode]\nenabled = false\n",
        )
        .unwrap();
        let project = Project::load(tmp.path()).unwrap();
        let settings = Settings::empty();
        let cx = Context {
            project: &project,
            settings: &settings,
            env: &|_| None,
            reporter: &Quiet,
            echo: Echo::Quiet,
        };
        let build = crate::step::check(&Build::new(None), &cx, Preflight::new()).unwrap_err();
        assert!(
            build.problems[0]
                .message
                .starts_with("build: this project has no Python package"),
            "{build}"
        );
        let opts = PublishOptions::new(super::super::Target::Pypi);
        let publish = crate::step::check(&Publish::new(opts), &cx, Preflight::new()).unwrap_err();
        assert_eq!(publish.problems.len(), 1, "{publish}");
        assert!(
            publish.problems[0]
                .message
                .contains("[python] enabled = false"),
            "{publish}"
        );
    }
}
