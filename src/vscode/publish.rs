//! `vsce-publish`: the packaged `.vsix` to the Marketplace with
//! `vsce publish --packagePath`, and to Open VSX with `ovsx` when OVSX_PAT
//! is set. A version already published is reported as skipped, so a
//! release that failed half-way can simply be run again.

use std::path::PathBuf;

use serde::Serialize;

use super::manifest::Manifest;
use super::npm::{self, NodeTools};
use super::package::{Checked, check_manifest, vsix_path};
use super::{
    Auth, FailureContext, MARKETPLACE, VsceError, auth, base_child, explain, marketplace_url,
    setting,
};
use crate::config::Project;
use crate::error::IoError;
use crate::preflight::Preflight;
use crate::secret::Secret;
use crate::settings::Settings;
use crate::tools::Echo;

/// The default Open VSX registry.
pub const OPEN_VSX: &str = "https://open-vsx.org";

/// Publishing to Open VSX.
#[derive(Clone, Debug)]
pub struct OvsxPlan {
    /// OVSX_PAT.
    pub pat: Secret,
    /// The registry: `[vscode] ovsx-registry-url`, else OVSX_REGISTRY_URL,
    /// else open-vsx.org.
    pub registry_url: String,
}

/// What `vsce-publish` will do.
#[derive(Clone, Debug)]
pub struct PublishPlan {
    /// The extension's folder.
    pub ext_dir: PathBuf,
    /// Its manifest.
    pub manifest: Manifest,
    /// The packaged `.vsix`.
    pub vsix: PathBuf,
    /// `--pre-release`.
    pub pre_release: bool,
    /// Marketplace authentication.
    pub auth: Auth,
    /// The Marketplace.
    pub url: String,
    /// Open VSX, when OVSX_PAT is set.
    pub ovsx: Option<OvsxPlan>,
}

/// What happened on one registry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Uploaded now.
    Published,
    /// That version was there already.
    Skipped,
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Outcome::Published => "published",
            Outcome::Skipped => "skipped (this version is already published)",
        })
    }
}

/// The plan, safe to print (`--dry-run`, `--json`).
#[derive(Clone, Debug, Serialize)]
pub struct PlanView {
    /// `publisher.name`.
    pub extension: String,
    /// The version.
    pub version: String,
    /// The `.vsix`.
    pub vsix: PathBuf,
    /// Its size.
    pub size: u64,
    /// Its SHA-256.
    pub sha256: String,
    /// `--pre-release`.
    pub pre_release: bool,
    /// The Marketplace URL.
    pub marketplace: String,
    /// How vsce authenticates.
    pub auth: &'static str,
    /// The Open VSX registry, when OVSX_PAT is set.
    pub open_vsx: Option<String>,
}

/// The result of a run.
#[derive(Clone, Debug, Serialize)]
pub struct PublishReport {
    /// What was published.
    pub plan: PlanView,
    /// The Marketplace's outcome.
    pub marketplace: Outcome,
    /// Open VSX's outcome (`None` when OVSX_PAT is not set).
    pub open_vsx: Option<Outcome>,
}

/// Checks everything `vsce-publish` needs; problems go to `pre`. With
/// `vsix_pending` (the release packages it first) the `.vsix` need not
/// exist yet.
pub fn plan(
    project: &Project,
    settings: &Settings,
    pre_release: bool,
    vsix_pending: bool,
    pre: &mut Preflight,
) -> Option<PublishPlan> {
    let checked = check_manifest(project, pre_release, pre);
    let auth = auth(project, settings, pre);
    let ovsx = settings
        .explicit("OVSX_PAT")
        .filter(|p| !p.is_blank())
        .map(|pat| OvsxPlan {
            pat: pat.clone(),
            registry_url: project
                .config
                .vscode
                .ovsx_registry_url
                .clone()
                .or_else(|| setting(settings, "OVSX_REGISTRY_URL"))
                .unwrap_or_else(|| OPEN_VSX.into()),
        });
    npm::check(project, ovsx.is_some(), pre);
    // In lockstep with a Python pre-release, the publish is one too.
    let Checked {
        manifest,
        pre_release,
    } = checked?;
    let vsix = vsix_path(project, &manifest)?;
    if !vsix_pending && !vsix.is_file() {
        pre.problem(format!(
            "{}: not found; package the extension first: cargo xtask vsce-package{}",
            vsix.display(),
            if pre_release { " --pre-release" } else { "" }
        ));
    }
    Some(PublishPlan {
        ext_dir: manifest.file.parent()?.to_owned(),
        manifest,
        vsix,
        pre_release,
        auth: auth?,
        url: marketplace_url(settings).unwrap_or_else(|| MARKETPLACE.into()),
        ovsx,
    })
}

