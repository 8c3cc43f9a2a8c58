//! `cargo xtask build`

use clap::Args;
use release_kit::ci::Actions;
use release_kit::pypi::{build, venv};

use crate::ctx::Ctx;

/// Build the Python package: sdist and wheel by `python -m build` into
/// dist/, checked by `twine check --strict`; files of other versions are
/// removed from dist/. On a GitHub Actions tag run, the tag must match the
/// package version.
#[derive(Debug, Args)]
pub struct BuildArgs {}

pub fn run(ctx: &Ctx, _args: BuildArgs) -> anyhow::Result<()> {
    let (settings, project) = ctx.load()?;
    let actions = Actions::detect();
    let tag = actions.as_ref().and_then(|a| a.tag()).map(str::to_owned);
    let (pre, package) = build::preflight(&project, tag.as_deref());
    pre.finish()?;
    let package = package.expect("checked by preflight");
    let echo = ctx.echo();
    if !venv::prefer_path(&project) && !venv::is_provisioned(&venv::venv_dir(&project)) {
        ctx.info("provisioning the pinned Python tools (first use)…");
    }
    // Provisioning may already have changed target/: a failure is exit 1.
    let tools = venv::ensure(&project, echo).map_err(|e| anyhow::anyhow!("{e}"))?;
    ctx.info(format!(
        "building {} {} from {}",
        package.name,
        package.version.version,
        project.python_dir().display()
    ));
    let report = build::build(&project, &package, &tools, settings.redactor(), echo)?;
    if ctx.global.json {
        return ctx.json(&report);
    }
    for r in &report.removed {
        ctx.info(format!("removed stale {r}"));
    }
    ctx.info("twine check --strict: passed");
    let width = report.files.iter().map(|f| f.name.len()).max().unwrap_or(0);
    for f in &report.files {
        ctx.out(format!(
            "{:width$}  {:>9} bytes  sha256 {}",
            f.name, f.size, f.sha256
        ));
    }
    Ok(())
}
