//! `cargo xtask setup`

use clap::Args;
use release_kit::preflight::PreflightError;
use release_kit::tools::Echo;

use crate::ctx::Ctx;

/// Provision the pinned external tools into target/: build, twine,
/// pypiserver and passlib in a managed Python venv; @vscode/vsce and ovsx
/// with npm. Steps do this on first use; `setup` does it up front (for a CI
/// cache, or before going offline). Reuses what is there; safe to run
/// concurrently.
#[derive(Debug, Args)]
pub struct SetupArgs {}

pub fn run(ctx: &Ctx, _args: SetupArgs) -> anyhow::Result<()> {
    let project = ctx.project()?;
    let echo = if ctx.global.verbose {
        Echo::Stderr
    } else {
        Echo::Quiet
    };
    let mut problems = Vec::new();
    ctx.info("Python tools (build, twine, pypiserver, passlib) ...");
    match release_kit::pypi::setup(&project, echo) {
        Ok(tools) => ctx.out(format!("python tools: ready ({})", tools.python.display())),
        Err(e) => problems.push(e.to_string()),
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
            Err(e) => match e.downcast::<PreflightError>() {
                Ok(pre) => problems.extend(pre.problems),
                Err(e) => problems.push(format!("{e:#}")),
            },
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(PreflightError { problems }.into())
    }
}
