//! `cargo xtask doctor`

use clap::Args;
use release_kit::doctor::{self, DoctorReport, Level};

use release_kit::error::ExitClass;
use release_kit::step::CommandError;

use crate::cli::ctx::Ctx;

#[derive(Debug, Args)]
pub struct DoctorArgs {}

pub fn run(ctx: &Ctx, _args: DoctorArgs) -> anyhow::Result<()> {
    let settings = ctx.settings()?;
    let env_file = settings.env_file().map(|p| p.to_owned());
    let env_findings = env_file
        .as_deref()
        .map(doctor::check_env_file)
        .unwrap_or_default();
    let mut tools = doctor::base_tools();
    if let Ok(project) = ctx.project() {
        tools.extend(release_kit::pypi::doctor_tools(&project));
        tools.extend(release_kit::hf::doctor_tools(&project));
        if project.config.vscode.enabled {
            let node_tools = release_kit::vscode::doctor_tools(&project);
            // The extension's own report of node says more (vsce's needs).
            tools.retain(|t| !node_tools.iter().any(|n| n.name == t.name));
            tools.extend(node_tools);
        }
    }
    let report = DoctorReport {
        env_file,
        env_findings,
        tools,
    };
    if ctx.global.json {
        ctx.json(&report)?;
    } else {
        match &report.env_file {
            Some(p) => ctx.out(format!(".env: {}", p.display())),
            None => ctx.out(".env: none found (create one with `cargo xtask env init`)"),
        }
        for f in &report.env_findings {
            let tag = match f.level {
                Level::Ok => "ok",
                Level::Warning => "warning",
                Level::Error => "ERROR",
            };
            ctx.out(format!("  {tag:7} {}", f.message));
        }
        ctx.out("\ntools:");
        let width = report.tools.iter().map(|t| t.name.len()).max().unwrap_or(0);
        for t in &report.tools {
            match (&t.path, &t.version) {
                (Some(p), v) => ctx.out(format!(
                    "  {:width$}  {}  {}  (used by {})",
                    t.name,
                    v.as_deref().unwrap_or("version unknown"),
                    p.display(),
                    t.used_by
                )),
                (None, _) => ctx.out(format!(
                    "  {:width$}  MISSING: {} (used by {})",
                    t.name, t.install, t.used_by
                )),
            }
        }
    }
    if report.has_errors() {
        return Err(CommandError::reported(ExitClass::Findings).into());
    }
    Ok(())
}
