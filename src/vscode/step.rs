//! `vsce-package` and `vsce-publish` as [`Step`]s: the standalone commands
//! and the release drive these same values.

use super::npm;
use super::package::{self, PackagePlan, Packaged};
use super::publish::{self, Outcome as Registry, PlanView, PublishPlan, PublishReport};
use crate::preflight::Preflight;
use crate::step::{Context, Outcome, Status, Step, StepError};

/// `cargo xtask vsce-package`: the manifest's rules, then `vsce package`.
#[derive(Debug, Default)]
pub struct Package {
    pre_release: bool,
    plan: Option<PackagePlan>,
    packaged: Option<Packaged>,
}

impl Package {
    /// A package step; `pre_release` marks the `.vsix` as a pre-release.
    pub fn new(pre_release: bool) -> Package {
        Package {
            pre_release,
            ..Package::default()
        }
    }

    /// The packaged extension, once run.
    pub fn packaged(&self) -> Option<&Packaged> {
        self.packaged.as_ref()
    }
}

impl Step for Package {
    fn name(&self) -> &'static str {
        "vsce-package"
    }

    fn check(&mut self, cx: &Context<'_>, pre: &mut Preflight) {
        self.plan = package::plan(cx.project, self.pre_release, pre);
    }

    fn plan(&self) -> String {
        match &self.plan {
            Some(p) => format!(
                "{} -> {} ({}vsce package)",
                p.ext_dir.display(),
                p.out.display(),
                if p.prepublish.npm_ci {
                    "npm ci, then "
                } else {
                    ""
                }
            ),
            None => "vsce package".into(),
        }
    }

    fn run(&mut self, cx: &Context<'_>) -> Result<Outcome, StepError> {
        let plan = self
            .plan
            .as_ref()
            .expect("Package::run after a passing check");
        let tools = npm::ensure(cx.project, &|m| cx.reporter.info(m))?;
        cx.reporter.info(&format!(
            "packaging {} {}{} with vsce {} ...",
            plan.manifest.id(),
            plan.manifest.version.as_deref().unwrap_or_default(),
            if plan.pre_release {
                " (pre-release)"
            } else {
                ""
            },
            tools.vsce.version.as_deref().unwrap_or("(version unknown)")
        ));
        let p = package::run(plan, &tools, cx.settings, cx.echo)?;
        // No secret or cache of the extension's folder may ship (exit 3).
        let mut pre = Preflight::new();
        crate::members::check([p.path.as_path()], &mut pre);
        pre.finish()?;
        let outcome = Outcome {
            status: Status::Done,
            detail: format!(
                "{} ({} bytes)",
                p.path.file_name().unwrap_or_default().to_string_lossy(),
                p.size
            ),
            artifacts: vec![p.path.clone()],
        };
        self.packaged = Some(p);
        Ok(outcome)
    }
}

/// `cargo xtask vsce-publish`: the `.vsix` to the Marketplace, and to Open
/// VSX when OVSX_PAT is set; a published version is skipped.
#[derive(Debug, Default)]
pub struct Publish {
    pre_release: bool,
    vsix_pending: bool,
    plan: Option<PublishPlan>,
    report: Option<PublishReport>,
}

impl Publish {
    /// A publish step. With `vsix_pending` (the release packages first)
    /// the check does not look for the `.vsix`; the run does.
    pub fn new(pre_release: bool, vsix_pending: bool) -> Publish {
        Publish {
            pre_release,
            vsix_pending,
            ..Publish::default()
        }
    }

    /// The checked plan.
    pub fn publish_plan(&self) -> Option<&PublishPlan> {
        self.plan.as_ref()
    }

    /// The plan, for printing (`--dry-run`, `--json`): reads the `.vsix`.
    pub fn view(&self) -> Result<PlanView, StepError> {
        let plan = self
            .plan
            .as_ref()
            .expect("Publish::view after a passing check");
        Ok(plan.view()?)
    }

    /// What happened, once run.
    pub fn report(&self) -> Option<&PublishReport> {
        self.report.as_ref()
    }
}

impl Step for Publish {
    fn name(&self) -> &'static str {
        "vsce-publish"
    }

    fn check(&mut self, cx: &Context<'_>, pre: &mut Preflight) {
        self.plan = publish::plan(
            cx.project,
            cx.settings,
            self.pre_release,
            self.vsix_pending,
            pre,
        );
        if let Some(plan) = self.plan.as_ref().filter(|p| p.vsix.is_file()) {
            crate::members::check([plan.vsix.as_path()], pre);
        }
    }

    fn plan(&self) -> String {
        "publish the .vsix to the Marketplace (and Open VSX when OVSX_PAT is set), skipping a published version".into()
    }

    fn run(&mut self, cx: &Context<'_>) -> Result<Outcome, StepError> {
        if self.vsix_pending {
            // Packaged after the check: look for the .vsix now.
            self.vsix_pending = false;
            let mut pre = Preflight::new();
            self.plan = publish::plan(cx.project, cx.settings, self.pre_release, false, &mut pre);
            if let Some(plan) = &self.plan {
                crate::members::check([plan.vsix.as_path()], &mut pre);
            }
            pre.finish()?;
        }
        let plan = self
            .plan
            .as_ref()
            .expect("Publish::run after a passing check");
        let tools = npm::ensure(cx.project, &|m| cx.reporter.info(m))?;
        let view = plan.view()?;
        cx.reporter.info(&format!(
            "publishing {} {} to {} ({}) ...",
            view.extension, view.version, view.marketplace, view.auth
        ));
        let r = publish::run(plan, &tools, cx.settings, cx.echo)?;
        let status = if r.marketplace == Registry::Skipped
            && r.open_vsx.is_none_or(|o| o == Registry::Skipped)
        {
            Status::Skipped
        } else {
            Status::Done
        };
        let mut detail = format!("Marketplace: {}", r.marketplace);
        if let Some(o) = r.open_vsx {
            detail.push_str(&format!("; Open VSX: {o}"));
        }
        self.report = Some(r);
        Ok(Outcome::new(status, detail))
    }
}