impl PublishPlan {
    /// The plan, for printing.
    pub fn view(&self) -> Result<PlanView, IoError> {
        let (size, sha256) = crate::digest::file_sha256(&self.vsix)?;
        Ok(PlanView {
            extension: self.manifest.id(),
            version: self.manifest.version.clone().unwrap_or_default(),
            vsix: self.vsix.clone(),
            size,
            sha256,
            pre_release: self.pre_release,
            marketplace: self.url.clone(),
            auth: self.auth.describe(),
            open_vsx: self.ovsx.as_ref().map(|o| o.registry_url.clone()),
        })
    }
}

/// Publishes to the Marketplace, then to Open VSX when planned.
pub fn run(
    plan: &PublishPlan,
    tools: &NodeTools,
    settings: &Settings,
    echo: Echo,
) -> Result<PublishReport, VsceError> {
    let view = plan.view()?;
    let publisher = plan.manifest.publisher.clone().unwrap_or_default();
    let mut child = base_child(tools.vsce.child(), settings)
        .args(["publish", "--skip-duplicate", "--packagePath"])
        .arg(&plan.vsix)
        .current_dir(&plan.ext_dir)
        .echo(echo);
    if plan.pre_release {
        child = child.arg("--pre-release");
    }
    let out = plan.auth.apply(child).run(settings.redactor())?;
    if !out.status.success() {
        return Err(explain(
            &format!("vsce publish {}", plan.vsix.display()),
            &out,
            &FailureContext {
                service: "Marketplace",
                url: &plan.url,
                publisher: &publisher,
                auth: plan.auth.describe(),
            },
        )
        .into());
    }
    let marketplace = outcome(&out.combined());
    let open_vsx = match &plan.ovsx {
        None => None,
        Some(o) => {
            // The registry URL goes in argv (it is not a secret); the token
            // only in the environment, although ovsx itself then sends it
            // in the query string, as Open VSX's API requires.
            let out = base_child(tools.ovsx.child(), settings)
                .args([
                    "publish",
                    "--skip-duplicate",
                    "--registryUrl",
                    &o.registry_url,
                ])
                .arg(&plan.vsix)
                .secret_env("OVSX_PAT", &o.pat)
                .current_dir(&plan.ext_dir)
                .echo(echo)
                .run(settings.redactor())?;
            if !out.status.success() {
                let mut failure = explain(
                    &format!("ovsx publish {}", plan.vsix.display()),
                    &out,
                    &FailureContext {
                        service: "Open VSX",
                        url: &o.registry_url,
                        publisher: &publisher,
                        auth: "OVSX_PAT",
                    },
                );
                failure.message = format!(
                    "the Marketplace step is done ({marketplace}); Open VSX failed. Running vsce-publish again \
                     skips the Marketplace.\n{}",
                    failure.message
                );
                return Err(failure.into());
            }
            Some(outcome(&out.combined()))
        }
    };
    Ok(PublishReport {
        plan: view,
        marketplace,
        open_vsx,
    })
}

/// vsce: "Version X is already published. Skipping publish."; ovsx:
/// "Extension p.n X is already published. Skipping publish."
fn outcome(output: &str) -> Outcome {
    if output.contains("already published") && output.contains("Skipping publish") {
        Outcome::Skipped
    } else {
        Outcome::Published
    }
}
