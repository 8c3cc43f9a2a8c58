//! `cargo xtask setup`

use clap::Args;
use release_kit::preflight::Preflight;
use release_kit::step::StepError;

use crate::cli::ctx::Ctx;

/// Provision the pinned external tools into the per-user cache
/// (`RELEASE_KIT_CACHE_DIR` overrides it): build, twine,
/// pypiserver and passlib (and maturin / cibuildwheel when a package needs
/// them) in a managed Python venv; @vscode/vsce and ovsx
/// with npm. Steps do this on first use; `setup` does it up front (for a CI
/// cache, or before going offline). Reuses what is there; safe to run
/// concurrently.
#[derive(Debug, Args)]
pub struct SetupArgs {}

pub fn run(ctx: &Ctx, _args: SetupArgs) -> anyhow::Result<()> {
    let project = ctx.project()?;
    let echo = ctx.echo();
    // Checks that fail before anything is installed are preflight problems
    // (exit 3); a failed install is a failed step (exit 1).
    let mut problems = Preflight::new();
    let mut failures = Vec::new();
    if project.config.python.enabled {
        ctx.info("Python tools (build, twine, pypiserver, passlib) ...");
        match release_kit::pypi::setup(&project, echo) {
            Ok(tools) => ctx.out(format!("python tools: ready ({})", tools.python.display())),
            Err(e @ release_kit::pypi::venv::ToolsError::NoPython) => {
                problems.problem(e.to_string())
            }
            Err(e) => failures.push(e.to_string()),
        }
    }
    if project.config.vscode.enabled {
        ctx.info("Node tools (@vscode/vsce, ovsx) ...");
        match release_kit::vscode::setup(&project, &|m| ctx.info(m)) {
            Ok(tools) => ctx.out(format!(
                "node tools: ready (vsce {}, ovsx {}, node {}.{}.{})",
                tools.vsce.version.as_deref().unwrap_or("?"),
                tools.ovsx.version.as_deref().unwrap_or("?"),
                tools.node_version.0,
                tools.node_version.1,
                tools.node_version.2
            )),
            Err(StepError::Preflight(pre)) => {
                problems.absorb::<()>(Err(pre));
            }
            Err(e) => failures.push(e.describe()),
        }
    }
    if !failures.is_empty() {
        failures.extend(problems.problems().iter().map(|p| p.to_string()));
        anyhow::bail!("setup failed:\n  - {}", failures.join("\n  - "));
    }
    Ok(problems.finish()?)
}
