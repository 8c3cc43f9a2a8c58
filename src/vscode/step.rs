//! `vsce-package` and `vsce-publish` as [`Step`]s: the standalone commands
//! and the release drive these same values.

use super::npm;
use super::package::{self, PackagePlan, Packaged};
use super::publish::{self, Outcome as Registry, PlanView, PublishPlan, PublishReport};
use crate::preflight::Preflight;
use crate::step::{Context, Outcome, Plan, Status, Step, StepError};

/// `cargo xtask vsce-package`: the manifest's rules, then `vsce package`.
#[derive(Debug, Default)]
pub struct Package {
    pre_release: bool,
}

impl Package {
    /// A package step; `pre_release` marks the `.vsix` as a pre-release.
    pub fn new(pre_release: bool) -> Package {
        Package { pre_release }
    }
}

impl Step for Package {
    type Plan = PackagePlan;

    fn name(&self) -> &'static str {
        "vsce-package"
    }

    fn check(&self, cx: &Context<'_>, pre: &mut Preflight) -> Option<PackagePlan> {
        package::plan(cx.project, self.pre_release, pre)
    }
}

impl Plan for PackagePlan {
    type Report = Packaged;

    fn describe(&self) -> String {
        format!(
            "{} -> {} ({}vsce package)",
            self.ext_dir.display(),
            self.out.display(),
            if self.prepublish.npm_ci {
                "npm ci, then "
            } else {
                ""
            }
        )
    }

    fn run(self, cx: &Context<'_>) -> Result<(Outcome, Packaged), StepError> {
        let tools = npm::ensure(cx.project, &|m| cx.reporter.info(m))?;
        cx.reporter.info(&format!(
            "packaging {} {}{} with vsce {} ...",
            self.manifest.id(),
            self.manifest.version.as_deref().unwrap_or_default(),
            if self.pre_release {
                " (pre-release)"
            } else {
                ""
            },
            tools.vsce.version.as_deref().unwrap_or("(version unknown)")
        ));
        let p = package::run(&self, &tools, cx.settings, cx.echo)?;
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
        Ok((outcome, p))
    }
}

/// `cargo xtask vsce-publish`: the `.vsix` to the Marketplace, and to Open
/// VSX when OVSX_PAT is set; a published version is skipped.
#[derive(Debug, Default)]
pub struct Publish {
    pre_release: bool,
    vsix_pending: bool,
}

/// A checked vsce-publish: the publish plan, and whether the `.vsix` is
/// still to be packaged (then the run looks for it again).
#[derive(Debug)]
pub struct CheckedPublish {
    plan: PublishPlan,
    pre_release: bool,
    vsix_pending: bool,
}

impl Publish {
    /// A publish step. With `vsix_pending` (the release packages first)
    /// the check does not look for the `.vsix`; the run does.
    pub fn new(pre_release: bool, vsix_pending: bool) -> Publish {
        Publish {
            pre_release,
            vsix_pending,
        }
    }
}

impl CheckedPublish {
    /// The checked publish plan.
    pub fn plan(&self) -> &PublishPlan {
        &self.plan
    }

    /// The plan, for printing (`--dry-run`, `--json`): reads the `.vsix`.
    pub fn view(&self) -> Result<PlanView, StepError> {
        Ok(self.plan.view()?)
    }
}

impl Step for Publish {
    type Plan = CheckedPublish;

    fn name(&self) -> &'static str {
        "vsce-publish"
    }

    fn check(&self, cx: &Context<'_>, pre: &mut Preflight) -> Option<CheckedPublish> {
        let plan = publish::plan(
            cx.project,
            cx.settings,
            self.pre_release,
            self.vsix_pending,
            pre,
        )?;
        if plan.vsix.is_file() {
            crate::members::check([plan.vsix.as_path()], pre);
        }
        Some(CheckedPublish {
            plan,
            pre_release: self.pre_release,
            vsix_pending: self.vsix_pending,
        })
    }
}

impl Plan for CheckedPublish {
    type Report = PublishReport;

    fn describe(&self) -> String {
        "publish the .vsix to the Marketplace (and Open VSX when OVSX_PAT is set), skipping a published version".into()
    }

    fn run(self, cx: &Context<'_>) -> Result<(Outcome, PublishReport), StepError> {
        let plan = if self.vsix_pending {
            // Packaged after the check: look for the .vsix now.
            let mut pre = Preflight::new();
            let plan = publish::plan(cx.project, cx.settings, self.pre_release, false, &mut pre);
            if let Some(plan) = &plan {
                crate::members::check([plan.vsix.as_path()], &mut pre);
            }
            pre.finish_with(plan)?
        } else {
            self.plan
        };
        let tools = npm::ensure(cx.project, &|m| cx.reporter.info(m))?;
        let view = plan.view()?;
        cx.reporter.info(&format!(
            "publishing {} {} to {} ({}) ...",
            view.extension, view.version, view.marketplace, view.auth
        ));
        let r = publish::run(&plan, &tools, cx.settings, cx.echo)?;
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
        Ok((Outcome::new(status, detail), r))
    }
}
