//! `vsce-verify`: does VSCE_PAT (or the Entra ID identity) have publish
//! rights for the extension's publisher? Runs `vsce verify-pat`.

use std::path::PathBuf;

use serde::Serialize;

use super::manifest::{Manifest, valid_publisher};
use super::npm::{self, NodeTools};
use super::{
    Auth, FailureContext, MARKETPLACE, VsceError, auth, base_child, explain, marketplace_url,
};
use crate::config::Project;
use crate::preflight::Preflight;
use crate::settings::Settings;
use crate::tools::Echo;

/// What `vsce-verify` will check.
#[derive(Clone, Debug)]
pub struct VerifyPlan {
    /// The extension's folder.
    pub ext_dir: PathBuf,
    /// The publisher from `package.json`.
    pub publisher: String,
    /// The authentication.
    pub auth: Auth,
    /// The Marketplace.
    pub url: String,
}

/// The result of a successful check.
#[derive(Clone, Debug, Serialize)]
pub struct VerifyReport {
    /// The publisher checked.
    pub publisher: String,
    /// `VSCE_PAT` or Entra ID.
    pub auth: &'static str,
    /// The Marketplace asked.
    pub marketplace: String,
    /// vsce's confirmation.
    pub message: String,
}

/// Checks what `vsce-verify` needs; problems go to `pre`.
pub fn plan(project: &Project, settings: &Settings, pre: &mut Preflight) -> Option<VerifyPlan> {
    let ext_dir = extension_dir(project, pre)?;
    let publisher = match Manifest::read(&ext_dir) {
        Err(e) => {
            pre.problem(format!("{e:#}"));
            None
        }
        Ok(m) => match m.publisher.as_deref() {
            Some(p) if valid_publisher(p) => Some(p.to_owned()),
            Some(p) => {
                pre.problem(format!(
                    "{}: \"publisher\" is {p:?}, not a publisher ID (^[a-z0-9][a-z0-9-]*$)",
                    m.place("publisher")
                ));
                None
            }
            None => {
                pre.problem(format!(
                    "{}: no \"publisher\"; add the Marketplace publisher ID to verify the token against",
                    m.file.display()
                ));
                None
            }
        },
    };
    let auth = auth(project, settings, pre);
    npm::check(project, false, pre);
    Some(VerifyPlan {
        ext_dir,
        publisher: publisher?,
        auth: auth?,
        url: marketplace_url(settings).unwrap_or_else(|| MARKETPLACE.into()),
    })
}

/// The extension's folder, or a problem when the project ships none.
pub(crate) fn extension_dir(project: &Project, pre: &mut Preflight) -> Option<PathBuf> {
    if !project.config.vscode.enabled {
        pre.problem(
            "[vscode] enabled = false in release-kit.toml: this project ships no VS Code extension",
        );
        return None;
    }
    let dir = project.vscode_dir();
    if !dir.join("package.json").is_file() {
        pre.problem(format!(
            "{}: no package.json; set [vscode] path in release-kit.toml to the extension's folder",
            dir.display()
        ));
        return None;
    }
    Some(dir)
}

/// Runs `vsce verify-pat <publisher>`.
pub fn run(
    plan: &VerifyPlan,
    tools: &NodeTools,
    settings: &Settings,
    echo: Echo,
) -> Result<VerifyReport, VsceError> {
    let child = base_child(tools.vsce.child(), settings)
        .arg("verify-pat")
        .arg(&plan.publisher)
        .current_dir(&plan.ext_dir)
        .echo(echo);
    let child = plan.auth.apply(child);
    let out = child.run(settings.redactor())?;
    if !out.status.success() {
        return Err(explain(
            &format!("vsce verify-pat {}", plan.publisher),
            &out,
            &FailureContext {
                service: "Marketplace",
                url: &plan.url,
                publisher: &plan.publisher,
                auth: plan.auth.describe(),
            },
        )
        .into());
    }
    let message = out
        .stdout
        .lines()
        .find(|l| l.contains("verification succeeded"))
        .map(|l| l.trim().to_owned())
        .unwrap_or_else(|| {
            format!(
                "vsce verify-pat exited 0 for the publisher '{}'",
                plan.publisher
            )
        });
    Ok(VerifyReport {
        publisher: plan.publisher.clone(),
        auth: plan.auth.describe(),
        marketplace: plan.url.clone(),
        message,
    })
}
